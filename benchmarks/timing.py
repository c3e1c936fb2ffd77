"""Timing shared by the benchmark scripts (run as `python benchmarks/NAME.py`, so this folder
is on the path): medians of repeated runs, printed one figure a line."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(action: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(median, min, max) seconds of ``runs`` calls of ``action``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def show(label: str, figures: tuple[float, float, float], runs: int) -> None:
    median, low, high = figures
    print(f"{label:<58} median {median * 1000:8.1f} ms  (min {low * 1000:.1f}, max {high * 1000:.1f}, n={runs})")


def interleaved_medians(actions: dict[str, Callable[[], object]], runs: int) -> dict[str, tuple[float, float, float]]:
    """(median, min, max) per action, the actions taking turns run by run, so that a change in the
    machine's load between runs falls on all of them alike (fair for comparisons)."""
    times: dict[str, list[float]] = {label: [] for label in actions}
    for _ in range(runs):
        for label, action in actions.items():
            start = time.perf_counter()
            action()
            times[label].append(time.perf_counter() - start)
    return {label: (statistics.median(values), min(values), max(values)) for label, values in times.items()}
