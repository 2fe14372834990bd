"""The Python script a repository's launch line runs on a YAML config, read with `ast` (never run):
the repository's own argument classes the script parses the file into (their field defaults apply
to keys the file leaves out) and the trainer class it builds (a preference trainer's sequences per
example and reference model).

`accelerate launch ... scripts/run_simpo.py training_configs/x.yaml` names the config; the `.py`
word before it is the script, looked up from the launcher's folder up to the repository root (a
launch runs from one of them). A class is followed through the script's own `from m import C` into
the repository (`m.py` or `m/__init__.py` next to the script or at the root, and `from .n import C`
in a package); a class from an installed package is not read.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..pysource import parse as parse_source
from ..safepath import UnsafePath, read_text
from .codeset import CodeSet, code_sets
from .launch_naming import checkout_file, names_config, resolve_relative
from .launch_walk import config_tree, launcher_candidates, read_launcher
from .pyargs import dataclasses_of
from .pyclasses import CONFIG_CLASSES, TRAINER_PACKING_AT
from .pyliteral import call_name
from .script_dtype import ModelLoad, model_loads

MAX_SCRIPT_BYTES = 2_000_000
MAX_HOPS = 6
# the other recipes of a config's folder whose launch lines stand for it (one pass over the launchers for all of them)
MAX_SIBLINGS = 200
# the files and folders listed under a folder above a recipe while its cousins are gathered (`_cousin_script`)
MAX_COUSIN_ENTRIES = 2000
# a dict the script passes to its config class key by key stands for a recipe when it reads this many of the recipe's keys
MIN_DICT_READS = 3
# the suffixes of one recipe format: a YAML recipe stands beside .yaml and .yml siblings, a JSON one beside .json
_YAML = frozenset({".yaml", ".yml"})
_RECIPE_FAMILIES: dict[str, frozenset[str]] = {".json": frozenset({".json"}), ".yaml": _YAML, ".yml": _YAML}

# TRL's preference trainers and their config classes -> hfstyle.PREFERENCE kind (trl 1.16.0 trl/trainer/
# dpo_trainer.py, kto_trainer.py, experimental/orpo/orpo_trainer.py, experimental/cpo/cpo_trainer.py; trl 0.19.0
# trl/trainer/orpo_trainer.py:78 `class ORPOTrainer(Trainer)`, concatenated_forward :704, no ref_model in the file).
TRL_PREFERENCE = {
    "DPOTrainer": "dpo",
    "DPOConfig": "dpo",
    "KTOTrainer": "kto",
    "KTOConfig": "kto",
    "ORPOTrainer": "orpo",
    "ORPOConfig": "orpo",
    "CPOTrainer": "cpo",
    "CPOConfig": "cpo",
}


@dataclass
class Launched:
    script: str  # shown relative to the repository root
    where: str  # the launch line: `README.md line 192`
    defaults: dict[str, tuple[Any, str, int, str]] = field(default_factory=dict)  # field -> (default, file shown, line, class)
    # field -> (file shown, line, class) of a repository class field whose default is None: what the trainer then
    # does is the trainer's (review6b #25: the handbook DPOConfig's max_length None, which DPOTrainer turns into 512)
    none_defaults: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    parser_classes: tuple[str, ...] = ()
    trainer: str | None = None  # the trainer class the script builds
    own_trainer: str = ""  # "scripts/trainer.py:120" when that class is the repository's own, "" for a framework's
    # the TRL preference trainer (DPOTrainer, KTOTrainer ...) the repository's own trainer subclasses, "" where it subclasses
    # none of them (MiuLab/FactAlign kto_trainer_fg.py:367 `class FGKTOTrainer(Trainer)`: TRL's KTOTrainer checks never run)
    own_trainer_trl: str = ""
    # name -> (value, `if` line, assignment line): `if name is None: ... name = <int>` in the repository's trainer class
    # (review6b #25: jkx19/ActiveQueryNew scripts/trainer.py:284-290 `if max_length is None: ... max_length = 512`)
    trainer_fills: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    preference: tuple[str, str] | None = None  # (hfstyle.PREFERENCE kind, how it was read)
    # the training-arguments class the script parses the file into, read from the code (review11b #21-#23): a TRL config
    # class, TRL's own or the one a repository subclass reaches (`ORPOConfig`), else "" ...
    trl_args: str = ""
    # ... or the repository's own subclass of transformers' TrainingArguments that reaches none of TRL's:
    # "DPOConfig (lionalign/trainer/dpo_config.py:21), a subclass of TrainingArguments", else ""
    own_args: str = ""
    # the trainer is, or subclasses, a repository class named as a preference trainer that subclasses none of TRL's
    # (custom_preference; review7b #25: wx-zhang/bfpo BFPOTrainer -> src/alignment/trainer/dpo.py DPOTrainer(Trainer))
    custom: str | None = None
    # why the trainer the script builds packs nothing it is given (skip_prepare_dataset, the repository's own collator:
    # own_packing.script_collates_itself), or None
    no_packing: str | None = None
    notes: list[str] = field(default_factory=list)
    # the script's `TrlParser(...).parse_args_and_config(...)`: its line and the constant keywords it passes
    # (return_remaining_strings, fail_with_unknown_args; "_discarded": the remaining strings are assigned to `_`), or None
    trl_parse: tuple[int, dict[str, Any]] | None = None
    # what the TrlParser's dataclasses accept on the command line (blockers._launch_args_unknown): every field of the
    # repository's own parser classes and the framework classes they are, or end in (`trl.GRPOConfig`, ScriptArguments),
    # whose fields goblin's key tables hold; None where a class cannot be read (a base that is neither)
    parser_fields: tuple[frozenset[str], tuple[str, ...]] | None = None
    # why the command line the parse reads is not the launch line's words: `parse_args_and_config(words)` given its
    # arguments, or the script changes sys.argv first (`sys.argv.append(...)`, `sys.argv = [...]`); "" when neither
    argv_changed: str = ""
    # the line of the script's `parse_yaml_and_args(...)` (or H4ArgumentParser's argument-less `.parse()`, which calls it
    # when words follow the recipe: pycommand.H4_PARSE_AT): `--key=value` launch words are then set over the file
    yaml_args: int | None = None
    attrs_read: dict[str, int] = field(default_factory=dict)  # attribute name -> first line the script reads it (`x.torch_dtype`)
    # every field of the parser classes with a literal default, None included (`peft_path: str = None`)
    fields: dict[str, Any] = field(default_factory=dict)
    # `LoraConfig(...)` / `get_peft_model(...)` / a trainable `PeftModel.from_pretrained(...)`: (call, line, its enclosing `if`s
    # as (test, if line, the call is in the else branch)), read by `adapter`
    adapters: list[tuple[str, int, list[tuple[ast.expr, int, bool]]]] = field(default_factory=list)
    # `from_pretrained(..., load_in_4bit=True)` / `BitsAndBytesConfig(load_in_8bit=True)` with a constant True: (kind, call,
    # line, its enclosing `if`s), read by `quantization`
    quantizers: list[tuple[str, str, int, list[tuple[ast.expr, int, bool]]]] = field(default_factory=list)
    # TrainingArguments fields the script sets in code on the object it parses the file into (formats/codeset.py)
    code_sets: list[CodeSet] = field(default_factory=list)
    script_path: str = ""  # the script's real path
    text: str = ""  # the script's text (its imports: blockers._module_removed)
    # the script's model-weights `from_pretrained` calls and the tree they are read in (formats/script_dtype.py),
    # read by `weights_dtype`
    loads: list[ModelLoad] = field(default_factory=list)
    tree: ast.Module | None = None
    # where the script builds more than one trainer class: (class, call line, the `if`s around each call site), read by
    # `trainer_on` (Firefly train.py:397-416: DPOTrainer under `if args.task_type == 'dpo'`, else Trainer)
    trainer_calls: list[tuple[str, int, list[list[tuple[ast.expr, int, bool]]]]] = field(default_factory=list)
    # the script trains in its own loop on its own argument dataclasses (review15a #15/#17 open-instruct finetune.py:1114
    # ArgumentParserPlus((FlatArguments)), :940 accelerator.backward; review15b #22 potential-doodle sft.py:615): no parser
    # class is or subclasses TrainingArguments or a TRL config, no `...Trainer(...)` is built, and a `.backward(` call is
    # made; "script:line" of that call, else "". Neither TRL's nor TrainingArguments' defaults are the run's then.
    own_loop: str = ""
    # every field the parser classes declare (with or without a default): the keys such a script's parse takes
    own_fields: frozenset[str] = frozenset()

    def set_in_code(self, data: dict[str, Any]) -> tuple[dict[str, tuple[Any, int, str]], dict[str, str]]:
        """The fields the script sets in code when run on `data`: key -> (value, line, how) for a literal value set where
        every `if` is known true (the last such setting), and key -> why for one set under an `if` goblin cannot evaluate or
        to a value it cannot read (the field is then not judged). A setting under an `if` known false, or in a function
        nothing runs, sets nothing."""
        from .codeset import literal

        values: dict[str, tuple[Any, int, str]] = {}
        unread: dict[str, str] = {}
        for cs in self.code_sets:
            results = [self._guards(data, guards) for guards in cs.sites]
            hit = next((decided for runs, decided in results if runs), None)
            at = f"{cs.form} at {self.script}:{cs.line}"
            if hit is None:
                unknown = next((decided for runs, decided in results if runs is None), None)
                if unknown is not None:
                    test, line, _ = unknown[-1]
                    unread[cs.key] = f"{at} sets {cs.key} under the `if` at line {line} (`{ast.unparse(test)[:60]}`), which goblin cannot evaluate"
                continue
            ok, value = literal(cs.value)
            if not ok:
                unread[cs.key] = f"{at} sets {cs.key} to `{ast.unparse(cs.value)[:60]}`, a value goblin cannot read"
                continue
            said = "; ".join(
                f"the `if` at line {line} is {'false' if negate else 'true'}" + self._set_by(data, test)
                for test, line, negate in hit
                if ast.unparse(test).replace("'", '"') != '__name__ == "__main__"'
            )
            how = cs.said or f"sets {cs.key} to {_shown(value)} after the file is parsed"
            values[cs.key] = (value, cs.line, f"{at} {how}" + (f" ({said})" if said else ""))
            unread.pop(cs.key, None)
        return values, unread

    # why a recipe's `attn_implementation` never reaches the model: a repository parser class holds it and the script
    # never reads it (_attention_unread; review8b #22: tengxiao1/DIL scripts/run.py:232-240), or ""
    attention_unread: str = ""
    # debug modes the script turns on where it runs, read with literals only (formats/pydebug.scan): (what, line)
    debug_modes: list[tuple[str, int]] = field(default_factory=list)
    debug_notes: list[str] = field(default_factory=list)  # a debug call goblin could not judge, and why
    # a dict the script loads a file into and passes to a config class key by key (`GRPOConfig(lr=cfg.get("lr", 2e-5))`):
    # variable -> (config class, call line, {file key -> (keyword, line)}), read by `dict_reads` (review8b #28)
    dict_passes: dict[str, tuple[str, int, dict[str, tuple[str, int]]]] = field(default_factory=dict)
    # (field, line, call) of the one field of the repository's parser classes every model-loading `from_pretrained`
    # of the script passes as the model (`AutoModelForCausalLM.from_pretrained(script_args.model_id, ...)`): the key of
    # the file that names the model (`_model_field`; review11b #28: oci-amd-gpu-onboarding lora.py:93,112 `model_id`)
    model_field: tuple[str, int, str] | None = None
    # (model, line, call) where every model-loading `from_pretrained` passes one string the script fixes: a literal, or a
    # name bound once, at module level, to one (`_model_literal`; review11b #31: Qwen3-1.7b_RLHF train_lora.py:18,38-39)
    model_literal: tuple[str, int, str] | None = None

    def dict_reads(self, keys: list[str]) -> tuple[str, str, int, dict[str, tuple[str, int]]] | None:
        """(variable, config class, call line, reads) of the dict the script passes to its config class key by key
        that stands for this file: of the file's keys, at least MIN_DICT_READS are read from it, and at least half of the
        keys read from it are the file's. None when no such dict, or more than one fits."""
        have = set(keys)
        fits = [
            (var, cls, line, reads)
            for var, (cls, line, reads) in self.dict_passes.items()
            if len(have & set(reads)) >= MIN_DICT_READS and 2 * len(have & set(reads)) >= len(reads)
        ]
        return fits[0] if len(fits) == 1 else None

    def quantization(self, data: dict[str, Any]) -> tuple[str | None, str]:
        """The bitsandbytes quantization ("4bit"/"8bit") the script loads the model with when run on `data`, read as
        `adapter` reads its `if`s: the kind with where, or None with "" (no such call runs, or an `if` goblin cannot
        evaluate). transformers 4.x from_pretrained pops `load_in_4bit`/`load_in_8bit` from its keywords
        (transformers 4.36.2 modeling_utils.py:2745-2746, `load_in_8bit`/`load_in_4bit = kwargs.pop(..., False)`)
        and BitsAndBytesConfig takes the same two (utils/quantization_config.py)."""
        for kind, name, line, guards in self.quantizers:
            runs, decided = self._guards(data, guards)
            if runs:
                said = "; ".join(f"the `if` at line {at} is {'false' if negate else 'true'}" for _, at, negate in decided)
                return kind, f"`{name}(..., load_in_{kind}=True)` at {self.script}:{line} loads the model in {kind}" + (f": {said}" if said else "")
        return None, ""

    def unquantized(self) -> str | None:
        """Where the script's model loads are read as unquantized: it loads the weights with `from_pretrained` and nothing
        in it can quantize them (no `quantization_config=`/`load_in_4bit=`/`load_in_8bit=` keyword, no `**` keywords into
        a load, no bitsandbytes/GPTQ/AWQ/HQQ config, no `prepare_model_for_kbit_training`, no Unsloth, whose
        FastLanguageModel.from_pretrained loads in 4 bits by default); None where any of these might
        (review11b #28 oci-amd-gpu-onboarding lora.py:112-117 loads bfloat16 with flash attention and no quantization)."""
        if self.tree is None or not self.loads or "unsloth" in self.text.lower():
            return None
        if any(load.passed.startswith("**") for load in self.loads):
            return None
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and (
                any(k.arg in _QUANT_KEYWORDS for k in node.keywords) or (_is_load(node) and any(k.arg is None for k in node.keywords))
            ):
                return None
            name = (
                node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else node.name if isinstance(node, ast.alias) else None
            )
            if name is not None and _QUANT_NAMES.search(name):
                return None
        lines = ", ".join(str(load.line) for load in self.loads)
        return f"the model loads at {self.script}:{lines} pass no quantization and nothing in {self.script} quantizes the weights"

    def weights_dtype(self, data: dict[str, Any]) -> tuple[str, int, str] | None:
        """(weight_dtype, line, what was read) of the model the script loads when run on `data`: every model load that
        runs passes one dtype goblin evaluates over the recipe's keys (`training_args.fp16`: the file's `fp16`, else
        the parser field's default, else TrainingArguments' own default, transformers/training_args.py at the tables'
        release); None otherwise (formats/script_dtype.py)."""
        if self.tree is None or not self.loads:
            return None
        from ..frameworks import tables
        from .script_dtype import weight_dtype

        ta = tables.class_fields("transformers", "TrainingArguments") if any(c in CONFIG_CLASSES for c in self.parser_classes) else {}

        def leaf(node: ast.expr) -> tuple[bool, Any]:
            if isinstance(node, ast.Constant):
                return True, node.value
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id not in ("self", "torch")):
                return False, None
            if node.attr in data:
                return True, data[node.attr]
            if node.attr in self.fields:
                return True, self.fields[node.attr]
            if node.attr in ta and "default" in ta[node.attr]:
                return True, ta[node.attr]["default"]
            return False, None

        parents = {id(child): parent for parent in ast.walk(self.tree) for child in ast.iter_child_nodes(parent)}
        got = weight_dtype(self.tree, parents, self.loads, leaf, lambda guards: self._guards(data, guards)[0])
        if got is None:
            return None
        dt, line, said = got
        return dt, line, said.replace(f"at line {line}", f"at {self.script}:{line}", 1)

    def load_attention(self, data: dict[str, Any]) -> tuple[str, int, str] | None:
        """(attention asked for, line, keyword as written) where every model load the script runs on `data` passes the
        same literal `attn_implementation="..."` (or `_attn_implementation`; of `"A" if args.x else "B"` the branch `x` takes on
        `data`), or transformers 4.x's legacy
        `use_flash_attention_2=True` (returned as "use_flash_attention_2"); None where a load passes none, loads differ,
        one passes a value goblin cannot read, or one may run under an `if` goblin cannot evaluate (review14b #34:
        KGLQA-model train_qlora_flash_attn.py:97)."""
        if self.tree is None or not self.loads:
            return None
        calls = {n.lineno: n for n in ast.walk(self.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "from_pretrained"}
        got: set[tuple[str, str]] = set()
        first = 0
        for load in self.loads:
            ran = [self._guards(data, site)[0] for site in load.sites] or [True]
            if all(r is False for r in ran):
                continue
            call = calls.get(load.line)
            if None in ran or call is None:
                return None
            asked: tuple[str, str] | None = None
            at = load.line
            for kw in call.keywords:
                if kw.arg is None:
                    return None  # a `**` dict may carry one
                if kw.arg in ("attn_implementation", "_attn_implementation"):
                    passed = kw.value
                    said = ""
                    if isinstance(passed, ast.IfExp):
                        # `"flash_attention_2" if args.use_flash_attn else "eager"` (open-instruct finetune.py:618,629@f2b1523):
                        # the branch the file's key (or the parser field's default) takes
                        runs = self._guards(data, [(passed.test, passed.lineno, False)])[0]
                        if runs is None:
                            return None
                        said = f" ({ast.unparse(passed)}, on this file)"
                        passed = passed.body if runs else passed.orelse
                    if not (isinstance(passed, ast.Constant) and isinstance(passed.value, str)):
                        return None
                    asked, at = (passed.value, f"{kw.arg}={passed.value!r}{said}"), passed.lineno
                elif kw.arg == "use_flash_attention_2" and asked is None:
                    if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool)):
                        return None
                    if kw.value.value:
                        asked, at = ("use_flash_attention_2", "use_flash_attention_2=True"), kw.value.lineno
            if asked is None:
                return None
            got.add(asked)
            first = first or at
        if len(got) != 1:
            return None
        value, written = next(iter(got))
        return value, first, written

    def trainer_on(self, data: dict[str, Any]) -> tuple[str, str] | None:
        """(class, how) of the one trainer the script builds when run on `data`, where it builds several under `if`s
        goblin evaluates; None where more or fewer than one runs, or an `if` is not evaluated."""
        ran: dict[str, str] = {}
        for name, line, sites in self.trainer_calls:
            results = [self._guards(data, guards) for guards in sites]
            if any(runs is None for runs, _ in results):
                return None
            hit = next((decided for runs, decided in results if runs), None)
            if hit is None:
                continue
            said = "; ".join(f"the `if` at line {at} is {'false' if negate else 'true'}" + self._set_by(data, test) for test, at, negate in hit)
            ran.setdefault(name, f"`{name}(...)` at {self.script}:{line} runs on this file" + (f": {said}" if said else ""))
        return next(iter(ran.items())) if len(ran) == 1 else None

    def _guards(self, data: dict[str, Any], guards: list[tuple[ast.expr, int, bool]]) -> tuple[bool | None, list[tuple[ast.expr, int, bool]]]:
        """Whether a call under `guards` runs on `data` (the recipe's keys; a key the file leaves out takes the parser
        field's default): True with the `if`s that decided it, False with the `if` that stops it last, or None with the `if` not evaluated (anything
        but a literal, a field of the parser classes, `not`/`and`/`or`/comparisons of those) as the last entry."""
        from .pyeval import Evaluator

        def leaf(node: ast.expr) -> tuple[bool, Any]:
            if isinstance(node, ast.Constant):
                return True, node.value
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in self.fields:
                return True, data[node.attr] if node.attr in data else self.fields[node.attr]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in self.own_fields and node.attr in data:
                # a field with no literal default that the file sets (potential-doodle sft.py:265 `if model_args.model_name_or_path:`)
                return True, data[node.attr]
            return False, None

        ev = Evaluator(ast.Module(body=[], type_ignores=[]), {}, leaf)
        decided: list[tuple[ast.expr, int, bool]] = []
        unknown: tuple[ast.expr, int, bool] | None = None
        # outermost first: a call site's false `if` stops the call whatever the `if`s inside the function say
        for test, at, negate in reversed(guards):
            ok, value = ev.value(test)
            if not ok:
                unknown = unknown or (test, at, negate)
                continue
            if bool(value) == negate:
                return False, [*decided, (test, at, negate)]  # the last entry: the `if` that stops the call
            decided.append((test, at, negate))
        if unknown is not None:
            return None, [*decided, unknown]
        return True, decided[::-1]

    def adapter(self, data: dict[str, Any]) -> tuple[bool | None, str]:
        """Whether the script wraps the model in a LoRA adapter when run on `data` (the recipe's keys, which
        HfArgumentParser.parse_yaml_file/parse_dict set on the script's own dataclasses; a key the file leaves
        out takes the field's default): True with the deciding `if`s, False (no adapter call, or every one is
        under an `if` that is false), None with the `if` goblin cannot evaluate (anything but a literal, a
        field of the parser classes, `not`/`and`/`or`/comparisons of those)."""
        unknown: str | None = None
        stopped: str = ""
        for name, line, guards in self.adapters:
            runs, decided = self._guards(data, guards)
            if runs is None:
                test, at, _ = decided[-1]
                unknown = unknown or f"`{name}(...)` at {self.script}:{line} is under the `if` at line {at} (`{ast.unparse(test)[:60]}`)"
                continue
            if not runs:
                test, at, negate = decided[-1]
                stopped = (
                    stopped
                    or f"`{name}(...)` at {self.script}:{line} does not run: the `if` at line {at} is {'true' if negate else 'false'}"
                    + self._set_by(data, test)
                )
                continue
            said = [f"the `if` at line {at} is {'false' if negate else 'true'}" + self._set_by(data, test) for test, at, negate in decided]
            return True, f"`{name}(...)` at {self.script}:{line} wraps the model in a LoRA adapter" + (f": {'; '.join(said)}" if said else "")
        return (None, unknown) if unknown is not None else (False, stopped)

    def _set_by(self, data: dict[str, Any], test: ast.expr) -> str:
        """` (`k: v` in the file, ...)`: the recipe keys (or their defaults) an `if` test reads; "" when none."""
        keys = list(dict.fromkeys(n.attr for n in ast.walk(test) if isinstance(n, ast.Attribute) and n.attr in self.fields))
        said = []
        for k in keys:
            if k in data:
                said.append(f"`{k}: {_shown(data[k])}` in the file")
            elif k in TRL_MODEL_CONFIG_FIELDS and k not in self.defaults:
                said.append(f"`{k}` takes TRL ModelConfig's default {_shown(self.fields[k])}, {TRL_MODEL_CONFIG_FIELDS[k][1]}")
            else:
                said.append(f"`{k}` takes its default {_shown(self.fields[k])}")
        return f" ({', '.join(said)})" if said else ""


@dataclass
class ParsedModule:
    path: Path
    tree: ast.Module
    shown: str
    text: str = ""


def _parse(path: Path, roots: list[Path], root: Path) -> ParsedModule | None:
    try:
        text = read_text(path, roots=roots, limit=MAX_SCRIPT_BYTES)
        tree = parse_source(text)
    except (UnsafePath, OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None
    real = Path(os.path.realpath(path))
    return ParsedModule(real, tree, os.path.relpath(real, root) if real.is_relative_to(root) else str(path), text)


def parse_in_tree(path: str | Path) -> tuple[ParsedModule, list[Path], Path] | None:
    """A script parsed inside the tree it is read from: (module, roots, repository root), the root its real folder
    where a link leads outside the tree; None where it cannot be read or parsed."""
    absolute = Path(os.path.abspath(path))
    roots, root, _how = config_tree(absolute)
    if not Path(os.path.realpath(absolute)).is_relative_to(root):
        root = Path(os.path.realpath(absolute)).parent
    script = _parse(absolute, roots, root)
    return None if script is None else (script, roots, root)


def _script_of(config: Path) -> tuple[Path, str, list[Path], Path] | None:
    """(script, `launcher line N`, roots, repository root) of the first launch line naming the config
    and a `.py` word before it (closest folder first, scripts before READMEs, as launchers.find_launch).

    A JSON or YAML recipe no launch line names is run as the launch lines of its folder's other recipes
    of the same format run theirs when they all run one script (Firefly's README runs `train.py --train_args_file
    train_args/sft/full/bloom-1b1-sft-full.json` as its example of every file in train_args/sft/full/;
    Firefly-LLaMA2-Chinese's README.MD:214 runs `train.py --train_args_file train_args/llama2-13b-ext.yaml`, the
    example of train_args/*.yaml, review6b #31; as launchers._sibling_script finds the script for a config's pins,
    review3 #17); the place says so."""
    absolute = Path(os.path.abspath(config))
    real = Path(os.path.realpath(absolute))
    roots, root, _how = config_tree(absolute)
    if not real.is_relative_to(root):
        root = real.parent
    found = _scripts_naming(real, [real], roots, root, first=True)
    if found:
        script, where, _target = found[0]
        from .launchers import find_launch

        # the line of the same launcher find_launch read as the one that trains it, over a preparation script's before it
        # (review11b #22 LionAlignment dpo.sh:12 precompute_dpo_logprobs.py, :20 run_precompute_dpo.py)
        launch = find_launch(real)
        if launch is not None and not launch.commented and launch.script.endswith(".py") and where.startswith(launch.shown + " ") and launch.where() != where:
            return Path(launch.script), launch.where(), roots, root
        return script, where, roots, root
    from .launchers import find_launch

    # a launch line whose script word names no file of the tree as written (an absolute path of the machine it ran on,
    # `/home/u/llm2025compet/training/open-r1/src/open_r1/grpo.py`, review11b #24) but that find_launch placed in it
    launch = find_launch(real)
    if launch is not None and not launch.commented and launch.script.endswith(".py"):
        placed = Path(os.path.realpath(launch.script))
        if placed.is_relative_to(root) and placed.is_file():
            return placed, launch.where(), roots, root
    from .opened_by import opening_script

    opened = opening_script(absolute, root)  # the one script that opens this file by its path (review11b #31)
    if opened is not None:
        return opened[0], opened[1], roots, root
    family = _RECIPE_FAMILIES.get(real.suffix.lower())
    if family is None:
        return None
    try:
        siblings = sorted(p for p in real.parent.iterdir() if p.suffix.lower() in family and p.name != real.name and p.is_file())[:MAX_SIBLINGS]
    except OSError:
        return None
    runs = _scripts_naming(real, siblings, roots, root, first=False)
    if runs:
        if len({script for script, _, _ in runs}) != 1:
            return None
        script, where, target = runs[0]
        return script, f"{where}, which runs {target.name} of this file's folder with it (no launch line names this file)", roots, root
    return _cousin_script(real, family, roots, root)


# how `_cousin_script`'s place ends: `_launched` then asks the recipe for a key of the script's own classes
_COUSIN_SAID = "no launch line names this file or one of its folder, and it sets keys of the script's own argument classes)"


# the framework classes whose fields are no evidence of one repository script (tables read at their releases)
_COMMON_CLASSES = (("transformers", "TrainingArguments"), ("trl", "ModelConfig"), ("trl", "ScriptArguments"))


def _sets_own_field(config: Path, roots: list[Path], repo: RepoModules, script: ParsedModule) -> bool:
    """Whether the recipe sets a top-level key that a repository argument class the script parses into declares (Firefly's
    `train_mode`, `task_type` of its CustomizedArguments), not one every TrainingArguments recipe has: the evidence that a
    launch line of another folder's recipe runs this one too."""
    import yaml

    from ..yamlio import parse_yaml

    try:
        text = read_text(config, roots=roots, limit=MAX_SCRIPT_BYTES)
        data = json.loads(text) if config.suffix.lower() == ".json" else parse_yaml(text)
    except (UnsafePath, OSError, UnicodeDecodeError, ValueError, RecursionError, yaml.YAMLError):
        return False
    if not isinstance(data, dict):
        return False
    _call, classes = _parser_classes(script.tree)
    own: set[str] = set()
    for name in classes:
        for cls, _mod in repo.chain(name, script):
            dc = dataclasses_of(ast.Module(body=[cls], type_ignores=[]), {}).get(cls.name)
            own.update(dc.fields if dc is not None else ())
    from ..frameworks import tables

    # keys any recipe of transformers or TRL may set (model_name_or_path is TRL ModelConfig's too): no evidence
    common = {name for fw, cls in _COMMON_CLASSES for name in tables.class_fields(fw, cls)}
    return bool((own - common) & {k for k in data if isinstance(k, str)})


def _cousin_script(real: Path, family: frozenset[str], roots: list[Path], root: Path) -> tuple[Path, str, list[Path], Path] | None:
    """A recipe neither it nor a sibling is named by a launch line: the one script the launch lines naming the recipes
    of the same format under a folder above it run, the nearest folder first and never the repository root itself
    (Firefly's README runs `train.py --train_args_file train_args/sft/full/bloom-1b1-sft-full.json`, its example of every
    file under train_args/, and names none of train_args/dpo/full/: review10b #28). None where those lines run several
    scripts, or none does below the root."""
    folder = real.parent.parent
    while folder != root and folder.is_relative_to(root) and folder != folder.parent:
        cousins: list[Path] = []
        seen = 0
        for here, dirs, files in os.walk(folder):
            dirs.sort()
            seen += len(files) + len(dirs)
            cousins.extend(Path(here) / f for f in sorted(files) if Path(f).suffix.lower() in family and Path(here) / f != real)
            if len(cousins) >= MAX_SIBLINGS or seen > MAX_COUSIN_ENTRIES:
                break
        runs = _scripts_naming(real, cousins[:MAX_SIBLINGS], roots, root, first=False)
        if runs:
            if len({script for script, _, _ in runs}) != 1:
                return None
            script, where, target = runs[0]
            shown = os.path.relpath(target, root)
            said = f"{where}, which runs {shown} under {os.path.relpath(folder, root)}/ with it ({_COUSIN_SAID}"
            return script, said, roots, root
        folder = folder.parent
    return None


def _scripts_naming(real: Path, targets: list[Path], roots: list[Path], root: Path, first: bool) -> list[tuple[Path, str, Path]]:
    """(script, `launcher line N`, target) of the launch lines naming one of `targets` with a `.py` word
    before it; only the first when `first`."""
    names = {t.name for t in targets}
    out: list[tuple[Path, str, Path]] = []
    for folder, path in launcher_candidates(real, root):
        lf = read_launcher(path, roots)
        if lf is None or not names & set(lf.names):
            continue
        for line in lf.lines:
            hit = next(
                ((i, t) for i, tok in enumerate(line.tokens) for t in targets if t.name in tok and names_config((tok,), t, folder, root, line.cwd)), None
            )
            if hit is None:
                continue
            at, target = hit
            word = next((t for t in reversed(line.tokens[:at]) if t.endswith(".py") and not t.startswith("-")), None)
            if word is None or "$" in word:
                continue
            shown = os.path.relpath(lf.path, root) if lf.path.is_relative_to(root) else str(lf.path)
            base = lf.path.parent
            hit_script: Path | None = None
            if line.cwd and line.cwd != "!" and not Path(word).is_absolute():
                # after a `cd` (review11b #23: llm2025compet dpo-qwen3-14b-3node.sh:35 `cd .../training/open-r1/src`, then
                # `open_r1/orpo.py`): the script is the file that folder holds, as the config word is read from it
                hit_script, _tried = resolve_relative(word, lf.path.parent, root, line.cwd)
            moved = ""
            if Path(word).is_absolute() and not any(Path(os.path.normpath(word)).is_relative_to(r) for r in roots):
                # a path on the author's machine (review12b #35): the repository's file it names, as a config word is read
                hit_script = checkout_file(word, root, line.tokens)
                moved = f" (`{word}`, a path on another machine, read as {os.path.relpath(hit_script, root)})" if hit_script else ""
            while hit_script is None:
                candidate = Path(os.path.normpath(base / word)) if not Path(word).is_absolute() else Path(word)
                if candidate.is_relative_to(root) and candidate.is_file():
                    hit_script = Path(os.path.realpath(candidate))
                    break
                if base == root or base.parent == base or not base.is_relative_to(root):
                    break
                base = base.parent
            if hit_script is not None and hit_script.is_relative_to(root):
                out.append((hit_script, f"{shown} {line.place or f'line {line.line}'}{moved}", target))
                if first:
                    return out
    return out


def _module_file(name: str, level: int, here: Path, script_dir: Path, root: Path, cwd: tuple[Path, ...] = ()) -> Path | None:
    """The repository file of `from name import ...` (level: the leading dots) seen from `here`; `cwd`: the folders a
    launch may run the script from, where the script puts its working folder on sys.path (`cwd_on_path`)."""
    parts = name.split(".") if name else []
    bases = [here.parent] if level == 0 else [here.parents[level - 1]] if level - 1 < len(here.parents) else []
    if level == 0:
        bases = [script_dir, root, root / "src", here.parent, *cwd]
        # the package the script itself sits in, imported by its name (open-r1's src/open_r1/grpo.py: `from open_r1.configs
        # import GRPOConfig`, the package installed from src/ with `pip install -e .`)
        bases += [p.parent for p in (script_dir, *script_dir.parents) if parts and p.name == parts[0] and p.is_relative_to(root) and p != root]
    for base in bases:
        target = base.joinpath(*parts) if parts else base
        for candidate in (target.with_suffix(".py") if parts else None, target / "__init__.py"):
            if candidate is not None and candidate.is_file() and Path(os.path.realpath(candidate)).is_relative_to(root):
                return candidate
    return None


def cwd_on_path(script: ParsedModule, root: Path) -> tuple[Path, ...]:
    """The folders between the script's and the repository root, nearest first, where the script puts its working
    folder on the import path at module level (`sys.path.append("./")`, review10a #15: AMD-Hybrid-Models
    train_distill.py:23, launched from the folder above its own): a launch runs it from one of them; () otherwise."""
    for node in script.tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in ("append", "insert")):
            continue
        if ast.unparse(call.func.value) != "sys.path" or not call.args:
            continue
        arg = call.args[-1]
        if isinstance(arg, ast.Constant) and arg.value in (".", "./", ""):
            return tuple(script.path.parents[i] for i in range(1, len(script.path.parents)) if script.path.parents[i].is_relative_to(root))
    return ()


class RepoModules:
    """Classes looked up by name from a module, through its imports into the repository."""

    def __init__(self, script: ParsedModule, roots: list[Path], root: Path):
        self.script, self.roots, self.root = script, roots, root
        self.cwd = cwd_on_path(script, root)
        self.modules: dict[Path, ParsedModule | None] = {script.path: script}

    def module(self, path: Path) -> ParsedModule | None:
        real = Path(os.path.realpath(path))
        if real not in self.modules:
            self.modules[real] = _parse(real, self.roots, self.root)
        return self.modules[real]

    def find(self, name: str, mod: ParsedModule) -> tuple[ast.ClassDef, ParsedModule] | None:
        """A module-level `class name` of the repository, followed through `from x import name`."""
        hit = self._definition(name, mod, ast.ClassDef)
        return (hit[0], hit[1]) if hit is not None and isinstance(hit[0], ast.ClassDef) else None

    def find_function(self, name: str, mod: ParsedModule) -> tuple[ast.FunctionDef, ParsedModule] | None:
        """A module-level `def name(...)` of the repository, followed through `from x import name` as `find`."""
        hit = self._definition(name, mod, ast.FunctionDef)
        return (hit[0], hit[1]) if hit is not None and isinstance(hit[0], ast.FunctionDef) else None

    def _definition(self, name: str, mod: ParsedModule, kind: type[ast.stmt], hops: int = 0) -> tuple[ast.stmt, ParsedModule] | None:
        if hops > MAX_HOPS:
            return None
        for node in mod.tree.body:
            if isinstance(node, kind) and getattr(node, "name", None) == name:
                return node, mod
        for imp in ast.walk(mod.tree):
            if isinstance(imp, ast.ImportFrom) and any((a.asname or a.name) == name for a in imp.names):
                alias = next(a for a in imp.names if (a.asname or a.name) == name)
                file = _module_file(imp.module or "", imp.level, mod.path, self.script.path.parent, self.root, self.cwd)
                other = self.module(file) if file is not None else None
                if other is not None:
                    return self._definition(alias.name, other, kind, hops + 1)
        if name.startswith("_"):  # a star import binds no private name
            return None
        for imp in mod.tree.body:  # `from utils import *` (review10a #16: moai-examples train.py:11): the module's public names
            if isinstance(imp, ast.ImportFrom) and any(a.name == "*" for a in imp.names):
                file = _module_file(imp.module or "", imp.level, mod.path, self.script.path.parent, self.root, self.cwd)
                other = self.module(file) if file is not None else None
                if other is not None and other.path != mod.path and (hit := self._definition(name, other, kind, hops + 1)) is not None:
                    return hit
        return None

    def chain(self, name: str, mod: ParsedModule) -> list[tuple[ast.ClassDef, ParsedModule]]:
        """The class and its bases found in the repository, nearest first."""
        out: list[tuple[ast.ClassDef, ParsedModule]] = []
        todo: list[tuple[str, ParsedModule]] = [(name, mod)]
        while todo and len(out) < 16:
            n, m = todo.pop(0)
            hit = self.find(n, m)
            if hit is None or any(hit[0] is c for c, _ in out):
                continue
            out.append(hit)
            for b in hit[0].bases:
                bname = b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else None
                if bname:
                    todo.append((bname, hit[1]))
        return out


def trainer_packing(repo: RepoModules, script: ParsedModule, trainer: str, parents: dict[int, ast.AST]) -> list[CodeSet]:
    """`SFTTrainer(..., packing=True)` (or a repository subclass of SFTTrainer, review10a #15: AMD-Hybrid-Models
    train_distill.py:285 `KDTrainer(..., packing=True)`): the run packs whatever the file says, as a setting in code."""
    if trainer != "SFTTrainer" and not any("SFTTrainer" in base_names(cls) for cls, _m in repo.chain(trainer, script)):
        return []
    out: list[CodeSet] = []
    for node in ast.walk(script.tree):
        if not (isinstance(node, ast.Call) and _tail(node.func) == trainer):
            continue
        kw = next((k for k in node.keywords if k.arg == "packing"), None)
        if kw is None or not (isinstance(kw.value, ast.Constant) and kw.value.value is True):
            continue
        said = f"passes packing=True to the trainer, which packs whatever the file says ({TRAINER_PACKING_AT})"
        sites = [_guards_of(node, parents) + site for site in _call_site_guards(node, parents, script.tree)]
        out.append(CodeSet("packing", kw.value, kw.value.lineno, f"`{trainer}(..., packing=True)`", sites, said))
    return out


def base_names(cls: ast.ClassDef) -> list[str]:
    return [b.id if isinstance(b, ast.Name) else b.attr for b in cls.bases if isinstance(b, (ast.Name, ast.Attribute))]


def _trl_base(repo: RepoModules, name: str, mod: ParsedModule) -> tuple[str, str] | None:
    """(TRL class, `file:line` of the repository class) when `name` is, or subclasses, one of TRL's
    preference trainers/configs: a base written `trl.DPOConfig`, or a bare name the repository does
    not define (imported from the installed package)."""
    chain = repo.chain(name, mod)
    if not chain:
        return (name, "") if name in TRL_PREFERENCE else None
    for cls, m in chain:
        for b in cls.bases:
            bname = b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
            if bname in TRL_PREFERENCE and (isinstance(b, ast.Attribute) or repo.find(bname, m) is None):
                return bname, f"{m.shown}:{cls.lineno}"
    return None


def _args_classes(repo: RepoModules, script: ParsedModule, classes: list[str]) -> tuple[str, str]:
    """(TRL config class, the repository's own TrainingArguments subclass) among the parser classes, read from the code:
    a TRL trainer config the repository does not define, or reaches through its bases (`trl_args`); else the one
    repository class whose bases reach transformers' TrainingArguments and none of TRL's configs (`own_args`, shown with
    its file and line). ("", "") when neither is one class."""
    from .pyclasses import HF_ARGS, _trl_config_classes

    trl = _trl_config_classes()
    found: set[str] = set()
    own: list[str] = []
    for name in classes:
        chain = repo.chain(name, script)
        if not chain:
            if name in trl:
                found.add(name)
            continue
        external = [
            b.id if isinstance(b, ast.Name) else b.attr
            for cls, m in chain
            for b in cls.bases
            if isinstance(b, ast.Attribute) or (isinstance(b, ast.Name) and repo.find(b.id, m) is None)
        ]
        reached = [b for b in external if b in trl]
        if reached:
            found.add(reached[0])
        elif any(b in HF_ARGS for b in external):
            cls, m = chain[0]
            base = next(b for b in external if b in HF_ARGS)
            own.append(f"{name} ({m.shown}:{cls.lineno}), a subclass of {base}")
    if len(found) == 1:
        return found.pop(), ""
    if not found and len(own) == 1:
        return "", own[0]
    return "", ""


# TRL ModelConfig fields a script's `if` reads to switch an adapter on, with their default over the releases read
# (review7b #26: Aria's `if model_config.use_peft:`, aria/train.py:77, on a recipe that leaves use_peft out).
TRL_MODEL_CONFIG_FIELDS: dict[str, tuple[Any, str]] = {
    "use_peft": (False, "trl 0.9.6 trl/trainer/model_config.py:40-42, 1.16.0 :103-105 (`use_peft: bool = False`)"),
}


def _trl_model_config(repo: RepoModules, name: str, mod: ParsedModule) -> bool:
    """Whether parser class `name` is, or subclasses, TRL's ModelConfig (a name the repository does not define)."""
    chain = repo.chain(name, mod)
    if not chain:
        return name == "ModelConfig"
    for cls, m in chain:
        for b in cls.bases:
            bname = b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
            if bname == "ModelConfig" and (isinstance(b, ast.Attribute) or repo.find(bname, m) is None):
                return True
    return False


def _parser_classes(tree: ast.Module) -> tuple[ast.Call | None, list[str]]:
    """`HfArgumentParser((A, B, C))`, `TrlParser(...)` or a repository subclass (`H4ArgumentParser`, open-instruct's
    `ArgumentParserPlus((FlatArguments))`: open_instruct/finetune.py:1114 and utils.py:513@f2b1523, review15a #15/#17)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if not (name.endswith("Parser") or "ArgumentParser" in name) or not node.args:
            continue
        first = node.args[0]
        items = first.elts if isinstance(first, (ast.Tuple, ast.List)) else [first]
        names = [i.id if isinstance(i, ast.Name) else i.attr for i in items if isinstance(i, (ast.Name, ast.Attribute))]
        if names:
            return node, names
    return None, []


def _yaml_args(tree: ast.Module, parser: ast.Call | None) -> int | None:
    """The line of the call that sets `--key=value` launch words over the recipe: `parse_yaml_and_args(...)`, or the
    argument-less `.parse()` of an H4ArgumentParser / ArgumentParserPlus (pycommand.H4_PARSE_AT); None when neither."""
    func = parser.func if parser is not None else None
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    h4 = name in ("H4ArgumentParser", "ArgumentParserPlus")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "parse_yaml_and_args" or (h4 and node.func.attr == "parse" and not node.args and not node.keywords):
            return node.lineno
    return None


def _parser_fields(repo: RepoModules, script: ParsedModule, classes: list[str]) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """(fields of the repository's own classes, the framework classes outside it) the parser is built from: a class the
    repository does not define, or a base it does not (`class GRPOConfig(trl.GRPOConfig)`), is the framework's, read from
    goblin's key tables by the caller. None where a class is not a dataclass goblin reads or a base is not a plain name."""
    own: set[str] = set()
    outside: list[str] = []
    if not classes:
        return None
    for name in classes:
        chain = repo.chain(name, script)
        if not chain:
            outside.append(name)
            continue
        for cls, mod in chain:
            dc = dataclasses_of(ast.Module(body=[cls], type_ignores=[]), {}).get(cls.name)
            if dc is None or len(base_names(cls)) != len(cls.bases):
                return None
            own.update(dc.fields)
            for base in base_names(cls):
                hit = repo.find(base, mod)
                if hit is None or hit[0] is cls:
                    outside.append(base)
    return frozenset(own), tuple(dict.fromkeys(outside))


_ARGV_EDITS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "__setitem__", "__delitem__"})


def _argv_changed(tree: ast.Module) -> str:
    """Why the parse does not read the launch line's words as they are: the one `parse_args_and_config(...)` call is
    given its arguments, or the script writes `sys.argv` (assigns it or an item, deletes one, calls a list method that
    changes it). "" when neither."""

    def is_argv(node: ast.AST) -> bool:
        while isinstance(node, ast.Subscript):
            node = node.value
        return isinstance(node, ast.Attribute) and node.attr == "argv" and isinstance(node.value, ast.Name) and node.value.id == "sys"

    for n in ast.walk(tree):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in ("parse_args_and_config", "parse_args_into_dataclasses")
            and (n.args or any(k.arg in ("args", None) for k in n.keywords))
        ):
            return f"its {n.func.attr} call (line {n.lineno}) is given the words to parse"
        targets = n.targets if isinstance(n, (ast.Assign, ast.Delete)) else [n.target] if isinstance(n, (ast.AugAssign, ast.AnnAssign)) else []
        if any(is_argv(t) for t in targets):
            return f"it changes sys.argv at line {getattr(n, 'lineno', 0)}"
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _ARGV_EDITS and is_argv(n.func.value):
            return f"it changes sys.argv at line {n.lineno}"
        if isinstance(n, ast.ImportFrom) and n.module == "sys" and any(a.name == "argv" for a in n.names):
            return f"it imports argv from sys at line {n.lineno}"
    return ""


def script_parser(path: str | Path) -> tuple[tuple[str, ...], tuple[frozenset[str], tuple[str, ...]] | None, str] | None:
    """A Python script's HfArgumentParser/TrlParser classes, what they accept (`_parser_fields`) and why its parse does not
    read the launch line's words as written (`_argv_changed`), for blockers._script_args_unknown; None where it is not read."""
    absolute = Path(os.path.abspath(path))
    roots, root, _how = config_tree(absolute)
    script = _parse(Path(os.path.realpath(absolute)), roots, root)
    if script is None:
        return None
    _call, classes = _parser_classes(script.tree)
    if _call is None:
        return None
    return tuple(classes), _parser_fields(RepoModules(script, roots, root), script, classes), _argv_changed(script.tree)


def _trl_parse(tree: ast.Module) -> tuple[int, dict[str, Any]] | None:
    """The one `.parse_args_and_config(...)` call of a script that builds a TrlParser: (line, its constant keywords, and
    `_discarded` when the returned remaining strings go to `_`). None when there is not exactly one, or a keyword is not
    a constant (what it passes is not known)."""
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "parse_args_and_config"]
    if len(calls) != 1:
        return None
    call = calls[0]
    target = next((n.targets[-1] for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.value is call), None)
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None or not isinstance(kw.value, ast.Constant):
            return None
        kwargs[kw.arg] = kw.value.value
    if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[-1], ast.Name) and target.elts[-1].id == "_":
        kwargs["_discarded"] = True
    # trl.commands' TrlParser(parsers, ignore_extra_args=...) (trl v0.12.2 trl/commands/cli_utils.py:183): a value not
    # written as a constant is not known
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")) == "TrlParser":
            for kw in node.keywords:
                if kw.arg == "ignore_extra_args":
                    kwargs["ignore_extra_args"] = kw.value.value if isinstance(kw.value, ast.Constant) else "unknown"
    return call.lineno, kwargs


def _preference_of(repo: RepoModules, script: ParsedModule, trainer: str) -> tuple[str, str] | None:
    """A trainer class's preference kind: TRL's own, a repository subclass of one, or a repository
    class that puts chosen and rejected through the model together (`concatenated_forward`)."""
    chain = repo.chain(trainer, script)
    trl = _trl_base(repo, trainer, script)
    if trl is not None:
        base, at = trl
        return TRL_PREFERENCE[base], (f"{trainer} ({at}), a subclass of TRL's {base}" if at else f"TRL's {trainer}, which the script builds")
    if not chain:
        return None
    forward = next(((c, m, f) for c, m in chain for f in c.body if isinstance(f, ast.FunctionDef) and f.name == "concatenated_forward"), None)
    if forward is None:
        return None
    cls, mod, fn = forward
    refs = any(isinstance(n, (ast.Name, ast.Attribute, ast.arg)) and "ref_model" in ast.dump(n) for c, _ in chain for n in ast.walk(c))
    if refs:
        return None  # chosen and rejected together, with a reference model goblin cannot size from the code
    low = trainer.lower()
    kind = "simpo" if "simpo" in low else "orpo" if "orpo" in low else "cpo" if "cpo" in low or "dpo" not in low else "paired"
    return (
        kind,
        f"{trainer} ({mod.shown}:{cls.lineno}) runs chosen and rejected through the model together (concatenated_forward, {mod.shown}:{fn.lineno}) and has no reference model",
    )


def _shown(value: Any) -> str:
    """A recipe value as YAML writes it (`true`, `null`), never Python's `True`/`None`."""
    return "true" if value is True else "false" if value is False else "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _adds_adapter(node: ast.Call) -> bool:
    """As formats/python.py reads a script's adapter: LoraConfig, get_peft_model, or PeftModel.from_pretrained
    with is_trainable=True (peft 0.7.1 peft_model.py:288 is_trainable=False, :334 inference_mode = not is_trainable)."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name in ("LoraConfig", "get_peft_model"):
        return True
    return (
        name == "from_pretrained"
        and isinstance(func, ast.Attribute)
        and ast.unparse(func.value).split(".")[-1] == "PeftModel"
        and any(k.arg == "is_trainable" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)
    )


def _adapter_calls(tree: ast.Module) -> list[tuple[str, int, list[tuple[ast.expr, int, bool]]]]:
    """The script's adapter calls (peft 0.7.1: get_peft_model wraps the model; LoraConfig names the adapter;
    PeftModel.from_pretrained(..., is_trainable=True) loads one for training, peft_model.py:288,334) with
    the `if`s around each, innermost first."""
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    out: list[tuple[str, int, list[tuple[ast.expr, int, bool]]]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _adds_adapter(node)):
            continue
        name = ast.unparse(node.func).split(".")[-1]
        name = "PeftModel.from_pretrained" if name == "from_pretrained" else name  # not the model's own loader
        passed = _config_passed(node, parents, tree) if name == "LoraConfig" else None
        if passed is not None:
            # the config only names an adapter: the calls that pass it as `peft_config=` apply it, under their own `if`s
            # (review15b #25: Liar-Mask/FedGRPO GRPO.py:319 LoraConfig, passed only by the GRPOTrainer under `if '14B' in
            # model_args.model_name_or_path` at :336-344; the else branch's trainer at :348 passes none)
            out.extend((name, node.lineno, _guards_of(call, parents) + site) for call in passed for site in _call_site_guards(call, parents, tree))
            continue
        guards = _guards_of(node, parents)
        out.extend((name, node.lineno, guards + site) for site in _call_site_guards(node, parents, tree))
    return out


def _config_passed(node: ast.Call, parents: dict[int, ast.AST], tree: ast.Module) -> list[ast.Call] | None:
    """Where `x = LoraConfig(...)` is bound to a name every use of which is a `peft_config=x` keyword of a call (a
    trainer's) or an argument of get_peft_model (itself read as an adapter call): the `peft_config=x` calls, none
    when no use is one; None where the config is not bound to one plain name or a use is anything else (the
    config's own `if`s are then read, as before)."""
    bind = parents.get(id(node))
    if not (isinstance(bind, ast.Assign) and len(bind.targets) == 1 and isinstance(bind.targets[0], ast.Name)):
        return None
    var = bind.targets[0].id
    calls: list[ast.Call] = []
    for use in ast.walk(tree):
        if not (isinstance(use, ast.Name) and use.id == var and isinstance(use.ctx, ast.Load)):
            continue
        holder = parents.get(id(use))
        if isinstance(holder, ast.keyword) and holder.arg == "peft_config" and isinstance(call := parents.get(id(holder)), ast.Call):
            calls.append(call)
        elif not (isinstance(holder, ast.Call) and (_tail(holder.func) or "") == "get_peft_model" and use in holder.args):
            return None
    return calls


def _guards_of(node: ast.AST, parents: dict[int, ast.AST]) -> list[tuple[ast.expr, int, bool]]:
    """The `if`s (and `a if t else b`) around `node`, innermost first: (test, line, whether `node` is on the else side)."""
    guards: list[tuple[ast.expr, int, bool]] = []
    child: ast.AST = node
    parent = parents.get(id(node))
    while parent is not None:
        if isinstance(parent, (ast.If, ast.IfExp)) and child is not parent.test:
            negate = child in parent.orelse if isinstance(parent, ast.If) else child is parent.orelse
            guards.append((parent.test, parent.lineno, negate))
        child, parent = parent, parents.get(id(parent))
    return guards


def _call_site_guards(node: ast.AST, parents: dict[int, ast.AST], tree: ast.Module) -> list[list[tuple[ast.expr, int, bool]]]:
    """The `if`s around each call of the function holding `node` (one level): a switch in `setup_peft()` runs only where
    `setup_peft(...)` is called, so `if model_config.use_peft: model = setup_peft(...)` guards it too (review7b #26,
    Aria aria/train.py:77-78). One list per call site (the switch runs if any site does: `adapter` and `quantization`
    read the entries as alternatives); `[[]]` where `node` is in no function, or the script never calls it by name."""
    fn: ast.AST | None = parents.get(id(node))
    while fn is not None and not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        fn = parents.get(id(fn))
    if fn is None:
        return [[]]
    inside = {id(n) for n in ast.walk(fn)}
    sites = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _tail(n.func) == fn.name and id(n) not in inside]
    return [_guards_of(site, parents) for site in sites] or [[]]


_QUANT_CALLS = ("from_pretrained", "BitsAndBytesConfig")


# keywords and names by which a script may quantize the weights it loads (Launched.unquantized)
_QUANT_KEYWORDS = frozenset({"quantization_config", "load_in_4bit", "load_in_8bit"})
_QUANT_NAMES = re.compile(r"bitsandbytes|BitsAndBytes|GPTQ|Awq|AWQ|Hqq|HQQ|kbit|quanto|Quanto|TorchAo|FbgemmFp8|load_in_4bit|load_in_8bit")


def _is_load(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and node.func.attr == "from_pretrained"


def _quantizer_calls(tree: ast.Module) -> list[tuple[str, str, int, list[tuple[ast.expr, int, bool]]]]:
    """The script's `from_pretrained(..., load_in_4bit=True)` and `BitsAndBytesConfig(load_in_4bit=True)` calls (a
    constant True only; load_in_8bit likewise) with the `if`s around each, innermost first (as `_adapter_calls`)."""
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    out: list[tuple[str, str, int, list[tuple[ast.expr, int, bool]]]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node.func)
        if name not in _QUANT_CALLS:
            continue
        kinds = [
            k.arg[len("load_in_") :]
            for k in node.keywords
            if k.arg in ("load_in_4bit", "load_in_8bit") and isinstance(k.value, ast.Constant) and k.value.value is True
        ]
        if len(kinds) != 1:
            continue
        guards = _guards_of(node, parents)
        out.extend((kinds[0], name, node.lineno, guards + site) for site in _call_site_guards(node, parents, tree))
    return out


def _launched(config: str) -> Launched | None:
    found = _script_of(Path(config))
    if found is None:
        return None
    path, where, roots, root = found
    script = _parse(path, roots, root)
    if script is None:
        return None
    if where.endswith(_COUSIN_SAID) and not _sets_own_field(Path(config), roots, RepoModules(script, roots, root), script):
        return None  # a launch line of another folder's recipe stands for this file only where it sets the script's own keys
    out = Launched(script=script.shown, where=where, script_path=str(script.path), text=script.text)
    repo = RepoModules(script, roots, root)
    _call, classes = _parser_classes(script.tree)
    out.parser_classes = tuple(classes)
    if _call is not None and isinstance(_call.func, (ast.Name, ast.Attribute)):
        if (_call.func.id if isinstance(_call.func, ast.Name) else _call.func.attr) == "TrlParser":
            out.trl_parse = _trl_parse(script.tree)
            out.parser_fields = _parser_fields(repo, script, classes)
            out.argv_changed = _argv_changed(script.tree)
            for node in ast.walk(script.tree):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                    line = out.attrs_read.get(node.attr)
                    out.attrs_read[node.attr] = node.lineno if line is None else min(line, node.lineno)
    out.yaml_args = _yaml_args(script.tree, _call)
    out.trl_args, out.own_args = _args_classes(repo, script, classes)
    declared: set[str] = set()  # every field of the repository's own parser classes
    for name in classes:
        for cls, mod in repo.chain(name, script):
            dc = dataclasses_of(ast.Module(body=[cls], type_ignores=[]), {}).get(cls.name)
            declared.update(dc.fields if dc is not None else ())
            for fname, arg in dc.fields.items() if dc is not None else ():
                if arg.has_default and arg.default is not None and arg.default_node is not None:
                    out.defaults.setdefault(fname, (arg.default, mod.shown, arg.line, cls.name))  # a subclass's field first
                elif arg.has_default and isinstance(arg.default_node, ast.Constant) and arg.default_node.value is None and fname not in out.defaults:
                    out.none_defaults.setdefault(fname, (mod.shown, arg.line, cls.name))
                if arg.has_default and arg.default_node is not None:
                    out.fields.setdefault(fname, arg.default)
    if any(_trl_model_config(repo, name, script) for name in classes):
        for fname, (value, _cite) in TRL_MODEL_CONFIG_FIELDS.items():
            out.fields.setdefault(fname, value)
    training = {c for c in classes if c in CONFIG_CLASSES or any(b in CONFIG_CLASSES for cls, _m in repo.chain(c, script) for b in base_names(cls))}
    if not classes:  # no parser: a task whose parameter is annotated with transformers' or TRL's class (a Flyte task)
        training = set(CONFIG_CLASSES)
    parents = {id(child): parent for parent in ast.walk(script.tree) for child in ast.iter_child_nodes(parent)}
    out.code_sets = code_sets(
        script.tree, classes, training, lambda node: [_guards_of(node, parents) + site for site in _call_site_guards(node, parents, script.tree)]
    )
    out.attention_unread = _attention_unread(repo, script, classes)
    from .pydebug import scan

    debug = scan(script.tree)
    out.debug_modes = debug.debug_modes
    out.debug_notes = [f"{script.shown}: {note}" for note in debug.notes]
    out.dict_passes = _dict_passes(script.tree)
    out.adapters = _adapter_calls(script.tree)
    out.quantizers = _quantizer_calls(script.tree)
    out.tree = script.tree
    out.loads = model_loads(script.tree, parents, lambda node: [_guards_of(node, parents) + site for site in _call_site_guards(node, parents, script.tree)])
    out.model_field = _model_field(out.loads, declared)
    out.model_literal = _model_literal(script.tree, out.loads)
    trainers = [
        n.func.id if isinstance(n.func, ast.Name) else n.func.attr
        for n in ast.walk(script.tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, (ast.Name, ast.Attribute))
        and (n.func.id if isinstance(n.func, ast.Name) else n.func.attr).endswith("Trainer")
    ]
    out.own_fields = frozenset(declared)
    if classes and not training and not trainers and not out.trl_args and not out.own_args:
        back = next(
            (n.lineno for n in ast.walk(script.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "backward"), None
        )
        if back is not None:
            out.own_loop = f"{script.shown}:{back}"
    if len(set(trainers)) > 1:
        out.trainer_calls = [
            (_tail(n.func) or "", n.lineno, [_guards_of(n, parents) + site for site in _call_site_guards(n, parents, script.tree)])
            for n in ast.walk(script.tree)
            if isinstance(n, ast.Call) and (_tail(n.func) or "").endswith("Trainer")
        ]
    if len(set(trainers)) == 1:
        out.trainer = trainers[0]
        from .own_packing import script_collates_itself

        out.no_packing = script_collates_itself(script.tree, trainers[0], script.shown)
        out.preference = _preference_of(repo, script, trainers[0])
        if out.preference is None:
            out.custom = custom_preference(repo, script, trainers[0])
        out.code_sets.extend(trainer_packing(repo, script, trainers[0], parents))
        if (own := repo.find(trainers[0], script)) is not None:
            out.own_trainer = f"{own[1].shown}:{own[0].lineno}"
            trl_base = _trl_base(repo, trainers[0], script)
            out.own_trainer_trl = trl_base[0] if trl_base is not None and trl_base[0].endswith("Trainer") else ""
            calls = [n for n in ast.walk(script.tree) if isinstance(n, ast.Call) and _tail(n.func) == trainers[0]]
            # a fill is the run's only where the trainer call leaves that argument out or passes the parsed class's field
            out.trainer_fills = {
                k: v
                for k, v in _none_fills(own[0]).items()
                if all(kw.arg != k or (isinstance(kw.value, ast.Attribute) and kw.value.attr == k) for c in calls for kw in c.keywords)
            }
    if out.preference is None:
        bases = {c: hit for c in classes if (hit := _trl_base(repo, c, script)) is not None}
        kinds = {TRL_PREFERENCE[base] for base, _ in bases.values()}
        if len(kinds) == 1:
            name, (base, at) = next(iter(bases.items()))
            said = f"TRL's {base}" if not at else f"{name} ({at}), a subclass of TRL's {base}"
            out.preference = (TRL_PREFERENCE[base], f"the script parses the file into {said}")
    return out


# the parse calls whose result the script unpacks into one object per parser class (transformers hf_argparser.py
# parse_args_into_dataclasses / parse_yaml_file / parse_json_file / parse_dict, TRL's parse_args_and_config, the handbook's
# H4ArgumentParser.parse)
_PARSE_CALLS = frozenset({"parse", "parse_args_into_dataclasses", "parse_yaml_file", "parse_json_file", "parse_dict", "parse_args_and_config"})
# Python builtins that only show the object
_ATTENTION_FREE_CALLS = frozenset({"print", "str", "repr"})
_ATTN_KEY = "attn_implementation"


def _attention_unread(repo: RepoModules, script: ParsedModule, classes: list[str]) -> str:
    """Why a recipe's `attn_implementation` never reaches the model, or "": the field belongs to a repository parser
    class, the script names `attn_implementation` nowhere, and the object the parser fills with it is only read
    attribute by attribute or handed to a repository function that does not name it either (or to a known helper
    that reads no attention key). Anything else (the object passed on whole, an unknown callee) is ""."""
    if not classes or _ATTN_KEY in ast.dump(script.tree):
        return ""
    holder = next((i for i, c in enumerate(classes) if any(_ATTN_KEY in ast.dump(cls) for cls, _m in repo.chain(c, script))), None)
    if holder is None:
        return ""
    targets = [
        n.targets[0]
        for n in ast.walk(script.tree)
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Call) and _tail(n.value.func) in _PARSE_CALLS
    ]
    if len(targets) != 1 or not isinstance(targets[0], ast.Tuple) or len(targets[0].elts) <= holder:
        return ""
    var = targets[0].elts[holder]
    if not isinstance(var, ast.Name):
        return ""
    parents = {id(c): p for p in ast.walk(script.tree) for c in ast.iter_child_nodes(p)}
    for node in ast.walk(script.tree):
        if not (isinstance(node, ast.Name) and node.id == var.id and isinstance(node.ctx, ast.Load)):
            continue
        up = parents.get(id(node))
        if (isinstance(up, ast.Attribute) and up.value is node) or isinstance(up, ast.FormattedValue):
            continue  # model_args.use_flash_attention_2: one field, not the attention key; f"{model_args}": shown
        call = parents.get(id(up)) if isinstance(up, ast.keyword) else up
        if not isinstance(call, ast.Call) or call.func is node or (name := _tail(call.func)) is None:
            return ""
        fn = repo.find_function(name, script) if isinstance(call.func, ast.Name) else None
        if fn is None and isinstance(call.func, ast.Name) and name in _ATTENTION_FREE_CALLS:
            continue
        if fn is None or _ATTN_KEY in ast.dump(fn[0]):
            return ""  # an installed package's function, a method, or a repository function naming the key
    builds = sorted(
        n.lineno
        for n in ast.walk(script.tree)
        if isinstance(n, ast.Call) and (_tail(n.func) == "from_pretrained" or any(k.arg == "model_init_kwargs" for k in n.keywords))
    )
    at = f" (the model is built at line {', '.join(map(str, builds))})" if builds else ""
    return f"{script.shown} never reads `{_ATTN_KEY}` from {classes[holder]}, which it parses this file into, nor passes it to the model{at}"


def _dict_passes(tree: ast.Module) -> dict[str, tuple[str, int, dict[str, tuple[str, int]]]]:
    """Each dict variable the script passes to one config-class call (`...Config(...)` / `...Arguments(...)`) key by key,
    `k=cfg.get("key", default)` or `k=cfg["key"]` (review8b #28: text2sql-slm-finetuning-grpo src/grpo_trainer.py:426-449
    GRPOConfig(per_device_train_batch_size=train_cfg.get(...), ...)): only those keys reach the run. A variable the script
    also hands on whole (`**cfg`, `f(cfg)`, `Config(cfg)`) or passes to more than one config call is left out."""
    out: dict[str, tuple[str, int, dict[str, tuple[str, int]]]] = {}
    calls = 0
    seen: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or (name := _tail(node.func)) is None or not name.endswith(("Config", "Arguments")):
            continue
        for kw in node.keywords:
            v = kw.value
            got: tuple[str, str] | None = None
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "get" and isinstance(v.func.value, ast.Name):
                if v.args and isinstance(v.args[0], ast.Constant) and isinstance(v.args[0].value, str):
                    got = (v.func.value.id, v.args[0].value)
            elif isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and isinstance(v.slice, ast.Constant) and isinstance(v.slice.value, str):
                got = (v.value.id, v.slice.value)
            if got is None or kw.arg is None:
                continue
            var, key = got
            if var in out and out[var][1] != node.lineno:
                seen.add(var)  # read by two config calls: not one class's
            out.setdefault(var, (name, node.lineno, {}))[2].setdefault(key, (kw.arg, v.lineno))
        calls += 1
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in out and isinstance(node.ctx, ast.Load):
            up = parents.get(id(node))
            if isinstance(up, ast.Subscript) and up.value is node:
                continue
            if isinstance(up, ast.Attribute) and up.value is node and up.attr == "get":
                continue
            seen.add(node.id)  # handed on whole: any key may reach the run
    return {k: v for k, v in out.items() if k not in seen}


def _model_field(loads: list[ModelLoad], declared: set[str]) -> tuple[str, int, str] | None:
    """(field, line, call) where every model-weights `from_pretrained` of the script (script_dtype.model_loads: not a
    tokenizer's, config's, processor's or PEFT's) passes `<name>.<field>` of one and the same field its repository parser
    classes declare, as the model: the file's value of that key is the model the script loads. None where the script
    loads no model, or a load passes anything else (a literal, another field, a variable)."""
    seen = {load.model.attr for load in loads if isinstance(load.model, ast.Attribute) and isinstance(load.model.value, ast.Name)}
    if not loads or len(seen) != 1 or not seen <= declared or not all(isinstance(load.model, ast.Attribute) for load in loads):
        return None
    first = min(loads, key=lambda load: load.line)
    return next(iter(seen)), first.line, f"{first.name}({ast.unparse(first.model) if first.model is not None else ''}, ...)"


def module_strings(tree: ast.Module) -> dict[str, tuple[str, int]]:
    """name -> (string, line) of each name a module binds exactly once, at module level, to a string constant (no
    parameter, loop, `with`, import, `global` or other binding of that name anywhere in it)."""
    stores: dict[str, list[ast.AST]] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            stores.setdefault(n.id, []).append(n)
        elif isinstance(n, ast.arg):
            stores.setdefault(n.arg, []).append(n)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                stores.setdefault((a.asname or a.name).split(".")[0], []).append(n)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            for name in n.names:
                stores.setdefault(name, []).extend([n, n])  # rebound elsewhere: never one binding
    fixed: dict[str, tuple[str, int]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            v = stmt.value
            if isinstance(v, ast.Constant) and isinstance(v.value, str) and len(stores.get(stmt.targets[0].id, ())) == 1:
                fixed[stmt.targets[0].id] = (v.value, stmt.lineno)
    return fixed


def _model_literal(tree: ast.Module, loads: list[ModelLoad]) -> tuple[str, int, str] | None:
    """(model, line, call) where every model-weights `from_pretrained` of the script (script_dtype.model_loads) passes, as
    the model, the same string constant, or a name the script binds exactly once, at module level, to one (no parameter,
    loop, `with`, import or other binding of that name anywhere). None where it loads no model or a load passes anything
    else."""
    fixed = {name: value for name, (value, _line) in module_strings(tree).items()}
    seen: set[str] = set()
    for load in loads:
        arg = load.model
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            seen.add(arg.value)
        elif isinstance(arg, ast.Name) and arg.id in fixed:
            seen.add(fixed[arg.id])
        else:
            return None
    if len(seen) != 1:
        return None
    first = min(loads, key=lambda load: load.line)
    return next(iter(seen)), first.line, f"{first.name}({ast.unparse(first.model) if first.model is not None else ''}, ...)"


def _tail(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _none_fills(cls: ast.ClassDef) -> dict[str, tuple[int, int, int]]:
    """name -> (value, `if` line, assignment line) of each `if name is None: ... name = <int>` (or `args.name`) in a class."""
    out: dict[str, tuple[int, int, int]] = {}
    for node in ast.walk(cls):
        if not isinstance(node, ast.If):
            continue
        test = node.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)):
            continue
        if not (isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None) or (name := _tail(test.left)) is None:
            continue
        for stmt in node.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and _tail(stmt.targets[0]) == name
                and isinstance(stmt.value, ast.Constant)
                and type(stmt.value.value) is int
            ):
                out.setdefault(name, (stmt.value.value, node.lineno, stmt.lineno))
    return out


def launched_script(config: str | Path) -> Launched | None:
    """What the script a launch line runs on this config says about it; None when no launch line
    in the repository runs a Python script on it (or the script cannot be read)."""
    return _launched(os.path.abspath(config))


@dataclass
class ScriptTrainer:
    """The trainer class a Python training script builds, read statically (nothing imported)."""

    trainer: str
    preference: tuple[str, str] | None  # (hfstyle.PREFERENCE kind, how it was read)
    ref_passed: bool  # `ref_model=` given a value other than the None constant in the trainer call
    line: int
    custom: str | None = None  # a repository class named as a preference trainer that subclasses none of TRL's


# In the framework label of a Python script whose trainer is the repository's own preference-named class
CUSTOM_PREFERENCE = "subclasses none of TRL's preference trainers"
_PREFERENCE_NAME = re.compile(r"dpo|orpo|kto|simpo|cpo", re.IGNORECASE)


def script_trainer(path: str | Path) -> ScriptTrainer | None:
    """The one trainer class a script builds (`DPOTrainer(...)`, `MyDPOTrainer(...)`) and its preference kind:
    TRL's own, a repository subclass of one, or a repository class running chosen and rejected together
    (launched._preference_of). None when the script builds no trainer, or more than one."""
    parsed = parse_in_tree(path)
    if parsed is None:
        return None
    script, roots, root = parsed
    calls = [
        n
        for n in ast.walk(script.tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, (ast.Name, ast.Attribute))
        and (n.func.id if isinstance(n.func, ast.Name) else n.func.attr).endswith("Trainer")
    ]
    names = {c.func.id if isinstance(c.func, ast.Name) else c.func.attr for c in calls if isinstance(c.func, (ast.Name, ast.Attribute))}
    if len(names) != 1:
        return None
    call, name = calls[0], names.pop()
    ref = next((k.value for k in call.keywords if k.arg == "ref_model"), None)
    passed = ref is not None and not (isinstance(ref, ast.Constant) and ref.value is None)
    repo = RepoModules(script, roots, root)
    out = ScriptTrainer(trainer=name, preference=_preference_of(repo, script, name), ref_passed=passed, line=call.lineno)
    if out.preference is None:
        out.custom = custom_preference(repo, script, name)
    return out


def custom_preference(repo: RepoModules, script: ParsedModule, name: str) -> str | None:
    """The trainer `name` when it, or a repository class it subclasses, is named as a preference trainer (dpo, orpo, kto,
    simpo, cpo) and the chain reaches none of TRL's: "X (file:line), the repository's own class (bases: ...), subclasses
    none of TRL's preference trainers", with the preference-named base where it is not X itself. None otherwise."""
    chain = repo.chain(name, script)
    named = next(((c, m) for c, m in chain if _PREFERENCE_NAME.search(c.name)), None)
    if not chain or named is None:
        return None
    cls, mod = chain[0]
    bases = ", ".join(base_names(cls)) or "object"
    via = (
        ""
        if named[0] is cls
        else f", a subclass of the repository's {named[0].name} ({named[1].shown}:{named[0].lineno}, bases: {', '.join(base_names(named[0])) or 'object'})"
    )
    return f"{name} ({mod.shown}:{cls.lineno}), the repository's own class (bases: {bases}){via}, {CUSTOM_PREFERENCE}"


MAX_IMPORTED_FUNCTIONS = 16


def imported_functions(path: str | Path, tree: ast.Module) -> list[tuple[str, ast.FunctionDef, str, Path]]:
    """The repository functions the script calls by a name it imports (`from train_llama_from_scratch import
    prepare_dataset` ... `prepare_dataset(...)`): (name, the function's definition, its file shown, its path), read with ast through
    safepath as `RepoModules.find_function` follows imports; nothing imported or run. At most MAX_IMPORTED_FUNCTIONS."""
    local = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names} - local
    names = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    if any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in tree.body):
        # a name the script neither defines, imports by name, binds nor has as a builtin may come from a star import
        bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        bound |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        bound |= {a.arg for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) for a in n.args.args}
        imported |= names - local - bound - set(dir(builtins)) - {"*"}
    called = sorted(names & imported)
    if not called:
        return []
    found = parse_in_tree(path)
    if found is None:
        return []
    script, roots, root = found
    repo = RepoModules(script, roots, root)
    out: list[tuple[str, ast.FunctionDef, str, Path]] = []
    for name in called[:MAX_IMPORTED_FUNCTIONS]:
        hit = repo.find_function(name, script)
        if hit is not None and hit[1].path != script.path:
            out.append((name, hit[0], hit[1].shown, hit[1].path))
    return out


def _pads_to_max(fn: ast.FunctionDef) -> tuple[int, int | None, ast.expr | None] | None:
    """(line, max_length, its expression) of the first call in `fn` that pads with `padding="max_length"` (max_length
    None when it is not an integer literal), or None."""
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        pad = next((k.value for k in node.keywords if k.arg == "padding"), None)
        if isinstance(pad, ast.Constant) and pad.value == "max_length":
            size = next((k.value for k in node.keywords if k.arg == "max_length"), None)
            value = size.value if isinstance(size, ast.Constant) and isinstance(size.value, int) and not isinstance(size.value, bool) else None
            return node.lineno, value if value is not None and value > 0 else None, size
    return None


def _as_passed(fn: ast.FunctionDef, size: ast.expr | None, call: ast.Call) -> ast.expr | None:
    """The helper's `max_length=args.block_size`, where `args` is its parameter, in the script's own terms: the name the
    script's call passes for that parameter (`preprocess_dataset(args, ...)` -> the script's `args.block_size`, read
    as the script reads its options). None for any other expression."""
    if not (isinstance(size, ast.Attribute) and isinstance(size.value, ast.Name)):
        return None
    params = [a.arg for a in fn.args.args]
    if size.value.id not in params:
        return None
    at = params.index(size.value.id)
    given = call.args[at] if at < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: at + 1]) else None
    given = given or next((k.value for k in call.keywords if k.arg == size.value.id), None)
    if not isinstance(given, ast.Name):
        return None
    return ast.copy_location(ast.Attribute(value=ast.copy_location(ast.Name(id=given.id, ctx=ast.Load()), call), attr=size.attr, ctx=ast.Load()), call)


def imported_padding(path: str | Path, text: str) -> tuple[str, int | None, str, int, ast.expr | None] | None:
    """A repository function the script imports and calls whose tokenizer call pads every sample to max_length
    (`from train_llama_from_scratch import prepare_dataset`, its body `tokenizer(..., padding="max_length",
    max_length=8192)`): (why, the literal max_length or None, the function's file, the call's line, and a max_length
    of the helper's parameter in the script's terms: `_as_passed`); None where none does.
    The padding is transformers' PaddingStrategy.MAX_LENGTH (5.25.0 utils/generic.py:728; tokenization_utils_base.py:2846)."""
    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    for name, fn, shown, real in imported_functions(path, tree):
        hit = _pads_to_max(fn)
        if hit is None:
            continue
        line, size, node = hit
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name]
        why = f'the script calls {name} (line {calls[0].lineno}), imported from {shown}, whose tokenizer call at line {line} pads with padding="max_length"'
        passed = _as_passed(fn, node, calls[0]) if size is None and len(calls) == 1 else None
        return why, size, str(real), line, passed
    return None
    for name, fn, shown, real in imported_functions(path, tree):
        hit = _pads_to_max(fn)
        if hit is None:
            continue
        line, size = hit
        called = next(n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name)
        why = f'the script calls {name} (line {called}), imported from {shown}, whose tokenizer call at line {line} pads with padding="max_length"'
        return why, size, str(real), line
    return None
