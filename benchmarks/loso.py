"""Leave-one-source-out cross-validation of the projection over every published AMD row.

    python benchmarks/loso.py [--classes] [--write] [--hold FACTOR=VALUE] [--source KEY]

Rows: calibration_rows.AMD_MEASUREMENTS, calibration_rows.HELDOUT_MEASUREMENTS and, when present,
benchmarks/data/amd_rows.yaml (amd_rows.load_rows). Each row names its independent source
(`source_key`: one submitter, publisher or document). For each source, the fitted factors of
kb/efficiency.yaml (PLAN) are refit (calibration_fit.fit) on the `fitted` rows of every other source,
and the calibration the interval is widened by (residuals and coverage, as in kb/efficiency.yaml's
`calibration` blocks) is recomputed on the other sources' calibration rows; then that source's rows
are projected. A factor no remaining row reads keeps its fallback: MI300X's the default block's, MI355X's
the refit MI300X value it inherits. Rows with `fitted: false` are never fitted to.

Prints each row's error and whether the published figure is inside the printed interval, then the
mean |error|, the rows within 25%, the share inside the interval and the interval's median width
((high - low) / nominal). `--classes` adds the same errors by class (stack, precision, size, GPU, nodes);
`--write` puts both into docs/projection.md between its loso-table and loso-classes-table markers.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from amd_rows import load_rows
from calibration_fit import Row, fit, log_error
from calibration_rows import AMD_MEASUREMENTS, HELDOUT_MEASUREMENTS, Measurement, saves_range

from pytest_goblin.costmodel import NOMINAL, Assumptions, Calibration, class_residuals, nominal_for, throughput_range, topology
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import WorkloadConfig


def _steps(lo: float, hi: float, step: float) -> tuple[float, ...]:
    return tuple(round(lo + i * step, 4) for i in range(round((hi - lo) / step) + 1))


# (fit name, targets whose fitted rows it uses, targets that take its values, the factors and their grids)
Plan = tuple[tuple[str, tuple[str, ...], tuple[str, ...], Mapping[str, Sequence[float]]], ...]
PLAN: Plan = (
    (
        "gfx942",
        ("mi300x", "mi325x"),
        ("mi300x", "mi325x", "mi355x"),
        {
            "gemm_eff_max": (0.54,),  # sourced (kb/efficiency.yaml: AMD's max-achievable BF16 GEMM share), not refit
            "gemm_half_hidden": (0, 1024, 2048, 3072, 4096, 6144, 8192),
            "fp8_gemm_eff_max": _steps(0.20, 0.90, 0.05),
            "fp8_compiled_gemm_eff_max": _steps(0.15, 0.75, 0.05),
        },
    ),
    ("mi355x", ("mi355x",), ("mi355x",), {"fp8_gemm_eff_max": _steps(0.20, 0.90, 0.05), "gemm_half_hidden": (0, 512, 1024, 2048, 4096)}),
)


def held(plan: Plan, name: str, value: float, fit_name: str = "gfx942") -> Plan:
    """`plan` with `name` held at `value` (not refit per source) in the fit `fit_name` (MI300X/MI325X's by
    default; MI355X's own fit keeps its grid): to measure a sourced value against the fitted one
    (`--hold gemm_half_hidden=768`, docs/projection.md, issue 25 proj7)."""
    grids = {f: grid for f, _fits, _takes, grid in plan}
    if name not in grids.get(fit_name, {}):
        raise SystemExit(f"--hold {name}: the {fit_name} fit of loso.PLAN does not refit it; it refits {sorted(grids.get(fit_name, {}))}")
    return tuple((f, fits, takes, {**grid, name: (value,)} if f == fit_name else grid) for f, fits, takes, grid in plan)


# The targets whose rows make one calibration block (kb/efficiency.yaml; calibration_rows.GROUPS)
GROUP_OF = {"mi300x": "gfx942", "mi325x": "gfx942", "mi355x": "mi355x"}


# A target whose group has no calibration row left: no residuals to widen by, nothing covered (the
# interval then takes throughput_range's uncovered widening), and never kb/efficiency.yaml's block,
# which was made with the left-out rows.
NO_ROWS = Calibration(rows=0, mean_abs_error=0.0, max_over=0.0, max_under=0.0, speedup_abs_error=0.0, basis="no rows")


@dataclass(frozen=True)
class Prediction:
    measurement: Measurement
    projected: float
    low: float
    high: float

    @property
    def error(self) -> float:
        return self.projected / self.measurement.published_tokens_per_s - 1

    @property
    def inside(self) -> bool:
        return self.low <= self.measurement.published_tokens_per_s <= self.high

    @property
    def width(self) -> float:
        return (self.high - self.low) / self.projected


@dataclass(frozen=True)
class Summary:
    rows: int
    sources: int
    mean_abs_error: float
    within_25: int
    inside: int
    median_width: float


def summarize(predictions: Sequence[Prediction]) -> Summary:
    return Summary(
        rows=len(predictions),
        sources=len({p.measurement.source_key for p in predictions}),
        mean_abs_error=statistics.fmean(abs(p.error) for p in predictions),
        within_25=sum(abs(p.error) <= 0.25 for p in predictions),
        inside=sum(p.inside for p in predictions),
        median_width=statistics.median(p.width for p in predictions),
    )


def all_rows() -> tuple[Measurement, ...]:
    rows = AMD_MEASUREMENTS + HELDOUT_MEASUREMENTS + load_rows()
    missing = [m.name for m in rows if not m.source_key]
    if missing:
        raise SystemExit(f"rows without a source_key: {', '.join(missing)}")
    return rows


def calibration_rows(rows: Iterable[Measurement]) -> list[Measurement]:
    """The rows a `calibration` block summarizes: calibration_rows.AMD_MEASUREMENTS' (fitted or not) and the
    data file's fitted ones; the held-out rows stay out of every fit and of the intervals."""
    held = {m.name for m in HELDOUT_MEASUREMENTS}
    amd = {m.name for m in AMD_MEASUREMENTS}
    return [m for m in rows if m.name in amd or (m.fitted and m.name not in held)]


_WORKLOADS: dict[str, WorkloadConfig] = {}


def _workload(m: Measurement) -> WorkloadConfig:
    if m.name not in _WORKLOADS:
        _WORKLOADS[m.name] = m.workload_config()
    return _WORKLOADS[m.name]


def refit(training: Sequence[Measurement], plan: Plan = PLAN) -> dict[str, Assumptions]:
    """Each PLAN target's factors fitted to the `fitted` rows of `training`, fit by fit in PLAN's order; a
    later fit starts from (inherits) the earlier one's values. A factor no row of the first fit reads
    falls back to the default block's value; of a later fit, keeps the inherited one."""
    factors = {t: nominal_for(get_hardware(t)) for _name, _fit, takes, _grid in plan for t in takes}
    for i, (_name, fit_targets, takes, grid) in enumerate(plan):
        fixed = {k: v[0] for k, v in grid.items() if len(v) == 1}  # a one-value grid sets the factor
        for t in takes:
            factors[t] = replace(factors[t], **{k: type(getattr(NOMINAL, k))(v) for k, v in fixed.items()})
        rows: list[Row] = [(m, _workload(m), get_hardware(m.target), factors[m.target]) for m in training if m.fitted and m.target in fit_targets]
        read = {k: v for k, v in grid.items() if k not in fixed and _reads(rows, k, v)}
        values, _worst = fit(rows, read)
        fallback = {k: getattr(NOMINAL, k) for k in grid if k not in read and k not in fixed} if i == 0 else {}
        update = {**fallback, **values}
        for t in takes:
            factors[t] = replace(factors[t], **{k: type(getattr(NOMINAL, k))(v) for k, v in update.items()})
    return factors


def _reads(rows: Sequence[Row], factor: str, grid: Sequence[float]) -> bool:
    """Whether any row's projection moves when `factor` goes from the grid's low end to its high end."""
    lo, hi = min(grid), max(grid)
    kind = type(getattr(NOMINAL, factor))
    return any(
        abs(log_error(m, w, hw, replace(a, **{factor: kind(lo)})) - log_error(m, w, hw, replace(a, **{factor: kind(hi)}))) > 1e-9 for m, w, hw, a in rows
    )


def calibration_of(rows: Sequence[Measurement], factors: Mapping[str, Assumptions]) -> dict[str, Calibration]:
    """Each group's residuals and coverage over `rows` projected with `factors` (kb/efficiency.yaml's `calibration`)."""
    out = {}
    for group in sorted(set(GROUP_OF.values())):
        sub = [m for m in rows if GROUP_OF.get(m.target) == group]
        if not sub:
            continue
        errors = [math.expm1(log_error(m, _workload(m), get_hardware(m.target), factors[m.target])) for m in sub]
        ws = [_workload(m) for m in sub]
        params = [w.model.params_b for w in ws if w.model.params_b is not None]
        out[group] = Calibration(
            rows=len(sub),
            mean_abs_error=statistics.fmean(abs(e) for e in errors),
            max_over=max(0.0, *errors),
            max_under=max(0.0, *(-e for e in errors)),
            speedup_abs_error=0.0,
            basis=group,
            stacks=tuple(sorted({m.stack for m in sub})),
            precisions=tuple(sorted({w.precision for w in ws})),
            methods=tuple(sorted({w.method for w in ws})),
            params_b=(min(params), max(params)) if params else None,
            gpus=(min(w.world_size for w in ws), max(w.world_size for w in ws)),
            classes=class_residuals((m.stack, w.precision, w.method, e) for m, w, e in zip(sub, ws, errors, strict=True)),
        )
    return out


def predict(m: Measurement, factors: Mapping[str, Assumptions], calibration: Mapping[str, Calibration]) -> Prediction:
    hw = get_hardware(m.target)
    group = GROUP_OF.get(m.target)
    w = _workload(m)
    r = throughput_range(
        w,
        hw,
        stack=m.stack,
        nominal=factors.get(m.target, nominal_for(hw)),
        calibration=calibration.get(group or "", NO_ROWS),
    )
    return Prediction(m, *saves_range(w, r.nominal, r.low, r.high))


def loso(rows: Sequence[Measurement], plan: Plan = PLAN, only: str | None = None) -> list[Prediction]:
    """Every row predicted by factors and a calibration made without its source's rows; `only`: that source's fold alone."""
    out = []
    sources = sorted({m.source_key for m in rows})
    if only is not None and only not in sources:
        raise SystemExit(f"--source {only}: no row names that source; the sources are {', '.join(sources)}")
    for source in [only] if only is not None else sources:
        training = [m for m in rows if m.source_key != source]
        factors = refit(training, plan)
        calibration = calibration_of(calibration_rows(training), factors)
        out += [predict(m, factors, calibration) for m in rows if m.source_key == source]
    return out


def set_aside(m: Measurement) -> bool:
    """A row the second summary line leaves out: settings goblin cannot express (`inexpressible`) or settings the source
    leaves open that no projection of the run can have had (`unestablished`). The headline keeps every row."""
    return bool(m.inexpressible or m.unestablished)


def table(predictions: Sequence[Prediction] | None = None) -> str:
    """The Markdown table of docs/projection.md."""
    predictions = loso(all_rows()) if predictions is None else predictions
    out = [
        "| source left out | row | GPU | published tokens/s/GPU | predicted | error | interval | inside | fitted row |",
        "|---|---|---|---:|---:|---:|---|---|---|",
    ]
    for p in predictions:
        m = p.measurement
        out.append(
            f"| {m.source_key} | {m.name} | {m.target} | {m.published_tokens_per_s:,.0f} | {p.projected:,.0f} | {p.error:+.1%} | "
            f"{p.low:,.0f}-{p.high:,.0f} | {'yes' if p.inside else 'no'} | {'yes' if m.fitted else 'no'} |"
        )
    s = summarize(predictions)
    out += [
        "",
        f"- {s.rows} rows from {s.sources} sources; mean |error| {s.mean_abs_error:.1%}; within 25%: {s.within_25}/{s.rows}; "
        f"published figure inside the interval: {s.inside}/{s.rows} ({s.inside / s.rows:.0%}); median interval width "
        f"(high - low) / predicted: {s.median_width:.0%}.",
    ]
    kept = [p for p in predictions if not set_aside(p.measurement)]
    if kept and len(kept) < len(predictions):
        k = summarize(kept)
        left = ", ".join(p.measurement.name for p in predictions if set_aside(p.measurement))
        out.append(
            f"- Without the {len(predictions) - len(kept)} row(s) whose settings goblin cannot express or the source does not "
            f"establish ({left}; `inexpressible` / `unestablished` in benchmarks/data/amd_rows.yaml): {k.rows} rows; mean |error| {k.mean_abs_error:.1%}; "
            f"within 25%: {k.within_25}/{k.rows}; inside the interval: {k.inside}/{k.rows}; median width {k.median_width:.0%}."
        )
    return "\n".join(out)


# The axes `class_table` groups residuals by: the software stack, the GEMM precision, the model's size, the GPU
# and single- or multi-node, each a class of mistake a change to the model can address at once
CLASS_AXES = ("stack", "precision", "scale", "gpu", "nodes")


def _scale(params_b: float | None) -> str:
    if params_b is None:
        return "unknown size"
    return "<= 10B" if params_b <= 10 else "10-40B" if params_b <= 40 else "> 40B"


def row_classes(p: Prediction) -> dict[str, str]:
    """The class of each axis (CLASS_AXES) a prediction's row belongs to."""
    w = _workload(p.measurement)
    return {
        "stack": p.measurement.stack,
        "precision": w.precision,
        "scale": _scale(w.model.params_b),
        "gpu": p.measurement.target,
        "nodes": "multi-node" if topology(w, get_hardware(p.measurement.target))[0] > 1 else "one node",
    }


def class_table(predictions: Sequence[Prediction] | None = None) -> str:
    """The leave-one-source-out residuals by class (`python benchmarks/loso.py --classes`), each axis's classes
    ordered by their summed |error|, largest first: the class to attack next heads its axis."""
    predictions = loso(all_rows()) if predictions is None else predictions
    out = ["| axis | class | rows | sources | mean error | mean abs error | largest abs error | inside |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for axis in CLASS_AXES:
        groups: dict[str, list[Prediction]] = {}
        for p in predictions:
            groups.setdefault(row_classes(p)[axis], []).append(p)
        for name, ps in sorted(groups.items(), key=lambda kv: -sum(abs(p.error) for p in kv[1])):
            errors = [p.error for p in ps]
            out.append(
                f"| {axis} | {name} | {len(ps)} | {len({p.measurement.source_key for p in ps})} | {statistics.fmean(errors):+.1%} | "
                f"{statistics.fmean(abs(e) for e in errors):.1%} | {max(abs(e) for e in errors):.1%} | {sum(p.inside for p in ps)}/{len(ps)} |"
            )
    return "\n".join(out)


def stack_conflicts(rows: Iterable[Measurement]) -> list[str]:
    """Rows of one source, model and method that name different software stacks: one of the two labels is wrong
    (the stack widens the interval and selects a class's residuals), so it must be fixed where the row is defined."""
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for m in rows:
        w = _workload(m)
        seen.setdefault((m.source_key, w.model.name, w.method), {}).setdefault(m.stack, m.name)
    return [
        f"{source} {model} {method}: " + ", ".join(f"{row} says {stack}" for stack, row in sorted(stacks.items()))
        for (source, model, method), stacks in sorted(seen.items())
        if len(stacks) > 1
    ]


DOC = Path(__file__).resolve().parent.parent / "docs" / "projection.md"


def write_doc(marker: str, text: str, doc: Path = DOC) -> None:
    """Replace what docs/projection.md carries between its `marker`-table markers with `text`."""
    start, end = f"<!-- {marker}-table:start -->", f"<!-- {marker}-table:end -->"
    body = doc.read_text(encoding="utf-8")
    head, found, rest = body.partition(start + "\n")
    if not found or end not in rest:
        raise SystemExit(f"{doc}: no {marker}-table markers; add `{start}` and `{end}` lines")
    doc.write_text(head + start + "\n" + text + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")


def main(argv: Sequence[str]) -> None:
    """`--classes` adds the residuals by class; `--write` puts both tables into docs/projection.md;
    `--hold FACTOR=VALUE` holds one refit factor at a value (not with `--write`: the doc shows the plan as is);
    `--source KEY` runs that source's fold alone (its rows and their summary; not with `--write`)."""
    conflicts = stack_conflicts(all_rows())
    if conflicts:
        raise SystemExit("rows of one source and recipe name different stacks:\n" + "\n".join(conflicts))
    plan = PLAN
    for i, arg in enumerate(argv):
        if arg == "--hold":
            if "--write" in argv:
                raise SystemExit("--hold and --write: the doc's tables are of loso.PLAN as it is; run --hold without --write")
            name, _, value = (argv[i + 1] if i + 1 < len(argv) else "").partition("=")
            if not value:
                raise SystemExit("--hold takes FACTOR=VALUE, e.g. --hold gemm_half_hidden=768")
            plan = held(plan, name, float(value))
    only = None
    if "--source" in argv:
        if "--write" in argv:
            raise SystemExit("--source and --write: the doc's tables hold every source's fold; run --source without --write")
        i = list(argv).index("--source")
        only = argv[i + 1] if i + 1 < len(argv) else ""
    predictions = loso(all_rows(), plan, only)
    print(table(predictions))
    classes = class_table(predictions)
    if "--classes" in argv or "--write" in argv:
        print()
        print(classes)
    if "--write" in argv:
        write_doc("loso", table(predictions))
        write_doc("loso-classes", classes)


if __name__ == "__main__":
    main(sys.argv[1:])
