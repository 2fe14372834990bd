"""The model a script loads from its launch line's positional words: `python finetune.py data/AdvertiseGen/
THUDM/glm-4-9b-chat configs/lora.yaml` (THUDM GLM-4@3f79b54 finetune/README.md:271, ChatGLM3@732294f
finetune_demo/README.md:201) runs a typer command `main(data_dir, model_dir, config_file, ...)`; the words are
its arguments by order, and `from_pretrained(model_dir)` loads the second. A config file the same line passes
(the nested `training_args:` YAML, formats/nested_ta.py) gets that model.

Read: a typer entry point (one `@<app>.command()` function, or `typer.run(fn)`) or argparse positional
arguments (`parser.add_argument("model_dir")`), the first launch line that runs the script and names the
config (`launchers.find_script_launch(script, naming=config)`), its words after the script up to the first
`-` word, each a literal (no `$`, no glob). The model is the value every `AutoModel*.from_pretrained(...)`
call's first argument takes (pyeval.Evaluator: a parameter is what the script's calls pass it, the entry
point's parameters are the launch words), when that value is one of the words. Nothing is run.

Typer's rule (typer 0.29.2 main.py:1454-1465 `_get_param`: a parameter whose default is typer.Argument(...),
or that has no default, is a CLI argument, a plain default an option; utils.py:118-150: the same from
`Annotated[..., typer.Argument()]`). Click takes arguments by declaration order. argparse: an add_argument
name without a leading `-` is positional, filled in the order added (CPython 3.11.7 Lib/argparse.py:1429-1432
`_get_positional_kwargs` when no prefix char starts the only name)."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..pysource import parse as parse_source
from .pyeval import Evaluator

if TYPE_CHECKING:
    from .launchers import ScriptLaunch

TYPER_AT = "typer 0.29.2 main.py:1454-1465"
ARGPARSE_AT = "CPython 3.11.7 Lib/argparse.py:1429-1432"


@dataclass(frozen=True)
class LaunchModel:
    model: str
    file: str  # the launcher's real path
    shown: str  # "README.md line 271"
    line: int  # the word's physical line
    param: str  # the script's argument the word fills
    load_line: int  # the first from_pretrained call that loads it
    how: str  # typer / argparse, with the source of the rule


def _typer_info(node: ast.expr | None) -> str | None:
    """ "argument" / "option" for a `typer.Argument(...)` / `typer.Option(...)` call (or the bare names)."""
    if isinstance(node, ast.Call):
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        return {"Argument": "argument", "Option": "option"}.get(name)
    return None


def _annotated_info(annotation: ast.expr | None) -> str | None:
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple):
        head = annotation.value
        name = head.attr if isinstance(head, ast.Attribute) else head.id if isinstance(head, ast.Name) else ""
        if name == "Annotated":
            for extra in annotation.slice.elts[1:]:
                kind = _typer_info(extra)
                if kind is not None:
                    return kind
    return None


def typer_arguments(tree: ast.Module) -> tuple[ast.FunctionDef, list[str]] | None:
    """(the command function, its CLI arguments in order) of a script with one typer command."""
    if not any(isinstance(n, (ast.Import, ast.ImportFrom)) and any(a.name.split(".")[0] == "typer" for a in n.names) for n in ast.walk(tree)) and not any(
        isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "typer" for n in ast.walk(tree)
    ):
        return None
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    commands: list[ast.FunctionDef] = []
    for fn in functions.values():
        for d in fn.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            if isinstance(target, ast.Attribute) and target.attr == "command":
                commands.append(fn)
    for n in ast.walk(tree):  # typer.run(main)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "run" and isinstance(n.func.value, ast.Name):
            if n.func.value.id == "typer" and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id in functions:
                commands.append(functions[n.args[0].id])
    if len({id(c) for c in commands}) != 1:
        return None  # several commands: the first word picks one, not read
    fn = commands[0]
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    first_default = len(positional) - len(a.defaults)
    names: list[str] = []
    for i, p in enumerate(positional):
        default = a.defaults[i - first_default] if i >= first_default else None
        kind = _annotated_info(p.annotation) or _typer_info(default) or ("argument" if default is None else "option")
        if kind == "argument":
            names.append(p.arg)
    return fn, names


def argparse_positionals(tree: ast.Module) -> list[str]:
    """The dests of `add_argument("name")` calls (no leading `-`, no nargs), in source order; [] when none or a
    positional takes several words."""
    out: list[tuple[int, int, str]] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "add_argument" and n.args:
            first = n.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and not first.value.startswith("-"):
                if any(k.arg == "nargs" for k in n.keywords) or len(n.args) != 1:
                    return []
                out.append((n.lineno, n.col_offset, first.value))  # a positional's dest is its name as written
    return [name for _l, _c, name in sorted(out)]


def _parsed_names(tree: ast.Module) -> set[str]:
    return {
        t.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute) and n.value.func.attr == "parse_args"
        for t in n.targets
        if isinstance(t, ast.Name)
    }


def _literal_word(word: str) -> bool:
    return bool(word) and not any(ch in word for ch in "$*?[`")


def launch_model(script: Path, text: str, config: Path) -> LaunchModel | None:
    """The model `script` loads from the positional words of the first launch line that runs it and names
    `config`; None when there is no such line, the words do not reach a from_pretrained call, or the calls
    disagree."""
    from .launchers import find_launch, find_script_launch

    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if typer_arguments(tree) is None and not argparse_positionals(tree):
        return None
    topology = find_launch(config)  # the same line the config's topology is read from, where it runs the script
    prefer = (os.path.realpath(topology.file), topology.line, topology.place) if topology is not None else None
    launch = find_script_launch(script, naming=Path(os.path.realpath(config)), prefer=prefer)
    if launch is None:
        return None
    return words_model(tree, launch)[0]


def words_model(tree: ast.Module, launch: ScriptLaunch) -> tuple[LaunchModel | None, str | None]:
    """(the model the script's model loads take from `launch`'s positional words, a note where the loads take two
    different words and none is named); (None, None) where no load reads a positional word. A Python script's own
    launch line (formats/python.py) and a config's (`launch_model`) are read alike."""
    typer = typer_arguments(tree)
    dests = [] if typer is not None else argparse_positionals(tree)
    if (typer is None and not dests) or not launch.positional:
        return None, None
    names = typer[1] if typer is not None else dests
    words = {name: (word, line) for name, (word, line) in zip(names, launch.positional, strict=False) if _literal_word(word)}
    if not words:
        return None, None
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    parsed = _parsed_names(tree)

    def leaf(node: ast.expr) -> tuple[bool, object]:
        if isinstance(node, ast.Constant):
            return True, node.value
        if typer is None and isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in parsed and node.attr in words:
            return True, words[node.attr][0]
        return False, None

    def entry(fn: ast.FunctionDef | ast.AsyncFunctionDef, arg: ast.arg) -> tuple[bool, object] | None:
        if typer is None or fn is not typer[0]:
            return None
        return (True, words[arg.arg][0]) if arg.arg in words else (False, None)

    ev = Evaluator(tree, parents, leaf, entry)
    loads: list[tuple[object, int]] = []
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "from_pretrained" and n.args):
            continue
        owner = n.func.value
        if not (isinstance(owner, ast.Name) and owner.id.startswith("AutoModel")):
            continue
        ok, value = ev.value(n.args[0])
        loads.append((value if ok else None, n.lineno))
    if not loads:
        return None, None
    seen = {v for v, _ in loads}
    if len(seen) != 1:
        if None in seen or not any(v == w for v in seen for w, _l in words.values()):
            return None, None  # a load goblin cannot read, or none from a launch word: not read
        at = ", ".join(f"`{v}` (line {line})" for v, line in sorted(loads, key=lambda x: x[1]))
        return None, f"the model loads take different values, {at}, with {launch.where()}'s positional words; goblin names no model"
    value, _line = loads[0]
    param = next((name for name, (word, _l) in words.items() if word == value), None)
    if param is None or not isinstance(value, str):
        return None, None  # a literal of the script, not a launch word: the script's own reading has it
    word_line = words[param][1]
    how = f"typer argument ({TYPER_AT})" if typer is not None else f"argparse positional ({ARGPARSE_AT})"
    found = LaunchModel(
        model=value,
        file=launch.file,
        shown=launch.where(word_line),
        line=word_line,
        param=param,
        load_line=min(line for _v, line in loads),
        how=how,
    )
    return found, None


MAX_FAMILY_CONFIGS = 16  # configs of the folder whose launch lines are read for a model


def _local(word: str) -> bool:
    return word.startswith(("/", ".", "~"))


def family_model(script: Path, text: str, config: Path) -> tuple[LaunchModel | None, str | None]:
    """For a config no launch line names: the model the launch lines that run `script` on another config of the same
    folder and suffix (`launch_family.family_member`, same folder only: there the model is the script's argument, not the
    config's) pass as its positional model argument, where every such line names the same model (a local folder counts
    as the Hub id whose name is its last part, `modelzoo.path_model_part`'s reading) and one names it by its Hub id; said
    as assumed. (None, note) where they name two models; (None, None) where none is read."""
    from .launch_family import family_member
    from .launch_walk import config_tree
    from .launchers import script_launches

    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, None
    if typer_arguments(tree) is None and not argparse_positionals(tree):
        return None, None
    real = Path(os.path.realpath(config))
    _roots, root, _how = config_tree(Path(os.path.abspath(config)))
    try:
        siblings = sorted(p for p in real.parent.iterdir() if p.is_file())[: 8 * MAX_FAMILY_CONFIGS]
    except OSError:
        return None, None
    members = [p for p in (Path(os.path.realpath(q)) for q in siblings) if p.parent == real.parent and family_member(p, real, root)][:MAX_FAMILY_CONFIGS]
    found: list[tuple[LaunchModel, Path]] = []
    for member in members:
        for launch in script_launches(script, naming=member):
            got, why = words_model(tree, launch)
            if why is not None:
                return None, why
            if got is not None:
                found.append((got, member))
    if not found:
        return None, None
    names = {got.model.rstrip("/").rsplit("/", 1)[-1].lower() for got, _m in found}
    if len(names) != 1:
        said = ", ".join(sorted({f"`{got.model}` ({got.shown})" for got, _m in found}))
        return None, f"no launch line names {real.name}; the launch lines of its folder's other configs pass different models ({said}); goblin names none"
    hub = [(got, m) for got, m in found if not _local(got.model)]
    if not hub:
        return None, None
    first, member = hub[0]
    local = sorted({got.model for got, _m in found if _local(got.model)})
    also = f"; {', '.join(f'`{w}`' for w in local)} elsewhere, a local folder of that name" if local else ""
    how = (
        f"{first.how}; assumed: no launch line names {real.name}, and each of the {len(found)} launch lines that run"
        f" {script.name} on {os.path.relpath(member, root)} or another config of its folder passes this model{also}"
    )
    return LaunchModel(model=first.model, file=first.file, shown=first.shown, line=first.line, param=first.param, load_line=first.load_line, how=how), None
