"""Our own pluggy hooks, so a team can add config formats and KB rules without forking.

The built-in formats and rules are not registered here (this module sits at the bottom of the
package): formats.adapters() and rules.check_rules() add the hooks' results to their own.

Register an object with `goblin_formats` / `goblin_rules` implementations through the
`goblin` setuptools entry point group, or call `plugin_manager().register(obj)`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .formats.base import Adapter

hookspec = pluggy.HookspecMarker("goblin")
hookimpl = pluggy.HookimplMarker("goblin")


class GoblinSpec:
    @hookspec
    def goblin_formats(self) -> list[Adapter]:  # type: ignore[empty-body]
        """Format adapters this plugin provides."""

    @hookspec
    def goblin_rules(self) -> list[dict[str, Any]]:  # type: ignore[empty-body]
        """Extra KB rules, as mappings in the schema of kb/*.yaml."""


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("goblin")
    pm.add_hookspecs(GoblinSpec)
    pm.load_setuptools_entrypoints("goblin")
    return pm
