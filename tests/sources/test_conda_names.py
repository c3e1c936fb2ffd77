"""Conda names to PyPI names, build strings as evidence, subdirs to markers, and the shipped tables."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from gate.sources.conda_names import (
    DATA_FILE,
    SUBDIR_PLATFORMS,
    Artifact,
    build_has_python,
    conda_package_name,
    name_tables,
    pypi_name_for,
    split_artifact_url,
    split_filename,
    subdir_marker,
    subdir_platform,
    untargeted_note,
)
from gate.targets import PLATFORMS


@pytest.mark.parametrize(("conda_name", "evidence", "expected"), [
    # renamed: the table wins whatever the file says
    ("pytorch", True, "torch"),
    ("pytorch", None, "torch"),
    ("pytorch-cpu", False, "torch"),
    ("numpy-base", True, "numpy"),
    ("matplotlib-base", None, "matplotlib"),
    ("msgpack-python", True, "msgpack"),
    ("python-tzdata", True, "tzdata"),
    ("brotli-python", True, "brotli"),
    ("py-xgboost", None, "xgboost"),
    # never PyPI: not a PEP 508 name, or the shipped not_pypi list, evidence or not
    ("_libgcc_mutex", True, None),
    ("_openmp_mutex", None, None),
    ("python", True, None),
    ("python_abi", True, None),
    ("cpython", True, None),
    ("py-opencv", True, None),
    ("opencv", True, None),
    ("pyqt", True, None),
    # Python evidence: the conda name is the PyPI name
    ("some-new-package", True, "some-new-package"),
    ("Jinja2", True, "jinja2"),
    ("typing_extensions", True, "typing-extensions"),
    # no evidence: only the known Python packages
    ("numpy", None, "numpy"),
    ("scikit-learn", False, "scikit-learn"),
    ("keras", False, "keras"),
    ("tensorflow-gpu", False, "tensorflow-gpu"),
    ("some-new-package", None, None),
    ("some-new-package", False, None),
    # non-Python conda packages, some sharing a name with a different PyPI project
    ("cudatoolkit", None, None),
    ("mkl", False, None),
    ("openssl", None, None),
    ("libgcc-ng", False, None),
    ("tk", None, None),
    ("zlib", None, None),
    ("tzdata", False, None),
    ("exiv2", False, None),
    ("lmdb", False, None),
    ("graphviz", None, None),
])
def test_pypi_name_for(conda_name: str, evidence: bool | None, expected: str | None) -> None:
    assert pypi_name_for(conda_name, python_evidence=evidence) == expected


@pytest.mark.parametrize("build", [
    "py39h06a4308_0", "py311h64a7726_0", "pyhd8ed1ab_0", "pyh29332c3_0", "py_0", "py37_1",
    "cuda100py37h938c94c_0", "gpu_py37h8d69cac_0", "cpu_generic_py311h1fd4b1c_0", "nompi_py313h8ab2be6_100",
    "np2py313h3c8bdd8_0", "py3.9_cuda11.3_cudnn8.2.0_0", "pyge310_1234567_0", "pypyh9d50eac_103",
])
def test_builds_with_a_python_tag(build: str) -> None:
    assert build_has_python(build)


@pytest.mark.parametrize("build", [
    "h7b6447c_0", "he550d4f_1_cpython", "h6add32d_100_cp313", "conda_forge", "2_gnu", "0", "cuda", "mkl",
    "hd8ed1ab_0", "8_cp313", "h0d30ee6_0",
])
def test_builds_without_a_python_tag(build: str) -> None:
    assert not build_has_python(build)


def test_conda_names_keep_their_underscores_and_lose_their_case() -> None:
    assert conda_package_name("_libgcc_mutex") == "_libgcc_mutex"
    assert conda_package_name("typing_extensions") != conda_package_name("typing-extensions")
    assert conda_package_name("PyYAML") == "pyyaml"


def test_subdir_markers_use_the_gate_platforms_marker_values() -> None:
    assert subdir_marker("linux-64") == 'sys_platform == "linux" and platform_machine == "x86_64"'
    assert subdir_marker("linux-aarch64") == 'sys_platform == "linux" and platform_machine == "aarch64"'
    assert subdir_marker("osx-64") == 'sys_platform == "darwin" and platform_machine == "x86_64"'
    assert subdir_marker("osx-arm64") == 'sys_platform == "darwin" and platform_machine == "arm64"'
    assert subdir_marker("win-64") == 'sys_platform == "win32" and platform_machine == "AMD64"'
    assert subdir_marker("win-arm64") == 'sys_platform == "win32" and platform_machine == "ARM64"'
    assert subdir_marker("noarch") is None
    assert subdir_marker("linux-ppc64le") is None  # no gate target: kept for every target
    with pytest.raises(ValueError, match="'linux-65' is not a conda platform"):
        subdir_marker("linux-65")


@pytest.mark.parametrize(("subdir", "platform"), sorted(SUBDIR_PLATFORMS.items()))
def test_each_marker_holds_on_its_platform_only(subdir: str, platform: str) -> None:
    marker = Marker(subdir_marker(subdir) or "")
    holds = {name for name, variables in PLATFORMS.items() if marker.evaluate(dict(variables))}
    assert holds == {platform}
    assert subdir_platform(subdir) == platform


def test_untargeted_note() -> None:
    assert untargeted_note({"linux-64", "noarch"}) is None
    assert untargeted_note({"linux-64", "linux-s390x", "linux-ppc64le"}) == (
        "conda platform linux-ppc64le, linux-s390x: the gate has no target for it, so its packages carry no platform "
        "marker and are judged for every target")


@pytest.mark.parametrize(("filename", "expected"), [
    ("numpy-1.26.4-py311h64a7726_0.conda", ("numpy", "1.26.4", "py311h64a7726_0")),
    ("ld_impl_linux-64-2.40-h41732ed_0.conda", ("ld_impl_linux-64", "2.40", "h41732ed_0")),
    ("_libgcc_mutex-0.1-conda_forge.tar.bz2", ("_libgcc_mutex", "0.1", "conda_forge")),
    ("font-ttf-dejavu-sans-mono-2.37-hab24e00_0.tar.bz2", ("font-ttf-dejavu-sans-mono", "2.37", "hab24e00_0")),
    ("numpy-1.26.4.conda", None),
    ("numpy-1.26.4-py311_0.whl", None),
    ("-1.0-0.conda", None),
])
def test_split_filename(filename: str, expected: tuple[str, str, str] | None) -> None:
    assert split_filename(filename) == expected


def test_split_artifact_url() -> None:
    url = "https://conda.anaconda.org/conda-forge/noarch/tzdata-2024a-h0c530f3_0.conda#161081fc7cec0bfda0d86d7cb595f8d8"
    assert split_artifact_url(url) == Artifact(
        channel="https://conda.anaconda.org/conda-forge", subdir="noarch", filename="tzdata-2024a-h0c530f3_0.conda",
        name="tzdata", version="2024a", build="h0c530f3_0")
    defaults = split_artifact_url("https://repo.anaconda.com/pkgs/main/linux-64/mkl-2019.4-243.conda")
    assert defaults is not None and defaults.channel == "https://repo.anaconda.com/pkgs/main"
    assert split_artifact_url("file:///opt/channel/linux-64/x-1.0-0.conda") is not None
    assert split_artifact_url("https://host/numpy-1.0-0.conda") is None
    assert split_artifact_url("https://host/c/linux-64/numpy-1.0.tar.gz") is None


def test_the_shipped_tables_are_consistent() -> None:
    """The data file is ours: normalised, sorted, small where curated, and the three tables
    never disagree about a name."""
    data = json.loads(resources.files("gate.sources").joinpath(DATA_FILE).read_text(encoding="utf-8"))
    assert set(data) == {"_about", "renames", "not_pypi", "python_packages"}
    renames, not_pypi, python_packages = data["renames"], data["not_pypi"], data["python_packages"]
    assert list(renames) == sorted(renames)
    assert not_pypi == sorted(not_pypi)
    assert python_packages == sorted(python_packages)
    assert 30 <= len(renames) <= 80
    assert len(set(python_packages)) == len(python_packages)
    assert python_packages == [canonicalize_name(name) for name in python_packages]
    renamed = {canonicalize_name(name) for name in renames}
    never = {canonicalize_name(name) for name in not_pypi}
    assert not renamed & never
    assert not (renamed | never) & set(python_packages)
    for conda_name, pypi_name in renames.items():
        assert canonicalize_name(pypi_name) == pypi_name, conda_name
        assert canonicalize_name(conda_name) != pypi_name, f"{conda_name} needs no rename"
    tables = name_tables()
    assert tables.renames["pytorch"] == "torch"
    assert "numpy" in tables.python_packages
