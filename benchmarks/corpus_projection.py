"""Projected audits of the reference corpus on one target: the distribution docs/projection.md quotes.

    python benchmarks/corpus_projection.py [target]

Runs `goblin audit` with the projection runner over tests/data/reference_corpus and prints verdict
counts, the spread of projected speedups and the MFU before and after the patch.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(target: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "pytest_goblin.cli", "audit", str(ROOT / "tests" / "data" / "reference_corpus"), "--json", str(out)]
        subprocess.run([*cmd, "--target", target], cwd=tmp, capture_output=True, text=True, check=False)
        items = json.loads(out.read_text())["items"]
    reports = [i["report"] for i in items if i.get("report") and i["report"].get("evidence") == "projected"]
    verdicts = {v: sum(1 for i in items if i["verdict"] == v) for v in ("fail", "warn", "pass", "error")}
    points = sorted(r["speedup"]["point"] for r in reports)
    mfu_b = [r["before"]["mfu"] for r in reports if r["before"].get("mfu") is not None]
    mfu_a = [r["after"]["mfu"] for r in reports if r["after"].get("mfu") is not None]
    q = statistics.quantiles(points, n=10)
    print(f"{len(items)} configs on {target}: {verdicts['fail']} fail, {verdicts['warn']} warn, {verdicts['pass']} pass, {verdicts['error']} error.")
    print(f"Projected speedup: median {statistics.median(points):.2f}x, 10th-90th percentile {q[0]:.2f}-{q[-1]:.2f}x, largest {points[-1]:.2f}x.")
    print(f"MFU (of the bf16 dense peak): median {statistics.median(mfu_b):.0%} before, {statistics.median(mfu_a):.0%} after; largest after {max(mfu_a):.0%}.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "mi300x")
