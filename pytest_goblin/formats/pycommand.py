"""The command line a Python script runs with (`CommandLine`): its argparse options, its HfArgumentParser /
TrlParser / H4ArgumentParser dataclass fields, python-fire and click entry points, read with the values the
repository's launch line passes (`launchers.find_script_launch`), else their declared defaults."""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import NotATrainingConfig
from ..redact import is_secret_name
from ..yamlio import learn_secrets
from . import pyclick
from .argedit import OptionSite
from .base import IN_LAUNCH_LINE
from .launchers import ScriptLaunch, find_script_launch
from .pyargs import ARGPARSE_AT, HF_PARSERS, Arg, Dataclass, argparse_options, convert, dataclasses_of, hf_parser_classes, unresolved
from .pyclasses import CONFIG_CLASSES, HF_ARGS, LIST_FIELDS
from .pyentry import _PARSE_CALLS, MAX_WRAPPERS
from .pyentry import is_parse as _is_parse
from .pyliteral import call_name, literal_value
from .pyscript import Location, Script

if TYPE_CHECKING:
    from .launched import RepoModules


# python-fire v0.7.1-3-g716bbc2 fire/core.py:873-918 (`--name=value`, `--name value`, hyphens read as underscores, a
# flag alone is True, `--noname` alone False) and fire/parser.py:59-76 (a value is a Python literal, else the word itself);
# re-read at v0.7.1 for review10b #36 (tloen/alpaca-lora `fire.Fire(train)`): core.py:867-870 (`--cutoff_len=512` splits
# at the first `=`), :876-877 and :914-916 (`--cutoff_len 512`: the next word is the value unless it is a flag),
# :790-791 and :806-808 (_ParseArgs: a parameter the command line does not name takes the signature's default)
FIRE_AT = "python-fire 0.7.1 fire/core.py:790-808, 867-918, fire/parser.py:59-76"


# transformers 5.25.0 transformers/hf_argparser.py:272-275,338,350-354 (parse_args_into_dataclasses: arguments no
# dataclass reads raise ValueError unless return_remaining_strings=True); 4.35.0 hf_argparser.py:265,331,347
HF_PARSE_AT = "transformers 5.25.0 transformers/hf_argparser.py:338,350-354; 4.35.0 hf_argparser.py:331,347"
# TrlParser.parse_args_and_config() passes the command line to parse_args_into_dataclasses with
# return_remaining_strings=False unless told otherwise (trl 1.16.0 trl/scripts/utils.py:303-307,345), so it stops the
# same way; read at that release only (TRL_PARSE_READ): older TrlParsers are not judged.
TRL_PARSE_AT = "trl 1.16.0 trl/scripts/utils.py:303-307,345"
TRL_PARSE_READ = "1.16.0"


def _keeps_remaining(call: ast.Call) -> bool:
    """Whether a parse call keeps unknown arguments (`return_remaining_strings=` anything but a literal False,
    or positionally: its second argument)."""
    kw = next((k.value for k in call.keywords if k.arg == "return_remaining_strings"), None)
    if kw is None:
        return len(call.args) >= 2 or any(k.arg is None for k in call.keywords)
    return not (isinstance(kw, ast.Constant) and kw.value is False)


def _fire_entry_points(tree: ast.Module) -> dict[str, set[int]]:
    """Module-level functions a `fire.Fire(fn)` / `Fire(fn)` call runs: name -> the function node's id.
    `fire.Fire()` without a function (every module name a command) is not read."""
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out: dict[str, set[int]] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and call_name(n.func) == "Fire" and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id in functions:
            out.setdefault(n.args[0].id, set()).add(id(functions[n.args[0].id]))
    return out


def _fire_parse(raw: str) -> Any:
    """A fire command-line value: a Python literal, else the word as written (FIRE_AT)."""
    try:
        return ast.literal_eval(raw)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return raw


def older_field(path: Path, text: str, config_class: str, key: str) -> tuple[bool, str] | None:
    """A field the newest release of the class lacks but an older one has (`args.max_seq_length = ...` on
    an SFTConfig, max_length from TRL 0.20; review2 s1 sft.py:68): (whether the release the repository
    runs reads it, that release and where it came from) from frameworks/history.py's key history; None
    when no release had it."""
    from ..frameworks import history

    dist = "transformers" if config_class in HF_ARGS else "trl"
    try:
        if not history.ever(dist, config_class, key):
            return None
        run = history.run_version(dist, history.pins(str(path), text).get(dist))
    except (KeyError, OSError, ValueError):
        return None
    if run is None:
        return False, f"{dist}: no release read satisfies the repository's pin"
    return history.present(dist, config_class, key, run.version) is True, f"{dist} {run.version}: {run.how}"


# alignment-handbook src/alignment/configs.py:91-101@227deaa H4ArgumentParser.parse(): one `.yaml` word -> parse_yaml_file;
# a `.yaml` word then `--key=value` words -> that file with those overrides (parse_yaml_and_args, :34-89); else
# parse_args_into_dataclasses()
H4_PARSE_AT = "alignment-handbook src/alignment/configs.py:91-101@227deaa (H4ArgumentParser.parse)"


def framework_aliases(tree: ast.Module) -> dict[str, str]:
    """`from transformers import TrainingArguments as HfTrainingArguments` -> {"HfTrainingArguments": "TrainingArguments"}:
    the framework classes a module imports under another name, so a class written `class TrainingArguments(HfTrainingArguments)`
    is read as the subclass of transformers' it is (review11b #34: ProLong training/trainer.py:73,235)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] in ("transformers", "trl"):
            out.update({a.asname: a.name for a in node.names if a.asname and a.asname != a.name})
    return out


Lit = Callable[[ast.expr], tuple[bool, Any, "Location | None"]]
# TRL's PPO/RLOO config base before 0.22 (trl v0.13.0 trl/trainer/utils.py:1003 `class OnPolicyConfig(TrainingArguments)`;
# v0.16.1 :979; v0.23.1 :699)
ONPOLICY = "OnPolicyConfig"
ONPOLICY_AT = "trl v0.13.0 trl/trainer/utils.py:1003"
# Set while `pycode.guard` reads an `if` test: a command-line attribute declared `default=None` is then known (None)
IN_TEST: ContextVar[bool] = ContextVar("goblin_if_test", default=False)


class CommandLine:
    """The script's argparse options and HfArgumentParser dataclasses, with what its launcher passes."""

    def __init__(self, path: Path, tree: ast.Module, consts: dict[str, tuple[Any, ast.expr]], s: Script):
        self.path = path
        self.tree = tree
        self.s = s
        self.notes: list[str] = []
        self.options = argparse_options(tree, consts)
        self.dcs = dataclasses_of(tree, consts)
        aliases = framework_aliases(tree)
        for dc in self.dcs.values():
            dc.bases = tuple(aliases.get(b, b) for b in dc.bases)
        self.parser_call, self.parser_names = hf_parser_classes(tree)
        self._imported_classes(tree)
        self.namespace_functions: dict[str, str] = {}  # function name -> where it parses the command line
        self._argument_functions(tree)
        # HfArgumentParser.parse_yaml_file / parse_json_file / parse_dict (transformers 4.36.2 hf_argparser.py:351-421)
        self.file_reads = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and call_name(n.func) in ("parse_yaml_file", "parse_json_file", "parse_dict")]
        self.argv_switched = _argv_switched(tree, self.file_reads)
        self.fields: dict[str, Arg] = {}
        self.config_class: str | None = None
        for n in self.parser_names:
            chain = self._chain(n)  # the class and its bases defined in the script, nearest first
            # a class the repository defines itself is never a framework class by name (review8b #32: TigerBot
            # train/train_sft.py:14 `class SFTConfig:` is its own dataclass, not TRL's): only its bases say
            own = bool(chain) and chain[0].name == n
            base = n if n in CONFIG_CLASSES and not own else next((b for dc in chain for b in dc.bases if b in CONFIG_CLASSES), None)
            self.config_class = self.config_class or base
            for dc in chain:
                for f, a in dc.fields.items():
                    self.fields.setdefault(f, a)  # a subclass's field overrides its base's
        self.fire = _fire_entry_points(tree)
        # (the wrapper's calls of this script's entry function, the function's name here, the wrapper's real path, as shown)
        self.wrapper: tuple[list[ast.Call], str, str, str] | None = None
        self.consts = consts
        self.click, why = pyclick.click_command(tree)
        if why:
            self.notes.append(why)
        self.launch = find_script_launch(path) if (self.options or self.parser_call is not None or self.fire or self.click) else None
        if self.launch is None and (self.options or self.parser_call is not None):
            self.launch = self._wrapper_launch()
        self.passed: dict[str, tuple[str | None, int]] = {}
        self.abbreviated: dict[str, str] = {}  # option -> the prefix the launch line wrote
        for flag, value, line in self.launch.flags if self.launch else ():
            self.passed.setdefault(flag, (value, line))
        if self.launch is not None:
            self._abbreviations(tree)
        if self.launch is not None:  # `--hub_token hf_...` on the launch line: never quoted by a report
            learn_secrets(Path(self.launch.file), [v for f, v, _ in self.launch.flags if v and is_secret_name(f.lstrip("-"))])
        # names an `args.x` may be read through: bound from a parse call, or a parameter (`def main(args)`);
        # a name bound only to something else (`cfg = load_yaml(...)`) is not the command line
        parsed: set[str] = set()
        other: set[str] = set()
        for stmt in ast.walk(tree):
            if isinstance(stmt, ast.Assign):
                names = {t.id for target in stmt.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
                call = stmt.value.value if isinstance(stmt.value, ast.Subscript) else stmt.value
                # `args = argparse.Namespace(**vars(model_args), **vars(training_args))` merges parsed values;
                # `args = get_args()`: a function (the script's own or imported from its repository) that returns them
                is_parse = isinstance(call, ast.Call) and (
                    _is_parse(call)
                    or (call_name(call.func) == "Namespace" and any(k.arg is None for k in call.keywords))
                    or (isinstance(call.func, ast.Name) and call.func.id in self.namespace_functions)
                )
                (parsed if is_parse else other).update(names)
        self.vars_names: set[str] = set()  # `cfg = vars(args)`: `cfg["x"]` reads the option x
        self.self_attrs: set[str] = set()  # `self.args = args`: `self.args.x` reads the option x
        self._follow_namespaces(tree, parsed, other)
        self.not_args = other - parsed - self.vars_names
        self.parsed = parsed
        self.reassigned = self._reassigned(tree)
        self.instances = self._dataclass_instances(tree, consts)
        if self.launch and self.launch.root_note:
            self.notes.append(self.launch.root_note)
        if self.launch:
            self.notes.extend(self.launch.notes)
        if self.launch and self.launch.others:
            self.notes.append(f"{self.launch.where()} runs this script; {self.launch.others} more launch line(s) do too, not read")
        s.launch = self.launch
        self.used: set[str] = set()
        self.defaults_noted = False

    def _repository(self, tree: ast.Module) -> tuple[RepoModules, Path] | None:
        """The script's repository as formats/launched.py reads it (its modules parsed on demand, inside
        the tree) and the script's real path; None when the script is outside the repository it is in."""
        from .launch_walk import config_tree
        from .launched import ParsedModule, RepoModules

        absolute = Path(os.path.abspath(self.path))
        roots, root, _how = config_tree(absolute)
        real = Path(os.path.realpath(absolute))
        if not real.is_relative_to(root):
            return None
        return RepoModules(ParsedModule(real, tree, os.path.relpath(real, root)), roots, root), real

    def _imported_classes(self, tree: ast.Module) -> None:
        """The parser's argument classes the script imports from its own repository (`from alignment
        import SFTConfig`, `from configs import ModelArguments`), followed as formats/launched.py does:
        their fields and defaults count like the script's own, each sourced in that file (not edited
        there: a default another file declares is changed by hand or on the launch line)."""
        missing = [n for n in self.parser_names if n not in self.dcs]
        if not missing:
            return
        found = self._repository(tree)
        if found is None:
            return
        repo, real = found
        for name in missing:
            for cls, mod in repo.chain(name, repo.script):
                if mod.path == real or cls.name in self.dcs:
                    continue
                dc = dataclasses_of(ast.Module(body=[cls], type_ignores=[]), {}).get(cls.name)
                if dc is None:
                    continue
                for a in dc.fields.values():
                    a.file, a.shown, a.default_node = str(mod.path), mod.shown, None
                aliases = framework_aliases(mod.tree)
                dc.bases = tuple(aliases.get(b, b) for b in dc.bases)
                self.dcs[cls.name] = dc

    def _wrapper_launch(self) -> ScriptLaunch | None:
        """The launch line of a wrapper that runs this script's entry function (LLaVA-style `train_mem.py`:
        `from smolvlm.train.train import train` then `train()`), when no line runs the script itself: the
        wrapper's command-line words reach the script's parser unchanged (sys.argv is the process's). A
        wrapper is a Python file of the script's folder or its parent (at most MAX_WRAPPERS read, through
        safepath; nothing imported or run) that imports a name from a module whose dotted path is this file's
        path tail (`smolvlm/train/train.py`; a bare `from train import ...` only beside it), calls it, and
        parses no command line of its own."""
        from .pyentry import entry_wrappers

        for w in entry_wrappers(self.path, MAX_WRAPPERS):
            launch = find_script_launch(w.file)
            if launch is not None:
                self.notes.append(
                    f"run through {w.shown}, which imports and calls this script's entry point; {launch.where()} launches it"
                    " and its words reach this script's parser (the process's sys.argv)"
                )
                self.wrapper = (w.calls, w.entry, str(w.file), w.shown) if w.calls else None
                return launch
        return None

    def _argument_functions(self, tree: ast.Module) -> None:
        """Functions the script calls that define or parse its command line: its own `def get_args():
        ... return parser.parse_args()`, and one imported from its repository (`from src.args import
        default_args`, `from .arguments import parse_args`), read statically like `_imported_classes`
        (bounded, through safepath; nothing imported or run). The `add_argument` options such a function
        declares count as the script's own (the script's win), sourced and left to edit in that file;
        a function that returns the parsed namespace makes the names bound to its call the command line."""
        called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        local = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names} - set(local)
        for name in sorted(called & set(local)):
            if _returns_parsed(local[name]):
                self.namespace_functions[name] = f"{name}() (line {local[name].lineno})"
        wanted = sorted(called & imported)
        if not wanted:
            return
        found = self._repository(tree)
        if found is None:
            return
        repo, real = found
        for name in wanted[:16]:
            hit = repo.find_function(name, repo.script)
            if hit is None or hit[1].path == real:
                continue
            fn, mod = hit
            options = argparse_options(ast.Module(body=[fn], type_ignores=[]), {})
            for a in options.values():
                a.file, a.shown, a.default_node = str(mod.path), mod.shown, None
                self.options.setdefault(a.dest, a)
            if _returns_parsed(fn):
                self.namespace_functions[name] = f"{name}() ({mod.shown}:{fn.lineno})"
            if options:
                self.notes.append(f"the command-line options of {name}() are read from {mod.shown}:{fn.lineno} (imported by the script; not run)")

    def _follow_namespaces(self, tree: ast.Module, parsed: set[str], other: set[str]) -> None:
        """The parsed namespace under other names, as the script passes it on: `cfg = args` (a name
        bound to a namespace), `cfg = vars(args)` (`cfg["x"]`), `self.args = args` (`self.args.x`), and
        a parameter of a function or class that every call in the script gives a namespace
        (`def train(args)` called `train(args)`, `ORPO(args=args)` -> `__init__(self, args)`)."""
        functions: dict[str, list[ast.FunctionDef]] = {}
        for n in ast.walk(tree):
            if isinstance(n, ast.FunctionDef):
                functions.setdefault(n.name, []).append(n)
            elif isinstance(n, ast.ClassDef):
                init = next((b for b in n.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
                if init is not None:
                    functions.setdefault(n.name, []).append(init)
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions]
        assigns = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1]
        for _round in range(4):
            before = (len(parsed), len(self.vars_names), len(self.self_attrs))
            for a in assigns:
                target, value = a.targets[0], a.value
                if isinstance(value, ast.Name) and value.id in parsed:
                    if isinstance(target, ast.Name):
                        parsed.add(target.id)
                    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                        self.self_attrs.add(target.attr)
                elif (
                    isinstance(target, ast.Name)
                    and isinstance(value, ast.Call)
                    and call_name(value.func) == "vars"
                    and len(value.args) == 1
                    and isinstance(value.args[0], ast.Name)
                    and value.args[0].id in parsed
                ):
                    self.vars_names.add(target.id)
            given: dict[tuple[int, str], list[bool]] = {}  # (function id, parameter) -> per call: a namespace?

            def namespace(x: ast.expr) -> bool:
                # a name bound to it, or the parse call in place: `main(parse_args())`, `train(parser.parse_args())`
                # (review10a #17 LazarusNLP run_sft_instruct_qlora.py:165), the same namespace a binding would hold
                if isinstance(x, ast.Name):
                    return x.id in parsed
                return isinstance(x, ast.Call) and (_is_parse(x) or (isinstance(x.func, ast.Name) and x.func.id in self.namespace_functions))

            for c in calls:
                for fn in functions[call_name(c.func)]:
                    positional = [p.arg for p in [*fn.args.posonlyargs, *fn.args.args]]
                    if positional and positional[0] in ("self", "cls") and fn.name == "__init__":
                        positional = positional[1:]
                    for i, x in enumerate(c.args):
                        if i < len(positional) and not isinstance(x, ast.Starred):
                            given.setdefault((id(fn), positional[i]), []).append(namespace(x))
                    for k in c.keywords:
                        if k.arg is not None:
                            given.setdefault((id(fn), k.arg), []).append(namespace(k.value))
            for (_fid, param), flags in given.items():
                if flags and all(flags):
                    parsed.add(param)
            if (len(parsed), len(self.vars_names), len(self.self_attrs)) == before:
                break

    def _reassigned(self, tree: ast.Module) -> dict[str, int]:
        """Options the script sets again on the parsed namespace (`args.batch_size = 8`, `args.max_length += 1`,
        `setattr(args, "max_length", n)`, `self.args.x = ...`): option -> the first such line. The run has what
        that code computes, not the launch line's word nor the declared default."""
        out: dict[str, int] = {}

        def holder(node: ast.expr) -> bool:
            if isinstance(node, ast.Name):
                return node.id in self.parsed
            return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr in self.self_attrs

        for n in ast.walk(tree):
            targets: list[ast.AST] = []
            if isinstance(n, ast.Assign):
                targets = [t for target in n.targets for t in ast.walk(target)]
            elif isinstance(n, (ast.AugAssign, ast.AnnAssign)):
                targets = [n.target]
            elif isinstance(n, ast.Call) and call_name(n.func) == "setattr" and len(n.args) == 3 and holder(n.args[0]):
                key = n.args[1]
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    out.setdefault(key.value, n.lineno)
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.ctx, ast.Store) and holder(t.value):
                    out[t.attr] = min(out.get(t.attr, t.lineno), t.lineno)
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in self.vars_names:
                        if isinstance(t.slice, ast.Constant) and isinstance(t.slice.value, str):
                            out[t.slice.value] = min(out.get(t.slice.value, t.lineno), t.lineno)
        return out

    def _dataclass_instances(self, tree: ast.Module, consts: dict[str, tuple[Any, ast.expr]]) -> dict[str, tuple[Dataclass, ast.Call]]:
        """`cfg = TrainConfig(lr=1e-4)` of a `@dataclass` the script defines: name -> (its fields, the call), when
        the name is bound only there (a settings object read as `cfg.batch_size`: the call's literal keyword,
        else the field's default; dataclasses' generated __init__ takes the fields as keywords, CPython 3.11.7
        Lib/dataclasses.py _init_fn)."""
        decorated = {
            n.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ClassDef) and any(call_name(d.func if isinstance(d, ast.Call) else d) == "dataclass" for d in n.decorator_list)
        }
        bound: dict[str, list[ast.expr]] = {}
        for n in ast.walk(tree):
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    for name in (x.id for x in ast.walk(t) if isinstance(x, ast.Name)):
                        bound.setdefault(name, []).append(n.value if isinstance(t, ast.Name) else t)
        out: dict[str, tuple[Dataclass, ast.Call]] = {}
        for name, values in bound.items():
            if len(values) != 1 or name in self.parsed:
                continue
            v = values[0]
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in decorated and v.func.id in self.dcs and not v.args:
                if any(k.arg is None for k in v.keywords):
                    continue  # `Cls(**kwargs)`: the values come from elsewhere
                out[name] = (self.dcs[v.func.id], v)
        return out

    def _instance_field(self, base: str, attr: str) -> tuple[bool, Any, Location | None] | None:
        dc, call = self.instances[base]
        kw = next((k.value for k in call.keywords if k.arg == attr), None)
        if kw is not None:
            try:
                value = ast.literal_eval(kw)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return None
            return True, value, Location(kw, kw.lineno)
        arg = next((a for d in self._chain(dc.name) for f, a in d.fields.items() if f == attr), None)
        if arg is None or not arg.has_default or arg.default is None:
            return None
        if arg.default_node is not None and isinstance(arg.default_node, ast.Constant):
            return True, arg.default, Location(arg.default_node, arg.default_node.lineno)
        return True, arg.default, Location(None, arg.line, fixed=f"`{attr}` is the default of {dc.name} (line {arg.line}); change it there by hand")

    def namespace_read(self, node: ast.expr) -> tuple[bool, Any, Location | None] | None:
        """`self.args.x`, `cfg["x"]` (cfg = vars(args)) and `getattr(args, "x", default)`: the option x as the
        run has it (getattr's default where the script declares no option x); None otherwise."""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) in (2, 3)
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            holder, attr = node.args[0], node.args[1].value
            if isinstance(holder, ast.Name) and holder.id in self.parsed:
                found = self.attribute(holder.id, attr)
                if found is not None:
                    return found
                if len(node.args) == 3 and attr not in self.options and attr not in self.fields:
                    try:
                        return True, ast.literal_eval(node.args[2]), Location(node.args[2], node.args[2].lineno)
                    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                        return None
            return None
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "self"
            and node.value.attr in self.self_attrs
        ):
            return self.attribute(f"self.{node.value.attr}", node.attr)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id in self.vars_names
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            return self.attribute(node.value.id, node.slice.value)
        return None

    def _abbreviations(self, tree: ast.Module) -> None:
        """argparse reads a unique prefix of a long option as that option (`--use_liger` sets
        `--use_liger_kernel`): allow_abbrev defaults to True (CPython 3.11.7 Lib/argparse.py:1749) and a
        `--` word that is no option is matched against every option string that starts with it, one
        match taken, several an error (:2239 exact first, :2255-2270, :2294-2301). HfArgumentParser is an
        ArgumentParser that passes its keywords on (transformers 5.25.0 hf_argparser.py:111, 128-138),
        TrlParser an HfArgumentParser (trl 0.11.4 commands/cli_utils.py:200, 214; trl 1.10.0.dev0
        scripts/utils.py:234, 282-300). A parser built with allow_abbrev=False reads no prefix."""
        assert self.launch is not None
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and call_name(n.func) in ("ArgumentParser", *HF_PARSERS):
                if any(k.arg == "allow_abbrev" and not (isinstance(k.value, ast.Constant) and k.value.value is True) for k in n.keywords):
                    return
        strings: set[str] = set()
        for a in self.options.values():
            strings.update(a.flags, a.negated_by)
        unread: list[str] = []
        if self.parser_call is not None:
            fields: dict[str, Any] = {f: a.default for f, a in self.fields.items()}
            for pname in self.parser_names:
                chain = self._chain(pname)
                tail = [pname] if not chain else [b for dc in chain for b in dc.bases if b not in self.dcs]
                for cls in tail:
                    found = self.framework_defaults(cls)
                    if found:
                        for k, v in found.items():
                            fields.setdefault(k, v)
                    elif cls != "object":
                        unread.append(cls)
            for f, default in fields.items():
                strings.update({f"--{f}", f"--{f.replace('_', '-')}"})  # transformers 5.x also takes the dashed name
                if default is True:
                    strings.update({f"--no_{f}", f"--no-{f.replace('_', '-')}"})
            strings.add("--config")  # TrlParser's own option
        for flag, (value, line) in list(self.passed.items()):
            if not flag.startswith("--") or flag in strings:
                continue
            matches = sorted(s for s in strings if s.startswith(flag))
            if len(matches) != 1:
                continue
            if matches[0] in self.passed:  # both written: the one later on the line wins, which goblin does not track
                del self.passed[flag], self.passed[matches[0]]
                self.notes.append(f"`{flag}` and `{matches[0]}` both set `{matches[0]}` at {self.launch.where(line)}; not read")
                continue
            del self.passed[flag]
            self.passed[matches[0]] = (value, line)
            self.abbreviated[matches[0]] = flag
            self.notes.append(
                f"`{flag}` at {self.launch.where(line)} is argparse's abbreviation of `{matches[0]}`, its only option starting so "
                f"({ARGPARSE_AT}:2255-2270, 2294-2301)"
                + (f"; the fields of {', '.join(unread)} (not in goblin's tables) were not checked for another match" if unread else "")
            )

    def _chain(self, name: str) -> list[Dataclass]:
        out: list[Dataclass] = []
        todo = [name]
        while todo and len(out) < 16:
            dc = self.dcs.get(todo.pop(0))
            if dc is not None and dc not in out:
                out.append(dc)
                todo.extend(dc.bases)
        return out

    def attribute(self, base: str, attr: str) -> tuple[bool, Any, Location | None] | None:
        if base in self.instances:
            return self._instance_field(base, attr)
        if base in self.not_args:
            return None
        arg = self.options.get(attr) or self.fields.get(attr)
        if arg is None:
            return self._framework_field(attr)
        if attr in self.reassigned and arg.origin != "dataclass":
            # review10a #17 must-not-fire: the script sets the option again after parsing it
            note = f"`{base}.{attr}` is set again at line {self.reassigned[attr]} after the command line is parsed: computed at run time; not read"
            if note not in self.notes:
                self.notes.append(note)
            return False, None, None
        if self.launch is None and not self.defaults_noted:
            self.defaults_noted = True
            from .launchers import script_misses

            misses = script_misses(self.path)
            tried = f" (lines that run a file of its name name another: {'; '.join(misses)})" if misses else ""
            self.notes.append(f"the script's command-line defaults are read as its values: no launch line in its repository runs it{tried}")
        return self.value_of(arg)

    def _framework_field(self, attr: str) -> tuple[bool, Any, Location | None] | None:
        """`training_args.per_device_train_batch_size` where the parser's class is the framework's own
        (TrainingArguments, TRL's ModelConfig/SFTConfig: not declared in the script): the launch line's
        `--attr value`, typed by the field's default as HfArgumentParser types it; None when the launch
        line does not pass it (the framework default the adapter assumes applies)."""
        if self.parser_call is None or self.launch is None:
            return None
        known = self._framework_defaults()
        if attr not in known:
            return None
        hit = next(((f, *self.passed[f]) for f in (f"--{attr}", f"--{attr.replace('_', '-')}") if f in self.passed), None)
        if hit is None:
            return None
        flag, raw, line = hit
        written = f"`{flag}{'' if raw is None else ' ' + raw}`"
        where = self.launch.where(line)
        if raw is None:
            if not (isinstance(known[attr], bool) or known[attr] is None):
                return None
            value: Any = True
        elif unresolved(raw):
            self.notes.append(f"{written} at {where}: the value is not set in that file; not read")
            return False, None, None
        elif flag in self.launch.lists and attr in LIST_FIELDS:
            # `--lora_target_modules q_proj k_proj ...`: a list field (nargs="+", pyargs.flag_lists), every word its value
            value = list(self.launch.lists[flag])
            written = f"`{flag} {' '.join(value)}`"
        else:
            value = typed_word(raw, known[attr])
            if value is None:
                return None
        return True, value, Location(None, line, file=self.launch.file, fixed=f"{written} is passed by {where}: change it {IN_LAUNCH_LINE}")

    def fire_value(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, arg: ast.arg) -> tuple[bool, Any, Location | None] | None:
        """A parameter of a function `fire.Fire(fn)` runs: the launch line's `--name value` / `--name=value` /
        `--name` alone (True) / `--noname` (False), hyphens read as underscores, the value a Python literal
        else the word as a string (FIRE_AT); else the keyword default written in the signature (an edit
        point of the script). None when `fn` is not a fire entry point."""
        if fn.name not in self.fire or id(fn) not in self.fire[fn.name]:
            return None
        key = arg.arg
        hit: tuple[str, str | None, int] | None = None
        for flag, (raw, line) in self.passed.items() if self.launch else ():
            name = flag.lstrip("-").replace("-", "_")
            if name == key or (raw is None and name == "no" + key):
                hit = (flag, raw, line)
        if hit is not None and self.launch is not None:
            flag, raw, line = hit
            self.used.add(flag)
            written = f"`{flag}{'' if raw is None else ' ' + raw}`"
            where = self.launch.where(line)
            value: Any
            if raw is None:
                value = flag.lstrip("-").replace("-", "_") == key
            elif unresolved(raw):
                self.notes.append(f"{written} at {where}: the value is not set in that file; not read")
                return False, None, None
            else:
                value = _fire_parse(raw)
            return True, value, Location(None, line, file=self.launch.file, fixed=f"{written} is passed by {where}: change it {IN_LAUNCH_LINE}")
        a = fn.args
        default: ast.expr | None = None
        positional = [*a.posonlyargs, *a.args]
        if arg in positional:
            i = positional.index(arg) - (len(positional) - len(a.defaults))
            default = a.defaults[i] if i >= 0 else None
        elif arg in a.kwonlyargs:
            default = a.kw_defaults[a.kwonlyargs.index(arg)]
        if default is None:
            self.notes.append(
                f"`{key}` of {fn.name}() (line {fn.lineno}, run by fire.Fire) has no default" + (" and its launch line does not pass it" if self.launch else "")
            )
            return False, None, None
        try:
            value = ast.literal_eval(default)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False, None, None
        return True, value, Location(default, default.lineno)

    def entry_value(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, arg: ast.arg) -> tuple[bool, Any, Location | None] | None:
        """A parameter's value from the command line: a fire entry point's, else a click command's (or of the
        function the command hands its `**kwargs` to); None when `fn` takes none from the command line."""
        fired = self.fire_value(fn, arg)
        if fired is None:
            fired = self.click_value(fn, arg)
        if fired is None and self.wrapper is not None and fn in self.tree.body:
            from .pywrapper import wrapper_argument

            fired = wrapper_argument(self.wrapper, fn, arg)
        return fired

    def click_value(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, arg: ast.arg) -> tuple[bool, Any, Location | None] | None:
        """A parameter filled by a click option (pyclick.py, CLICK_AT): of the command function, or of the one
        function it calls with its `**kwargs` unchanged. The launch line's last `--opt value` (every one for
        multiple=True; `--x` True / `--no-x` False for a flag), else the option's default; unknown (with a note)
        when the value is a variable the launcher sets at run time, a word of the line is such a variable (it may
        pass the option), or the default is code goblin does not evaluate. None when no click option fills it."""
        if self.click is None:
            return None
        if fn is not self.click.fn and not pyclick.forwarded(self.tree, self.click, fn):
            return None
        opt = self.click.params.get(arg.arg)
        if opt is None:
            return None
        said = f"click option `{(opt.opts or (opt.name,))[0]}` (line {opt.line})"
        hits = [(f, v, line) for f, v, line in (self.launch.flags if self.launch and not opt.argument else ()) if f in opt.opts or f in opt.secondary]
        if hits and self.launch is not None:
            flag, raw, line = hits[-1]
            self.used.update(f for f, _, _ in hits)
            where = self.launch.where(line)
            value: Any
            if opt.is_flag:
                value, written = flag in opt.opts, f"`{flag}`"
            else:
                written = f"`{flag}{'' if raw is None else ' ' + raw}`"
                words = [v for _, v, _ in hits] if opt.multiple else [raw]
                if any(w is None or unresolved(w) for w in words):
                    self.notes.append(f"{written} at {where} for the {said}: the value is set at run time; not read")
                    return False, None, None
                read = [pyclick.convert_word(w, opt.kind) for w in words if w is not None]
                if not all(ok for ok, _ in read):
                    self.notes.append(f"{written} at {where} for the {said}: not read as {opt.kind or 'its type'}")
                    return False, None, None
                value = [v for _, v in read] if opt.multiple else read[0][1]
            return True, value, Location(None, line, file=self.launch.file, fixed=f"{written} is passed by {where}: change it {IN_LAUNCH_LINE}")
        loose = [w for w, _ in (self.launch.loose if self.launch else ()) if unresolved(w)]
        if loose and self.launch is not None:
            # `{bf16_flag}` that the launcher sets only to "--bf16 false" / "--bf16 true": it cannot pass `--gradient-checkpointing`
            source = pyclick.launcher_source(Path(self.launch.file))
            loose = [w for w in loose if (values := pyclick.word_values(w, source)) is None or pyclick.may_pass(values, opt)]
        if loose and self.launch is not None:
            values = pyclick.word_values(loose[0], source)
            takes = f" (the launcher sets it to {' or '.join(f'`{v}`' for v in values)} by code goblin does not evaluate)" if values else ""
            self.notes.append(
                f"the {said} is not written on the launch line at {self.launch.where()}, but its word `{loose[0]}` is set at run time"
                f"{takes} and may pass it; not read"
            )
            return False, None, None
        if opt.default is None:
            if opt.is_flag and opt.kind == "bool" and not opt.required:
                return True, False, Location(None, opt.line, fixed=f"the {said} is a flag the launch line does not pass: False ({pyclick.CLICK_AT})")
            if opt.multiple:
                return True, [], Location(None, opt.line, fixed=f"the {said} is not passed: an empty list")
            self.notes.append(f"the {said} has no default" + (" and its launch line does not pass it" if self.launch else "") + "; not read")
            return False, None, None
        ok, value, node = literal_value(opt.default, self.consts)
        if not ok:
            self.notes.append(f"the default `{ast.unparse(opt.default)[:60]}` of the {said} is computed by code; not read")
            return False, None, None
        return True, value, Location(node, node.lineno)

    def _passed(self, arg: Arg) -> tuple[str, str | None, int] | None:
        dashed = tuple(f"--{arg.dest.replace('_', '-')}" for _ in (1,) if arg.origin == "dataclass" and "_" in arg.dest)
        for flag in (*arg.flags, *dashed, *arg.negated_by):
            if flag in self.passed:
                self.used.add(flag)
                return flag, *self.passed[flag]
        return None

    def value_of(self, arg: Arg) -> tuple[bool, Any, Location | None]:
        """The attribute's value as the run has it: the launcher's word, else the declared default; its place
        carries the option (`Location.option`) so an edit is offered only as the option can take it."""
        ok, value, loc = self._value_of(arg)
        if ok and loc is not None:
            loc.option = self._site(arg, value)
        return ok, value, loc

    def _site(self, arg: Arg, value: Any) -> OptionSite:
        hit = self._passed(arg) if self.launch else None
        passed = None
        if hit is not None and self.launch is not None:
            flag, raw, line = hit
            passed = (self.abbreviated.get(flag, flag), raw, self.launch.where(line))
        script = arg.shown if arg.file and arg.shown else self.path.name
        return OptionSite(arg=arg, value=value, script=script, launch=self.launch.where() if self.launch else None, passed=passed)

    def _value_of(self, arg: Arg) -> tuple[bool, Any, Location | None]:
        hit = self._passed(arg) if self.launch else None
        if hit is not None and self.launch is not None:
            flag, raw, line = hit
            written = f"`{self.abbreviated.get(flag, flag)}{'' if raw is None else ' ' + raw}`"
            where = self.launch.where(line)
            value: Any
            if flag in arg.negated_by:
                value = False
            elif arg.action in ("store_true", "store_false", "store_const"):
                value = arg.const
            elif arg.action == "BooleanOptionalAction":
                value = True  # `--x` stores True, `--no-x` False (argedit.BOOLEAN_OPTIONAL_AT)
            elif raw is None:
                if arg.type_name != "string_to_bool":
                    self.notes.append(f"{written} at {where} has no value; not read")
                    return False, None, None
                value = True  # HfArgumentParser: a bool flag alone is True (nargs="?", const=True)
            elif unresolved(raw):
                self.notes.append(f"{written} at {where}: the value is not set in that file; not read")
                return False, None, None
            else:
                ok, value, why = convert(arg, raw)
                if not ok:
                    self.notes.append(f"{written} at {where}: {why}; not read")
                    return False, None, None
            if arg.choices is not None and value not in arg.choices:
                self.notes.append(
                    f"{written} at {where} is not one of the choices of `{arg.flags[0]}` (line {arg.line}): argparse stops there ({ARGPARSE_AT}:2547-2553); not read"
                )
                return False, None, None
            return True, value, Location(None, line, file=self.launch.file, fixed=f"{written} is passed by {where}: change it {IN_LAUNCH_LINE}")
        at = f"{arg.shown}:{arg.line}" if arg.file else f"line {arg.line}"
        if IN_TEST.get() and arg.has_default and isinstance(arg.default_node, ast.Constant) and arg.default_node.value is None:
            # an `if` test only (`if training_args.peft_path is not None:`): the declared `default=None` is the
            # attribute's value when the launch line does not pass it (review5 #29); never a value of a setting
            return True, None, Location(None if arg.file else arg.default_node, arg.line, file=arg.file)
        if not arg.has_default or arg.default is None:
            empty = arg.has_default and isinstance(arg.default_node, ast.Constant)  # `default=None`: an `if` test reads it (IN_TEST)
            said = "is declared without a value (an empty default)" if empty else "has no default"
            self.notes.append(f"`{arg.flags[0]}` ({at}) {said}" + (" and its launch line does not pass it" if self.launch else ""))
            return False, None, None
        if arg.file is not None:  # a field of an argument class in another file of the repository
            not_passed = f", which {self.launch.where()} does not pass" if self.launch else ""
            return (
                True,
                arg.default,
                Location(
                    None,
                    arg.line,
                    file=arg.file,
                    fixed=f"`{arg.dest}` takes its default `{arg.default}` at {at}{not_passed}; pass it where the script is launched, or change it there by hand",
                ),
            )
        node = arg.default_node
        if isinstance(node, (ast.Constant, ast.Attribute)) and arg.action not in ("store_true", "store_false", "store_const", "BooleanOptionalAction"):
            return True, arg.default, Location(node, node.lineno)
        why = f"`{arg.flags[0]}` is a {arg.action or 'computed'} option (line {arg.line})"
        if self.launch:
            why += f" that {self.launch.where()} does not pass"
        return True, arg.default, Location(None, arg.line, fixed=f"{why}; pass it where the script is launched, or change the script by hand")

    def _why_no_config(self) -> str:
        """Why a file that names a config class is not a training config goblin reads, as true as the
        file shows it: it only defines argument classes, or its parser parses none of the trainer's."""
        defined = [
            f"{n.name} (line {n.lineno})"
            for n in ast.walk(self.tree)
            if isinstance(n, ast.ClassDef) and (n.name in CONFIG_CLASSES or any(call_name(b) in CONFIG_CLASSES for b in n.bases))
        ]
        if self.parser_call is not None and self.config_class is None:
            onpolicy = self._onpolicy_subclass()
            if onpolicy is not None:
                return onpolicy
            unresolved = self._unresolved_parser_name()
            if unresolved is not None:
                return unresolved
            given = ", ".join(self.parser_names) or "classes goblin cannot name"
            return (
                f"its {call_name(self.parser_call.func)} (line {self.parser_call.lineno}) parses {given}, none of them TrainingArguments"
                " or a TRL config (nor a subclass the script defines): it builds no training config goblin reads"
            )
        if defined and self.parser_call is None:
            return (
                f"it defines argument classes ({', '.join(defined[:4])}) but builds and parses none: the script that imports and"
                " parses them is what runs (goblin reads that script, or the YAML its launch line passes)"
            )
        return "a Python file without a TrainingArguments or TRL config call"

    def _passed_file(self, ref: str) -> str:
        """What becomes of the config file the launch line passes: audited as its own item where it is a file of the
        repository; else said as a placeholder to fill in (`recipes/xxxx.yaml`) or as a path that names no file of the
        repository from where the line runs (`cd src` then `poer/recipes/grpo_7b.yaml`; blind review 15b #26, #27)."""
        from .launch_line import placeholder
        from .launch_naming import resolve_relative
        from .launch_walk import config_tree

        assert self.launch is not None
        if "$" in ref:
            return f"{ref} is set at run time, so the file is not known and there are no values to read"
        if placeholder(ref):
            return f"{ref} is a placeholder for a file to supply, not a file of the repository: there are no values to read"
        _roots, root, _how = config_tree(Path(os.path.abspath(self.path)))
        launcher = Path(os.path.realpath(self.launch.file))
        found = None
        if launcher.is_relative_to(root) and not os.path.isabs(ref):
            found, tried = resolve_relative(ref, launcher.parent, root, self.launch.cwd)
        else:
            tried = []
            found = Path(ref) if os.path.isabs(ref) and Path(ref).is_file() and Path(os.path.realpath(ref)).is_relative_to(root) else None
        if found is not None and found.is_relative_to(root):
            return "goblin audits that file as its own item"
        folders = ", ".join(f"{os.path.relpath(t, root)}/" if t != root else "the root/" for t in tried[:4])
        looked = f" (looked up from {folders})" if folders else ""
        return f"{ref} is not a file of the repository{looked}: the path names no file there, so there are no values to read"

    def _unresolved_parser_name(self) -> str | None:
        """The parser is given a name the script binds (`TrlParser(dataclass_types)`) to other than one tuple or list of
        classes goblin reads (pyargs.hf_parser_classes): said as such, not as classes that are no training config."""
        assert self.parser_call is not None
        first = self.parser_call.args[0] if self.parser_call.args else next((k.value for k in self.parser_call.keywords if k.arg == "dataclass_types"), None)
        if not isinstance(first, ast.Name):
            return None
        lines = sorted(
            {
                n.lineno
                for n in ast.walk(self.tree)
                if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign))
                and any(isinstance(t, ast.Name) and t.id == first.id for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))
            }
        )
        if not lines:
            return None
        return (
            f"its {call_name(self.parser_call.func)} (line {self.parser_call.lineno}) parses `{first.id}`, bound at line"
            f"{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:6]))}, which goblin does not read as one tuple or list of"
            " classes: which training config it builds is not read"
        )

    def _onpolicy_subclass(self) -> str | None:
        """Why a parser class that subclasses TRL's OnPolicyConfig is not audited (review13a #18: HuatuoGPT-o1
        ppo_utils/ppo_config_medo1.py:19-23 `class PPOConfig(OnPolicyConfig)` from trl.trainer.utils). OnPolicyConfig is
        the TrainingArguments subclass TRL's PPO and RLOO trainers of 0.11-0.21 take (trl v0.13.0 trl/trainer/utils.py:1003
        `class OnPolicyConfig(TrainingArguments)`, v0.16.1 :979, v0.23.1 :699): a PPO step generates completions inside
        training and runs policy, reference, value and reward models, which goblin's cost model does not project (it models
        RLOO's OnPolicyConfig trainer only, rollout_onpolicy). None when no parser class reaches it."""
        if self.parser_call is None:
            return None
        found = self._repository(self.tree)
        if found is None:
            return None
        repo, _real = found
        for name in self.parser_names:
            for cls, mod in repo.chain(name, repo.script):
                for b in cls.bases:
                    base = b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                    if base == ONPOLICY and repo.find(base, mod) is None:
                        return (
                            f"its {call_name(self.parser_call.func)} (line {self.parser_call.lineno}) parses {name}, which "
                            f"{mod.shown}:{cls.lineno} defines as a subclass of TRL's {ONPOLICY} (the TrainingArguments subclass "
                            f"of TRL's PPO and RLOO trainers before 0.22, {ONPOLICY_AT}): a PPO-style run generates its "
                            "completions inside each step beside its policy, reference, value and reward models, and goblin "
                            "projects no generation/training split for it, so it audits nothing here rather than price it as "
                            "supervised training (inconclusive)"
                        )
        return None

    def _framework_defaults(self) -> dict[str, Any]:
        return self.framework_defaults(*self.parser_names, self.config_class or "")

    @staticmethod
    def framework_defaults(*classes: str) -> dict[str, Any]:
        """Field -> default of the named framework classes (TrainingArguments, SFTConfig, ModelConfig, ...)."""
        from ..frameworks import tables

        out: dict[str, Any] = {}
        for n in classes:
            for framework in ("transformers", "trl"):
                try:
                    found = tables.class_fields(framework, n)
                except Exception:  # a class the tables do not hold
                    continue
                for k, v in found.items():
                    out.setdefault(k, v.get("default") if isinstance(v, dict) else None)
        return out

    def from_parser(self) -> None:
        """HfArgumentParser / TrlParser: each `--key value` of the launcher sets that dataclass field."""
        s, path = self.s, str(self.path)
        if self.parser_call is None or self.config_class is None:
            raise NotATrainingConfig(path, self._why_no_config())
        pname, pline = call_name(self.parser_call.func), self.parser_call.lineno
        launch = self.launch
        # a file read the script takes only when its command line is one file name (`if len(sys.argv) == 2 and
        # sys.argv[1].endswith(".json")`, else parse_args_into_dataclasses()): a launch line with flags takes the other branch
        from_file = next((n for n in self.file_reads if id(n) not in self.argv_switched), None)
        if from_file is not None and (launch is None or not launch.flags):
            given = from_file.args[0] if from_file.args else None
            named = given.value if isinstance(given, ast.Constant) and isinstance(given.value, str) else None
            read = call_name(from_file.func)
            source = (
                f"from {named}"
                if named is not None and read != "parse_dict"
                else "from a dict the script builds"
                if read == "parse_dict"
                else "from a file named at run time"
            )
            raise NotATrainingConfig(
                path,
                f"its {self.config_class} is read by `{read}(...)` (line {from_file.lineno}) {source}; goblin audits such YAML/JSON files as their own items",
            )
        if launch is None:
            from .launch_walk import searched
            from .launchers import script_misses, variable_launches

            how = "the command line (or the YAML its `--config` names)" if pname == "TrlParser" else "the command line"
            misses = script_misses(path)
            tried = f"; lines that run a file of its name name another: {'; '.join(misses)}" if misses else ""
            held = variable_launches(path)
            if held:
                # review11b #34 (ProLong train_64K.sh:86): the launch is there, in a form goblin does not expand
                raise NotATrainingConfig(
                    path,
                    f"its {self.config_class} comes from {how} through {pname} (line {pline}); the launchers that run it build the"
                    f" command in a shell variable ({'; '.join(held)}), which goblin does not expand, so it has no launch line's"
                    " values to read",
                )
            raise NotATrainingConfig(
                path,
                f"its {self.config_class} comes from {how} through {pname} (line {pline}), and no launch line in its repository"
                f" runs it ({searched(path)}{tried}): there are no values to read",
            )
        if pname == "H4ArgumentParser" and launch.files and launch.files[0].endswith(".yaml"):
            overrides = f" with the launch line's {len(launch.flags)} `--key=value` override(s)" if launch.flags else ""
            raise NotATrainingConfig(
                path,
                f"its {self.config_class} is read by H4ArgumentParser.parse() from {launch.files[0]}{overrides}, passed by {launch.where()}"
                f" ({H4_PARSE_AT}); {self._passed_file(launch.files[0])}",
            )
        config_file = self.passed.get("--config", (None, 0))[0] if pname == "TrlParser" else None
        if config_file or (not launch.flags and launch.files):
            ref = config_file or launch.files[0]
            raise NotATrainingConfig(path, f"its {self.config_class} is read from {ref}, passed by {launch.where()}; {self._passed_file(ref)}")
        s.config_class, s.parser_call = self.config_class, self.parser_call
        parses = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call) and call_name(n.func) in _PARSE_CALLS]
        if parses and all(call_name(n.func) == "parse_args_into_dataclasses" and not _keeps_remaining(n) for n in parses):
            s.launch_stops = True
        elif parses and all(call_name(n.func) == "parse_args_and_config" and not _keeps_remaining(n) for n in parses):
            s.launch_stops, s.launch_parse = True, "parse_args_and_config"  # TRL_PARSE_AT
        for name, arg in self.fields.items():
            ok, found, loc = self.value_of(arg)
            if ok and found is not None and loc is not None:
                s.values.setdefault(name, found)
                s.where.setdefault(name, loc)
        known = self._framework_defaults()
        for flag, (raw, line) in self.passed.items():
            if flag in self.used or not flag.startswith("--"):
                continue
            key = flag[2:].replace("-", "_")
            written = f"`{self.abbreviated.get(flag, flag)}{'' if raw is None else ' ' + raw}`"
            where = launch.where(line)
            value: Any
            if key not in known and not key.startswith("no_"):
                s.launch_keys.setdefault(key, (self.abbreviated.get(flag, flag), raw, line))
            if key.startswith("no_") and known.get(key[3:]) is True:  # `--no_<field>` of a bool field whose default is True
                key, value = key[3:], False
            elif raw is None:
                # a bool field given alone is True (nargs="?", const=True: transformers 4.36.2 hf_argparser.py:197-205); a
                # field that takes a value would stop argparse, so a lone flag is read only for a bool or unset default
                if key not in known or not (isinstance(known[key], bool) or known[key] is None):
                    continue
                value = True
            elif unresolved(raw):
                self.notes.append(f"{written} at {where}: the value is not set in that file; not read")
                continue
            elif flag in launch.lists and key in LIST_FIELDS:
                value = list(launch.lists[flag])  # a list field (nargs="+"): every word (pyargs.flag_lists)
                written = f"`{flag} {' '.join(value)}`"
            else:
                value = typed_word(raw, known.get(key))
                if value is None:
                    self.notes.append(f"{written} at {where} is not a truth value HfArgumentParser accepts; not read")
                    continue
            s.launch_keys.setdefault(key, (self.abbreviated.get(flag, flag), raw, line))
            if key not in s.values:
                s.values[key] = value
                s.where[key] = Location(None, line, file=launch.file, fixed=f"{written} is passed by {where}: change it {IN_LAUNCH_LINE}")
        s.notes.append(
            f"{self.config_class} is read from the arguments {launch.where()} passes through {pname} (line {pline}); fields it does not pass take their defaults"
        )


def _argv_switched(tree: ast.Module, reads: list[ast.Call]) -> set[int]:
    """The file reads an `if` on `sys.argv` chooses between and a command-line parse in its other branch
    (princeton-nlp/LESS@8abf962 less/train/train.py:31-35: `if len(sys.argv) == 2 and sys.argv[1].endswith(".json"):
    parse_json_file(...)` else `parse_args_into_dataclasses()`): which runs depends on the launch line's words."""
    out: set[int] = set()
    if not reads:
        return out
    wanted = {id(r) for r in reads}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.If) and "argv" in ast.unparse(node.test)):
            continue
        for here, other in ((node.body, node.orelse), (node.orelse, node.body)):
            inside = {id(n) for stmt in here for n in ast.walk(stmt)} & wanted
            parses = any(isinstance(n, ast.Call) and call_name(n.func) in _PARSE_CALLS for stmt in other for n in ast.walk(stmt))
            if inside and parses:
                out |= inside
    return out


def _returns_parsed(fn: ast.FunctionDef) -> bool:
    """Whether a function returns the parsed command line: `return parser.parse_args()`, or a name
    its body binds to a parse call (`args = parser.parse_args(); return args`)."""
    bound = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and _is_parse(n.value) for t in n.targets if isinstance(t, ast.Name)}
    for n in ast.walk(fn):
        if isinstance(n, ast.Return) and n.value is not None:
            v = n.value
            if _is_parse(v) or (isinstance(v, ast.Name) and v.id in bound):
                return True
    return False


def typed_word(raw: str, default: Any) -> Any:
    """A launcher word as HfArgumentParser types it by the field (bool through string_to_bool,
    transformers 4.36.2 hf_argparser.py:34-45); None for a bool field given a non-truth word."""
    if isinstance(default, bool):
        low = raw.lower()
        return (low in ("yes", "true", "t", "y", "1")) if low in ("yes", "true", "t", "y", "1", "no", "false", "f", "n", "0") else None
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            continue
    return raw
