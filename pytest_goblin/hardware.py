"""The GPU table (pytest_goblin/kb/hardware.yaml) and which of its GPUs this machine has."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from .devices import KFD_NODES, kfd_gpus, properties
from .errors import KBError
from .schemas import Hardware

DEFAULT_TARGET = "mi300x"


def kb_dir() -> Path:
    return Path(str(resources.files("pytest_goblin") / "kb"))


MAX_KB_BYTES = 5_000_000  # the bundled KB is ~100 KB; a rule file is never megabytes


def load_yaml_list(path: Path) -> list[Any]:
    """A rule or GPU file: a regular file under MAX_KB_BYTES (no FIFO, no /dev/zero), read as data.

    Errors name the file and line, never a line of its content (the path may come from an ini file).
    Read with the configs' libyaml reader (the same YAML 1.2 reading as ruamel's, a tenth of the
    time of its pure-Python loader, which cost a session 150 ms before its first audit).
    """
    from .safepath import UnsafePath, read_text
    from .yamlio import parse_yaml

    try:
        text = read_text(path, limit=MAX_KB_BYTES)
    except UnsafePath as exc:
        raise KBError(f"{path}: {exc.reason}") from None
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise KBError(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', None) or type(exc).__name__}") from None
    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
        raise KBError(f"{path}: a value cannot be read ({type(exc).__name__})") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise KBError(f"{path}: expected a list of entries at the top level, got {type(data).__name__}")
    return data


@lru_cache(maxsize=1)
def hardware_table() -> dict[str, Hardware]:
    path = kb_dir() / "hardware.yaml"
    try:
        rows = TypeAdapter(list[Hardware]).validate_python(load_yaml_list(path))
    except ValidationError as exc:
        raise KBError(f"{path}: {exc}") from None
    return {h.id: h for h in rows}


def capacity_gb(hw: Hardware) -> float:
    """The GPU's memory in decimal GB (bytes / 1e9, the unit costmodel.memory_gb projects in) that every
    fit check compares with: the device-reported bytes when kb/hardware.yaml has them, else the label."""
    return hw.reported_bytes / 1e9 if hw.reported_bytes is not None else hw.hbm_gb


def capacity_phrase(hw: Hardware) -> str:
    """The capacity as a message prints it: "206 GB (MI300X's 192 GiB label)" where the reported size and the
    label differ, "64 GB" where only the label is known."""
    have = capacity_gb(hw)
    if hw.reported_bytes is None or f"{have:.0f}" == f"{hw.hbm_gb:g}":
        return f"{have:g} GB"
    return f"{have:.0f} GB ({hw.id.upper()}'s {hw.hbm_gb:g} GiB label)"


def detect_target(nodes: Path | None = None) -> str | None:
    """The table id of the local AMD GPU, read from the KFD topology in sysfs (torch not imported)."""
    gpus = kfd_gpus(nodes or KFD_NODES)
    if not gpus:
        return None
    node, version = gpus[0]
    arch = f"gfx{version // 10000}{(version // 100) % 100:x}{version % 100:x}"
    return match_target(arch, _vram_gb(node))


def _vram_gb(node: Path) -> float | None:
    total = 0
    for bank in node.glob("mem_banks/*/properties"):
        fields = properties(bank)
        if fields.get("heap_type") in ("1", "2"):  # HSA_HEAPTYPE_FRAME_BUFFER_PUBLIC / PRIVATE
            size = fields.get("size_in_bytes", "0")
            total += int(size) if size.isdigit() else 0
    return total / 1e9 if total else None


def match_target(arch: str, vram_gb: float | None) -> str | None:
    """The table entry with this architecture whose HBM is closest to the device's."""
    same = [h for h in hardware_table().values() if h.arch == arch]
    if not same:
        return None
    if vram_gb is None:
        return same[0].id
    return min(same, key=lambda h: abs(capacity_gb(h) - vram_gb)).id


def resolve_target(target: str) -> str:
    """`auto` means the local GPU when there is one, else MI300X."""
    if target.lower() != "auto":
        return target
    return detect_target() or DEFAULT_TARGET


def get_hardware(target: str) -> Hardware:
    table = hardware_table()
    key = resolve_target(target).lower().replace(" ", "").replace("-", "")
    if key not in table:
        raise KBError(f"unknown target {target!r}; choose one of: {', '.join(sorted(table))}")
    return table[key]


# An AMD architecture name spells its gfx version: gfx<major><minor, one hex digit><stepping, one hex digit>, the
# major.minor.stepping form HSA_OVERRIDE_GFX_VERSION takes (ROCT-Thunk-Interface rocm-6.2.4
# tests/kfdtest/scripts/run_kfdtest.sh:165 turns the variable into the name with printf "%d%x%x"; ROCR-Runtime rocm-6.2.4
# src/core/runtime/isa.cpp:267,288,318 registers gfx906 as 9.0.6, gfx90a as 9.0.10, gfx942 as 9.4.2). gfx950 (MI355X) is
# 9.5.0 by the same spelling.
_GFX_NAME = re.compile(r"gfx([0-9]{1,2})([0-9a-f])([0-9a-f])")


def gfx_version(arch: str) -> tuple[int, int, int] | None:
    """(major, minor, stepping) of an AMD architecture name (`gfx942` -> 9.4.2, `gfx90a` -> 9.0.10); None for another."""
    m = _GFX_NAME.fullmatch(arch.lower())
    return (int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16)) if m else None


def gfx_name(version: tuple[int, int, int]) -> str:
    """The architecture name of a gfx version (9.0.6 -> gfx906, 9.0.10 -> gfx90a)."""
    major, minor, stepping = version
    return f"gfx{major}{minor:x}{stepping:x}"
