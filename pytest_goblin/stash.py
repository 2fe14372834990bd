"""The keys under which the plugin keeps the session's settings on pytest's Config stash.

A module of its own so that items can read the settings without importing the plugin module,
and without importing pydantic when goblin is not enabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .settings import Settings

SETTINGS_KEY: pytest.StashKey[Settings] = pytest.StashKey()
# every option's value by name (options.OPTIONS): the session values (--goblin-fix, report paths) too
VALUES_KEY: pytest.StashKey[dict[str, Any]] = pytest.StashKey()
