"""Keys and defaults of torchtune, LLaMA-Factory and Axolotl at the release a recipe runs on.

key_history.json (scripts/gen_key_history.py) holds, per release read: the keys each torchtune
recipe reads (`recipe:<name>`) and the arguments of torchtune's dataset builders
(`torchtune.datasets.<builder>`, with whether they take **kwargs); the fields of the dataclasses
LLaMA-Factory parses a recipe into; the fields of Axolotl's pydantic input schema; and, for a key
whose default changed between releases, the default of each run of releases with its file:line.

What an unknown key does differs per framework, so only two of them give a finding:
- LLaMA-Factory stops: hparams/parser.py raises ValueError "Some specified arguments are not used
  by the HfArgumentParser" (llamafactory 0.9.5 llamafactory/hparams/parser.py:111-114; 0.8.3 :66-71),
  and a YAML or dict goes through HfArgumentParser.parse_dict/parse_yaml_file with
  allow_extra_keys=False (0.9.5 parser.py:90-93,107: read_args loads the YAML into a dict; 0.8.3 :58-61), which raises too, unless the
  ALLOW_EXTRA_ARGS environment variable is set (read from 0.9.2 on, parser.py:261 at 0.9.5). That holds
  for a key no release has too (review2 #13/#14, open-thoughts: `global_batch_size`, and `formatting`,
  `messages`, `role_tag`, ..., which are dataset_info.json fields, llamafactory v0.9.5 data/README.md:7-44):
  a key in none of the dataclasses of any LLaMA-Factory release read, nor in transformers'
  (Seq2Seq)TrainingArguments at any release read, stops every release read (_lf_never).
- torchtune's config.instantiate calls the component with the node's keys as keyword arguments
  (torchtune 0.6.1 torchtune/config/_instantiate.py:22; 0.2.1 :20): a dataset builder without
  **kwargs raises TypeError on a key its signature lacks. A top-level key no recipe code reads is
  ignored (the recipes read keys with cfg.get / attribute access), so it gets no finding: the recipe's
  config is the YAML loaded by OmegaConf.load and merged with the command line, with no schema
  (torchtune v0.6.1 torchtune/config/_parse.py:58-60,94-97; v0.2.1 torchtune/config/_parse.py:19,48 and
  torchtune/utils/argparse.py:52-54).
- Axolotl drops it: AxolotlInputConfig sets no `extra` (axolotl 0.19.0 axolotl/utils/schemas/config.py:214,
  pydantic's default "ignore"; at v0.5.0 src/axolotl/utils/config/models/input/v0_4_1/__init__.py:561,578-581
  its `class Config` sets only populate_by_name) and validate_config keeps model_dump(exclude_none=True) of the model
  (axolotl/utils/config/__init__.py:512-517), so the key does nothing; no finding.

A release is decided as for transformers (history.run_version: the repository's pin). Without a pin
of the framework nothing here fires: the newest release is what the shipped tables already hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .history import RENAMES, KeyCheck, Rejected, _tri, change, class_present, ever, has, history, last_with, present, read_versions, run_version
from .pins import Pin

LF_CLASSES = ("ModelArguments", "DataArguments", "TrainingArguments", "FinetuningArguments", "GeneratingArguments")


@dataclass(frozen=True)
class Default:
    value: Any
    cite: str  # "file:line@version": where the last release read with this default sets it
    changed: str  # "default X at A..B, Y at C..D" (the history of the default)


def default_at(dist: str, cls: str, key: str, version: str) -> Default | None:
    """The default of `key` at `version` when it differs between the releases read (None: it never
    changed, or the run's release is not placed among them)."""
    entry = history().get(dist, {}).get("classes", {}).get(cls)
    k = entry["keys"].get(key) if entry else None
    runs = k.get("defaults") if k else None
    if not runs:
        return None
    changed = ", ".join(f"{_shown(v)} in {dist} {a}" + (f"..{b}" if b != a else "") for a, b, v, _c in runs)
    hits = [(v, c) for a, b, v, c in runs if _tri(dist, [[a, b]], version)]
    if len(hits) != 1:
        return None
    value, cite = hits[0]
    return Default(value, cite, changed)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "required" if value.get("required") else str(value.get("expr", value))
    if value is None:
        return "unset"
    return str(value).lower() if isinstance(value, bool) else str(value)


def pinned(dist: str, pins: dict[str, Pin]) -> str | None:
    """The release of `dist` a pinned recipe runs on (None without a pin, or a pin that allows no release read)."""
    pin = pins.get(dist)
    if pin is None:
        return None
    run = run_version(dist, pin)
    return run.version if run is not None else None


def torchtune_default(recipe: str | None, key: str, pins: dict[str, Pin]) -> Default | None:
    version = pinned("torchtune", pins)
    return default_at("torchtune", f"recipe:{recipe}", key, version) if recipe and version else None


def llamafactory_default(key: str, pins: dict[str, Pin]) -> Default | None:
    version = pinned("llamafactory", pins)
    if version is None:
        return None
    for cls in LF_CLASSES:
        got = default_at("llamafactory", cls, key, version)
        if got is not None:
            return got
    return None


def recipe_reads(recipe: str, key: str, version: str) -> bool | None:
    """Whether torchtune's `recipe` at `version` reads top-level `key` (None: not known)."""
    if not class_present("torchtune", f"recipe:{recipe}", version):
        return None
    return present("torchtune", f"recipe:{recipe}", key, version)


# How edit_too_old says a torchtune recipe at the release it runs on does not read an edit's key: such an edit is not
# offered (rules._UNACTIONABLE: "never reads"), and the audit says why in a note (tools/audit_tools.propose_patch)
RECIPE_NEVER_READS = "the recipe at that release never reads"


def edit_too_old(fmt: str, key: str, pins: dict[str, Pin], recipe: str | None = None, data: Any = None) -> str | None:
    """Why an edit writing `key` does nothing or stops the run at the pinned release (None: fine or not known)."""
    top = key.split(".", 1)[0]
    if fmt == "torchtune":
        version = pinned("torchtune", pins)
        if version and recipe and "." not in key and ever("torchtune", f"recipe:{recipe}", top) and recipe_reads(recipe, top, version) is False:
            why = change("torchtune", f"recipe:{recipe}", top, version).replace(f"recipe:{recipe}", f"recipe {recipe}", 1)
            return (
                f"torchtune {version} ({pins['torchtune'].spec}, {pins['torchtune'].where}): {RECIPE_NEVER_READS} `{top}` ({why}), so the edit would do nothing"
            )
        if version and "." in key and isinstance(data, dict):
            parent, _, arg = key.rpartition(".")
            node: Any = data
            for part in parent.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            comp = node.get("_component_") if isinstance(node, dict) else None
            if isinstance(comp, str) and _builder_lacks(comp, arg, version):
                return (
                    f"torchtune {version} ({pins['torchtune'].spec}, {pins['torchtune'].where}): "
                    f"{change('torchtune', comp, arg, version)}, and config.instantiate would raise TypeError on it"
                )
    if fmt == "llamafactory":
        version = pinned("llamafactory", pins)
        owners = [c for c in LF_CLASSES if ever("llamafactory", c, top)]
        if version and owners and all(present("llamafactory", c, top, version) is False for c in owners):
            return f"llamafactory {version} ({pins['llamafactory'].spec}, {pins['llamafactory'].where}): {change('llamafactory', owners[0], top, version)}; its parser would stop on it"
    if fmt == "axolotl":
        version = pinned("axolotl", pins)
        if version and ever("axolotl", "AxolotlInputConfig", top) and present("axolotl", "AxolotlInputConfig", top, version) is False:
            return f"axolotl {version} ({pins['axolotl'].spec}, {pins['axolotl'].where}): {change('axolotl', 'AxolotlInputConfig', top, version)}, so it would be dropped"
    return None


def _builder_lacks(comp: str, arg: str, version: str) -> bool:
    """Whether torchtune's builder `comp` at `version` has no argument `arg` and takes no **kwargs (TypeError)."""
    entry = history()["torchtune"]["classes"].get(comp)
    if entry is None or not class_present("torchtune", comp, version) or not ever("torchtune", comp, arg):
        return False
    return _tri("torchtune", entry.get("takes_kwargs", []), version) is False and present("torchtune", comp, arg, version) is False


def lf_transformers(lf: str) -> str | None:
    """The transformers requirement LLaMA-Factory release `lf` installs with (its TrainingArguments extends
    transformers'), as the release's own METADATA Requires-Dist states it for a Linux training environment
    (key_history.json `llamafactory.transformers_requirement`, each with its line; scripts/gen_key_history.py
    from the wheels). None for a release goblin did not read."""
    got = history()["llamafactory"].get("transformers_requirement", {}).get(lf)
    return str(got["spec"]) if got else None


@lru_cache(maxsize=4096)  # a function of the packaged tables only; every LLaMA-Factory recipe asks for the same keys
def _lf_transformers_lacks(key: str, lf: str) -> str | None:
    """Why `key` (a TrainingArguments field at some transformers release) is absent from every transformers
    release the LLaMA-Factory release `lf` installs with, or None (present at one of them, or not known)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from .history import read_versions

    spec = lf_transformers(lf)
    if spec is None:
        return None
    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    versions = [v for v in read_versions("transformers") if v in allowed]
    if not versions or any(present("transformers", "TrainingArguments", key, v) is not False for v in versions):
        return None
    return (
        f"{change('transformers', 'TrainingArguments', key, versions[0])}, and LLaMA-Factory {lf} installs transformers "
        f"{spec} ({versions[0]}-{versions[-1]} of the releases goblin read)"
    )


# The fields of a dataset's entry in LLaMA-Factory's dataset_info.json, not training arguments: the
# description's top level, its `columns` and its `tags` (llamafactory v0.9.5 data/README.md:7-44; the same
# fields at v0.8.3 data/README.md). A recipe that has one of them at its top level put it in the wrong file.
LF_DATASET_INFO = {
    **dict.fromkeys(("hf_hub_url", "ms_hub_url", "script_url", "cloud_file_name", "file_name", "formatting", "ranking", "subset", "folder", "num_samples"), ""),
    **dict.fromkeys(
        ("prompt", "query", "response", "history", "messages", "system", "tools", "images", "videos", "audios", "chosen", "rejected", "kto_tag"), "columns"
    ),
    **dict.fromkeys(("role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"), "tags"),
}
LF_DATASET_INFO_CITE = "llamafactory v0.9.5 data/README.md:7-44"


def _lf_never(key: str, version: str) -> str | None:
    """Why `key`, which no LLaMA-Factory release goblin read has in any dataclass it parses a recipe into and
    no transformers release read has in (Seq2Seq)TrainingArguments, stops LLaMA-Factory `version`; None when
    `version` is not among the releases read (an older or newer parser may have had it)."""
    if class_present("llamafactory", "DataArguments", version) is not True:
        return None
    if any(ever("transformers", c, key) for c in ("TrainingArguments", "Seq2SeqTrainingArguments")):
        return None
    read = read_versions("llamafactory")
    why = f"no dataclass LLaMA-Factory parses a recipe into has it in any release goblin read ({read[0]}-{read[-1]}), nor transformers' TrainingArguments"
    if key in LF_DATASET_INFO:
        part = LF_DATASET_INFO[key]
        where = f"the dataset's `{part}` in dataset_info.json" if part else "the dataset's entry in dataset_info.json"
        why += f"; it is a field of {where}, the file `dataset_dir` points at ({LF_DATASET_INFO_CITE}), and belongs there"
    return why


def llamafactory_rejected(keys: list[str], pins: dict[str, Pin], text: str, own: frozenset[str] = frozenset()) -> KeyCheck | None:
    """The keys of a LLaMA-Factory recipe the release it runs on (pinned, else the newest goblin read,
    assumed) has none of its dataclasses for: its own hparams, or TrainingArguments at every transformers
    release that LLaMA-Factory release installs with (lf_transformers)."""
    run = run_version("llamafactory", pins.get("llamafactory"))
    if run is None:
        return None
    out: list[Rejected] = []
    # USE_MCA (llamafactory v0.9.5 hparams/parser.py:63-82,265-272): Megatron (mcore_adapter) argument classes read the
    # recipe, whose keys goblin has not read, so a key none of LLaMA-Factory's own classes has says nothing there
    mca = "USE_MCA" in text or "use_mca" in keys
    for key in keys:
        if key in own:
            continue
        if ever("transformers", "TrainingArguments", key):
            if not any(ever("llamafactory", c, key) for c in LF_CLASSES) and (why := _lf_transformers_lacks(key, run.version)):
                ren = RENAMES.get(("transformers", key))
                out.append(Rejected(key, why, ren if ren is not None and _lf_transformers_lacks(ren.new, run.version) is None else None, assumed=run.assumed))
            continue
        owners = [c for c in LF_CLASSES if ever("llamafactory", c, key)]
        if not owners:
            if not mca and (why := _lf_never(key, run.version)) is not None:
                # A dataset_info.json field is one at every release; any other key may come from a release newer
                # than goblin read (the LLaMA-Factory repository's own examples use such keys): certain only when
                # the repository says which release runs.
                certain = key in LF_DATASET_INFO or not run.assumed
                why += "" if certain else "; the release was assumed, and one newer than goblin read may have it: pin the release the recipe runs on"
                out.append(Rejected(key, why, None, certain=certain))
            continue
        if any(has("llamafactory", c, key, run) is not False for c in owners):
            continue
        last = last_with("llamafactory", owners[0], key, run.version)
        out.append(Rejected(key, change("llamafactory", owners[0], key, run.version), None, dist="llamafactory", last=last, assumed=run.assumed))
    if not out:
        return None
    table = history()["llamafactory"].get("parser_rejects_unknown", {})
    raises = _tri("llamafactory", table.get("rejects", []), run.version)
    at = table.get("at", {}).get(run.version) or next(iter(table.get("at", {}).values()), "llamafactory/hparams/parser.py")
    # Unpinned, the release is the newest goblin read (what `pip install llamafactory` or a fresh clone gives),
    # and its parser is known to stop: a requirement whose message says the release was assumed (a blocker when pinned).
    if "ALLOW_EXTRA_ARGS" in text:
        stops, how = None, "the recipe mentions ALLOW_EXTRA_ARGS, which makes LLaMA-Factory's parser keep going past such keys; then they do nothing"
    elif raises:
        stops = True
        how = (
            f"LLaMA-Factory {run.version}'s argument parser stops on keys none of its dataclasses has "
            f"(ValueError from HfArgumentParser.parse_dict/parse_yaml_file, or {at} for command-line arguments)"
        )
    else:
        stops, how = None, f"goblin does not know what LLaMA-Factory {run.version}'s parser does with them"
    return KeyCheck(out, run.how, "llamafactory", stops, how, run.assumed)


def _components(node: Any, path: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    """(dotted path, component, node) of every `_component_` node, lists included (`dataset: [...]`)."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if isinstance(node, dict):
        comp = node.get("_component_")
        if isinstance(comp, str):
            out.append((path, comp, node))
        for k, v in node.items():
            if isinstance(k, str) and k != "_component_":
                out += _components(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _components(v, f"{path}.{i}")
    return out


def torchtune_rejected(data: Any, pins: dict[str, Pin]) -> KeyCheck | None:
    """Keys of a torchtune dataset node its pinned release's builder has no argument for (TypeError at
    config.instantiate). Only builders without **kwargs, and only keys some release read has."""
    run = run_version("torchtune", pins["torchtune"]) if "torchtune" in pins else None
    if run is None:
        return None
    classes = history()["torchtune"]["classes"]
    out: list[Rejected] = []
    for dotted, comp, node in _components(data):
        entry = classes.get(comp)
        if entry is None or not class_present("torchtune", comp, run.version):
            continue
        for key in node:
            if key == "_component_" or not isinstance(key, str):
                continue
            if _builder_lacks(comp, key, run.version) and (run.also is None or (bool(run.also) and _builder_lacks(comp, key, run.also))):
                out.append(Rejected(f"{dotted}.{key}", f"{change('torchtune', comp, key, run.version)}".replace(comp, f"`{comp}`", 1), None))
    if not out:
        return None
    at = history()["torchtune"].get("instantiate", {}).get(run.version, "torchtune/config/_instantiate.py")
    how = f"In torchtune {run.version}, config.instantiate passes the node's keys to the builder as keyword arguments ({at}): TypeError, unexpected keyword argument"
    return KeyCheck(out, run.how, "torchtune", True, how, run.assumed)
