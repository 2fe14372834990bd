"""The attention a run gets when its config names none, at the transformers release it runs on.

transformers picks SDPA for a model that supports it when attn_implementation is unset from 4.36 on
(4.36.0 modeling_utils.py:1309-1313 and _check_and_enable_sdpa :1473-1481, Llama `_supports_sdpa`
models/llama/modeling_llama.py:845; 4.36.2 :1309-1313; 4.41.2 :1478-1480; 4.48.3 :1536-1538; 4.57.6
get_correct_attn_implementation :2696; 5.0.0 :1897; 5.25.0 :1856). 4.35.2 has no SDPA path:
LlamaDecoderLayer builds the eager LlamaAttention unless flash-attention 2 is enabled
(models/llama/modeling_llama.py:629-633).

Axolotl passes no attn_implementation when no attention flag is set, so transformers decides there too:
at v0.4.0 src/axolotl/utils/models.py:450-470 sets one only under `if cfg.flash_attention:` (eager plus
the flash monkeypatch of :273-285 for a packed Llama), and v0.5.0 models.py:689-701 .. v0.10.0
src/axolotl/loaders/model.py:533-553 only under flex/flash/sdp/eager flags. Every Axolotl release read
(0.4.0 on) requires transformers 4.36 or newer (v0.4.0 requirements.txt:4 transformers==4.37.0), so an
Axolotl pin alone never makes the default eager; a transformers pin below 4.36 next to it does.
"""

from __future__ import annotations

import re

from ..pysource import parse as parse_source
from ..schemas import FieldSource, WorkloadConfig
from .base import Reader

SDPA_DEFAULT_FROM = "4.36"

SDPA_CITE = "transformers 4.36.0 modeling_utils.py:1309-1313,1473-1481 .. 5.25.0 :1856"
# what every note of transformers_attention_default's SDPA says (its citation is rewritten in the run's terms later)
PICKS_SDPA = "transformers picks SDPA"
EAGER_CITE = "transformers 4.35.2 models/llama/modeling_llama.py:629-633"


def _capped_below(constraint: str) -> bool:
    """Whether a range's upper bound (`<4.30`, `<=4.29.2`) leaves only releases older than SDPA_DEFAULT_FROM."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    try:
        specs = SpecifierSet(constraint)
    except InvalidSpecifier:
        return False
    first = Version(SDPA_DEFAULT_FROM)
    for spec in specs:
        try:
            bound = Version(spec.version.rstrip(".*"))
        except ValueError:
            continue
        if (spec.operator == "<" and bound <= first) or (spec.operator == "<=" and bound < first):
            return True
    return False


def transformers_attention_default(r: Reader, who: str = "") -> tuple[str, str, bool]:
    """(the attention, its note, whether a transformers pin decided it) for a config that names none.
    `who` says which framework left it unset ("Axolotl 0.4.0 sets no attn_implementation without a flag")."""
    from packaging.version import InvalidVersion, Version

    from ..frameworks.pins import pins

    lead = f"{who}; " if who else ""
    pin = pins(r.path, r.text).get("transformers")
    newest = ("sdpa", f"{lead}transformers picks SDPA when attn_implementation is unset ({SDPA_CITE})", False)
    if pin is not None and not pin.constraint.startswith("==") and _capped_below(pin.constraint):
        return (
            "eager",
            f"{lead}attn_implementation unset at {pin.spec} ({pin.where}): every release the range admits is older than 4.36, which has no "
            f"SDPA default; Llama-class models run the eager attention unless flash-attention 2 is asked for ({EAGER_CITE})",
            True,
        )
    if pin is None or not pin.constraint.startswith("=="):
        return newest  # a range lets pip install a release with SDPA
    try:
        older = Version(pin.constraint[2:].split(",", 1)[0]) < Version(SDPA_DEFAULT_FROM)
    except InvalidVersion:
        return newest
    if not older:
        return (
            "sdpa",
            f"{lead}attn_implementation unset at {pin.spec} ({pin.where}): transformers picks SDPA for a model that supports it ({SDPA_CITE})",
            True,
        )
    return (
        "eager",
        f"{lead}attn_implementation unset at {pin.spec} ({pin.where}): transformers before 4.36 has no SDPA default; Llama-class models run "
        f"the eager attention unless flash-attention 2 is asked for ({EAGER_CITE})",
        True,
    )


# a config or script that lets the checkpoint's own code build the model (`trust_remote_code: true`, `=True`): the class that
# runs is not transformers' (mosaicml/mpt-7b's MPTForCausalLM picks its attention from its own attn_config), so its support is not read
_REMOTE_CODE = re.compile(r"\btrust_remote_code\s*[:=]\s*[\"']?(?:true|True|TRUE|1)\b")


def remote_code(text: str) -> bool:
    """Whether the config or script sets `trust_remote_code` true (the checkpoint's own code builds the model)."""
    return _REMOTE_CODE.search(text) is not None


def model_default(w: WorkloadConfig, text: str = "") -> WorkloadConfig:
    """`w` with the attention its model's class gets when nothing names one: SDPA only where the class supports it,
    else eager (GPT-Neo: `_supports_sdpa` never set; frameworks/attention.unset_runs_eager, at the release the config
    pins, `w.attention_release`). Only an SDPA read as transformers' own default (PICKS_SDPA in its note) is replaced."""
    from ..frameworks.attention import unset_runs_eager

    src = w.sources.get("attention")
    if w.attention != "sdpa" or src is None or src.explicit or PICKS_SDPA not in (src.note or "") or _REMOTE_CODE.search(text):
        return w
    why = unset_runs_eager(w.model.family, w.attention_release)
    if why is None:
        return w
    note = f"{src.note}; but {why}"
    return w.model_copy(update={"attention": "eager", "sources": {**w.sources, "attention": src.model_copy(update={"note": note})}, "notes": [*w.notes, why]})


# what a note says where the checkpoint's own code decides the attention (remote_attention)
REMOTE_DECIDES = "attention decided by the checkpoint's remote code"


def _model_load_remote(text: str) -> bool:
    """Whether a Python script's model `from_pretrained(...)` passes `trust_remote_code=True` (a tokenizer's does not count);
    a text that does not parse as Python counts by its `trust_remote_code: true` key alone."""
    import ast

    from .pycode import model_load

    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError):
        return True
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "from_pretrained"
        and model_load(n)
        and any(k.arg == "trust_remote_code" and isinstance(k.value, ast.Constant) and k.value.value is True for k in n.keywords)
        for n in ast.walk(tree)
    )


def remote_attention(w: WorkloadConfig, text: str, python: bool = False) -> WorkloadConfig:
    """`w` with its attention left unread where nothing names one and `trust_remote_code` loads a model whose family ships
    its own code under a model_type transformers has at no release read (frameworks/model_types.REMOTE: internlm2): the
    checkpoint's class picks its attention from its own config, so transformers' SDPA/eager default is not the run's
    premise and no rule judges it (FieldSource.unread); the value stays for the projection. A transformers-native
    architecture (llama) under trust_remote_code keeps transformers' default."""
    from ..frameworks.model_types import remote_family

    src = w.sources.get("attention")
    if src is None or src.explicit or src.unread or not remote_code(text) or (python and not _model_load_remote(text)):
        return w
    remote = remote_family(w.model.name)
    if remote is None:
        return w
    why = (
        f"{REMOTE_DECIDES}: trust_remote_code loads {w.model.name}, whose model_type {remote.model_type} no transformers release "
        f"goblin read has, so its own modeling code runs and picks the attention from the checkpoint's config, which goblin did not "
        f"read; transformers' SDPA/eager default is not this run's and no attention rule judges it ({remote.source})"
    )
    unread = FieldSource(file=src.file, note=why, unread=True)
    return w.model_copy(update={"sources": {**w.sources, "attention": unread}, "notes": [*w.notes, why]})
