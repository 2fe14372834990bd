"""Find a file's format and read it into a WorkloadConfig; write patches back in that format."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError, NotATrainingConfig
from ..frameworks.history import LAUNCH_KEYS
from ..frameworks.own_recipe import REPOSITORY_RECIPE
from ..frameworks.pins import LAUNCHED_SCRIPT
from ..hooks import plugin_manager
from ..schemas import WorkloadConfig
from ..yamlio import load_yaml, read_text
from .base import Adapter
from .deepspeed import WRITTEN_BY_LAUNCHER
from .launch_rows import launch_keys
from .launch_written import written_before_launch
from .launchers import launched_script
from .recipe_file import repository_recipe

# frameworks.pins reads the vendored framework copy a config's launch line runs through this (a lower layer cannot import it)
if launched_script not in LAUNCHED_SCRIPT:
    LAUNCHED_SCRIPT.append(launched_script)
# frameworks.history reads the `--name` words a config's launch line passes its script through this (launch_rows.py)
if launch_keys not in LAUNCH_KEYS:
    LAUNCH_KEYS.append(launch_keys)
# frameworks' key checks read the repository's own torchtune recipe a config runs with through this (recipe_file.py)
if repository_recipe not in REPOSITORY_RECIPE:
    REPOSITORY_RECIPE.append(repository_recipe)
# deepspeed.read reads the DeepSpeed JSON a launcher script writes before its launch line through this (launch_written.py)
if written_before_launch not in WRITTEN_BY_LAUNCHER:
    WRITTEN_BY_LAUNCHER.append(written_before_launch)


def builtin_adapters() -> list[Adapter]:
    from .axolotl import AxolotlAdapter
    from .embedded import EmbeddedAxolotlAdapter, EmbeddedLlamaFactoryAdapter
    from .goblin import GoblinAdapter
    from .hf_trainer import HFTrainerAdapter
    from .llamafactory import LlamaFactoryAdapter
    from .nested_block import NestedAxolotlAdapter, NestedLlamaFactoryAdapter
    from .nested_ta import NestedTrainingArgsAdapter
    from .torchtune import TorchtuneAdapter

    return [
        GoblinAdapter(),
        AxolotlAdapter(),
        TorchtuneAdapter(),
        LlamaFactoryAdapter(),
        HFTrainerAdapter(),
        NestedTrainingArgsAdapter(),
        NestedLlamaFactoryAdapter(),
        NestedAxolotlAdapter(),
        EmbeddedLlamaFactoryAdapter(),
        EmbeddedAxolotlAdapter(),
    ]


@lru_cache(maxsize=1)
def candidate_suffixes() -> frozenset[str]:
    """Every file suffix some format reads (each adapter declares its own); asked once per file
    at collection, so computed once."""
    from .python import PythonAdapter

    return frozenset().union(PythonAdapter.suffixes, *(a.suffixes for a in adapters()))


def adapters() -> list[Adapter]:
    """The built-in adapters, then those of `goblin_formats` hook implementations."""
    out = builtin_adapters()
    for batch in plugin_manager().hook.goblin_formats():
        out.extend(batch)
    return out


@dataclass
class LoadedConfig:
    path: Path
    text: str
    data: Any
    adapter: Adapter
    workload: WorkloadConfig


def _not_a_config_reason(data: Any) -> str | None:
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        return f"top level is {kind}, not a mapping of settings"
    keys = set(data)
    if {"compute_environment", "distributed_type"} & keys:
        return "an accelerate launch config (referenced by a training config, not one itself)"
    if "zero_optimization" in keys:
        return "a DeepSpeed config (referenced by a training config, not one itself)"
    return None


def detect(path: Path, data: Any) -> Adapter:
    """The best-matching adapter, or NotATrainingConfig saying why none applies."""
    reason = _not_a_config_reason(data)
    if reason:
        raise NotATrainingConfig(str(path), reason)
    scored = sorted(((a.detect(data), i, a) for i, a in enumerate(adapters())), key=lambda t: (-t[0], t[1]))
    score, _, best = scored[0] if scored else (0, 0, None)
    if best is None or score <= 0:
        from .nested_block import skipped_block
        from .spread_section import spread_reason

        said = skipped_block(data) or spread_reason(path, data)  # review11b #27: PARD's `train:` section spread into SFTConfig
        raise NotATrainingConfig(str(path), "no known config format matched (axolotl, torchtune, llamafactory, hf-trainer)" + said)
    why = best.not_training(data)
    if why:
        raise NotATrainingConfig(str(path), why)
    return best


def parse_text(path: Path, text: str) -> tuple[Any, Adapter]:
    """The parsed document and its adapter: YAML through ruamel.yaml, Python through ast."""
    data, adapter, _repeats = _parse(path, text)
    return data, adapter


def _parse(path: Path, text: str) -> tuple[Any, Adapter, list[str]]:
    """parse_text, and a note for each key written twice where the framework's loader keeps the last
    value; where its loader refuses a repeated key (OmegaConf), the file is refused the same way."""
    from .python import PythonAdapter

    if path.suffix.lower() in PythonAdapter.suffixes:
        from .python import read_script

        return read_script(path, text), PythonAdapter(), []
    from .launch_target import is_shell_launcher

    if is_shell_launcher(path):
        from .lf_flags import flags_document
        from .lf_flags_read import LlamaFactoryFlagsAdapter

        doc = flags_document(path, text)  # a LLaMA-Factory run given as the launcher's flags alone
        return doc.data, LlamaFactoryFlagsAdapter().with_document(doc), []
    repeats: list[tuple[str, int, int]] = []
    if path.suffix.lower() == ".json":
        return _parse_json(path, text)
    try:
        data = load_yaml(path, text, repeats)
    except ConfigError:
        from .templates import template_reason

        template = template_reason(path, text)
        if template:
            raise NotATrainingConfig(str(path), template) from None
        raise
    adapter = detect(path, data)
    if repeats and adapter.repeated_keys is None:
        key, first, again = repeats[0]
        raise ConfigError(str(path), f"`{key}` is written twice (lines {first} and {again}); {adapter.repeats_refused}", line=again, hint="keep one of them")
    notes = [
        f"`{key}` is written twice (lines {first} and {again}): the run reads line {again}, the last ({adapter.repeated_keys})" for key, first, again in repeats
    ]
    return data, adapter, notes


def _parse_json(path: Path, text: str) -> tuple[Any, Adapter, list[str]]:
    """A JSON config, read with json.loads as HfArgumentParser.parse_json_file reads it (formats/jsontext.py),
    by a format that declares `.json` among its suffixes; a file another format would read is said to be
    one goblin reads only as YAML, never misread by a format it is not."""
    from .jsontext import JSON_SCAN_CHARS, SETTINGS_HINTS, load_json

    if not text.lstrip().startswith("{"):
        raise NotATrainingConfig(str(path), "a JSON file whose top level is not an object of settings (data, not a config)")
    if len(text) > JSON_SCAN_CHARS and not any(hint in text for hint in SETTINGS_HINTS):  # a vocabulary, a model index: not parsed
        raise NotATrainingConfig(str(path), f"a JSON object of {len(text) // 1000:,} KB naming no training setting (data, not a config)")
    repeats: list[tuple[str, int, int]] = []
    data = load_json(str(path), text, repeats)
    adapter = detect(path, data)
    if ".json" not in adapter.suffixes:
        raise NotATrainingConfig(str(path), f"its keys are a {adapter.name} config's, which goblin reads from YAML only (not JSON)")
    notes = [
        f"`{key}` is written twice (lines {first} and {again}): the run reads line {again}, the last "
        "(json.loads keeps the last value of a repeated key; transformers 4.34.0 hf_argparser.py:396-397 reads the file with json.loads)"
        for key, first, again in repeats
    ]
    return data, adapter, notes


def _json_too_large(path: Path) -> bool:
    """A JSON file over the config size limit is data (a dataset, a tokenizer, a vocabulary), not a config."""
    from ..yamlio import MAX_CONFIG_BYTES

    try:
        return path.suffix.lower() == ".json" and path.stat().st_size > MAX_CONFIG_BYTES
    except OSError:
        return False


def _eager_for_training(w: WorkloadConfig, path: Path, text: str) -> WorkloadConfig:
    """`w` with `eager_for_training` and its note where the model's own code asks for eager attention in training at
    the transformers release the recipe pins exactly (review7b #23, Gemma-2 at 4.42.4)."""
    from ..frameworks.attention import eager_for_training
    from ..frameworks.pins import pins

    pin = pins(str(path), text).get("transformers")
    if pin is None or not pin.exact:
        return w
    why = eager_for_training(w.model.family, pin.spec, pin.where)
    if why is None:
        return w
    return w.model_copy(update={"eager_for_training": why, "notes": [*w.notes, why]})


def _attention_release(w: WorkloadConfig, path: Path, text: str) -> WorkloadConfig:
    """`w` with the transformers release whose attention support its rules read (the pinned one; a pin outside the
    releases read is noted and the shipped table kept). Only for a model type goblin knows."""
    from ..frameworks.attention import attention_release, model_type

    if model_type(w.model.family, "any") is None:
        return w
    release, note = attention_release(str(path), text)
    if release is None and note is None:
        return w
    return w.model_copy(update={"attention_release": release, "notes": [*w.notes, note] if note else w.notes})


def load_config(path: Path) -> LoadedConfig:
    """Read, detect and parse one file. Raises ConfigError or NotATrainingConfig.

    Collection calls this once per file and hands the result to the audit (service.Checked);
    callers must not mutate it."""
    from .launch_target import is_shell_launcher

    if path.suffix.lower() not in candidate_suffixes() and not is_shell_launcher(path):
        raise NotATrainingConfig(str(path), f"{path.suffix or 'no'} suffix is not a config format goblin reads")
    if _json_too_large(path):
        raise NotATrainingConfig(str(path), "a JSON file larger than any training config (data: a dataset, a tokenizer, a vocabulary)")
    text = read_text(path)
    data, adapter, repeats = _parse(path, text)
    try:
        workload = adapter.parse(path, data, text)
        if repeats:
            workload = workload.model_copy(update={"notes": [*workload.notes, *repeats]})
    except ConfigError:
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(str(path), f"{adapter.name}: `{field}`: {first['msg']}", hint="correct that setting") from None
    except Exception as exc:  # a third-party adapter must not take the session down
        raise ConfigError(str(path), f"the {adapter.name} reader failed: {type(exc).__name__}: {exc}", hint="report this with the file attached") from None
    from .attn_default import model_default, remote_attention, remote_code
    from .datasets import attach
    from .launch_env import launcher_env
    from .semantics import complete_topology

    workload = attach(complete_topology(launcher_env(workload, path)), path, data, text)
    if workload.attention == "eager" and workload.attention_patched is None:
        workload = _eager_for_training(workload, path, text)
    workload = model_default(_attention_release(workload, path, text), text)
    from .fsdp_wrap import one_unit

    workload = one_unit(workload, str(path), text)
    if remote_code(text):
        workload = remote_attention(workload.model_copy(update={"remote_code": True}), text, path.suffix.lower() == ".py")
    if workload.stated_gpu is None:
        from .stated_gpu import stated_gpu_read

        gpu, said = stated_gpu_read(path, text)
        if gpu is not None:
            workload = workload.model_copy(update={"stated_gpu": gpu})
        elif said is not None:
            workload = workload.model_copy(update={"notes": [*workload.notes, said]})
    if workload.stated_gpu is not None:
        from ..costmodel import bounded_by_stated

        # the run that trained on the stated GPU bounds the lengths assumed: priced at the longest that fits there (issue 23)
        workload = bounded_by_stated(workload)
    return LoadedConfig(path=path, text=text, data=data, adapter=adapter, workload=workload)
