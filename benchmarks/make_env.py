"""Build (and time the gate's reader on) a realistic ML/data virtualenv of 200+ distributions.

Why: the venv reader's speed target ("a 220-distribution environment in well under 100 ms")
means nothing without a real environment of that size to measure on, and a toy tree of
empty dist-infos hides the cost that matters (METADATA files with long descriptions). This
script installs, from PyPI, a fully pinned closure of a typical notebook/ML/data/web stack
(jupyterlab, pandas, scikit-learn, matplotlib, transformers, datasets, fastapi, sqlalchemy,
boto3, spacy, streamlit, mlflow-skinny, ...; deliberately no torch/tensorflow, whose wheels
run to gigabytes).

Reproducible: every distribution of the closure is pinned here and installed with
``--no-deps --only-binary=:all:``, so pip resolves nothing and builds nothing; the same
list gives the same environment on every run (for CPython 3.11 on manylinux x86_64, where it
was resolved).

Usage::

    python benchmarks/make_env.py /work/benchenv            # build it, print the count
    python benchmarks/make_env.py /work/benchenv --measure  # build if missing, then time

It needs the network (PyPI); the test suite never runs it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The resolved closure of: jupyterlab 4.4.7, jupyter 1.1.1, pandas 2.3.2, scikit-learn 1.7.1,
# matplotlib 3.10.6, seaborn 0.13.2, transformers 4.56.1, datasets 4.0.0, fastapi 0.116.1,
# uvicorn 0.35.0, sqlalchemy 2.0.43, boto3 1.40.25, requests 2.32.5, pydantic 2.11.7,
# polars 1.33.1, statsmodels 0.14.5, plotly 6.3.0, dask 2025.9.0, httpx 0.28.1, pyyaml 6.0.2,
# jinja2 3.1.6, django 5.2.6, pillow 11.3.0, spacy 3.8.7, streamlit 1.49.1, sympy 1.14.0,
# networkx 3.5, openpyxl 3.1.5, lightgbm 4.6.0, pytest 8.4.2, black 25.1.0,
# mlflow-skinny 3.3.2, nltk 3.9.1 (pip's resolver, CPython 3.11, manylinux x86_64).
PINS: tuple[str, ...] = (
    "aiohappyeyeballs==2.7.1",
    "aiohttp==3.14.5",
    "aiosignal==1.4.0",
    "altair==5.5.0",
    "annotated-doc==0.0.7",
    "annotated-types==0.8.0",
    "anyio==4.16.0",
    "argon2-cffi==25.1.0",
    "argon2-cffi-bindings==26.2.0",
    "arrow==1.4.0",
    "asgiref==3.13.0",
    "asttokens==3.0.2",
    "async-lru==2.4.0",
    "attrs==26.1.0",
    "babel==2.18.0",
    "beautifulsoup4==4.15.0",
    "black==25.1.0",
    "bleach==6.4.0",
    "blinker==1.9.0",
    "blis==1.3.4",
    "boto3==1.40.25",
    "botocore==1.40.76",
    "cachetools==6.2.6",
    "catalogue==2.0.10",
    "certifi==2026.10.19.post1",
    "cffi==2.1.1",
    "charset-normalizer==3.5.3",
    "click==8.5.1",
    "cloudpathlib==0.26.0",
    "cloudpickle==3.1.3",
    "comm==0.2.3",
    "confection==0.1.5",
    "contourpy==1.3.3",
    "cryptography==50.0.2",
    "cycler==0.12.1",
    "cymem==2.0.16",
    "dask==2025.9.0",
    "databricks-sdk==0.162.0",
    "datasets==4.0.0",
    "debugpy==1.8.22",
    "defusedxml==0.7.1",
    "dill==0.3.8",
    "Django==5.2.6",
    "et_xmlfile==2.0.0",
    "executing==2.3.0",
    "fastapi==0.116.1",
    "fastjsonschema==2.22.3",
    "filelock==4.3.1",
    "fonttools==4.68.0",
    "fqdn==1.6.0",
    "frozenlist==1.8.0",
    "fsspec==2025.3.0",
    "gitdb==4.0.12",
    "GitPython==3.2.1",
    "google-auth==2.63.0",
    "greenlet==3.5.6",
    "h11==0.16.0",
    "hf-xet==1.8.0",
    "httpcore==1.0.9",
    "httpx==0.28.1",
    "huggingface_hub==0.36.2",
    "idna==3.20",
    "importlib_metadata==8.9.0",
    "iniconfig==2.3.1",
    "ipykernel==7.4.0",
    "ipython==9.18.1",
    "ipython_pygments_lexers==1.1.1",
    "ipywidgets==8.1.9",
    "isoduration==20.11.0",
    "jedi==0.20.1",
    "Jinja2==3.1.6",
    "jmespath==1.1.0",
    "joblib==1.6.0",
    "json5==0.17.3",
    "jsonpointer==3.12",
    "jsonschema==4.26.0",
    "jsonschema-specifications==2025.9.1",
    "jupyter==1.1.1",
    "jupyter-console==6.6.3",
    "jupyter-events==0.12.1",
    "jupyter-lsp==2.3.1",
    "jupyter_client==8.10.0",
    "jupyter_core==5.9.1",
    "jupyter_server==2.21.1",
    "jupyter_server_terminals==0.5.4",
    "jupyterlab==4.4.7",
    "jupyterlab_pygments==0.3.0",
    "jupyterlab_server==2.28.1",
    "jupyterlab_widgets==3.0.17",
    "kiwisolver==1.5.1",
    "langcodes==3.5.1",
    "lark==1.3.1",
    "lightgbm==4.6.0",
    "locket==1.0.0",
    "markdown-it-py==4.3.0",
    "MarkupSafe==3.0.4",
    "matplotlib==3.10.6",
    "matplotlib-inline==0.2.2",
    "mdurl==0.1.2",
    "mistune==3.4.0",
    "mlflow-skinny==3.3.2",
    "mpmath==1.3.0",
    "multidict==7.2.1",
    "multiprocess==0.70.16",
    "murmurhash==1.0.16",
    "mypy_extensions==1.2.0",
    "narwhals==2.29.0",
    "nbclient==0.11.0",
    "nbconvert==7.17.2",
    "nbformat==5.11.1",
    "nest-asyncio2==1.7.4",
    "networkx==3.5",
    "nltk==3.9.1",
    "notebook==7.4.5",
    "notebook_shim==0.2.4",
    "numpy==2.4.6",
    "openpyxl==3.1.5",
    "opentelemetry-api==1.45.2",
    "opentelemetry-sdk==1.45.2",
    "opentelemetry-semantic-conventions==0.66b2",
    "overrides==7.7.0",
    "packaging==25.0",
    "pandas==2.3.2",
    "pandocfilters==1.5.1",
    "parso==0.8.7",
    "partd==1.4.2",
    "pathspec==1.1.1",
    "patsy==1.0.3",
    "pexpect==4.9.0",
    "pillow==11.3.0",
    "platformdirs==4.14.8",
    "plotly==6.3.0",
    "pluggy==1.7.0",
    "polars==1.33.1",
    "preshed==3.0.15",
    "prometheus_client==0.26.0",
    "prompt_toolkit==3.0.53",
    "propcache==0.5.4",
    "protobuf==6.33.6",
    "psutil==7.2.2",
    "ptyprocess==0.7.0",
    "pure_eval==0.2.4",
    "pyarrow==26.0.1",
    "pyasn1==0.6.5",
    "pyasn1_modules==0.4.2",
    "pycparser==3.12",
    "pydantic==2.11.7",
    "pydantic_core==2.33.2",
    "pydeck==0.9.3",
    "Pygments==2.21.0",
    "pyparsing==3.3.3",
    "pytest==8.4.2",
    "python-dateutil==2.9.0.post0",
    "python-json-logger==4.2.0",
    "pytz==2026.6",
    "PyYAML==6.0.2",
    "pyzmq==27.3.0",
    "referencing==0.37.0",
    "regex==2026.11.19",
    "requests==2.32.5",
    "rfc3339-validator==0.1.4",
    "rfc3986-validator==0.1.1",
    "rfc3987-syntax==1.1.0",
    "rich==15.0.0",
    "rpds-py==2026.9.1",
    "s3transfer==0.13.1",
    "safetensors==0.8.0",
    "scikit-learn==1.7.1",
    "scipy==1.17.1",
    "seaborn==0.13.2",
    "Send2Trash==2.2.0",
    "setuptools==84.2.1",
    "shellingham==1.5.4",
    "six==1.17.0",
    "smart_open==7.7.1",
    "smmap==5.0.3",
    "soupsieve==4.1.3",
    "spacy==3.8.7",
    "spacy-legacy==3.0.12",
    "spacy-loggers==1.0.5",
    "SQLAlchemy==2.0.43",
    "sqlparse==0.6.1",
    "srsly==2.5.6",
    "stack-data==0.6.3",
    "starlette==0.47.3",
    "statsmodels==0.14.5",
    "streamlit==1.49.1",
    "sympy==1.14.0",
    "tenacity==9.2.1",
    "terminado==0.18.1",
    "thinc==8.3.11",
    "threadpoolctl==3.8.0",
    "tinycss2==1.5.1",
    "tokenizers==0.22.2",
    "toml==0.10.2",
    "toolz==1.2.0",
    "tornado==6.6.1",
    "tqdm==4.70.1",
    "traitlets==5.16.1",
    "transformers==4.56.1",
    "typer==0.29.2",
    "typer-slim==0.24.0",
    "typing-inspection==0.4.5",
    "typing_extensions==4.16.0",
    "tzdata==2026.6",
    "uri-template==1.3.0",
    "urllib3==2.8.0",
    "uvicorn==0.35.0",
    "wasabi==1.1.3",
    "watchdog==6.0.0",
    "wcwidth==0.9.4",
    "weasel==0.4.3",
    "webcolors==25.10.0",
    "webencodings==0.6.1",
    "websocket-client==1.9.2",
    "widgetsnbextension==4.0.16",
    "wrapt==2.5.2",
    "xxhash==4.1.0",
    "yarl==1.25.1",
    "zipp==4.1.2",
)


def site_packages(env: Path) -> Path:
    """The one ``lib/pythonX.Y/site-packages`` of a POSIX virtualenv."""
    found = sorted(env.glob("lib/python3.*/site-packages"))
    if len(found) != 1:
        raise SystemExit(f"{env}: expected one lib/python3.*/site-packages, found {len(found)}")
    return found[0]


def count_distributions(env: Path) -> int:
    """Distributions as installers record them: one ``*.dist-info`` or ``*.egg-info`` each."""
    root = site_packages(env)
    return sum(1 for entry in root.iterdir() if entry.name.endswith((".dist-info", ".egg-info")))


def build(env: Path, python: str) -> None:
    """Create the venv with ``python`` and install the pinned closure into it, no resolving."""
    subprocess.run([python, "-m", "venv", str(env)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "pins.txt"
        requirements.write_text("".join(f"{pin}\n" for pin in PINS), encoding="utf-8")
        subprocess.run(
            [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--only-binary=:all:", "-r", str(requirements)],
            check=True,
        )


def _median_ms(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def measure(env: Path, runs: int) -> None:
    """Median wall time of the gate's venv reader against importlib.metadata on the same path.

    importlib.metadata is made to do the same work the reader does: parse every METADATA
    (``.metadata`` parses the whole file, long description included), and read
    Requires-Dist, INSTALLER and direct_url.json."""
    sys.path.insert(0, str(REPO))
    from gate.sources.venv import VenvReader

    root = site_packages(env)
    reader = VenvReader()

    def with_gate() -> None:
        reader.read(env, target=None)

    def with_importlib() -> None:
        for dist in importlib.metadata.distributions(path=[str(root)]):
            metadata = dist.metadata
            metadata.get_all("Requires-Dist")
            metadata["License"]
            dist.read_text("INSTALLER")
            dist.read_text("direct_url.json")

    environment = reader.read(env, target=None)
    print(f"gate reader: {len(environment.packages)} packages, python {environment.target.python}")
    print(f"gate.sources.venv:             median {_median_ms(with_gate, runs):7.1f} ms over {runs} runs")
    print(f"importlib.metadata (all data): median {_median_ms(with_importlib, runs):7.1f} ms over {runs} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", type=Path, help="where to create the virtualenv")
    parser.add_argument("--python", default=sys.executable, help="interpreter to create it with (CPython 3.11)")
    parser.add_argument("--measure", action="store_true", help="then time the reader against importlib.metadata")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    env: Path = args.path.resolve()
    if (env / "pyvenv.cfg").is_file():
        print(f"{env}: already a virtualenv, not rebuilt")
    else:
        build(env, args.python)
    count = count_distributions(env)
    print(f"{env}: {count} distributions")
    if count < 200:
        raise SystemExit(f"{env}: fewer than the 200 distributions the benchmark is meant for")
    if args.measure:
        measure(env, args.runs)


if __name__ == "__main__":
    main()
