"""Why a training script's run must not be told to pack samples: it packs them itself, or its TRL release raises on
packing with the collator it uses. Sets the workload's `packing_blocked` (the packing rule then stays silent).

review4 #31 (THUDM/LongWriter train/main.py: train/scripts/glm4_longwriter.sh passes `--batch_method "pack"`, which
main.py's own DataArguments reads) and #26 (llm-jp/llm-jp-sft train.py: DataCollatorForCompletionOnlyLM with
trl==0.7.4, whose SFTTrainer raises on packing with it).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from ..pysource import parse as parse_source

# values of a script's own option that name packing (`--batch_method pack`); option names whose true value does
PACK_WORDS = frozenset({"pack", "packed", "packing"})
PACK_SWITCHES = frozenset({"pack", "packed", "packing", "sample_packing", "pack_sequences", "use_packing", "do_packing"})
# a dataset path whose name says its rows are packed already (`data/packed_32k`, `train_pack.npy`): a path (a slash or a
# file suffix) with `pack`/`packed`/`packing` as a word of one of its parts
PACKED_PATH = re.compile(r"(?i)(?:^|[/_.\-])pack(?:ed|ing)?(?:$|[/_.\-]|\d)")
# only an option that names the training data (`train_file`, `data_path`, `dataset_dir`), never an output or a model
DATA_KEY = re.compile(r"(?i)data|train_file|train_path")
NOT_DATA_KEY = re.compile(r"(?i)output|model|log|cache|save|deepspeed|config|eval|valid|test")

COLLATOR = "DataCollatorForCompletionOnlyLM"
# SFTTrainer raises ValueError on packing with DataCollatorForCompletionOnlyLM from the first release with the collator
# to 0.14.x; 0.15.0 dropped the check (read at every tag of huggingface/trl)
COLLATOR_RAISES_FROM, COLLATOR_RAISES_BEFORE = (0, 7, 0), (0, 15, 0)
COLLATOR_AT = (
    "trl 0.7.4 trl/trainer/sft_trainer.py:151-153, trl 0.12.2 :222-224 and trl 0.14.0 :163-165 (packing with a "
    "DataCollatorForCompletionOnlyLM: ValueError); trl 0.15.0 sft_trainer.py has no such check"
)


def own_packing(values: dict[str, Any], where: dict[str, Any], launch: Any = None) -> str | None:
    """The script's own option that packs its batches (`batch_method: pack`), said with where it is set (the launcher's
    file and line where it passes the value); None if none."""
    for key, value in values.items():
        if key == "packing":  # TRL's own key: read as sample_packing already
            continue
        word = isinstance(value, str) and value.strip().strip("'\"").lower() in PACK_WORDS
        switch = value is True and key in PACK_SWITCHES
        path = (
            isinstance(value, str)
            and DATA_KEY.search(key) is not None
            and NOT_DATA_KEY.search(key) is None
            and ("/" in value or re.search(r"\.[A-Za-z]{2,5}$", value) is not None)
            and PACKED_PATH.search(value) is not None
        )
        if word or switch or path:
            loc = where.get(key)
            file, line = getattr(loc, "file", None), getattr(loc, "line", None)
            if file and line and launch is not None and getattr(launch, "file", None) == file:
                place = f" ({launch.where(line)})"
            else:
                place = f" ({Path(file).name} line {line})" if file and line else f" (line {line})" if line else ""
            what = "its dataset path names packed rows" if path else "the script packs its own batches"
            return f"{what}: `{key}` is {value!r}{place}; goblin does not propose packing on top of it"
    return None


def collator_line(text: str) -> int | None:
    """The line of the script's DataCollatorForCompletionOnlyLM(...) call, or None."""
    try:
        tree = parse_source(text)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name == COLLATOR:
                return node.lineno
    return None


def collator_blocks_packing(path: str, text: str) -> str | None:
    """Why packing cannot be proposed where the script collates with DataCollatorForCompletionOnlyLM: its TRL release
    raises on the pair (0.7.0 to 0.14.x), or the release is not known to be one that accepts it."""
    from ..frameworks.history import run_version
    from ..frameworks.pins import pins
    from ..frameworks.trl_limits import parse_version

    line = collator_line(text)
    if line is None:
        return None
    run = run_version("trl", pins(path, text).get("trl"))
    version = parse_version(run.version) if run is not None else None
    known = run is not None and not run.assumed and version is not None
    if known and version is not None and not (COLLATOR_RAISES_FROM <= version < COLLATOR_RAISES_BEFORE):
        return None
    said = "a TRL release goblin cannot place" if run is None else f"trl {run.version} ({run.how})"
    does = "raises ValueError on packing with that collator" if known else "may raise ValueError on packing with that collator"
    return f"the script collates with {COLLATOR} (line {line}); on {said} SFTTrainer {does} ({COLLATOR_AT}), so goblin does not propose packing"


# review7b #26/#27 (rhymes-ai/Aria aria/train.py:217-229 at 9b25fec, trl==0.9.6): the script sets
# `dataset_kwargs = {"skip_prepare_dataset": True}` and hands SFTTrainer its own image+text collator. SFTTrainer packs only
# while it prepares the dataset: trl 0.9.6 trl/trainer/sft_trainer.py:495-496 (`_prepare_dataset` returns the dataset
# as it is under skip_prepare_dataset, before the packed/unpacked split at :518-530), and at trl 1.10.0.dev0
# (f2cd577) sft_trainer.py:1252-1263 (no `_prepare_dataset`, where packing happens, when skip_prepare_dataset is set).
SKIP_PREPARE = "skip_prepare_dataset"
SKIP_PREPARE_AT = "trl 0.9.6 trl/trainer/sft_trainer.py:495-496; trl 1.10.0.dev0 sft_trainer.py:1252-1263"
# modules whose collators are the framework's own (DataCollatorForLanguageModeling, DataCollatorWithPadding, ...)
FRAMEWORK_MODULES = ("trl", "transformers")


def _framework_names(tree: ast.Module) -> set[str]:
    """Names the script imports from trl or transformers (`from trl import X`, `import transformers`)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FRAMEWORK_MODULES:
            out.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            out.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] in FRAMEWORK_MODULES)
    return out


def _root_name(node: ast.expr) -> str | None:
    """`DataCollatorX(...)` -> DataCollatorX, `transformers.default_data_collator` -> transformers; None for a lambda etc."""
    while isinstance(node, (ast.Call, ast.Attribute)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def script_collates_itself(tree: ast.Module, trainer: str, shown: str) -> str | None:
    """Why the trainer the script builds does not pack what it is given: the script skips the trainer's dataset
    preparation (`dataset_kwargs` with skip_prepare_dataset True), or passes it a collator of the repository's own (a
    lambda, a function or a class not imported from trl/transformers: review7b #26/#27's image+text collator). None
    when neither."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == SKIP_PREPARE and isinstance(v, ast.Constant) and v.value is True:
                    return (
                        f"{shown} line {node.lineno} sets dataset_kwargs {SKIP_PREPARE} True: {trainer} then takes the dataset as it comes and "
                        f"packs nothing ({SKIP_PREPARE_AT}), so goblin does not propose packing"
                    )
        if isinstance(node, ast.keyword) and node.arg == SKIP_PREPARE and isinstance(node.value, ast.Constant) and node.value.value is True:
            return f"{shown} sets {SKIP_PREPARE}=True: {trainer} then takes the dataset as it comes and packs nothing ({SKIP_PREPARE_AT}), so goblin does not propose packing"
    framework = _framework_names(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))):
            continue
        if (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) != trainer:
            continue
        for kw in node.keywords:
            if kw.arg != "data_collator" or (isinstance(kw.value, ast.Constant) and kw.value.value is None):
                continue
            root = _root_name(kw.value)
            if root is not None and (root in framework or root == COLLATOR):
                continue  # the framework's own collator (DataCollatorForCompletionOnlyLM: collator_blocks_packing)
            said = "a lambda" if isinstance(kw.value, ast.Lambda) else f"`{ast.unparse(kw.value)[:60]}`"
            return (
                f"{shown} line {kw.value.lineno} passes {trainer} a collator of the repository's own ({said}, not imported from trl or transformers): "
                "what it builds from a batch is the script's, so goblin does not propose packing on top of it"
            )
    return None


# `packing: true` with `dataset_kwargs: {skip_prepare_dataset: true}`. SFTTrainer packs only while it prepares the
# dataset, so skipping the preparation skips the packing: trl 0.14.0 trl/trainer/sft_trainer.py:349-350
# (`_prepare_dataset` returns the dataset as it is; pack_dataset is never reached) and :258-260 (the padding collator is
# left out only when packing); trl 0.18.0 sft_trainer.py:340-341. From 0.19.0 packing with the default strategy also
# turns the collator padding-free, and that stays when the preparation is skipped: each micro-batch's samples are laid
# end to end with no pad token (trl 0.19.0 sft_trainer.py:394 `padding_free = args.padding_free or (args.packing and
# args.packing_strategy == "ffd")`, sft_config.py:189-190 default "ffd"; 0.20.0 :439 "bfd", sft_config.py:191-192 default
# "bfd"; 1.16.0 :916 `in {"bfd", "bfd_split"}`, :1005-1018 the skipped preparation, sft_config.py:229-230 default "bfd").
SKIPPED_PACKING_AT = "trl 0.14.0 trl/trainer/sft_trainer.py:349-350 and :258-260; trl 0.18.0 sft_trainer.py:340-341"
PADDING_FREE_AT = "trl 0.19.0 sft_trainer.py:394 (sft_config.py:189-190); trl 0.20.0 :439; trl 1.16.0 :916 and :1005-1018 (sft_config.py:229-230)"
PADDING_FREE_FROM = (0, 19, 0)
# release (first) -> the default packing_strategy and the strategies that make packing padding-free
STRATEGIES: tuple[tuple[tuple[int, int, int], str, frozenset[str]], ...] = (
    ((1, 0, 0), "bfd", frozenset({"bfd", "bfd_split"})),
    ((0, 20, 0), "bfd", frozenset({"bfd"})),
    ((0, 19, 0), "ffd", frozenset({"ffd"})),
)


def skipped_packing(path: str, text: str, packing_at: str, skip_at: str, strategy: Any) -> tuple[bool, str] | None:
    """What `packing` does where the dataset preparation is skipped, at the TRL release the recipe runs on: (False, why)
    where it packs nothing, (True, why) where its padding-free collator still lays each micro-batch end to end with no pad
    token; None where goblin cannot tell (an unplaced release, a strategy it does not know)."""
    from ..frameworks.history import run_version
    from ..frameworks.pins import pins
    from ..frameworks.trl_limits import parse_version

    run = run_version("trl", pins(path, text).get("trl"))
    version = parse_version(run.version) if run is not None else None
    if run is None or version is None:
        return None
    said = f"trl {run.version} ({run.how})"
    both = f"{packing_at} with {skip_at}"
    if version < PADDING_FREE_FROM:
        return False, (
            f"{both}: on {said} SFTTrainer packs only while it prepares the dataset, so the packing key does nothing and "
            f"each batch is padded as it comes ({SKIPPED_PACKING_AT}); goblin reads packing as off"
        )
    default, free = next((d, f) for since, d, f in STRATEGIES if version >= since)
    chosen = str(strategy).strip() if strategy is not None else default
    if chosen in free:
        return True, (
            f"{both}: on {said} the dataset is not packed, but packing with packing_strategy {chosen!r} makes the collator "
            f"padding-free, so each micro-batch's samples are laid end to end with no pad token ({PADDING_FREE_AT})"
        )
    if chosen == "wrapped":
        return False, (
            f"{both}: on {said} packing_strategy 'wrapped' packs only while the dataset is prepared, so the packing key does "
            f"nothing and each batch is padded as it comes ({PADDING_FREE_AT}); goblin reads packing as off"
        )
    return None
