"""Keys under which the plugin keeps its state on pytest's Config stash.

A module of its own so that items (below the plugin) can read the settings without importing
the plugin module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    pass

SETTINGS_KEY = pytest.StashKey["Settings"]()
STATE_KEY = pytest.StashKey["GoblinSession"]()
