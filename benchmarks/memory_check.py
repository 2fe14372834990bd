"""Projected peak memory of every published run that ran, against its GPU's memory.

    python benchmarks/memory_check.py

A run that was published ran, so its projected peak per GPU (`costmodel.memory_gb`) must not exceed
the GPU's memory (issue 25). Rows: the H100 rows of calibration_rows.MEASUREMENTS, calibration_rows.AMD_MEASUREMENTS,
calibration_rows.HELDOUT_MEASUREMENTS and benchmarks/data/amd_rows.yaml. Prints every row with its
projected peak and the GPU's memory, then the rows projected above it. Each row still above is in
`KNOWN_OVER` with the reason (a test keeps that list equal to what the model projects now, so a new
violation and a fixed one both show). docs/projection.md carries `table()` between its memory-table
markers.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from amd_rows import load_rows
from calibration_rows import AMD_MEASUREMENTS, HELDOUT_MEASUREMENTS, MEASUREMENTS, Measurement

from pytest_goblin.costmodel import memory_gb
from pytest_goblin.hardware import capacity_gb, get_hardware

# Rows projected above their GPU's memory, and why (what the model or the row cannot express yet).
_TITAN_70B = (
    "torchtitan 70B, full checkpointing assumed: fp32 parameters, gradients and AdamW states sharded over 8 GPUs are "
    "141 GB before any activation; AMD's modified torchtitan config is not published (settings_unstated), so what "
    "it changed to fit is not known; the rows are marked `unestablished` (benchmarks/data/amd_rows.yaml), never fitted, "
    "and left out of the cross-validation's second summary line"
)
KNOWN_OVER: dict[str, str] = {
    "ih-llama31-70b-bf16-mbs4-mi300x": _TITAN_70B,
    "ih-llama31-70b-bf16-mbs7-mi325x": _TITAN_70B,
}


@dataclass(frozen=True)
class Check:
    measurement: Measurement
    projected_gb: float
    hbm_gb: float  # decimal GB the device reports where kb/hardware.yaml has it, else its label (hardware.capacity_gb)

    @property
    def over(self) -> bool:
        return self.projected_gb > self.hbm_gb


def all_rows() -> tuple[Measurement, ...]:
    return MEASUREMENTS + AMD_MEASUREMENTS + HELDOUT_MEASUREMENTS + load_rows()


def check(rows: Sequence[Measurement] | None = None) -> list[Check]:
    rows = all_rows() if rows is None else rows
    return [Check(m, memory_gb(m.workload_config()), capacity_gb(get_hardware(m.target))) for m in rows]


def over(checks: Sequence[Check]) -> list[Check]:
    return [c for c in checks if c.over]


def table(checks: Sequence[Check] | None = None) -> str:
    """The Markdown table of docs/projection.md: the rows projected above their GPU's memory, then a summary."""
    checks = check() if checks is None else checks
    bad = over(checks)
    out = ["| row | GPU | projected peak GB | GPU memory GB | why it is still above |", "|---|---|---:|---:|---|"]
    for c in bad:
        out.append(
            f"| {c.measurement.name} | {c.measurement.target} | {c.projected_gb:,.1f} | {c.hbm_gb:.1f} | {KNOWN_OVER.get(c.measurement.name, 'not explained')} |"
        )
    closest = sorted((c for c in checks if not c.over), key=lambda c: c.hbm_gb - c.projected_gb)[:3]
    out.append("")
    out.append(
        f"- {len(checks)} published rows; projected above their GPU's memory: {len(bad)}; closest under: "
        + ", ".join(f"{c.measurement.name} {c.projected_gb:.1f} of {c.hbm_gb:.1f} GB" for c in closest)
        + "."
    )
    return "\n".join(out)


if __name__ == "__main__":
    checks = check()
    for c in checks:
        print(f"{c.measurement.name:50s} {c.measurement.target:7s} {c.projected_gb:7.1f} / {c.hbm_gb:5.0f} GB{'  OVER' if c.over else ''}")
    print()
    print(table(checks))
