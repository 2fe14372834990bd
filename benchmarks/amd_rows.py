"""Published AMD training rows kept as data: benchmarks/data/amd_rows.yaml, read into Measurements.

The file is a YAML list (or a mapping whose `rows:` is that list, beside `ablations:`); each entry (schema: `AmdRow`) is one published figure with where it was
found, how tokens/s per GPU was derived from it and which settings the source leaves unstated.
An unknown key, a missing one, a workload field the goblin format does not have, or a workload
goblin cannot read is an error naming the file and the row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from calibration_rows import Measurement
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytest_goblin.errors import ConfigError, KBError
from pytest_goblin.formats.goblin import FIELDS
from pytest_goblin.hardware import get_hardware
from pytest_goblin.yamlio import load_yaml

AMD_ROWS = Path(__file__).resolve().parent / "data" / "amd_rows.yaml"
Stack = Literal["hf_trainer", "torchtune", "torchtitan", "megatron_te", "megatron_lm", "maxtext", "deepspeed", "other"]
WORKLOAD_KEYS = frozenset(FIELDS) | {"model", "model_shape"}


class AmdRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    source_key: str = Field(min_length=1)  # one independent source: submitter, publisher or document
    source: str = Field(pattern=r"^https://")
    location: str  # file path / table / line, as found
    row: str  # the published row as the source gives it
    target: str  # kb/hardware.yaml id
    stack: Stack
    workload: dict[str, Any]  # goblin-format fields
    published_tokens_per_s: float = Field(gt=0)  # per GPU
    derivation: str
    settings_unstated: list[str] = Field(default_factory=list)
    fitted: bool
    memory_gb: float | None = Field(default=None, gt=0)
    inexpressible: list[str] = Field(default_factory=list)  # settings goblin cannot express: never fitted to
    unestablished: list[str] = Field(default_factory=list)  # settings the source leaves open and no projection can have run with: never fitted to


class RowsError(ValueError):
    pass


def load_rows(path: Path = AMD_ROWS) -> tuple[Measurement, ...]:
    """The file's rows as Measurements; () when the file does not exist."""
    if not path.is_file():
        return ()
    text = path.read_text(encoding="utf-8")
    data = load_yaml(path, text)
    if isinstance(data, dict):  # `rows:` beside `ablations:` (published one-change pairs, read by ablations())
        data = data.get("rows")
    if not isinstance(data, list):
        raise RowsError(f"{path}: expected a YAML list of rows (or a mapping with `rows:`), found {type(data).__name__}")
    out: list[Measurement] = []
    seen: set[str] = set()
    for i, raw in enumerate(data, 1):
        label = f"{path}: row {i}" + (f" ({raw['name']})" if isinstance(raw, dict) and isinstance(raw.get("name"), str) else "")
        if not isinstance(raw, dict):
            raise RowsError(f"{label}: expected a mapping")
        try:
            row = AmdRow.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise RowsError(f"{label}: {problems}") from None
        if row.inexpressible and row.fitted:
            raise RowsError(f"{label}: a row with `inexpressible` settings cannot be `fitted: true`: no factor may be set to match it")
        if row.unestablished and row.fitted:
            raise RowsError(
                f"{label}: a row with `unestablished` settings cannot be `fitted: true`: no factor may be set to match a run whose settings are not known"
            )
        if row.name in seen:
            raise RowsError(f"{label}: the name {row.name!r} is used by an earlier row")
        seen.add(row.name)
        unknown = sorted(set(row.workload) - WORKLOAD_KEYS)
        if unknown:
            raise RowsError(f"{label}: workload keys the goblin format does not have: {', '.join(unknown)}")
        try:
            get_hardware(row.target)
        except KBError as exc:
            raise RowsError(f"{label}: target {row.target!r}: {exc}") from None
        m = Measurement(
            name=row.name,
            target=row.target,
            workload=row.workload,
            published_tokens_per_s=row.published_tokens_per_s,
            source=row.source,
            row=row.row,
            fitted=row.fitted,
            stack=row.stack,
            source_key=row.source_key,
            memory_gb=row.memory_gb,
            inexpressible=tuple(row.inexpressible),
            unestablished=tuple(row.unestablished),
        )
        try:
            m.workload_config()
        except ConfigError as exc:
            raise RowsError(f"{label}: workload: {exc}") from None
        out.append(m)
    return tuple(out)
