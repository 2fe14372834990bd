"""The repository's own torchtune recipe file that runs a config, whatever launches it (review7a class 3: torchtune
configs copied from stock recipes keep the stock `# tune run ... lora_finetune_distributed --config ...` comment while
the repository runs them with its own recipe file). A launcher in the repository outranks a comment in the config.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import repoindex, safepath
from ..frameworks import own_recipe
from .launch_naming import tune_registry_config_recipe, tune_registry_recipe
from .launchers import find_launch


def repository_recipe(config: str, text: str) -> tuple[Path, str] | None:
    """The repository's own torchtune recipe file this config runs with, and how that was read; None when the
    repository shows none. In order: a `tune run path/to/recipe.py` line (launched_recipe); the `.py` recipe the
    launch line naming the config runs (`python recipes/x.py --config x.yaml` under srun, review7a #7); the one
    recipe file of the repository whose name ends the config's (`lora_orpo_ddp.py` for `7B_lora_orpo_ddp.yaml`,
    review7a #11); the one recipe file a README line names beside the config (review7a #9: README.md:20 names
    src/kd_recipe.py and configs/distillation.yaml). A launch line outranks the config's own comments: a recipe
    named there is the run's, and so are the others, which the repository ties to the config by name."""
    absolute = Path(os.path.abspath(config))
    roots = safepath.tree_of(absolute)
    return repoindex.memo("repository_recipe", (absolute, tuple(roots), hash(text)), lambda: _repository(config, absolute, text, roots))


def _repository(config: str, absolute: Path, text: str, roots: list[Path]) -> tuple[Path, str] | None:
    found = own_recipe.launched_recipe(config, text)
    if found is not None:
        return found
    launch = find_launch(config)
    registered = tune_registry_config_recipe(Path(os.path.realpath(absolute)), roots[0]) if roots else None
    if registered is not None and (launch is None or launch.template) and safepath.within(registered, roots) and own_recipe.is_recipe(registered, roots):
        # the fork's registry ties the config to its recipe; a README line launching a placeholder config does not name it
        # (review13a #8 torchtune_personify: README.md:222 `tune run full_finetune_distributed --config ./my_custom_config.yaml`)
        return registered, f"torchtune/_recipe_registry.py, which registers {absolute.name} under {registered.name},"
    if launch is not None and launch.script and not launch.commented:
        script = Path(launch.script)
        if own_recipe.is_recipe(script, roots):
            return script, f"{launch.where()}, which runs it with this config,"
    if launch is not None and not launch.commented and launch.recipe:
        # a torchtune fork's registered recipe (`tune run my_sft --config my_sft_cfg`, review8a #6)
        forked = tune_registry_recipe(launch.recipe, roots[0]) if roots else None
        if forked is not None and safepath.within(forked, roots) and own_recipe.is_recipe(forked, roots):
            return forked, f"{launch.where()}, which runs `{launch.recipe}`, the repository's registry's recipe (torchtune/_recipe_registry.py),"
    if launch is not None and not launch.commented:
        return None  # the line that runs it runs something else (torchtune's `tune run NAME`, a wrapper)
    stem = absolute.stem.lower()
    files = repoindex.memo("recipe_py_files", tuple(roots), lambda: tuple(own_recipe.py_files(roots)))
    # a recipe name of two words or more (`lora_orpo_ddp`), not a bare `train` that many configs' names end in
    named = [p for p in files if "_" in p.stem and (stem == p.stem.lower() or stem.endswith("_" + p.stem.lower())) and own_recipe.is_recipe(p, roots)]
    if len(named) == 1:
        return named[0], f"its file name, which ends in the recipe's ({named[0].stem})"
    for readme in own_recipe.readmes(roots):
        try:
            body = safepath.read_text(readme, roots=roots, limit=own_recipe.MAX_README_BYTES)
        except (OSError, safepath.UnsafePath, ValueError):
            continue
        for n, line in enumerate(body.splitlines(), 1):
            if absolute.name not in line:
                continue
            hits = {p for w in own_recipe.PY_WORD.findall(line) if (p := own_recipe.names_file(w, readme.parent, roots)) and own_recipe.is_recipe(p, roots)}
            if len(hits) == 1:
                hit = hits.pop()
                rel = os.path.relpath(readme, roots[0]) if readme.is_relative_to(roots[0]) else readme.name
                return hit, f"{rel}:{n}, which names it beside {absolute.name},"
    return None
