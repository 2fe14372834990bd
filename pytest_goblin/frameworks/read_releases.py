"""The releases of each framework goblin read (key_history.json, else commit_releases.json's release tags), apart
from frameworks/history.py so that frameworks/pins.py can place an upper-bounded range without importing history."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from .tables import OUT_DIR

HISTORY_FILE = OUT_DIR / "key_history.json"


@lru_cache(maxsize=1)
def history() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(HISTORY_FILE.read_text(encoding="utf-8"))
    return data


def read_versions(dist: str) -> list[str]:
    """The releases of `dist` goblin read: the key history's, else (peft, accelerate ... whose keys it does not
    track) the release tags of its git history (commit_releases.json), so that run_version places a pin of one."""
    if dist in history():
        return list(history()[dist]["versions"])
    from .commits import release_tags

    tags = release_tags(dist)
    if not tags:
        raise KeyError(dist)
    return tags
