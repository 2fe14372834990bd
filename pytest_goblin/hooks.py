"""Our own pluggy hooks, so a team can add config formats and KB rules without forking.

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


class _Builtins:
    @hookimpl
    def goblin_formats(self) -> list[Adapter]:
        from .formats.axolotl import AxolotlAdapter
        from .formats.goblin import GoblinAdapter
        from .formats.hf_trainer import HFTrainerAdapter
        from .formats.llamafactory import LlamaFactoryAdapter
        from .formats.torchtune import TorchtuneAdapter

        return [GoblinAdapter(), AxolotlAdapter(), TorchtuneAdapter(), LlamaFactoryAdapter(), HFTrainerAdapter()]


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("goblin")
    pm.add_hookspecs(GoblinSpec)
    pm.register(_Builtins(), name="goblin-builtins")
    pm.load_setuptools_entrypoints("goblin")
    return pm
