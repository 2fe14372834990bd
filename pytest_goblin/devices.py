"""GPU discovery and per-worker pinning, without importing torch.

Under pytest-xdist each worker (gw0, gw1, ...) takes one GPU through HIP_VISIBLE_DEVICES /
CUDA_VISIBLE_DEVICES, so `pytest --goblin -n 8` on an 8-GPU node measures one audit per GPU.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import MutableMapping
from pathlib import Path

VISIBLE = ("HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")
KFD_NODES = Path("/sys/class/kfd/kfd/topology/nodes")


def properties(path: Path) -> dict[str, str]:
    """A KFD `properties` file (`name value` per line); empty when it cannot be read."""
    try:
        return {k: v.strip() for k, v in (line.split(None, 1) for line in path.read_text().splitlines() if " " in line)}
    except OSError:
        return {}


def kfd_gpus(nodes: Path = KFD_NODES) -> list[tuple[Path, int]]:
    """(node folder, gfx_target_version) of each AMD GPU in the KFD topology, in node order;
    CPU nodes have version 0 and are left out."""
    if not nodes.is_dir():
        return []
    found = []
    for props in sorted(nodes.glob("*/properties")):
        version = properties(props).get("gfx_target_version", "0")
        if version.isdigit() and int(version):
            found.append((props.parent, int(version)))
    return found


def gpu_count(kfd_nodes: Path = KFD_NODES, dev: Path = Path("/dev")) -> int:
    """AMD GPUs from the KFD topology (nodes with a gfx target), else NVIDIA device nodes."""
    amd = len(kfd_gpus(kfd_nodes))
    if amd:
        return amd
    return sum(1 for p in dev.glob("nvidia*") if re.fullmatch(r"nvidia\d+", p.name)) if dev.is_dir() else 0


def pin_worker(worker_id: str, n_gpus: int, env: MutableMapping[str, str] = os.environ) -> str | None:
    """Give xdist worker `gwN` GPU N mod n_gpus; returns the index, or None when nothing was set.

    A visibility variable the user set already wins: they chose the devices.
    """
    m = re.fullmatch(r"gw(\d+)", worker_id)
    if not m or n_gpus <= 0 or any(v in env for v in VISIBLE):
        return None
    index = str(int(m.group(1)) % n_gpus)
    env["HIP_VISIBLE_DEVICES"] = index
    env["CUDA_VISIBLE_DEVICES"] = index
    return index


def gpu_present() -> bool:
    """A ROCm or CUDA device node exists and torch is installed; checked without importing torch."""
    nodes = ("/dev/kfd", "/dev/nvidiactl")
    return any(os.path.exists(n) for n in nodes) and importlib.util.find_spec("torch") is not None
