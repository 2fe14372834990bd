"""The model types a transformers release knows: a recipe whose pinned transformers predates its model's model_type
stops in AutoConfig.from_pretrained before training, on any GPU (blocker.model_type_unknown_at_version; review10b
#27/#28: yangjianxin1/Firefly pins transformers==4.34 and trains Qwen2.5-7B-Instruct / Qwen1.5-7B-Chat, model_type
`qwen2`, first in 4.37.0).

model_types.json (scripts/gen_model_types.py) holds the first release read of each model_type of CONFIG_MAPPING_NAMES
and where each release's AutoConfig raises on a type it lacks. A goblin model family is judged only where its
checkpoints' config.json names that model_type and ships no code of its own (no `auto_map`): a model with its own code
loads through it under trust_remote_code and needs no model_type in transformers (NATIVE below, each with where that
was read). Nothing is judged for a model type present in the oldest release read (it may be older still).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from packaging.version import InvalidVersion, Version

from .tables import OUT_DIR, optional_table

TABLE_FILE = OUT_DIR / "model_types.json"


@dataclass(frozen=True)
class Native:
    model_type: str
    source: str  # where the checkpoints' config.json (model_type, no auto_map) was read


# goblin model-table families (modelzoo) whose Hub checkpoints are transformers' own model_type with no code of their own
NATIVE: dict[str, Native] = {
    "qwen2": Native(
        "qwen2",
        'Qwen/Qwen1.5-7B config.json:14 `"model_type": "qwen2"` and no auto_map (its copy in huggingface/transformers '
        "examples/pytorch/torchacc/qwen/Qwen1.5-7B/config.json:1-27@f092c38c0bf5); the Qwen/Qwen2.5-7B-Instruct model card: "
        "\"With `transformers<4.37.0`, you will encounter the following error: KeyError: 'qwen2'\" and no configuration_*.py "
        "among its files (its copy in ZHUI/paddlenlp_model_readme Qwen/Qwen2.5-7B-Instruct/index.md@10d0a05fa859)",
    ),
}


@dataclass(frozen=True)
class Unknown:
    model_type: str
    first: str  # the first release read that has it
    first_line: int  # its line in CONFIG_MAPPING_NAMES there
    raises: str  # "KeyError" or "ValueError"
    raise_at: str  # configuration_auto.py:LINE@release (the release read nearest at or below the pinned one)
    lookup_at: str  # the lookup that raises, configuration_auto.py:LINE@release
    source: str


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    return optional_table(TABLE_FILE.name)


def _ver(v: str) -> Version | None:
    try:
        return Version(v)
    except InvalidVersion:
        return None


def first_release(model_type: str) -> tuple[str, int] | None:
    """(the first release read that has the model type, its line in CONFIG_MAPPING_NAMES there); None when no release
    read has it, or the oldest read does (it may be older)."""
    t = _table()
    got = t.get("first", {}).get(model_type)
    read = list(t.get("read", {}))
    if not got or not read or got[0] == read[0]:
        return None
    return str(got[0]), int(got[1])


def unknown_at(family: str, release: str) -> Unknown | None:
    """The model type of a NATIVE family when transformers `release` (a pinned one) predates it; None otherwise."""
    native = NATIVE.get(family)
    pinned = _ver(release)
    if native is None or pinned is None:
        return None
    first = first_release(native.model_type)
    if first is None:
        return None
    base = Version(pinned.base_version)  # a development build of X.Y.Z may already have what X.Y.Z has
    if base >= Version(first[0]):
        return None
    t = _table()
    read = [r for r in t.get("read", {}) if Version(r) <= base]
    at = read[-1] if read else next(iter(t.get("read", {})))
    site = t.get("raises", {}).get(at, {})
    file = str(t.get("file", "models/auto/configuration_auto.py")).rsplit("/", 1)[-1]
    return Unknown(
        native.model_type,
        first[0],
        first[1],
        str(site.get("raises", "KeyError")),
        f"{file}:{site.get('line')}@{at}",
        f"{file}:{site.get('lookup')}@{at}",
        native.source,
    )


@dataclass(frozen=True)
class Remote:
    model_type: str
    source: str  # where the checkpoints' own code (its model_type, its attention choice) was read


# model families whose checkpoints ship their own modeling code (`auto_map`) under a model_type no transformers
# release read has (model_types.json `first`): loaded with trust_remote_code, the checkpoint's class runs and picks its
# attention from its own config, not transformers' SDPA/eager default (review14b #31: lawer-llm loads internlm2-chat-7b
# with trust_remote_code=True). Matched on a model name's word (`internlm2-chat-7b`; not `internlm2_5`/`internlm2.5`, whose config was not read).
REMOTE: dict[str, Remote] = {
    "internlm2": Remote(
        "internlm2",
        "InternLM/InternEvo-HFModels@d335092b huggingface_model/internlm/internlm2_7b/configuration_internlm2.py:95 "
        '(`model_type = "internlm2"`), :142-144 (attn_implementation unset: "eager"), modeling_internlm2.py:707 '
        "(the attention class is picked from config.attn_implementation); InternLM/xtuner xtuner/_lite/modelings/__init__.py "
        "(register_remote_code: AutoConfig.register('internlm2', ...)); no transformers release read (4.30.0-5.25.0) has "
        "model_type internlm2 (model_types.json; 4.57.6 and 5.0.0 wheels have no models/internlm*)",
    ),
}


def remote_family(model_name: str) -> Remote | None:
    """The REMOTE family a model name names, where no transformers release read has its model_type; else None."""
    import re

    low = model_name.lower()
    for key, remote in REMOTE.items():
        # the family word, not inside a longer one (`internlm2` in `internlm2-chat-7b`; never `internlm20`, `internlm2_5`)
        if re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![0-9_.])", low) and not _table().get("first", {}).get(remote.model_type):
            return remote
    return None
