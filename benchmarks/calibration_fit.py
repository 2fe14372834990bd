"""Fit a target's efficiency factors to its published rows (the `fitted` ones in calibration_rows.py).

    python benchmarks/calibration_fit.py mi300x mi325x -- gemm_eff_max=0.3:0.6 fp8_gemm_eff_max=0.2:0.5 attn_eff=0.1:0.5

Grid search minimising the largest absolute log error over the rows of the named targets; prints the
best settings and each row's error. The result goes into kb/efficiency.yaml by hand, with the rows named.
"""

from __future__ import annotations

import itertools
import math
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_rows import AMD_MEASUREMENTS

from pytest_goblin.costmodel import nominal_for, step
from pytest_goblin.hardware import get_hardware


def main(argv: list[str]) -> None:
    split = argv.index("--")
    targets, specs = argv[:split], argv[split + 1 :]
    grid: dict[str, list[float]] = {}
    for spec in specs:
        name, rng = spec.split("=")
        lo, hi = (float(x) for x in rng.split(":"))
        grid[name] = [lo + (hi - lo) * i / 10 for i in range(11)]
    rows = [(m, m.workload_config(), get_hardware(m.target)) for m in AMD_MEASUREMENTS if m.fitted and m.target in targets]
    best: tuple[float, dict[str, float]] | None = None
    for combo in itertools.product(*grid.values()):
        values = dict(zip(grid, combo, strict=True))
        worst = 0.0
        for m, w, hw in rows:
            a = replace(nominal_for(hw), **values)
            err = math.log(w.tokens_per_step / step(w, hw, a).step_s / m.published_tokens_per_s)
            worst = max(worst, abs(err))
        if best is None or worst < best[0]:
            best = (worst, values)
    assert best is not None
    print("best:", {k: round(v, 4) for k, v in best[1].items()}, f"max |log error| {best[0]:.3f}")
    for m, w, hw in rows:
        a = replace(nominal_for(hw), **best[1])
        rate = w.tokens_per_step / step(w, hw, a).step_s
        print(f"  {m.name}: published {m.published_tokens_per_s:,.0f}, fitted {rate:,.0f} ({rate / m.published_tokens_per_s - 1:+.1%})")


if __name__ == "__main__":
    main(sys.argv[1:])
