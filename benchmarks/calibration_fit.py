"""Fit a target's efficiency factors to its published rows (the `fitted` ones in calibration_rows.py).

    python benchmarks/calibration_fit.py mi300x mi325x -- gemm_eff_max=0.3:0.6 fp8_gemm_eff_max=0.2:0.5 attn_eff=0.1:0.5

Grid search minimising the largest absolute log error over the rows of the named targets that the grid
moves (ties: the smaller sum of squared log errors, then the settings nearest the starting factors); prints the best
settings and each row's error. The result goes into kb/efficiency.yaml by hand, with the rows named.
`fit` is the search itself; benchmarks/loso.py calls it once per left-out source.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_rows import AMD_MEASUREMENTS, Measurement, with_saves

from pytest_goblin.costmodel import Assumptions, nominal_for, step
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import Hardware, WorkloadConfig

Row = tuple[Measurement, WorkloadConfig, Hardware, Assumptions]  # a row, its workload, GPU and the factors the fit starts from


def log_error(m: Measurement, w: WorkloadConfig, hw: Hardware, a: Assumptions) -> float:
    return math.log(with_saves(w, w.tokens_per_step / step(w, hw, a).step_s) / m.published_tokens_per_s)


TOLERANCE = 0.01  # fits whose largest |log error| differ by less than this are equally good
SSE_TOLERANCE = 1e-4  # ... and, among those, fits whose sum of squared log errors differ by less than this
MOVES = 1e-9  # a row whose |log error| spans less than this over the grid is one the grid does not read


def fit(rows: Sequence[Row], grid: Mapping[str, Sequence[float]]) -> tuple[dict[str, float], float]:
    """The grid point with the smallest largest |log error| over the rows the grid moves, and that error.

    Only rows whose projection changes somewhere on the grid are scored: a row no grid factor reads
    (an fp32 row when the grid holds fp8 efficiencies) has the same error at every point, and when it
    is the worst row it makes every point a tie, so the fit would return its starting factors whatever
    the rows the factors do read say. With no such row, every row is scored.
    Fits within TOLERANCE of each other are ties (the same recipe's published figures differ by more
    across submitters), broken first by the sum of squared log errors over the scored rows: the largest
    error is often one row's that only some factors move, and without this every other factor would be
    left free inside the tie, set by the starting point rather than by the rows it reads. Fits still
    tied (within SSE_TOLERANCE) are broken by the distance from the rows' starting factors (each
    factor's change over its grid's span, squared and summed): with fewer rows than factors many
    points fit exactly, and the one that moves the factors least is taken. Each row keeps its own starting factors for
    every factor the grid does not name."""
    if not rows or not grid:
        return {}, max((abs(log_error(*r)) for r in rows), default=0.0)
    start = rows[0][3]
    span = {k: (max(v) - min(v)) or 1.0 for k, v in grid.items()}
    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    errors = [[log_error(m, w, hw, replace(a, **{k: type(getattr(a, k))(v) for k, v in values.items()})) for m, w, hw, a in rows] for values in points]
    scored_rows = [i for i in range(len(rows)) if max(e[i] for e in errors) - min(e[i] for e in errors) > MOVES] or list(range(len(rows)))
    scored = []
    for values, errs in zip(points, errors, strict=True):
        prior = sum(((v - getattr(start, k)) / span[k]) ** 2 for k, v in values.items())
        sse = sum(errs[i] ** 2 for i in scored_rows)
        scored.append((max(abs(errs[i]) for i in scored_rows), sse, prior, values))
    best = min(s[0] for s in scored)
    tied = [s for s in scored if s[0] <= best + TOLERANCE]
    least = min(s[1] for s in tied)
    worst, _sse, _prior, values = min((s for s in tied if s[1] <= least + SSE_TOLERANCE), key=lambda s: (s[2], s[0]))
    return values, worst


def main(argv: list[str]) -> None:
    split = argv.index("--")
    targets, specs = argv[:split], argv[split + 1 :]
    grid: dict[str, list[float]] = {}
    for spec in specs:
        name, rng = spec.split("=")
        lo, hi = (float(x) for x in rng.split(":"))
        grid[name] = [lo + (hi - lo) * i / 10 for i in range(11)]
    rows = [(m, m.workload_config(), get_hardware(m.target)) for m in AMD_MEASUREMENTS if m.fitted and m.target in targets]
    values, worst = fit([(m, w, hw, nominal_for(hw)) for m, w, hw in rows], grid)
    print("best:", {k: round(v, 4) for k, v in values.items()}, f"max |log error| {worst:.3f}")
    for m, w, hw in rows:
        a = replace(nominal_for(hw), **values)
        rate = with_saves(w, w.tokens_per_step / step(w, hw, a).step_s)
        print(f"  {m.name}: published {m.published_tokens_per_s:,.0f}, fitted {rate:,.0f} ({rate / m.published_tokens_per_s - 1:+.1%})")


if __name__ == "__main__":
    main(sys.argv[1:])
