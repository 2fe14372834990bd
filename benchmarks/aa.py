"""A/A: the tuned example measured against itself, N times, on this machine's CPU (or GPU).

    python benchmarks/aa.py [CONFIG] [--n 20]

Each trial is what an audit's measured comparison does: before and after interleaved in one
worker (alternating order), rounds added in that worker until the bootstrap interval of the
speedup is within +-3% or two minutes pass. Since both sides are the same config, every verdict must be pass and
the interval must stay narrow: this prints the verdicts and the largest half-width, measured in
this one run. Goals: no fail; half-width at most 3%.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_goblin.formats import load_config  # noqa: E402
from pytest_goblin.hardware import get_hardware  # noqa: E402
from pytest_goblin.runners.torch_runner import TorchRunner  # noqa: E402
from pytest_goblin.stats import bootstrap_speedup, decide  # noqa: E402
from pytest_goblin.tools.audit_tools import MAX_PAIR_CALLS, TARGET_HALF_WIDTH  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", default=str(ROOT / "examples" / "trl-smollm3-3b-sft-tuned.yaml"))
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    w = load_config(Path(args.config)).workload
    hw = get_hardware("mi300x")
    runner = TorchRunner(timeout_s=600)
    verdicts, widths = [], []
    start = time.monotonic()
    for i in range(args.n):
        a: list[float] = []
        b: list[float] = []
        for _ in range(MAX_PAIR_CALLS):
            ma, mb = runner.run_pair(
                w, w, hw, run_ids=("r1", "r2"), variants=("baseline", "same"), rounds=3, steps=2, target_half_width=TARGET_HALF_WIDTH, max_seconds=120
            )
            a += ma.step_time_s
            b += mb.step_time_s
            sp = bootstrap_speedup(a, b)
            half = sp.half_width
            if half <= TARGET_HALF_WIDTH:
                break
        verdict, _ = decide(sp, fail_at=1.10, warn_at=1.03)
        verdicts.append(verdict)
        widths.append(half)
        print(f"trial {i + 1:2}: speedup {sp.point:.3f} [{sp.low:.3f}-{sp.high:.3f}] half-width {half:.1%} -> {verdict}", flush=True)
    fails = verdicts.count("fail")
    print(f"\n{args.n} A/A audits of {Path(args.config).name} on {runner.device} in {time.monotonic() - start:.0f} s")
    print(f"fail verdicts: {fails} (goal 0); warn: {verdicts.count('warn')}; pass: {verdicts.count('pass')}")
    print(f"largest interval half-width: {max(widths):.1%} (goal <= {TARGET_HALF_WIDTH:.0%}); median {sorted(widths)[len(widths) // 2]:.1%}")
    return 0 if fails == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
