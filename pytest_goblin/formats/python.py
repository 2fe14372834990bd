"""Python training scripts, read with `ast` only: nothing is imported or executed.

What is read: the keyword arguments of TrainingArguments and the TRL configs (SFTConfig,
DPOConfig, GRPOConfig, ...), `from_pretrained(model_id, torch_dtype=..., attn_implementation=...,
quantization_config=BitsAndBytesConfig(...))`, a PEFT `LoraConfig(...)`, `os.environ[...] = ...`,
and module-level literal assignments those calls refer to (`BATCH = 4` ... `per_device_train_batch_size=BATCH`).
`args.x` / `script_args.x` are read as the script runs: the value the repository's launch line passes
(`launchers.find_script_launch`), else the argparse option's or HfArgumentParser dataclass field's
declared default (`pyargs.py`); a script whose TrainingArguments come from HfArgumentParser/TrlParser
is read from its launcher's arguments. Settings made by code (`gradient_checkpointing_enable()`,
a packing dataset) are read and never patched. A value that is not a literal (computed) is left to
the trainer's default and noted. Patches are exact source edits at the positions `ast` reports: a literal is replaced where it is
written (the argparse `default=` an `args.x` reads), and a missing keyword is added to the call in the
call's own layout; a value the launcher passes is left unpatched with that file and line.

This module holds `read_script` and the adapter; the work is split by job: `pyclasses` (the classes and
keywords looked for), `pyliteral` (literal values, source rendering), `pycommand` (the command line the
script runs with), `pycode` (settings made in code, and whether that code runs) and `pyworkload` (the
workload the record gives, and what it leaves assumed).
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..costmodel import PACK_LENGTH_UNREAD
from ..errors import ConfigError, NotATrainingConfig
from ..frameworks import tables
from ..pysource import parse as parse_source
from ..redact import flag_values, is_secret_name, masks_by_value
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from ..yamlio import learn_secrets
from . import argedit
from .base import IN_CODE_BY_HAND, IN_LAUNCH_LINE, Reader, ignored_param_offload, ignored_rules, model_from, stamp_framework, stamp_versions
from .dictcfg import DictConfigs, call_keywords
from .hf_trainer import HFTrainerAdapter
from .hfstyle import TA_DOCS, hf_writes
from .launch_world import launched_environ
from .launcher_text import ASSUMED_ARGUMENT
from .pyattn import config_attention
from .pyclasses import ANY_CALL, CONFIG_CALL, CONFIG_CLASSES, HF_ARGS, MODEL_KEYS, PARSER_CALL, TRAINER_PACKING_AT
from .pycode import (
    TRL_SFT_TRAINER_AT,
    adapter_passed_unread,
    applied_by_wrap,
    attention_patch,
    code_switches,
    environ_setting,
    frozen_base,
    frozen_language_model,
    guard,
    guarded_call,
    model_load,
    padded_length,
    spreads_layers,
    trainable_adapter,
    trainer_kwargs,
    truncated_length,
    unused_load,
)
from .pycommand import CommandLine, Lit, older_field
from .pydebug import debug_mode, imported_names
from .pyeval import Evaluator, is_environ
from .pyliteral import Code, call_name, literal_value, quote_of, render
from .pymapped import grouped_texts, mapped_truncation
from .pyscript import ENV_SET, ENV_SETDEFAULT, Location, Script
from .pyunsloth import config_defaults, loader_of, read_load, release_read, sft_length, sourced, standby, trl_not_patched
from .pyworkload import ScriptReader, checkpoint_weights, frozen_llm, naive_split, one_process_gpus, trainer_class, unread_fields, weights_assumed
from .semantics import pure_half_precision

if TYPE_CHECKING:
    from .launchers import ScriptLaunch


def syntax_hint(exc: SyntaxError) -> str:
    """What to do about a script `ast` refuses. goblin parses with the Python it runs on, and a newer Python's grammar
    is wider (PEP 701, Python 3.12: an f-string may hold the quotes that delimit it, `f"{d["k"]}"`; 3.11 says "f-string:
    unmatched '['"): a script written for 3.12 is not broken, goblin's parser is older (review14b #28)."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if sys.version_info < (3, 12):
        newer = " (an f-string holding its own quotes is valid from Python 3.12, PEP 701)" if (exc.msg or "").startswith("f-string") else ""
        return (
            f"goblin parsed it with Python {here}, whose grammar may be older than the script's{newer}: run goblin on the Python "
            "the script is written for, or fix the script; goblin reads it with ast and never runs it"
        )
    return f"fix the script (goblin parsed it with Python {here}); goblin reads it with ast and never runs it"


def _secret_values(tree: ast.Module, text: str) -> list[str]:
    """Every string literal under a secret name (`hub_token="hf_..."`, `HF_TOKEN = "..."`,
    `os.environ["WANDB_API_KEY"] = "..."`, `{"api_key": "..."}`, `["--hub_token", "..."]`), as read
    and as written, for redact.learn: a report that quotes the script's lines must not quote them."""
    values: list[tuple[str, ast.expr]] = []

    def named(target: ast.expr) -> str | None:
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Attribute):
            return target.attr
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
            return target.slice.value
        return None

    def text_of(node: ast.expr | None) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    # `my_hub = "..."` then `hub_token=my_hub`: a name passed under a secret name is followed to its literals
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    bound.setdefault(t.id, []).append(node.value)

    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg and is_secret_name(node.arg):
            values.append((node.arg, node.value))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            values += [(n, node.value) for t in targets if (n := named(t)) and is_secret_name(n)][:1]
        elif isinstance(node, ast.Dict):
            values += [(k, v) for key, v in zip(node.keys, node.values, strict=True) if (k := text_of(key)) and is_secret_name(k)]
        elif isinstance(node, ast.Call) and len(node.args) >= 2 and (k := text_of(node.args[0])) and is_secret_name(k):
            values.append((k, node.args[1]))  # os.environ.setdefault("HF_TOKEN", "..."), os.putenv(...)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.func, (ast.Name, ast.Attribute)):
            func = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if func == "login":  # huggingface_hub.login("hf_..."), wandb.login("..."): the first argument is the key
                values.append(("token", node.args[0]))
        elif isinstance(node, (ast.List, ast.Tuple)):
            for i, item in enumerate(node.elts):
                flag = text_of(item)
                if flag and flag.startswith("-"):
                    name, eq, _ = flag.lstrip("-").partition("=")
                    if name and is_secret_name(name) and (eq or i + 1 < len(node.elts)):
                        values.append((name, item if eq else node.elts[i + 1]))
    out: list[str] = []
    seen: set[int] = set()
    while values:
        name, value = values.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, ast.Name):
            values += [(name, v) for v in bound.get(value.id, [])]
            continue
        for const in ast.walk(value):
            read = text_of(const) if isinstance(const, ast.expr) else None
            if read is None:
                continue
            if read.startswith("-") and "=" in read:
                read = read.partition("=")[2]
            if masks_by_value(name, read):
                raw = ast.get_source_segment(text, const) or ""
                out += [read, raw.lstrip("rbuRBUfF").strip("\"'")]
    return out


def _dict_configs(
    path: Path, tree: ast.Module, parents: dict[int, ast.AST], plain: Callable[[ast.expr], tuple[bool, Any, Location | None]], ev: Evaluator, cli: CommandLine
) -> DictConfigs | None:
    """The YAML/JSON files the script loads into dicts (formats/dictcfg.py); None when it loads none."""
    from .launch_walk import config_tree

    own = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    repo: list[Any] = []
    memo: dict[str, ast.FunctionDef | None] = {}

    def find_function(name: str) -> ast.FunctionDef | None:
        if name in own:
            return own[name]
        if name not in imported:
            return None
        if name not in memo:
            if not repo:
                repo.append(cli._repository(tree))
            found = repo[0]
            hit = found[0].find_function(name, found[0].script) if found is not None else None
            memo[name] = hit[0] if hit is not None else None
        return memo[name]

    roots, root, _how = config_tree(Path(os.path.abspath(path)))
    dicts = DictConfigs(path, tree, parents, plain, find_function, ev.single_binding, ev.passed, roots, root, cli.s.notes)
    return dicts if dicts.loads else None


def read_script(path: Path, text: str) -> Script:
    marker = CONFIG_CALL.search(text)
    parser_marker = PARSER_CALL.search(text)
    from .pyloop import LOOP_MARKER

    built = None
    if not marker and not parser_marker:
        from .pybuilt import built_trainer

        built = built_trainer(path)
    own_loop = not marker and not parser_marker and built is None and LOOP_MARKER.search(text) is not None
    if not marker and not parser_marker and not own_loop and built is None:
        from .pywrapper import wrapped_call

        calls = wrapped_call(path, text, ANY_CALL)
        if calls:
            # launchers.find_script_launch reads that module with the launch lines that run this wrapper
            raise NotATrainingConfig(
                str(path),
                f"a wrapper without a TrainingArguments call of its own: it calls {calls[0]}; goblin audits {calls[1]} as its own item,"
                " with the launch lines that run this wrapper",
            )
        from .pywrapper import TRAINING_MODULE

        looped = wrapped_call(path, text, TRAINING_MODULE)
        if looped:
            # a wrapper of a module with a loop of its own (llama-recipes finetuning.py: `fire.Fire(main)` of
            # llama_recipes.finetuning, whose loop is read on its own)
            raise NotATrainingConfig(
                str(path),
                f"a wrapper without a training call of its own: it runs {looped[0]}, whose file sets up accelerate, DeepSpeed or FSDP;"
                f" goblin reads that file on its own (`goblin parse {looped[1]}` says what it reads)",
            )
        raise NotATrainingConfig(str(path), "a Python file without a TrainingArguments or TRL config call")
    try:
        tree = parse_source(text, filename=str(path))  # a Python 3.12 f-string read on an older Python (pysource)
    except SyntaxError as exc:
        raise ConfigError(str(path), f"Python syntax error: {exc.msg}", line=exc.lineno, hint=syntax_hint(exc)) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ConfigError(str(path), f"cannot parse the script: {type(exc).__name__}", hint="simplify the file") from None
    learn_secrets(path, _secret_values(tree, text) + flag_values(text))
    consts: dict[str, tuple[Any, ast.expr]] = {}
    # Literal assignments at module level first, then inside functions (a `model_id = "..."` in main()).
    stmts = list(tree.body) + [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and n not in tree.body]
    for stmt in stmts:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            ok, value, _node = literal_value(stmt.value, {})
            if ok and stmt.targets[0].id not in consts:
                consts[stmt.targets[0].id] = (value, stmt.value)
    s = Script()
    cli = CommandLine(path, tree, consts, s)
    s.parser_classes = tuple(cli.parser_names)

    def base(node: ast.expr) -> tuple[bool, Any, Location | None]:
        """A literal (followed through module names) or a command-line attribute (`args.batch_size`,
        `self.args.batch_size`, `cfg["batch_size"]` of `cfg = vars(args)`), or a value of a YAML/JSON
        file the script loads into a dict (formats/dictcfg.py)."""
        if dicts is not None and (read := dicts.read(node)) is not None:
            return read
        return plain(node)

    def plain(node: ast.expr) -> tuple[bool, Any, Location | None]:
        through = cli.namespace_read(node)
        if through is not None:
            return through
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id != "torch":
            found = cli.attribute(node.value.id, node.attr)
            if found is not None:
                return found
        ok, value, where = literal_value(node, consts)
        return ok, value, (Location(where, where.lineno) if ok else None)

    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}

    def entry(fn: ast.FunctionDef | ast.AsyncFunctionDef, arg: ast.arg) -> tuple[bool, Any] | None:
        found = cli.entry_value(fn, arg)
        return None if found is None else found[:2]

    dicts: DictConfigs | None = None
    unset: list[str] = []  # the environment variables read as their default: the launcher does not set them
    ev = Evaluator(tree, parents, lambda n: base(n)[:2], entry, launched_environ(path, unset))
    dicts = _dict_configs(path, tree, parents, plain, ev, cli)

    def lit(node: ast.expr, depth: int = 0) -> tuple[bool, Any, Location | None]:
        """`base`, then a function parameter (what the script's calls pass it) or a simple expression of
        known values (`args.bits == 4`, `torch.float32 if args.fp32 else torch.bfloat16`; pyeval.py)."""
        param = ev.parameter(node) if isinstance(node, ast.Name) else None
        if param is not None and (fired := cli.entry_value(param[0], param[2])) is not None:
            return fired
        if param is None:
            ok, value, loc = base(node)
            if ok:
                return ok, value, loc
        elif depth < 8 and isinstance(node, ast.Name) and (given := ev.passed(node)) is not None:
            return lit(given, depth + 1)  # one call passes it: that expression's value and place
        ok, value = ev.value(node)
        if not ok:
            return False, None, None
        shown = ast.unparse(node)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        origin = _launch_origin(node, ev, base) if param is None else None
        if origin is not None:
            # review4 #23 (MedicalGPT dpo_training.py:472-497): `torch_dtype = args.torch_dtype if ... else
            # getattr(torch, args.torch_dtype)` then `dtype=torch_dtype`: the one flag it comes from is the edit point
            return (
                True,
                value,
                Location(None, origin.line, file=origin.file, fixed=f"{origin.fixed} (the script computes `{shown}` from it at line {node.lineno})"),
            )
        how = f"a parameter of {param[0].name}() (line {param[0].lineno})" if param is not None else "computed from the script's values"
        return True, value, Location(None, node.lineno, fixed=f"`{shown}` at line {node.lineno} is {how}; edit it by hand")

    if built is not None:
        from .pybuilt import read_built

        read_built(s, built, cli.attribute)
        s.notes.extend(cli.notes + unset)
        return s
    bnb: dict[str, Any] = {}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
    debug_imports = imported_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = call_name(node.func)
            if name in CONFIG_CLASSES and s.args_call is None:
                s.args_call = node
                s.config_class = name
                for kw in node.keywords:
                    sp = dicts.spread(kw.value) if dicts is not None and kw.arg is None else None
                    if kw.arg is None and (sp is None or sp.why):
                        s.spread_unread.add(node.lineno)
                    elif sp is not None:
                        for key, (file, at) in sp.written.items():
                            s.args_spread.setdefault(key, (file, at, kw.value.lineno))
                for key, (ok, value, loc), line in call_keywords(node, name, lit, dicts, s.notes):
                    if ok and loc is not None:
                        s.values[key] = value
                        s.where[key] = loc
                    else:
                        s.notes.append(f"line {line}: {key} is computed at run time or not read; the trainer default is assumed")
                        s.computed[key] = line
            elif (
                name == "from_pretrained"
                and s.model_call is None
                and (node.args or node.keywords)
                and model_load(node)
                and guarded_call(s, node, name, parents, lit)
            ):
                s.model_call = node
                if (loader := loader_of(node)) is not None:
                    read_load(s, tree, node, loader, lit)
                if any(k.arg is None and ((sp := dicts.spread(k.value) if dicts else None) is None or sp.why) for k in node.keywords):
                    s.spread_unread.add(node.lineno)
                wanted = {"device_map", "pretrained_model_name_or_path", *MODEL_KEYS}
                kws = call_keywords(node, name, lit, dicts, s.notes, wanted=wanted.__contains__)
                named = next((read for key, read, _line in kws if key == "pretrained_model_name_or_path"), None)
                ok, value, loc = lit(node.args[0]) if node.args else (named or (False, None, None))
                if ok and isinstance(value, str) and loc is not None:
                    s.values["model_name_or_path"] = value
                    s.where["model_name_or_path"] = loc
                for key, (ok, value, loc), _line in kws:
                    if key == "device_map" and ok and loc is not None and spreads_layers(value):
                        s.device_map = (value, loc)
                    if key in MODEL_KEYS and ok and loc is not None and value is not None:
                        if key in ("load_in_4bit", "load_in_8bit"):
                            bnb[key] = value
                        s.values[MODEL_KEYS[key]] = value
                        s.where[MODEL_KEYS[key]] = loc
            elif name.endswith("Trainer") and "model_name_or_path" not in s.values:
                # SFTTrainer(model="Qwen/...") or model=model_id: TRL loads the model from the id itself.
                arg = next((k.value for k in node.keywords if k.arg == "model"), node.args[0] if node.args else None)
                if arg is not None:
                    ok, value, loc = lit(arg)
                    if ok and isinstance(value, str) and loc is not None:
                        s.values["model_name_or_path"] = value
                        s.where["model_name_or_path"] = loc
            elif name == "BitsAndBytesConfig" and unused_load(node, parents, loaded):
                s.notes.append(
                    f"line {node.lineno}: BitsAndBytesConfig(...) is bound to a name nothing reads"
                    " (a commented-out `quantization_config=` is not code); no quantization read from it"
                )
            elif name == "BitsAndBytesConfig" and guarded_call(s, node, name, parents, lit):
                for key, (ok, value, loc), _line in call_keywords(node, name, lit, dicts, s.notes, wanted={"load_in_4bit", "load_in_8bit"}.__contains__):
                    if key in ("load_in_4bit", "load_in_8bit") and ok and loc is not None:
                        bnb[key] = value
                        s.where[key] = loc
            elif name == "LoraConfig" and unused_load(node, parents, loaded):
                s.notes.append(f"line {node.lineno}: LoraConfig(...) is bound to a name nothing reads; no adapter read from it")
            elif name == "LoraConfig" and applied_by_wrap(node, parents, tree):
                pass  # the get_peft_model call that takes it decides, under its own `if`
            elif (name in ("LoraConfig", "get_peft_model") or trainable_adapter(node)) and guarded_call(s, node, name, parents, lit):
                s.values["use_peft"] = True
                s.where.setdefault("use_peft", Location(node, node.lineno))
            elif name == "setdefault" and isinstance(node.func, ast.Attribute) and is_environ(node.func.value) and len(node.args) == 2:
                environ_setting(s, node, node.args[0], node.args[1], consts, parents, lit, default=True)
            if name.endswith("Trainer"):
                trainer_kwargs(s, node, lit)
            code_switches(s, node, name, parents, lit)
            attention_patch(s, node, name, parents, lit)
            debug_mode(s, node, name, parents, lit, debug_imports, guard)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript) and is_environ(node.targets[0].value):
            environ_setting(s, node, node.targets[0].slice, node.value, consts, parents, lit)
    s.values.update(bnb)
    if s.model_call is None:
        built_from_config(s, tree, parents, lit, dicts)
    config_attention(s, tree, lambda n: guard(n, parents, lit)[0] is not False, lit)
    if s.model_call is None:  # the model a repository builder loads (pybuilder.py): its attention and dtype keywords
        from .pybuilder import builder_load

        builder_load(s, tree, cli, lambda n: guard(n, parents, lit)[0] is not False)
    standby(s)
    trl_not_patched(s)
    if "use_peft" not in s.values:
        frozen_base(s, tree, parents, lit)
    adapter_passed_unread(s, tree, parents, lit)
    frozen_language_model(s, tree, parents, lit)
    two_models = False
    if "model_name_or_path" not in s.values and s.model_call is None:  # the model a repository helper loads (pyhelper.py)
        from .pyhelper import helper_model

        helped = helper_model(tree, cli, lambda n: guard(n, parents, lit)[0] is not False, lit)
        if isinstance(helped, str):
            s.notes.append(helped)
            two_models = True
        elif helped is not None:
            s.values["model_name_or_path"], s.where["model_name_or_path"] = helped[0], helped[1]
            s.notes.append(helped[2])
    if "model_name_or_path" not in s.values and not two_models and cli.launch is not None:  # a positional argument of the launch line
        two_models = _positional_model(s, tree, cli.launch, path)
    if "model_name_or_path" not in s.values and not two_models:  # the model the launch line's first word picks (argv_dispatch.py)
        two_models = _dispatched_model(s, tree, cli.launch, path)
    if "model_name_or_path" not in s.values and not two_models:  # no model call read: the id the tokenizer (or a guarded load) names
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and call_name(node.func) == "from_pretrained" and node.args and guard(node, parents, lit)[0] is not False:
                ok, value, loc = lit(node.args[0])
                if ok and isinstance(value, str) and loc is not None:
                    s.values["model_name_or_path"], s.where["model_name_or_path"] = value, loc
                    break
    for key, (value, loc) in s.trainer_values.items():  # SFTTrainer's own keywords (TRL before 0.12), where the config has none
        if key == "packing" and value is True and s.values.get("packing") is False and "packing" in s.where:
            # a true trainer keyword is set over the config's packing=False (TRAINER_PACKING_AT)
            s.notes.append(
                f"packing: SFTTrainer(..., packing=True) at line {loc.line} is set over the config's packing=False"
                f" (line {s.where['packing'].line}) when the trainer is built ({TRAINER_PACKING_AT})"
            )
            s.values[key], s.where[key] = value, loc
        elif key not in s.values:
            s.values[key], s.where[key] = value, loc
            if key == "max_seq_length":
                # a value the launch line passes is at that file's line, not the script's (review10a #17)
                place = f"{Path(loc.file).name} line {loc.line}" if loc.file and loc.file != str(path) else f"line {loc.line}"
                s.notes.append(f"max_seq_length from SFTTrainer(...), its value at {place} ({TRL_SFT_TRAINER_AT})")
    if "gradient_checkpointing" in s.fixed:
        key = next((k for k in ("activation_checkpointing", "gradient_checkpointing") if k in s.values), "gradient_checkpointing")
        s.values[key] = True
        s.where[key] = Location(None, s.code_lines["gradient_checkpointing"], fixed=s.fixed["gradient_checkpointing"])
    if "sample_packing" in s.fixed:
        s.values["packing"] = True
        s.where["packing"] = Location(None, s.code_lines["sample_packing"], fixed=s.fixed["sample_packing"])
        if s.packed_length is not None and not any(k in s.values for k in ("max_seq_length", "max_length", "model_max_length")):
            # review4 #33 (bigcode starcoder finetune.py: ConstantLengthDataset(seq_length=args.seq_length), argparse
            # default 2048): the rows are packed to that length, every sample is that long
            value, loc, line = s.packed_length
            s.values["max_length"], s.where["max_length"] = value, loc
            s.notes.append(f"seq_len {value}: the packing dataset call at line {line} packs the rows to sequences of {value} tokens")
    if "use_peft" in s.values and bnb.get("load_in_4bit"):
        s.values.setdefault("load_in_4bit", True)
    if s.config_class in HF_ARGS:
        padded_length(s, tree, lit)
        if not any(k in s.values for k in ("max_seq_length", "max_length", "model_max_length")):
            _imported_padded_length(s, path, text, lit)
    if own_loop:
        from .pyloop import Kit, read_loop

        def option(name: ast.expr) -> tuple[bool, Any, Location | None]:
            arg = cli.options.get(name.id) if isinstance(name, ast.Name) else None
            return cli.value_of(arg) if arg is not None else (False, None, None)

        grouped_texts(s, tree, lit, option)  # a loop's data packed into chunks (run_clm_no_trainer's group_texts): its length too
        read_loop(s, tree, path, lit, Kit(lambda n: guard(n, parents, lit)[0], cli.options, cli.value_of, Location))
        s.notes.extend(cli.notes + unset)
        s.config_class = "TrainingArguments"  # the keys it maps to; TrainingArguments' defaults for what a loop leaves (formats/pyloop.py)
        return s
    elif s.args_call is None and not _parsed_dict(s, dicts, cli):
        cli.from_parser()  # HfArgumentParser / TrlParser: the launcher's arguments are the config's keys
    _assigned_fields(s, tree, cli, parents, lit, path, text)
    truncated_length(s, tree, lit)  # after the parser: an HfArgumentParser script's class is known only now
    if s.config_class in HF_ARGS:
        from .fixed_length import dataset_length

        dataset_length(s, tree, lit)  # a dataset class of the script that cuts and pads every sample (review13a #15)
    grouped_texts(s, tree, lit)  # after the parser too: the chunk size may be a parsed field (run_clm's block_size)
    if s.config_class in HF_ARGS:
        mapped_truncation(s, tree, lit)
        _launched_length(s, tree, path)
    s.notes.extend(cli.notes + unset)
    return s


def _positional_model(s: Script, tree: ast.Module, launch: ScriptLaunch, path: Path) -> bool:
    """The model the script loads from a positional argument its launch line fills (`ap.add_argument('model')`,
    `python3 train.py TurkuNLP/gpt3-finnish-xl --batch-size 1 ...`: review13b #22), read as a config's launch line is
    (formats/positional.words_model); loads that take two different values name none, said (True: no other
    reading may name one)."""
    from .positional import words_model

    found, why = words_model(tree, launch)
    if why is not None:
        s.notes.append(why)
    if found is None:
        return why is not None
    note = (
        f"`{found.model}` is the {found.param} argument the launch line at {found.shown} passes to {path.name} ({found.how}),"
        f" which loads it with from_pretrained at line {found.load_line}; change it {IN_LAUNCH_LINE}"
    )
    s.values["model_name_or_path"] = found.model
    s.where["model_name_or_path"] = Location(None, found.line, file=found.file, fixed=note)
    s.notes.append(note)
    return False


def _dispatched_model(s: Script, tree: ast.Module, launch: ScriptLaunch | None, path: Path) -> bool:
    """The model the script's loads take by the function its first command-line word runs (`python amd_tran.py llama`,
    `if sys.argv[1] == "llama": train_llama()`: review13a #15); loads that take several literals goblin cannot choose
    among name none, said (True: no other reading may name one)."""
    from .argv_dispatch import dispatched_model
    from .launchers import find_script_launch, script_launches

    def launches() -> list[ScriptLaunch]:
        first = launch if launch is not None else find_script_launch(path)
        if first is None:
            return []
        return [first, *(o for o in script_launches(path) if (o.file, o.line) != (first.file, first.line))]

    found, why = dispatched_model(tree, launches, path.name)
    if why is not None:
        s.notes.append(why)
    if found is None:
        return why is not None
    s.values["model_name_or_path"] = found.model
    s.where["model_name_or_path"] = Location(None, found.line, fixed=found.note)
    s.notes.append(found.note)
    return False


def _launched_length(s: Script, tree: ast.Module, path: Path) -> None:
    """Where nothing else gives the sequence length, the one option named like a length (pyloop.LENGTH_OPTIONS:
    `--block_size`) that the launch line passes and the script reads, as an own loop's is read (review12b #26
    small-ablation malaysian-sft/lora-llama3.py:95,163: `--block_size 16384` bounds the multipacked rows its own
    collator joins); said as read from its name. A default the launch line does not pass is not taken."""
    from .pyloop import LENGTH_OPTIONS

    if any(k in s.values for k in ("max_seq_length", "max_length", "model_max_length")):
        return
    read = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)}
    found = [
        k
        for k in LENGTH_OPTIONS
        if k in read
        and isinstance(s.values.get(k), int)
        and not isinstance(s.values.get(k), bool)
        and s.values[k] > 0
        and (loc := s.where.get(k)) is not None
        and loc.file is not None
        and os.path.realpath(loc.file) != os.path.realpath(path)
        and loc.option is not None
        and loc.option.passed is not None
    ]
    if len(found) != 1:
        return
    key = found[0]
    s.values["max_length"], s.where["max_length"] = s.values[key], s.where[key]
    s.notes.append(f"seq_len {s.values[key]}: `--{key}`, passed by the launch line and read by the script, is its sequence length, read from its name")


# transformers 5.25.0 hf_argparser.py:358-384 `parse_dict(args, allow_extra_keys=False)`: each dataclass is built from
# the keys of `args` that are its init fields (:376-380, `dtype(**inputs)`); a key no dataclass takes raises ValueError
# unless allow_extra_keys (:382-383). parse_json_file (:386-406, json.loads) and parse_yaml_file (:408-428, yaml.safe_load)
# hand a file's mapping to it.
PARSE_DICT_AT = "transformers 5.25.0 hf_argparser.py:358-384"


# transformers 5.25.0 models/auto/auto_factory.py:205,233,248 (from_config hands its keywords to the class's _from_config),
# modeling_utils.py:1419-1420 (attn_implementation sets the config's); 4.41.1 models/auto/auto_factory.py:434,437,
# modeling_utils.py:1399-1400
FROM_CONFIG_AT = "transformers 5.25.0 models/auto/auto_factory.py:233,248, modeling_utils.py:1419-1420; 4.41.1 modeling_utils.py:1399-1400"
_FROM_CONFIG_KEYS = frozenset({"attn_implementation", "_attn_implementation"})


def built_from_config(s: Script, tree: ast.Module, parents: dict[int, ast.AST], lit: Lit, dicts: DictConfigs | None) -> None:
    """A model built from a config with fresh weights (`AutoModelForCausalLM.from_config(config, attn_implementation=...,
    torch_dtype=...)`, review12b #23 eminorhan/frontier-guide train.py:138) where no from_pretrained load runs: its
    attention keyword is the run's as from_pretrained's would be (FROM_CONFIG_AT; its dtype is pyloop._built_dtype's,
    read where every build agrees). One such call that runs, else none read."""
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "from_config"
        and "Model" in ast.unparse(n.func.value).split(".")[-1]
        and model_load(n)
        and guard(n, parents, lit)[0] is True
    ]
    if len(calls) != 1:
        return
    node = calls[0]
    for key, (ok, value, loc), _line in call_keywords(node, "from_config", lit, dicts, s.notes, wanted=_FROM_CONFIG_KEYS.__contains__):
        if ok and loc is not None and value is not None and MODEL_KEYS[key] not in s.values:
            s.values[MODEL_KEYS[key]] = value
            s.where[MODEL_KEYS[key]] = loc
            s.notes.append(f"{key}={value!r}: `{ast.unparse(node.func)}(...)` at line {node.lineno} builds the model with it ({FROM_CONFIG_AT})")


def _parsed_dict(s: Script, dicts: DictConfigs | None, cli: CommandLine) -> bool:
    """`parser.parse_dict(cfg["training"])` on a mapping of a file the script loads (formats/dictcfg.py): the parser's
    training class takes that mapping's keys, each sourced at its line in the file, as parse_dict hands them over.
    False (the launch line is read instead, or the reason says why not) for anything else."""
    if dicts is None or cli.parser_call is None or cli.config_class is None:
        return False
    calls = [n for n in cli.file_reads if call_name(n.func) == "parse_dict" and id(n) not in cli.argv_switched]
    if len(calls) != 1 or len(calls[0].args) != 1 or calls[0].keywords:
        return False
    spread = dicts.spread(calls[0].args[0])
    if spread is None:
        return False
    call, shown = calls[0], ast.unparse(calls[0].args[0])[:60]
    if spread.why:
        raise NotATrainingConfig(str(cli.path), f"its {cli.config_class} is read by `parse_dict({shown})` (line {call.lineno}): {spread.why}")
    s.config_class, s.parser_call = cli.config_class, cli.parser_call
    for key, (ok, value, loc) in spread.keys.items():
        if ok and loc is not None:
            s.values.setdefault(key, value)
            s.where.setdefault(key, loc)
        else:
            s.notes.append(f"line {call.lineno}: {key} of `{shown}` is not read; the trainer default is assumed")
            s.computed[key] = call.lineno
    s.notes.append(
        f"{cli.config_class} is read from the keys of `{shown}` that {call_name(cli.parser_call.func)}.parse_dict (line {call.lineno})"
        f" hands to it ({PARSE_DICT_AT}); fields it does not hold take their defaults"
    )
    return True


def _launch_origin(node: ast.expr, ev: Evaluator, base: Callable[[ast.expr], tuple[bool, Any, Location | None]]) -> Location | None:
    """The launch line's flag a computed value comes from, when the expression (and the local names it
    reads, each bound once) reads exactly one value the launcher passes and nothing else of the command
    line; None otherwise."""
    found: dict[tuple[str, int], Location] = {}
    todo, seen = [node], 0
    while todo and seen < 64:
        n = todo.pop()
        seen += 1
        if isinstance(n, ast.Name) and (bound := ev.single_binding(n)) is not None:
            todo.append(bound)
            continue
        if isinstance(n, (ast.Attribute, ast.Subscript)) or (isinstance(n, ast.Call) and call_name(n.func) == "getattr"):
            ok, _value, loc = base(n)
            if ok and loc is not None:
                if loc.file is None:
                    return None  # a value of the script itself takes part: no single edit point
                found[(loc.file, loc.line)] = loc
                continue
        todo.extend(c for c in ast.iter_child_nodes(n) if isinstance(c, ast.expr))
    return next(iter(found.values())) if len(found) == 1 else None


def _assigned_fields(s: Script, tree: ast.Module, cli: CommandLine, parents: dict[int, ast.AST], lit: Lit, path: Path, text: str) -> None:
    """`training_args.gradient_checkpointing = True`, `training_args = replace(training_args, fp16=True)` or
    `setattr(training_args, "bf16", True)` after the config is built or parsed: the code's value is what the trainer gets
    (it runs after the keyword and the command line). Under an `if` goblin cannot evaluate, or to a value it cannot
    read, the field is unread (`Script.code_unread`); in a function nothing runs, or under a false `if`, nothing."""
    from .codeset import _is_replace, _runs_at_all

    if s.config_class is None:
        return
    if s.args_call is not None:  # `args = TrainingArguments(...)`: the names bound to that call
        owners = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.value is s.args_call for t in n.targets if isinstance(t, ast.Name)}
    else:
        owners = set(cli.parsed)
    sets: list[tuple[str, ast.expr, ast.stmt, str]] = []  # (key, value, statement, how it is written)
    statements: list[ast.stmt] = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.Expr))]
    node: ast.stmt
    for node in sorted(statements, key=lambda n: n.lineno):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in owners:
                sets.append((target.attr, value, node, f"`{ast.unparse(target)} = ...`"))
            elif isinstance(value, ast.Call) and _is_replace(value) and value.args and isinstance(value.args[0], ast.Name) and value.args[0].id in owners:
                if isinstance(target, ast.Name):
                    owners.add(target.id)  # `args = replace(args, ...)`: the same settings under that name
                shown = f"`{ast.unparse(value)[:60]}`"
                sets.extend((kw.arg, kw.value, node, shown) for kw in value.keywords if kw.arg is not None)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if (
                isinstance(call.func, ast.Name)
                and call.func.id == "setattr"
                and len(call.args) == 3
                and isinstance(call.args[0], ast.Name)
                and call.args[0].id in owners
                and isinstance(call.args[1], ast.Constant)
                and isinstance(call.args[1].value, str)
            ):
                sets.append((call.args[1].value, call.args[2], node, f"`{ast.unparse(call)[:60]}`"))
    fields = set(cli.framework_defaults(s.config_class))
    for key, value_node, node, shown in sets:
        older_said = ""
        if key not in fields:
            older = older_field(path, text, s.config_class, key)
            if older is None:
                continue
            if not older[0]:
                s.notes.append(f"line {node.lineno}: {shown} sets {key}, which {s.config_class} at {older[1]} does not read; not read")
                continue
            older_said = f"; {s.config_class} at {older[1]} reads it"
        if not _runs_at_all(node, parents, tree):
            continue
        ok, value, loc = lit(value_node)
        runs, cond = guard(node, parents, lit)
        if runs is False:
            continue
        if runs is None or not ok or loc is None:
            why = (
                f"under the `if` at {cond}, which goblin cannot evaluate"
                if runs is None
                else f"to `{ast.unparse(value_node)[:60]}`, a value goblin cannot read"
            )
            s.notes.append(f"line {node.lineno}: {shown} sets {key} {why}; not read")
            s.code_unread[key] = f"{shown} at line {node.lineno} sets {key} {why}"
            continue
        s.values[key], s.where[key] = value, loc
        s.code_unread.pop(key, None)
        s.notes.append(f"line {node.lineno}: {shown} sets {key} after the config is built" + (f" ({cond})" if cond else "") + older_said)


class PythonAdapter(HFTrainerAdapter):
    """A training script: the TrainingArguments / TRL keys, as the HF adapter reads them."""

    name = "python"
    docs = TA_DOCS
    suffixes = frozenset({".py"})

    def detect(self, data: Any) -> int:
        return 100 if isinstance(data, Script) else 0

    def model_shape(self, r: Reader) -> ModelShape:
        return model_from(r, "model_name_or_path")

    def parse(self, path: Path, data: Any, text: str) -> WorkloadConfig:
        script: Script = data
        r = ScriptReader(str(path), script)
        r.text = text
        model = self.model_shape(r)
        if "model_name_or_path" not in script.values:
            r.notes.append("no literal model id in from_pretrained(...); a generic model shape is assumed")
        self.read(r)
        if script.loop is not None:
            r.framework = f"transformers {tables.table('transformers')['version']} (no Trainer: a training loop of its own, {script.loop})"
            from .pyloop import loop_defaults

            loop_defaults(r)
        weights_assumed(r, script)
        checkpoint_weights(r, script, path, model)
        try:
            tree: ast.Module | None = parse_source(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None
        pure_half_precision(r, path.name, tree)
        sourced(r, script, str(path))
        sft_length(r, script, str(path))
        config_defaults(r, script, str(path))
        release_read(r, script)
        if script.built is not None:
            from .pybuilt import built_unread

            built_unread(r, script)
        unread_fields(r, script, path)
        frozen_llm(r, script, path)
        trainer_class(r, path)
        from .contrastive import read_contrastive

        read_contrastive(r, path)  # review11b #36: gritlm's DistributedContrastiveLoss
        from .seqcls import read_classifier

        read_classifier(r, path)  # review13b #37: a sequence classifier
        if not r.values.get("sample_packing") and r.values.get("packing_blocked") is None:
            # a script that packs its own batches, or whose TRL raises on packing with its collator (formats/own_packing.py)
            from .own_packing import collator_blocks_packing, own_packing

            own = own_packing(script.values, script.where, script.launch)
            why = own or collator_blocks_packing(str(path), text) or _own_collator(text, path)
            if why is not None:
                r.values["packing_blocked"] = why
                r.notes.append(why)
                if not r.sources["sample_packing"].explicit:  # the default collator's padding is not this run's
                    r.default("sample_packing", False, why)
            if own is not None:
                _pack_length_unread(r, own)
        naive_split(r, script, path)
        one_process_gpus(r, script, path)
        if script.debug_modes:
            r.values["debug_modes"] = [what for what, _ in script.debug_modes]
            r.sources["debug_modes"] = FieldSource(file=str(path), key=None, line=script.debug_modes[0][1], explicit=True, note=script.debug_modes[0][0])
        if (patched := script.fixed.get("attention")) is not None:
            r.values["attention_patched"] = patched
            r.sources["attention"] = FieldSource(file=str(path), key=None, line=script.code_lines["attention"], explicit=False, note=patched)
            r.notes.append(patched)
        for name, src in list(r.sources.items()):  # a value the launcher passes (the model id too) is sourced in the launcher
            loc = script.where.get((src.key or "").partition(".")[0]) if src.explicit else None
            if loc is not None and loc.file is not None and src.file != loc.file:
                r.sources[name] = FieldSource(file=loc.file, key=src.key, line=loc.line, explicit=ASSUMED_ARGUMENT not in (loc.fixed or ""), note=loc.fixed)
        for name, (line, how) in script.env_at.items():  # where each variable is set: a finding names it
            r.sources[f"env.{name}"] = FieldSource(
                file=str(path), key=name, line=line, explicit=how != "unknown", unread=how == "unknown", note=ENV_SETDEFAULT if how == "default" else ENV_SET
            )
        stamp_versions(r)
        stamp_framework(r)
        ignored_param_offload(r)
        return WorkloadConfig(
            path=str(path),
            format=self.name,
            framework=r.framework,
            model=model,
            env=script.env,
            ignored_rules=ignored_rules(text),
            sources={k: v for k, v in r.sources.items() if isinstance(v, FieldSource)},
            notes=list(dict.fromkeys([*script.notes, *r.notes])),  # the launcher search may say the same root twice
            **r.values,
        )

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        script: Script = data
        if field == "attention":
            return (
                {"attn_implementation": {"flash": "flash_attention_2", "flex": "flex_attention"}.get(value, value)} if script.model_call is not None else None
            )
        if field == "precision":
            out: dict[str, Any] = {}
            if value == "bf16":
                out = {"bf16": True, **({"fp16": False} if "fp16" in script.values else {})}
            elif value == "fp16":
                out = {"fp16": True, **({"bf16": False} if "bf16" in script.values else {})}
            dtype = script.where.get("torch_dtype")
            if out and dtype is not None:  # load the weights in the same dtype the trainer computes in
                name = {"bf16": "bfloat16", "fp16": "float16"}[value]
                out["torch_dtype"] = Code(f"torch.{name}") if isinstance(dtype.node, ast.Attribute) else name
            return out or None
        if field in ("quantization", "method", "fused_kernels", "activation_offloading", "cpu_offload", "sample_packing"):
            if field == "sample_packing":
                return {"packing": value}
            if field == "fused_kernels":
                return {"use_liger_kernel": value}
            return None  # quantization and PEFT are code, not arguments
        return hf_writes(field, value, workload, script.values, batch_key="per_device_train_batch_size", liger_key="use_liger_kernel")

    def apply(self, path: Path, text: str, data: Any, workload: WorkloadConfig, fields: dict[str, Any]) -> tuple[str, dict[str, str]]:
        script: Script = data
        if script.built is not None:
            return text, {f: f"{script.config_class} is built in {script.built}; change it there" for f in fields}
        skipped: dict[str, str] = {}
        edits: list[tuple[int, int, str]] = []  # (start offset, end offset, replacement)
        offsets = _line_offsets(text)
        inserts: dict[int, list[tuple[str, str]]] = {}  # call id -> keywords to add
        calls: dict[int, ast.Call] = {}
        for f, value in fields.items():
            w = self.writes(f, value, workload, data)
            if w is None:
                skipped[f] = self.unwritable_reason(f)
                continue
            if f in script.fixed:  # set by code (gradient_checkpointing_enable(), a packing dataset): a keyword would not change it
                skipped[f] = script.fixed[f]
                continue
            planned: list[tuple[int, int, str]] = []
            planned_inserts: list[tuple[ast.Call, str, str]] = []
            why: str | None = None
            adds: list[str] = []  # keys said as `add --key value` in the launch line
            for key, new in w.items():
                loc = script.where.get(key)
                if (option := _option_edit(script, key, loc, new)) is not None:
                    # the option cannot take it, or the launch line passes it: where to make it, or why no edit
                    said = option if script.loop is None else f"{_loop_change(key, new)}: {option}"
                    why = said if why is None else f"{why}; {said}"
                    continue
                if loc is not None and loc.fixed is not None:
                    # the launcher passes it, or a switch sets it: writing here would be overridden
                    said = loc.fixed if script.loop is None else f"{_loop_change(key, new)}: {loc.fixed}"
                    why = said if why is None else f"{why}; {said}"
                    continue
                if loc is not None and isinstance(loc.node, (ast.Constant, ast.Attribute)) and loc.node.end_lineno is not None:
                    start = _char(text, offsets, loc.node.lineno, loc.node.col_offset)
                    end = _char(text, offsets, loc.node.end_lineno, loc.node.end_col_offset or 0)
                    quote = text[start] if text[start] in "'\"" else quote_of(text)
                    planned.append((start, end, render(new, quote)))
                    continue
                call = script.model_call if key in ("attn_implementation", "torch_dtype") else script.args_call
                if call is None and script.parser_call is not None and script.launch is not None and not (why is not None and isinstance(new, Code)):
                    # every key of the field is said: bf16 added beside the `--fp16` the line keeps would make
                    # TrainingArguments refuse both (review15b #29; transformers 4.47.1 training_args.py:1714-1715)
                    shown = new if not isinstance(new, (bool, Code)) else new.text if isinstance(new, Code) else str(new)
                    said = f"add `--{key} {shown}` {IN_LAUNCH_LINE} ({script.launch.where()})"
                    if not adds:
                        said = f"{script.config_class} comes from the command line through {call_name(script.parser_call.func)} (line {script.parser_call.lineno}); {said}"
                    adds.append(key)
                    why = said if why is None else f"{why}; {said}"
                    continue
                if why is not None:
                    continue
                if script.loop is not None and call is None:
                    # where the loop sets the same thing (bf16 written where its fp16 is read): that place, else the loop's code
                    hint = next((loc.fixed for k in w if (loc := script.where.get(k)) is not None and loc.fixed), None)
                    where = f": {hint}" if hint else f" in its code by hand (it trains in a loop of its own: {script.loop})"
                    why = f"{_loop_change(key, new)}{where}"
                    break
                if call is None or any(k.arg == key for k in call.keywords) or key in script.computed:
                    why = f"{key} is computed in the script; edit it by hand"
                    break
                if call.lineno in script.spread_unread:  # `**kwargs` goblin does not read may pass it already: a second is a TypeError
                    why = f"{script.config_class}(...) at line {call.lineno} takes `**` arguments goblin does not read; add {key} there by hand"
                    break
                planned_inserts.append((call, key, render(new, quote_of(text))))
            taken = {(a, b) for a, b, _ in edits}
            if why is None and any((a, b) in taken and (a, b, t) not in edits for a, b, t in planned):
                why = "another edit writes the same literal with a different value; edit it by hand"
            if why is not None:
                skipped[f] = why
                continue
            edits.extend(e for e in planned if e not in edits)
            for call, key, rendered in planned_inserts:
                calls[id(call)] = call
                inserts.setdefault(id(call), []).append((key, rendered))
        for cid, pairs in inserts.items():
            edits.append(_insertion(text, offsets, calls[cid], pairs))
        for start, end, new in sorted(edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text, skipped

    def apply_keys(self, text: str, data: Any, writes: dict[str, Any]) -> tuple[str, list[str]]:
        """Replace the literal of each keyword the script passes (`tf32=True`); a key it computes or
        does not pass is left for the user (a blocker's fix is one literal, never new code)."""
        script: Script = data
        if script.built is not None:
            return text, list(writes)
        offsets = _line_offsets(text)
        edits: list[tuple[int, int, str]] = []
        missed: list[str] = []
        for key, new in writes.items():
            loc = script.where.get(key)
            if (
                loc is None
                or loc.fixed is not None
                or _option_edit(script, key, loc, new) is not None
                or not isinstance(loc.node, (ast.Constant, ast.Attribute))
                or loc.node.end_lineno is None
            ):
                missed.append(key)
                continue
            start = _char(text, offsets, loc.node.lineno, loc.node.col_offset)
            end = _char(text, offsets, loc.node.end_lineno, loc.node.end_col_offset or 0)
            quote = text[start] if text[start] in "'\"" else quote_of(text)
            edits.append((start, end, render(new, quote)))
        for start, end, new in sorted(edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text, missed

    def unwritable_reason(self, field: str) -> str:
        if field in ("quantization", "method"):
            return f"quantization and PEFT are set up in code (BitsAndBytesConfig, LoraConfig); change them {IN_CODE_BY_HAND}"
        return super().unwritable_reason(field)


def _option_edit(script: Script, key: str, loc: Location | None, new: Any) -> str | None:
    """Where an edit of `key` belongs, or why none is offered, when the keyword takes a command-line option's value
    as it is (formats/argedit.py); None where writing the option's default literal is the edit, or the value is not an
    option's (its place's own reason stands)."""
    if loc is None or loc.option is None:
        return None
    read = script.values.get(key)
    if type(read) is not type(loc.option.value) or read != loc.option.value:
        return None  # the keyword does not take the option's value as it is: the place's own reason stands
    return argedit.how(loc.option, new)


def _loop_change(key: str, new: Any) -> str:
    from .pyloop import change

    return change(key, new.text if isinstance(new, Code) else new)


def _line_offsets(text: str) -> list[int]:
    """Start of each line as ast counts lines: split at "\n" only (the text's line endings are
    normalized on reading); str.splitlines() would also split at form feeds and U+2028 (D11)."""
    offsets, total = [], 0
    for line in text.split("\n"):
        offsets.append(total)
        total += len(line) + 1
    offsets.append(len(text))
    return offsets


def _char(text: str, offsets: list[int], lineno: int, col_bytes: int) -> int:
    """The character index of an ast position: ast's col_offset counts UTF-8 bytes, not
    characters, so `output_dir="café"` before a literal shifted every edit after it (D11)."""
    start = offsets[lineno - 1]
    end = offsets[lineno] if lineno < len(offsets) else len(text)
    return start + len(text[start:end].encode("utf-8")[:col_bytes].decode("utf-8", "ignore"))


def _insertion(text: str, offsets: list[int], call: ast.Call, pairs: list[tuple[str, str]]) -> tuple[int, int, str]:
    """Add keywords after the call's last argument, one per line when the call is laid out so."""
    last = (call.keywords[-1].value if call.keywords else call.args[-1]) if (call.keywords or call.args) else None
    if last is None or last.end_lineno is None:
        pos = _char(text, offsets, call.end_lineno or call.lineno, call.end_col_offset or 1) - 1  # before ")"
        return pos, pos, ", ".join(f"{k}={v}" for k, v in pairs)
    end = _char(text, offsets, last.end_lineno, last.end_col_offset or 0)
    multiline = (call.end_lineno or call.lineno) > call.lineno and call.keywords and call.keywords[-1].value.lineno != call.lineno
    if multiline:
        kw_line_start = offsets[call.keywords[-1].value.lineno - 1]
        indent = re.match(r"[ \t]*", text[kw_line_start:]).group(0)  # type: ignore[union-attr]
        trailing_comma = text[end:].lstrip(" \t").startswith(",")
        if trailing_comma:
            end = end + text[end:].index(",") + 1
            return end, end, "".join(f"\n{indent}{k}={v}," for k, v in pairs)
        return end, end, "".join(f",\n{indent}{k}={v}" for k, v in pairs)
    return end, end, "".join(f", {k}={v}" for k, v in pairs)


def _pack_length_unread(r: Reader, own: str) -> None:
    """A script that packs its own samples (own_packing) into sequences whose length it does not state where goblin
    reads it (no max_length / max_seq_length / model_max_length): the seq_len priced is an assumption that says nothing
    of the packs, which fill a block of the script's own size (review12a #17, THUDM/LongAlign main.py: `--batch_method
    pack` over rows a preprocessing script packed to 65536 tokens, priced at the assumed 1024). The seq_len's source says
    so (costmodel.PACK_LENGTH_UNREAD), and the length-bound decisions are not made on it (costmodel.pack_length_unread)."""
    src = r.sources.get("seq_len")
    if src is None or src.explicit:
        return
    said = f"{PACK_LENGTH_UNREAD} ({own.split('; goblin does not')[0]})"
    r.sources["seq_len"] = src.model_copy(update={"note": f"{said}; {src.note}" if src.note else said})


def _own_collator(text: str, path: Path) -> str | None:
    """Why the one trainer class the script builds packs nothing: it is given a collator of the repository's own
    (own_packing.script_collates_itself; review8b #36: sudy-super/coencoder_utils finetune_mn.py:469
    `data_collator=DataCollatorAssistantWithContext(tokenizer)`), so the default collator's padding is not the run's."""
    from .own_packing import script_collates_itself

    try:
        tree = parse_source(text)
    except SyntaxError:
        return None
    names = {
        n.func.id if isinstance(n.func, ast.Name) else n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, (ast.Name, ast.Attribute))
        and (n.func.id if isinstance(n.func, ast.Name) else n.func.attr).endswith("Trainer")
    }
    if len(names) != 1:
        return None
    trainer = names.pop()
    # a function or class the script defines, at the top or inside a function (small-ablation lora-llama3.py:222
    # `def collator(batch)` inside main(), review12b #26)
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))):
            continue
        for kw in node.keywords:
            if kw.arg != "data_collator" or not isinstance(kw.value, ast.Name) or kw.value.id in defined:
                continue
            # a variable: the script's own only where every value it is given is a call of a class or function the script defines
            bound = [n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == kw.value.id for t in n.targets)]
            if not bound or not all(isinstance(b, ast.Call) and isinstance(b.func, ast.Name) and b.func.id in defined for b in bound):
                return None
    why = script_collates_itself(tree, trainer, path.name)
    if why is None:
        from .spread_collator import spread_collator

        why = spread_collator(path, tree, trainer, path.name)
    return why


def _imported_padded_length(s: Script, path: Path, text: str, lit: Lit) -> None:
    """The sequence length a repository function the script imports and calls pads every sample to (its tokenizer call's
    literal `max_length=` beside `padding="max_length"`: own_packing.imported_padding, or the script's option the call
    passes it through, `max_length=args.block_size` with the script's `args`: review10a #16), set where that value is."""
    from .launched import imported_padding

    hit = imported_padding(str(path), text)
    if hit is None:
        return
    why, value, file, line, passed = hit
    if value is not None:
        s.values["max_length"] = value
        s.where["max_length"] = Location(None, line, file=file, fixed=f"set in {Path(file).name} line {line}: edit it there")
        s.notes.append(f"seq_len {value}: {why}, to max_length={value}")
        return
    if passed is None:
        return
    ok, read, loc = lit(passed)
    if ok and loc is not None and isinstance(read, int) and not isinstance(read, bool) and read > 0:
        s.values["max_length"], s.where["max_length"] = read, loc
        s.notes.append(f"seq_len {read}: {why}, to max_length=`{ast.unparse(passed)}` of the script ({read})")
