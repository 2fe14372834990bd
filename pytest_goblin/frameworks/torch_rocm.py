"""Whether the torch a repository pins has a ROCm build for the target GPU's architecture.

torch_rocm.json holds, per PyTorch release, the newest ROCm its ROCm wheels are built for (from the
pytorch.org "Previous PyTorch Versions" page, with its commit), and per GPU architecture the oldest
ROCm release AMD supports it on. A pin whose every allowed release is in the table and is built for
an older ROCm than the GPU needs cannot run there: `torch==2.0.1` has ROCm 5.4.2 wheels at newest,
and gfx942 (MI300X) is supported from ROCm 6.0. A pin that allows a release after the table's
newest is not judged (those releases have newer ROCm builds; which ones is not in the table). A
local version names the build itself: `+cu118` is a CUDA build, which has no HIP device code at all.

Nothing here is installed or imported: the pin is read from the repository's files (pins.exact_pins).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .pins import Pin

DATA = Path(__file__).with_name("torch_rocm.json")


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class NoBuild:
    """Why the pinned torch has no build for the GPU, and the fix."""

    why: str
    fix: str
    sources: tuple[str, ...]


def _v(s: str) -> Version | None:
    try:
        return Version(s)
    except InvalidVersion:
        return None


def _lowest_with(need: Version) -> str | None:
    """The oldest release in the table whose ROCm wheels are built for `need` or later."""
    rows = sorted(((v, r) for v, r in table()["newest_rocm"].items() if (rv := _v(r)) is not None and rv >= need), key=lambda x: Version(x[0]))
    return rows[0][0] if rows else None


def no_rocm_build(pin: Pin, arch: str) -> NoBuild | None:
    """Why the torch `pin` allows no release with a build for `arch`, or None (it does, or goblin cannot tell)."""
    data = table()
    arch_row = data["arch_min_rocm"].get(arch)
    local = re.search(r"\+([a-z0-9.]+)", pin.constraint or pin.spec)
    if local and local.group(1).startswith("cu"):
        return NoBuild(
            f"`{pin.spec}` ({pin.where}) names a CUDA build of torch ({local.group(0)}), which has no HIP device code: "
            "on ROCm torch.cuda.is_available() is False and the run has no GPU",
            f"drop the `{local.group(0)}` local version and install torch from PyTorch's ROCm index "
            "(https://download.pytorch.org/whl/rocmX.Y) or use a ROCm PyTorch image",
            (data["wheels_source"],),
        )
    if arch_row is None:
        return None
    need = Version(arch_row["rocm"])
    if local and local.group(1).startswith("rocm"):
        built = _v(local.group(1)[4:])
        if built is None or built >= need:
            return None
        allowed = [(pin.version, local.group(1)[4:])]
    else:
        try:
            spec = SpecifierSet(pin.constraint or f"=={pin.version}")
        except InvalidSpecifier:
            return None
        if any(spec.contains(v) for v in data["later_releases"]):
            return None
        allowed = [(v, r) for v, r in data["newest_rocm"].items() if spec.contains(v)]
        if not allowed or any((rv := _v(r)) is None or rv >= need for _v_, r in allowed):
            return None
    newest = max(allowed, key=lambda x: Version(x[0]))
    lowest = _lowest_with(need)
    shown = newest[0] if len(allowed) == 1 else f"{min(allowed, key=lambda x: Version(x[0]))[0]}-{newest[0]}"
    pin_it = (
        f"pin torch>={lowest}"
        if pin.kind != "implied"
        else f"pin a release of {pin.spec.split('required by ', 1)[-1].split('=', 1)[0]} that allows torch>={lowest}"
    )
    fix = (
        f"{pin_it}, the oldest release whose ROCm wheels are built for ROCm {need} or later (ROCm {data['newest_rocm'][lowest]}), "
        "or run a ROCm PyTorch image for the GPU"
        if lowest
        else f"pin a torch release whose ROCm wheels are built for ROCm {need} or later (none of the releases in goblin's table up to "
        f"{max(data['newest_rocm'], key=Version)} is), or run a ROCm PyTorch image for the GPU"
    )
    return NoBuild(
        f"`{pin.spec}` ({pin.where}): torch {shown} has ROCm {newest[1]} wheels at newest, and {arch} is supported from ROCm {need}: "
        f"no ROCm build of the pinned torch is made for a ROCm release that supports this GPU",
        fix,
        (data["wheels_source"], arch_row["source"]),
    )
