"""FSDP through TrainingArguments without `auto_wrap` (review12b #35, class C6): the model is one FSDP unit.

Where a file parsed into TrainingArguments names `fsdp` (e.g. `full_shard`) without the `auto_wrap` option, transformers
up to 4.57.0 wraps nothing below the root:
- transformers 4.28.1 trainer.py:1454-1456: the Trainer builds FSDP itself and sets an auto_wrap_policy only for
  `auto_wrap` in `fsdp` (else None);
- 4.40.0 training_args.py:1806-1814 (4.41.1 :1851, 4.44.2 :1924, 4.48.0 :1977, 4.57.0 :2016-2020): FSDP_AUTO_WRAP_POLICY is
  exported only for `auto_wrap`; `fsdp_config`'s `auto_wrap_policy` is read nowhere in those releases; accelerate's plugin
  then takes NO_WRAP (accelerate 0.29.3 utils/dataclasses.py:1151-1152, 1.10.1 :1848) and leaves the policy None.
So FSDP's root unit holds every parameter: the whole model is all-gathered before the forward and, the root not being
resharded after its forward (pytorch/pytorch 00ae0bc9 torch/distributed/fsdp/_runtime_utils.py `_post_forward_reshard`:
`free_unsharded_flat_param = not state._is_root and ...`), stays gathered through the backward.
Not where a PEFT adapter is trained: transformers 4.40.0 trainer.py:2001,4418-4425 (4.57.0 :2464,5577-5583) installs
peft's fsdp_auto_wrap_policy (peft v0.10.0 src/peft/utils/other.py:379-417: the model's `_no_split_modules` layer classes
plus every trainable leaf) before `accelerator.prepare`; the first release with that is not read, so an adapter is never
judged here. transformers 5.15.1 training_args.py:2777 defaults `auto_wrap_policy` to TRANSFORMER_BASED_WRAP: releases after
4.57.0 are not judged either. A launcher's accelerate config can export FSDP_AUTO_WRAP_POLICY itself; a launch line that
names one is not judged."""

from __future__ import annotations

import re
from typing import Any

from ..schemas import WorkloadConfig

# the releases read (above); a pin outside them is not judged
FIRST, LAST = (4, 28, 1), (4, 57, 0)
SOURCE = (
    "transformers 4.40.0 training_args.py:1806-1814 (FSDP_AUTO_WRAP_POLICY only for `auto_wrap` in `fsdp`; likewise 4.57.0 "
    ":2016-2020, and 4.28.1 trainer.py:1454-1456 builds no wrap policy without it); accelerate 0.29.3 utils/dataclasses.py:1151-1152 "
    "(1.10.1 :1848): the policy defaults to NO_WRAP; pytorch/pytorch 00ae0bc9 torch/distributed/fsdp/_runtime_utils.py "
    "_post_forward_reshard (the root unit is not resharded after its forward)"
)
_SHARDING = {"full_shard", "shard_grad_op", "hybrid_shard", "hybrid_shard_zero2"}
# a launch line that hands accelerate a config or FSDP flags of its own (it may export FSDP_AUTO_WRAP_POLICY)
_ACCELERATE = re.compile(r"accelerate\s+launch\b")
_OWN_FLAGS = re.compile(r"--(?:config[_-]file|use_fsdp|fsdp_)")


def no_auto_wrap(value: Any) -> bool:
    """Whether a TrainingArguments `fsdp` value shards without the `auto_wrap` option (`true` reads as `full_shard`,
    transformers 4.40.0 training_args.py:1714-1715)."""
    if value is True:
        return True
    if isinstance(value, str):
        words = value.lower().split()
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        words = [v.lower() for v in value]
    else:
        return False
    return bool(_SHARDING & set(words)) and "auto_wrap" not in words


def _release(version: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version.strip())
    return tuple(int(g) for g in m.groups()) if m else None


def _accelerate_config(w: WorkloadConfig, path: str, text: str | None) -> bool:
    """Whether the config's own text or the launcher its world size was read from runs `accelerate launch` with a config
    file or FSDP flags of its own; a launcher goblin cannot read counts as one (not judged)."""
    from pathlib import Path

    from ..errors import ConfigError
    from ..yamlio import read_text

    texts = [text or ""]
    src = w.sources.get("world_size")
    if src is not None and src.file and Path(src.file) != Path(path):
        try:
            texts.append(read_text(Path(src.file)))
        except (OSError, ValueError, ConfigError):
            return True
    for line in "\n".join(texts).splitlines():
        m = _ACCELERATE.search(line)
        if m is not None and _OWN_FLAGS.search(line, m.end()):
            return True
    return False


def one_unit(w: WorkloadConfig, path: str, text: str | None) -> WorkloadConfig:
    """`w` with `fsdp_one_unit` set (the pinned transformers release, as said) where its `fsdp` names no `auto_wrap`,
    the whole model trains (no adapter), the pin is within the releases read and no launch line hands accelerate a config."""
    if not w.fsdp_no_auto_wrap or w.method != "full" or w.strategy != "fsdp":
        return w
    if _accelerate_config(w, path, text):
        return w
    from ..frameworks.history import reading

    got = reading("transformers 5.25.0", path, text)
    if got is None or got.assumed:
        return w
    release = _release(got.version)
    if release is None or not FIRST <= release <= LAST:
        return w
    spec = got.spec or got.source
    return w.model_copy(update={"fsdp_one_unit": f"transformers {got.version} ({spec})"})
