"""What the Python script reader found in a script: the record `python.read_script` fills and the
readers beside it (formats/pyloop.py, blockers) consume. A module of its own so that those readers
depend on the record, not on the reader that fills it."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from ..frameworks.unsloth import UnslothLoad
from .argedit import OptionSite
from .launchers import ScriptLaunch


@dataclass
class Location:
    node: ast.expr | None  # the literal to replace; None when the value is not a literal of this script
    line: int
    file: str | None = None  # another file (the launcher that passes it); None: the script itself
    fixed: str | None = None  # why an edit cannot be written here (and where to make it instead)
    # the command-line option the value is read from (formats/argedit.py says how an edit to it can be made)
    option: OptionSite | None = None
    # read from a settings file the script loads (formats/dictcfg.py), not passed by a launcher: that file, relative to
    # the repository root
    settings: str | None = None


# the note of an `env.X` source set by the script's `os.environ.setdefault`: the launcher's export, made before the
# script starts, wins over it (CPython 3.11.7 Lib/os.py `_Environ` is a MutableMapping, whose setdefault assigns only a
# missing key: Lib/os.py:666 `class _Environ(MutableMapping)`, Lib/_collections_abc.py:959-965 MutableMapping.setdefault)
ENV_SETDEFAULT = "os.environ.setdefault in the script"
ENV_SET = "os.environ in the script"


@dataclass
class Script:
    """What the reader found: HF-style keys with literal values, and where each lives."""

    values: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Location] = field(default_factory=dict)
    args_call: ast.Call | None = None  # the TrainingArguments-like call, for new keywords
    model_call: ast.Call | None = None  # from_pretrained(...), for attention and dtype
    config_class: str | None = None  # TrainingArguments or the TRL config class the script builds
    env: dict[str, str] = field(default_factory=dict)
    # where each `os.environ` setting is made: name -> (line, how): "set" (`os.environ[X] = v`, wins over the launcher's
    # export), "default" (`os.environ.setdefault`, which the launcher's export wins over), "unknown" (under an `if` goblin
    # cannot evaluate, or a value it cannot read: the variable's value in the run is unknown)
    env_at: dict[str, tuple[int, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    parser_call: ast.Call | None = None  # HfArgumentParser(...) / TrlParser(...) when the config comes from the command line
    parser_classes: tuple[str, ...] = ()  # the dataclasses that parser fills (ModelConfig, the script's own ScriptArguments)
    launch: ScriptLaunch | None = None  # the repository's launch line that runs the script
    fixed: dict[str, str] = field(default_factory=dict)  # workload field -> why code, not a keyword, sets it
    code_lines: dict[str, int] = field(default_factory=dict)  # workload field -> the line of that code
    trainer_values: dict[str, tuple[Any, Location]] = field(default_factory=dict)  # SFTTrainer(packing=..., max_seq_length=...)
    # the framework keys the launch line passes through HfArgumentParser/TrlParser (none of the script's own
    # dataclass fields): key -> (the flag as written, its value, physical line), for blocker.keys_*_at_version
    launch_keys: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)
    # whether that parse stops on an argument no dataclass reads: parse_args_into_dataclasses() without
    # return_remaining_strings raises ValueError (HF_PARSE_AT); None when the script parses otherwise
    launch_stops: bool | None = None
    launch_parse: str = "parse_args_into_dataclasses"  # the call that parses it (TrlParser's parse_args_and_config: TRL_PARSE_AT)
    # the sequence length a packing dataset call packs the rows to (`ConstantLengthDataset(seq_length=...)`,
    # `pack_dataset(ds, seq_length)`): (value, where, the call's line)
    packed_length: tuple[int, Location, int] | None = None
    # a training loop of its own (accelerate's Accelerator, deepspeed.initialize; formats/pyloop.py): what sets it up
    loop: str | None = None
    # the model load's `device_map=` when it spreads the model over every visible GPU ("auto", "balanced",
    # "balanced_low_0", "sequential", or a dict naming more than one device): (value, where)
    device_map: tuple[Any, Location] | None = None
    # TrainingArguments-like keywords whose value is computed at run time (`bf16=bf16` from a value goblin cannot
    # evaluate): key -> the keyword's line; their fields are unread (schemas.FieldSource.unread)
    computed: dict[str, int] = field(default_factory=dict)
    # the lines of config calls with a `**` goblin does not read: a keyword added there may repeat one it passes
    spread_unread: set[int] = field(default_factory=set)
    # the keys the config call (args_call) takes through a `**` of a loaded settings file goblin reads (formats/dictcfg.py):
    # key -> (that file, relative to the repository root; the key's line there; the script's line of the `**`)
    args_spread: dict[str, tuple[str, int | None, int]] = field(default_factory=dict)
    # TrainingArguments-like fields the script sets after building or parsing the config (`args.fp16 = True` under an
    # `if` goblin cannot evaluate, or to a value it cannot read): key -> why; their fields are unread
    code_unread: dict[str, str] = field(default_factory=dict)
    # a language model the script freezes for certain (`model.llm.requires_grad_(False)` where its `if` is read true):
    # (the line, what freezes it and why it runs); priced as a frozen base (pycode.frozen_language_model)
    frozen_llm: tuple[int, str] | None = None
    # the repository class the script trains through and what it builds (formats/pybuilt.py); the config call is
    # in that class's file, so goblin writes no edit into the script for it
    built: str | None = None
    # what that class trains where goblin does not model it, for the framework label (a reward model: its
    # AutoModelForSequenceClassification load), so rules.unmodelled_trainer leaves its memory unjudged
    built_label: str | None = None
    # debug modes the script turns on where it runs (formats/pydebug.py): (what, the call and its source; its line)
    debug_modes: list[tuple[str, int]] = field(default_factory=list)
    # an Unsloth `FastLanguageModel.from_pretrained(...)` load (formats/pyunsloth.py): its vLLM engine and defaults
    unsloth: UnslothLoad | None = None
