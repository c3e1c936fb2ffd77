"""Hash + scan throughput of model files against `sha256sum` on the same bytes.

Makes three files in a temporary folder (deleted afterwards), each about --size MB (default 1024):
a torch zip checkpoint written by torch.save (a real data.pkl and one big tensor storage), a raw
pickle of a dict of numpy arrays (protocol 4: the array bytes are BINBYTES8 inside the pickle
stream, so the walk must step over them), and a legacy torch `.bin` (pickles, then raw storage).
The page cache is warmed first, so both sides measure hashing and scanning, not the disk.

    python benchmarks/bench_models.py [--size 1024] [--runs 3] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

from timing import median_seconds

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_files(folder: Path, size_mb: int) -> dict[str, Path]:
    import numpy as np
    import torch

    elements = size_mb * (1 << 20) // 4
    files = {}
    tensor = torch.from_numpy(np.random.default_rng(0).random(elements, dtype=np.float32))
    files["torch zip checkpoint (.pt)"] = folder / "model.pt"
    torch.save({"weight": tensor, "bias": torch.zeros(16)}, files["torch zip checkpoint (.pt)"])
    files["legacy torch (.bin)"] = folder / "pytorch_model.bin"
    torch.save({"weight": tensor}, files["legacy torch (.bin)"], _use_new_zipfile_serialization=False)
    array = tensor.numpy()
    files["raw pickle of numpy arrays (.pkl)"] = folder / "arrays.pkl"
    with open(files["raw pickle of numpy arrays (.pkl)"], "wb") as handle:
        pickle.dump({"layer1": array[: elements // 2], "layer2": array[elements // 2:], "meta": {"n": 2}}, handle,
                    protocol=4)
    return files


def hash_only(path: Path) -> str:
    """The floor: OpenSSL's sha256 through hashlib, 4 MiB reads, no scan."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="MB per file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()

    from gate.models.scan import scan_file

    folder = Path(tempfile.mkdtemp(prefix="gate-bench-models-", dir=args.dir))
    try:
        files = make_files(folder, args.size)
        for label, path in files.items():
            size = path.stat().st_size
            megabytes = size / 1e6
            subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
            model = scan_file(path, shown=path.name, real=str(path))
            expected = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True,
                                      check=True).stdout.split()[0]
            assert model.sha256 == expected, "the gate's sha256 differs from sha256sum's"
            coreutils, _, _ = median_seconds(
                partial(subprocess.run, ["sha256sum", str(path)], stdout=subprocess.DEVNULL, check=True), args.runs)
            gate, _, _ = median_seconds(partial(scan_file, path, shown=path.name, real=str(path)), args.runs)
            hashing, _, _ = median_seconds(partial(hash_only, path), args.runs)
            print(f"{label}: {megabytes:.0f} MB, format {model.format}, verdict {model.verdict}, "
                  f"{len(model.imports)} imports, problems {list(model.problems)}")
            print(f"  sha256sum      median {coreutils:6.2f} s  {megabytes / coreutils:7.0f} MB/s")
            print(f"  gate hash+scan median {gate:6.2f} s  {megabytes / gate:7.0f} MB/s  "
                  f"({100 * coreutils / gate:.0f} % of sha256sum's throughput)")
            print(f"  hashlib alone  median {hashing:6.2f} s  {megabytes / hashing:7.0f} MB/s  "
                  f"(the scan costs {100 * (gate - hashing) / hashing:.0f} % on top of hashing)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
