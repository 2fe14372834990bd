"""Published ablation ratios against the projection's: the same run with one thing changed.

    python benchmarks/ablations.py

A verdict rests on a ratio (the step before and after an edit), so what matters most is whether the
projection reproduces published before/after pairs (issue 25: every pair within 10%). Pairs:

- `ablations:` of benchmarks/data/amd_rows.yaml (each with what changed and the published ratio,
  after / before tokens/s per GPU);
- `calibration_rows.ABLATIONS` (torchtitan bf16 -> float8, pytorch/ao's document);
- pairs the rows already hold (`derived_pairs`): two rows of one source on one GPU whose workloads
  differ in exactly one of the settings in `ONE_SETTING` (batch size, precision, checkpointing,
  compile, sequence length), not already listed.

For each pair the projected ratio is the nominal projected tokens/s per GPU after over before
(`projected_rate`, the rate `throughput_range` reports; for a row whose published figure is a whole run with
checkpoint saves, `save_interval` set, that rate with the saves charged: `calibration_rows.with_saves`), and the
error is projected / published - 1.
docs/projection.md carries `table()` between its ablations-table markers (a test keeps them equal).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from amd_rows import AMD_ROWS, RowsError, load_rows
from calibration_rows import ABLATIONS as CALIBRATION_ABLATIONS
from calibration_rows import AMD_MEASUREMENTS, HELDOUT_MEASUREMENTS, Measurement, with_saves

from pytest_goblin.costmodel import data_tokens_per_step, step
from pytest_goblin.hardware import get_hardware
from pytest_goblin.yamlio import load_yaml

BAR = 0.10  # issue 25: published ablation ratios reproduced within 10%
# Workload keys one ablation may change, as one setting: a key, or keys that state one setting together
# (checkpointing on/off with the share of layers it recomputes).
ONE_SETTING: tuple[tuple[str, ...], ...] = (
    ("micro_batch_size",),
    ("gradient_accumulation",),
    ("precision",),
    ("gradient_checkpointing", "recompute_share"),
    ("torch_compile",),
    ("seq_len",),
    # sequence length at (nearly) fixed tokens per micro-batch: the Infinity Hub harness's 8k/4k rows
    ("seq_len", "micro_batch_size"),
    # the Infinity Hub harness turns compile off whenever it turns fp8 on (train_fsdp.py:72-75, amd_rows.yaml)
    ("precision", "torch_compile"),
)


@dataclass(frozen=True)
class Ablation:
    before: Measurement
    after: Measurement
    changed: str  # what differs, in words
    origin: str  # where the pair comes from: "amd_rows.yaml", "calibration_rows", "same source"

    @property
    def published_ratio(self) -> float:
        return self.after.published_tokens_per_s / self.before.published_tokens_per_s


@dataclass(frozen=True)
class Result:
    ablation: Ablation
    projected_before: float  # tokens/s per GPU, nominal
    projected_after: float

    @property
    def projected_ratio(self) -> float:
        return self.projected_after / self.projected_before

    @property
    def error(self) -> float:
        return self.projected_ratio / self.ablation.published_ratio - 1

    @property
    def within(self) -> bool:
        return abs(self.error) <= BAR


def projected_rate(m: Measurement) -> float:
    """Nominal projected tokens of data per second per GPU (pad tokens not counted)."""
    w = m.workload_config()
    return with_saves(w, data_tokens_per_step(w) / step(w, get_hardware(m.target)).step_s)


def all_rows() -> tuple[Measurement, ...]:
    return AMD_MEASUREMENTS + HELDOUT_MEASUREMENTS + load_rows()


def _differs(a: Measurement, b: Measurement) -> list[str]:
    keys = set(a.workload) | set(b.workload)
    return sorted(k for k in keys if a.workload.get(k) != b.workload.get(k))


def _describe(a: Measurement, b: Measurement, keys: Iterable[str]) -> str:
    return ", ".join(f"{k} {a.workload.get(k, 'default')} -> {b.workload.get(k, 'default')}" for k in keys)


def listed_pairs(rows: Sequence[Measurement], path: Path = AMD_ROWS) -> list[Ablation]:
    """The `ablations:` block of the rows file and calibration_rows.ABLATIONS, each checked: both rows
    exist, and the file's `published_ratio` is the rows' own ratio (to 0.1%)."""
    by_name = {m.name: m for m in rows}
    out: list[Ablation] = []
    raw: list[Any] = []
    if path.is_file():
        data = load_yaml(path, path.read_text(encoding="utf-8"))
        raw = list(data.get("ablations") or []) if isinstance(data, dict) else []
    for i, entry in enumerate(raw, 1):
        label = f"{path}: ablation {i}"
        if not isinstance(entry, dict) or not {"before", "after", "changed", "published_ratio"} <= set(entry):
            raise RowsError(f"{label}: expected a mapping with before, after, changed and published_ratio")
        missing = [entry[k] for k in ("before", "after") if entry[k] not in by_name]
        if missing:
            raise RowsError(f"{label}: no row named {', '.join(map(repr, missing))}")
        ab = Ablation(by_name[entry["before"]], by_name[entry["after"]], str(entry["changed"]), "amd_rows.yaml")
        if abs(ab.published_ratio / float(entry["published_ratio"]) - 1) > 1e-3:
            raise RowsError(f"{label}: published_ratio {entry['published_ratio']} is not the rows' own ratio {ab.published_ratio:.4f}")
        out.append(ab)
    for before, after in CALIBRATION_ABLATIONS:
        if before in by_name and after in by_name:
            a, b = by_name[before], by_name[after]
            out.append(Ablation(a, b, _describe(a, b, _differs(a, b)), "calibration_rows"))
    return out


def derived_pairs(rows: Sequence[Measurement], listed: Iterable[Ablation] = ()) -> list[Ablation]:
    """Pairs of rows of one source on one GPU whose workloads differ in exactly one setting of ONE_SETTING
    (an unordered pair once, the smaller published rate first), not already listed in either order."""
    seen = {frozenset((ab.before.name, ab.after.name)) for ab in listed}
    out = []
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if a.source_key != b.source_key or a.target != b.target or frozenset((a.name, b.name)) in seen:
                continue
            diff = set(_differs(a, b))
            if diff and any(diff <= set(group) for group in ONE_SETTING):
                lo, hi = (a, b) if a.published_tokens_per_s <= b.published_tokens_per_s else (b, a)
                out.append(Ablation(lo, hi, _describe(lo, hi, sorted(diff)), "same source"))
    return out


def ablations(rows: Sequence[Measurement] | None = None) -> list[Ablation]:
    rows = all_rows() if rows is None else rows
    listed = listed_pairs(rows)
    return listed + derived_pairs(rows, listed)


def evaluate(pairs: Sequence[Ablation]) -> list[Result]:
    rate: dict[str, float] = {}
    for ab in pairs:
        for m in (ab.before, ab.after):
            if m.name not in rate:
                rate[m.name] = projected_rate(m)
    return [Result(ab, rate[ab.before.name], rate[ab.after.name]) for ab in pairs]


def summary_line(results: Sequence[Result]) -> str:
    if not results:
        return "- no ablation pairs."
    errors = [abs(r.error) for r in results]
    within = sum(r.within for r in results)
    return f"- {len(results)} pairs; within {BAR:.0%}: {within}/{len(results)}; mean |error| {statistics.fmean(errors):.1%}, largest {max(errors):.1%}."


def table(results: Sequence[Result] | None = None) -> str:
    """The Markdown table of docs/projection.md (between its ablations-table markers)."""
    results = evaluate(ablations()) if results is None else results
    out = [
        "| before | after | GPU | changed | pair from | published ratio | projected ratio | error | within 10% |",
        "|---|---|---|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        ab = r.ablation
        gpu = ab.before.target if ab.before.target == ab.after.target else f"{ab.before.target} -> {ab.after.target}"
        changed = ab.changed.replace("|", "/")
        out.append(
            f"| {ab.before.name} | {ab.after.name} | {gpu} | {changed} | {ab.origin} | {ab.published_ratio:.3f} | "
            f"{r.projected_ratio:.3f} | {r.error:+.1%} | {'yes' if r.within else 'no'} |"
        )
    out.append("")
    out.append(summary_line(results))
    return "\n".join(out)


if __name__ == "__main__":
    print(table())
