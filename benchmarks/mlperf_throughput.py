"""Re-derive a held-out row's published figure from MLPerf Training result logs.

    python benchmarks/mlperf_throughput.py PATH/TO/training_results_v5.1/MangoBoost/results/MI300X-LLMBoost-GPUBoost-2node/llama2_70b_lora

Reads every `result_*.txt` in the folder (a clone of github.com/mlcommons/training_results_v5.1),
takes each run's median `tracked_stats` throughput (samples/s of the whole system, as the
submission logs it) and prints the median over the runs; calibration_rows.HELDOUT_MEASUREMENTS
multiplies that by the 8192-token packed sequence and divides by the GPU count.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def run_throughput(text: str) -> float | None:
    """The median logged throughput of one run, or None when the log has none."""
    values = []
    for line in text.splitlines():
        if ":::MLLOG" not in line:
            continue
        try:
            event = json.loads(line.split(":::MLLOG", 1)[1])
        except json.JSONDecodeError:
            continue
        value = event.get("value")
        if event.get("key") == "tracked_stats" and isinstance(value, dict) and "throughput" in value:
            values.append(float(value["throughput"]))
    return statistics.median(values) if values else None


def folder_throughput(folder: Path) -> tuple[float, int]:
    """(median over runs of each run's median samples/s, runs with a logged throughput)."""
    runs = [t for f in sorted(folder.glob("result_*.txt")) if (t := run_throughput(f.read_text(encoding="utf-8"))) is not None]
    if not runs:
        raise SystemExit(f"{folder}: no tracked_stats throughput in any result_*.txt")
    return statistics.median(runs), len(runs)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        median, runs = folder_throughput(Path(arg))
        print(f"{arg}: {median:.3f} samples/s (median of {runs} runs)")
