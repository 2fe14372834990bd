"""A wrapper YAML whose framework config is one block named after the framework (`llamafactory:`, `axolotl:`), the rest
being the wrapper's own settings (container, slurm): OpenEuroLLM post-training configs/llamafactory/long-context.yaml,
whose `llamafactory:` mapping src/post_training/backend.py:251-253@OpenEuroLLM/post-training dumps verbatim to the
file llamafactory-cli trains on (review7a #18). The block is read as that format reads a flat file, where that
format's detector accepts it; every key reported and every edit offered is under `<block>.`. A sibling `slurm:` /
`launcher:` / `resources:` mapping that plainly states nodes and GPUs per node gives the topology."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..schemas import WorkloadConfig
from ..yamlio import get_path, key_line
from .axolotl import AxolotlAdapter
from .base import Adapter, Reader
from .llamafactory import LlamaFactoryAdapter

# the wrapper's keys whose mapping may state the topology, and the plain names of its counts
TOPOLOGY_BLOCKS = ("slurm", "launcher", "resources")
_NODES = ("num_nodes", "nodes", "nnodes")
_PER_NODE = ("gpus_per_node", "num_gpus_per_node", "gpus-per-node")


def _count(mapping: dict[str, Any], names: tuple[str, ...]) -> tuple[str, int] | None:
    for name in names:
        value = mapping.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return name, value
    return None


def wrapper_topology(top: Any) -> tuple[str, int, int, str, int | None, str, int | None] | None:
    """(block, nodes, GPUs per node, nodes key, its line, per-node key, its line) from the first sibling block that
    states both as plain integers; None when none does."""
    if not isinstance(top, dict):
        return None
    for block in TOPOLOGY_BLOCKS:
        mapping = top.get(block)
        if not isinstance(mapping, dict):
            continue
        nodes, per = _count(mapping, _NODES), _count(mapping, _PER_NODE)
        if nodes is not None and per is not None:
            return block, nodes[1], per[1], nodes[0], key_line(mapping, nodes[0]), per[0], key_line(mapping, per[0])
    return None


class _Nested(Adapter):
    """The block's format, read from inside the block; scored 1, below any flat reading of the file."""

    block: str  # the key holding the config (a class constant here; found per file in formats/embedded.py)
    _top: Any = None

    def _inner(self, data: Any) -> Any:
        return data.get(self.block) if isinstance(data, dict) else None

    def framework_data(self, data: Any) -> Any:
        return self._inner(data)

    def framework_key(self, key: str) -> str:
        return key[len(self.block) + 1 :] if key.startswith(f"{self.block}.") else key

    def detect(self, data: Any) -> int:
        inner = self._inner(data)
        return 1 if isinstance(inner, dict) and super().detect(inner) > 0 else 0

    def not_training(self, data: Any) -> str | None:
        return super().not_training(self._inner(data))

    def parse(self, path: Path, data: Any, text: str) -> WorkloadConfig:
        self._top = data  # read() needs the wrapper's own keys beside the block
        return super().parse(path, self._inner(data), text)

    def read(self, r: Reader) -> None:
        found = wrapper_topology(self._top)
        if found is not None:  # read_world_size keeps a world size already read (semantics.read_world_size)
            block, nodes, per, nkey, nline, pkey, pline = found
            r.explicit("world_size", nodes * per, f"{block}.{nkey}", nline)
            r.sources["world_size"].note = f"`{block}.{nkey}: {nodes}` x `{block}.{pkey}: {per}` in the wrapper file"
        super().read(r)
        if found is not None:
            r.explicit("nodes", nodes, f"{block}.{nkey}", nline)
            r.explicit("gpus_per_node", per, f"{block}.{pkey}", pline)
        for name, src in list(r.sources.items()):
            if src.key and src.file == r.path and get_path(r.data, src.key)[0]:
                r.sources[name] = src.model_copy(update={"key": f"{self.block}.{src.key}"})
        line = key_line(self._top, self.block)
        at = f" (line {line})" if line else ""
        r.notes.append(
            f"the {self.name} config is the `{self.block}:` block{at} of a wrapper file; its other keys are the wrapper's own"
            + (f"; topology from its `{found[0]}:` block" if found is not None else "")
        )

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        found = super().writes(field, value, workload, self._inner(data))
        return {f"{self.block}.{k}": v for k, v in found.items()} if found else found

    def apply_keys(self, text: str, data: Any, writes: dict[str, Any]) -> tuple[str, list[str]]:
        prefixed = {k if k.startswith(f"{self.block}.") else f"{self.block}.{k}": v for k, v in writes.items()}
        return super().apply_keys(text, data, prefixed)


class NestedLlamaFactoryAdapter(_Nested, LlamaFactoryAdapter):
    block = "llamafactory"


class NestedAxolotlAdapter(_Nested, AxolotlAdapter):
    block = "axolotl"


NESTED_BLOCKS: dict[str, type[Adapter]] = {"llamafactory": LlamaFactoryAdapter, "axolotl": AxolotlAdapter}


def skipped_block(data: Any) -> str:
    """Why a file with a framework-named block was not read through it (`llamafactory:` that LLaMA-Factory's detector
    does not accept), for the "no known config format matched" reason; "" when it has none."""
    if not isinstance(data, dict):
        return ""
    for block, adapter in NESTED_BLOCKS.items():
        if block in data:
            line = key_line(data, block)
            at = f" (line {line})" if line else ""
            what = "is not a mapping" if not isinstance(data[block], dict) else f"is not a config the {adapter.name} reader accepts"
            return f"; its `{block}:` block{at} {what}, so it was skipped"
    return ""
