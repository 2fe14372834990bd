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


def _classes(models: Path | dict[str, str]) -> dict[str, _Class]:
    """class name -> (base names, attention flag -> (value (None: computed, not a literal), file:line)), from the
    installed models/ folder or a wheel's {"models/x/modeling_x.py": source}."""
    if isinstance(models, Path):
        files = {f"models/{p.parent.name}/{p.name}": p.read_text(encoding="utf-8") for p in sorted(models.glob("*/modeling_*.py"))}
    else:
        files = dict(sorted(models.items()))
    out: dict[str, _Class] = {}
    for rel, src in files.items():
        tree = ast.parse(src)
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
                        flags[flag] = (literal, f"{rel}:{stmt.lineno}")
            bases = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "?" for b in node.bases]
            out.setdefault(node.name, (bases, flags))
    return out


_DEFAULT_AT = "modeling_utils.py:1125-1127"


def _resolve(cls: str, classes: dict[str, _Class], flag: str, base: dict[str, tuple[bool | None, str]] | None = None) -> tuple[bool | None, str]:
    """The flag's value on `cls` (first base that sets it, left to right), and where; PreTrainedModel's default
    (`base`: flag -> (value, where) at a release read from its wheel; else 5.24.0's False)."""
    seen: set[str] = set()
    stack = [cls]
    while stack:
        name = stack.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if name == "PreTrainedModel":
            return base[flag] if base is not None else (False, _DEFAULT_AT)
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
                if value is False and where != _DEFAULT_AT:
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


def model_type(family: str | None, release: str | None = None) -> str | None:
    """The transformers model_type of a goblin model family (a table family, or a config.json's
    model_type with '_' read as '-'); None when the model's type is not known."""
    if not family or family in ("unknown", "moe"):
        return None
    name = _FAMILY_TYPES.get(family, family)
    types = table()["types"]
    past = table().get("history", {}).get("types", {}) if release else {}
    for candidate in (name, name.replace("-", "_")):
        if candidate in types or candidate in past:
            return candidate
    return None


def read_release(version: str) -> str | None:
    """The release of the history that stands for `version` (itself, else the read patch release of its minor:
    the three class flags do not change within a minor line); None when the history has no release of its line."""
    from packaging.version import InvalidVersion, Version

    read = table().get("history", {}).get("versions", [])
    if version in read:
        return str(version)
    try:
        v = Version(version)
    except InvalidVersion:
        return None
    same = [r for r in read if Version(r).release[:2] == v.release[:2]]
    return same[-1] if same and not v.is_prerelease else None


def _row(mt: str, release: str | None) -> dict[str, Any] | None:
    """The model type's row in the shipped table (release None), else at a release of the history: the last change at
    or before it (None: the type is not in that release), each flag cited where a model file last set it
    (`file:line@version`), else at PreTrainedModel's default of that release."""
    if release is None:
        row: dict[str, Any] | None = table()["types"].get(mt)
        return row
    from packaging.version import Version

    history = table().get("history", {})
    got: dict[str, Any] | None = None
    cites: dict[str, str | None] = {}
    for since, entry in history.get("types", {}).get(mt, []):
        if Version(since) > Version(release):
            break
        if entry is not None:
            for impl in FLAGS:
                if f"{impl}_at" in entry:
                    cites[impl] = entry[f"{impl}_at"]
                elif got is None or got.get(impl) != entry.get(impl):
                    cites[impl] = None
        got = entry
    if got is None:
        return None
    defaults = history.get("defaults", {}).get(release, {})
    return {**got, **{f"{impl}_at": cites.get(impl) or defaults.get(impl, "") for impl in FLAGS}}


def attention_release(config: str, text: str | None) -> tuple[str | None, str | None]:
    """(the release of the history whose attention support the rules read for this config, a note) from the
    transformers release goblin reads the config at (history.reading: its pin, a range resolved to the newest read
    release it allows). (None, None): not pinned (or pinned at the shipped table's release), the shipped table as
    before. A pin outside the history: (None, a note that the shipped table, the newest, is read)."""
    from .history import reading

    t = table()
    got = reading(f"transformers {t['version']}", config, text)
    if got is None or got.assumed or not got.version[:1].isdigit() or got.version == t["version"]:
        return None, None
    release = read_release(got.version)
    if release == t["version"]:
        return None, None
    if release is None:
        read = t.get("history", {}).get("versions", [])
        span = f"{read[0]}-{read[-1]}" if read else "none"
        return None, (
            f"attention support read at transformers {t['version']}, the newest table: the pinned transformers {got.version} "
            f"({got.spec or got.source}) is outside the releases whose model files goblin read ({span})"
        )
    return release, None


def supports(family: str | None, impl: str, release: str | None = None) -> bool | None:
    """Whether the model type's transformers class accepts this attention implementation (at `release` of the
    history, else the shipped table's); None when unknown."""
    if impl == "eager":
        return True
    mt = model_type(family, release)
    if mt is None or impl not in FLAGS:
        return None
    row = _row(mt, release)
    value = row.get(impl) if row else None
    return value if isinstance(value, bool) else None


def unsupported_reason(family: str | None, impl: str, release: str | None = None) -> str | None:
    """Why `attn_implementation: <impl>` must not be proposed for this model (at `release`), or None when it may."""
    ok = supports(family, impl, release)
    if ok is True:
        return None
    t = table()
    version = release or t["version"]
    name = IMPL_NAMES.get(impl, impl)
    mt = model_type(family, release)
    row = _row(mt, release) if mt else None
    if ok is None or row is None:
        return f"the model's transformers type is not known, so support for attn_implementation {name} cannot be checked (transformers {version} raises at load on an unsupported one)"
    at = row.get(f"{impl}_at") or f"{_DEFAULT_AT} (PreTrainedModel's default)"
    raises = t.get("history", {}).get("raises", {}).get(release, {}).get(impl) if release else RAISES_AT[impl]
    alt = [IMPL_NAMES[i] for i in ("flex", "flash", "sdpa") if i != impl and row.get(i) is True]
    head = (
        f"transformers {version} does not accept attn_implementation {name} at all ({at})"
        if "does not accept" in at
        else f"transformers {version} {row['class']} does not support attn_implementation {name} ({at}: {FLAGS[impl]} is False; "
        f"an explicit request raises ValueError at load, {raises or 'modeling_utils.py'})"
    )
    return head + (f"; it supports {', '.join(alt)}" if alt else "")


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


# An unset attn_implementation is SDPA only for a class that supports it; any other runs eager: transformers 4.51.3
# modeling_utils.py:2118-2122 (`_check_and_enable_sdpa` with hard_check_only=False when none is requested), :2344-2345
# (no `_supports_sdpa`: the config is returned as it is) and configuration_utils.py:355-360 (an unset implementation
# reads "eager"); 5.25.0 modeling_utils.py:1856 (None asks for "sdpa") and :1882-1889 (it cannot dispatch: "eager")
SDPA_FALLBACK_AT = "transformers 4.51.3 modeling_utils.py:2118-2122,2344-2345, configuration_utils.py:355-360; 5.25.0 modeling_utils.py:1856,1882-1889"


def unset_runs_eager(family: str | None, release: str | None = None) -> str | None:
    """Why a load that names no attention runs eager for this model (its class does not support SDPA at `release`, else
    at the shipped table's), or None where it supports SDPA or the model type is not known."""
    if supports(family, "sdpa", release) is not False:
        return None
    mt = model_type(family, release)
    row = _row(mt, release) if mt else None
    if row is None:
        return None
    version = release or table()["version"]
    at = row.get("sdpa_at") or f"{_DEFAULT_AT} (PreTrainedModel's default)"
    return (
        f"transformers {version} {row['class']} does not support SDPA ({at}: _supports_sdpa is False), so with attn_implementation unset"
        f" it runs the eager attention ({SDPA_FALLBACK_AT})"
    )
