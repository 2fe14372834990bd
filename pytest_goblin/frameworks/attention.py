"""Which attention implementations each transformers model type supports, read from its source.

transformers refuses an `attn_implementation` a model class does not declare: `PreTrainedModel`
defaults `_supports_sdpa`, `_supports_flash_attn` and `_supports_flex_attn` to False
(transformers 5.24.0 modeling_utils.py:1125-1127), and an explicit request for an unsupported one
raises ValueError at load (modeling_utils.py:1592 flash, :1665-1670 SDPA, :1696 flex; the explicit
request re-raises at :1887). GPT-OSS, for one, sets `_supports_sdpa = False`
(models/gpt_oss/modeling_gpt_oss.py:380).

`build_installed()` reads the installed transformers by AST (nothing imported): the class each
model type loads for fine-tuning (models/auto/modeling_auto.py: the causal-LM mapping, then
image-text-to-text, then the base model), and the three flags along that class's bases.
`scripts/gen_attention_support.py` writes the result to attention.json; tests/test_frameworks.py
regenerates and compares when the same transformers is installed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "attention.json"

# goblin's attention value -> the class flag transformers checks and the attn_implementation name
FLAGS = {"sdpa": "_supports_sdpa", "flash": "_supports_flash_attn", "flex": "_supports_flex_attn"}
IMPL_NAMES = {"eager": "eager", "sdpa": "sdpa", "flash": "flash_attention_2", "flex": "flex_attention"}
# where transformers 5.24.0 raises for each (modeling_utils.py; SDPA re-raises an explicit request at :1887)
RAISES_AT = {"flash": "modeling_utils.py:1592-1597", "sdpa": "modeling_utils.py:1665-1670, 1887", "flex": "modeling_utils.py:1696-1702"}
_MAPPINGS = ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", "MODEL_MAPPING_NAMES")
# transformers 4.x named the flash flag `_supports_flash_attn_2`; 5.24.0 still honours it (modeling_utils.py:1863).
_ALIASES = {"_supports_flash_attn_2": "_supports_flash_attn"}


def _site() -> Path | None:
    try:
        dist = importlib.metadata.distribution("transformers")
    except importlib.metadata.PackageNotFoundError:
        return None
    root = Path(str(dist.locate_file("transformers")))
    return root if (root / "modeling_utils.py").is_file() else None


def _mappings(src: str) -> dict[str, dict[str, str]]:
    """The model-type -> class-name mappings named in _MAPPINGS (OrderedDict([...]) literals)."""
    out: dict[str, dict[str, str]] = {}
    for node in ast.parse(src).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if name not in _MAPPINGS or not isinstance(node.value, ast.Call) or not node.value.args:
            continue
        pairs: dict[str, str] = {}
        for elt in getattr(node.value.args[0], "elts", []):
            if not isinstance(elt, ast.Tuple) or len(elt.elts) != 2:
                continue
            key, val = elt.elts
            if isinstance(val, ast.Tuple) and val.elts:
                val = val.elts[0]
            if isinstance(key, ast.Constant) and isinstance(val, ast.Constant):
                pairs[str(key.value)] = str(val.value)
        out[name] = pairs
    return out


_Class = tuple[list[str], dict[str, tuple[bool | None, str]]]


def _classes(models: Path) -> dict[str, _Class]:
    """class name -> (base names, attention flag -> (value (None: computed, not a literal), file:line))."""
    out: dict[str, _Class] = {}
    for path in sorted(models.glob("*/modeling_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            flags: dict[str, tuple[bool | None, str]] = {}
            for stmt in node.body:
                names: list[str] = []
                value: ast.expr | None = None
                if isinstance(stmt, ast.Assign):
                    names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
                    value = stmt.value
                elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    names, value = [stmt.target.id], stmt.value
                elif isinstance(stmt, ast.FunctionDef):
                    names = [stmt.name]  # a property computes it: not knowable from the source alone
                for name in names:
                    flag = _ALIASES.get(name, name)
                    if flag in FLAGS.values():
                        literal = value.value if isinstance(value, ast.Constant) and isinstance(value.value, bool) else None
                        flags[flag] = (literal, f"models/{path.parent.name}/{path.name}:{stmt.lineno}")
            bases = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "?" for b in node.bases]
            out.setdefault(node.name, (bases, flags))
    return out


def _resolve(cls: str, classes: dict[str, _Class], flag: str) -> tuple[bool | None, str]:
    """The flag's value on `cls` (first base that sets it, left to right), and where; PreTrainedModel's default False."""
    seen: set[str] = set()
    stack = [cls]
    while stack:
        name = stack.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if name == "PreTrainedModel":
            return False, "modeling_utils.py:1125-1127"
        entry = classes.get(name)
        if entry is None:
            continue
        bases, flags = entry
        if flag in flags:
            return flags[flag]
        stack.extend(bases)
    return None, ""


def build_installed() -> dict[str, Any] | None:
    """The support table of the installed transformers, or None when it is not installed."""
    site = _site()
    if site is None:
        return None
    version = importlib.metadata.version("transformers")
    maps = _mappings((site / "models" / "auto" / "modeling_auto.py").read_text(encoding="utf-8"))
    classes = _classes(site / "models")
    types: dict[str, Any] = {}
    for mapping in _MAPPINGS:
        for model_type, cls in maps.get(mapping, {}).items():
            if model_type in types or cls not in classes:
                continue
            row: dict[str, Any] = {"class": cls}
            for impl, flag in FLAGS.items():
                value, where = _resolve(cls, classes, flag)
                row[impl] = value
                if value is False and where != "modeling_utils.py:1125-1127":
                    row[f"{impl}_at"] = where
            types[model_type] = row
    return {
        "framework": "transformers",
        "version": version,
        "origin": "site-packages, by AST: models/auto/modeling_auto.py and models/*/modeling_*.py",
        "types": dict(sorted(types.items())),
    }


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OUT.read_text(encoding="utf-8"))
    return data


# goblin's model-table families whose transformers model_type differs from the family name
# (each row's config.json: Llama 2/3 and SmolLM2 are `llama`, Phi-4 is `phi3`).
_FAMILY_TYPES = {"llama2": "llama", "llama3": "llama", "smollm2": "llama", "phi4": "phi3"}


def model_type(family: str | None) -> str | None:
    """The transformers model_type of a goblin model family (a table family, or a config.json's
    model_type with '_' read as '-'); None when the model's type is not known."""
    if not family or family in ("unknown", "moe"):
        return None
    name = _FAMILY_TYPES.get(family, family)
    types = table()["types"]
    for candidate in (name, name.replace("-", "_")):
        if candidate in types:
            return candidate
    return None


def supports(family: str | None, impl: str) -> bool | None:
    """Whether the model type's transformers class accepts this attention implementation; None when unknown."""
    if impl == "eager":
        return True
    mt = model_type(family)
    if mt is None or impl not in FLAGS:
        return None
    value = table()["types"][mt].get(impl)
    return value if isinstance(value, bool) else None


def unsupported_reason(family: str | None, impl: str) -> str | None:
    """Why `attn_implementation: <impl>` must not be proposed for this model, or None when it may."""
    ok = supports(family, impl)
    if ok is True:
        return None
    t = table()
    name = IMPL_NAMES.get(impl, impl)
    mt = model_type(family)
    if ok is None or mt is None:
        return f"the model's transformers type is not known, so support for attn_implementation {name} cannot be checked (transformers {t['version']} raises at load on an unsupported one)"
    row = t["types"][mt]
    at = row.get(f"{impl}_at") or "modeling_utils.py:1125-1127 (PreTrainedModel's default)"
    alt = [IMPL_NAMES[i] for i in ("flex", "flash", "sdpa") if i != impl and row.get(i) is True]
    return (
        f"transformers {t['version']} {row['class']} does not support attn_implementation {name} ({at}: {FLAGS[impl]} is False; "
        f"an explicit request raises ValueError at load, {RAISES_AT[impl]})" + (f"; it supports {', '.join(alt)}" if alt else "")
    )


# Model types whose own transformers code asks for eager attention in training, over the releases read: (first, last
# release read with the request, the source). Gemma-2's soft-capped attention logits: its forward warns whenever it
# trains on anything else, while SDPA is accepted there (review7b #23: 4.42.4 sets `_supports_sdpa = True`); the
# warning is gone by 4.57.6 (models/gemma2/modeling_gemma2.py, no such check), so nothing is claimed past 4.46.3.
EAGER_FOR_TRAINING: dict[str, tuple[str, str, str]] = {
    "gemma2": (
        "4.42.4",
        "4.46.3",
        "transformers 4.42.4 models/gemma2/modeling_gemma2.py:1061-1064 (4.46.3 :1038-1041): 'It is strongly recommended to train Gemma2 "
        "models with the `eager` attention implementation' while training on anything else (SDPA is accepted there: `_supports_sdpa = True`, "
        "4.42.4 :712)",
    ),
}


def eager_for_training(family: str | None, pin_spec: str, pin_where: str) -> str | None:
    """Why eager attention is the model's own training choice at an exact transformers pin (`==x.y.z`), or None: no
    attention swap is offered then. Only releases within EAGER_FOR_TRAINING's read range count."""
    from packaging.version import InvalidVersion, Version

    mt = model_type(family)
    entry = EAGER_FOR_TRAINING.get(mt or "")
    if entry is None or not pin_spec.startswith("transformers==") or "*" in pin_spec:
        return None
    first, last, cite = entry
    try:
        v = Version(pin_spec.split("==", 1)[1].split(",", 1)[0])
        inside = Version(first) <= v <= Version(last)
    except InvalidVersion:
        return None
    if not inside:
        return None
    return f"eager attention kept: at {pin_spec} ({pin_where}) the model's own code asks for eager attention in training ({cite}), so goblin offers no attention swap"
