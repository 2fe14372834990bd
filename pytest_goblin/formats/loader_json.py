"""The model a repository class reads from a second JSON file the launch line passes beside the recipe (review13b #35:
Showmick119/Fine-Tuning-Open-Source-LLM README.md:119-121 `python train/run_lora_finetune.py --training_config
configs/training_args.json --lora_config configs/lora_config.json`; run_lora_finetune.py:74 `ModelLoader(lora_config_path)`,
fed `args.lora_config`; model/load_base_model.py:29-45,57-58 `self.config = self._load_config()` returning `json.load(f)`,
`AutoTokenizer.from_pretrained(self.config['base_model_name'])` and the model load of the same key).

Read (ast, nothing run): the launch line that runs the recipe's script and names the recipe, its `--flag FILE.json` words
other than the recipe; the argparse option of that flag in the script; a call in the script of a repository class
(`launched.RepoModules.find`, through its imports) one of whose arguments is that option (`args.<dest>`, or a function
parameter every call passes it: pyeval.Evaluator); that class has one `__init__` parameter besides `self`, exactly one
`json.load`, and its model-weights loads (`AutoModel*.from_pretrained`) all take `self.<attr>[KEY]` or
`self.<attr>.get(KEY...)` of one literal KEY; the JSON file (inside the tree) holds KEY as a string. Anything else names
no model."""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..safepath import UnsafePath, read_text
from .pyeval import Evaluator

_OPTION = "\x00option\x00"  # the evaluator's value of `args.<dest>` (a string: pyeval passes only scalars down calls)


@dataclass(frozen=True)
class LoaderModel:
    model: str
    file: str  # the JSON's real path
    line: int | None
    how: str
    # the class's own calls that decide the adapter, quantization or checkpointing (`get_peft_model` ...), which goblin does
    # not read there: with them the model is said but not priced, since a full fine-tune would be assumed
    decides: tuple[str, ...] = ()


# calls that change what a loaded model trains as (peft / bitsandbytes / transformers names)
_DECIDING = ("get_peft_model", "LoraConfig", "BitsAndBytesConfig", "prepare_model_for_kbit_training", "gradient_checkpointing_enable", "PeftModel")


def _json_loads(node: ast.AST) -> int:
    return sum(
        1
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "load"
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "json"
    )


def _key_of(arg: ast.expr) -> str | None:
    """KEY of `self.<attr>[KEY]` or `self.<attr>.get(KEY, ...)`."""
    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Attribute) and isinstance(arg.value.value, ast.Name) and arg.value.value.id == "self":
        if isinstance(arg.slice, ast.Constant) and isinstance(arg.slice.value, str):
            return arg.slice.value
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "get" and arg.args:
        owner = arg.func.value
        if isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name) and owner.value.id == "self":
            first = arg.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value
    return None


def _deciding(cls: ast.ClassDef) -> tuple[str, ...]:
    names: set[str] = set()
    for n in ast.walk(cls):
        if isinstance(n, ast.Call):
            name = n.func.id if isinstance(n.func, ast.Name) else n.func.attr if isinstance(n.func, ast.Attribute) else ""
            if name in _DECIDING:
                names.add(name)
        elif isinstance(n, ast.keyword) and n.arg in ("load_in_4bit", "load_in_8bit", "quantization_config"):
            names.add(n.arg)
        elif isinstance(n, ast.Attribute) and n.attr == "from_pretrained" and isinstance(n.value, ast.Name) and n.value.id == "PeftModel":
            names.add("PeftModel.from_pretrained")
    return tuple(sorted(names))


def _class_key(cls: ast.ClassDef) -> tuple[str, int] | None:
    """(KEY, line of the first load) of the class's model-weights loads, where the class reads one JSON."""
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None or len(init.args.args) != 2 or init.args.vararg or init.args.kwarg or init.args.kwonlyargs or _json_loads(cls) != 1:
        return None
    keys: set[str] = set()
    first = 0
    for n in ast.walk(cls):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "from_pretrained" and n.args):
            continue
        owner = n.func.value
        if not (isinstance(owner, ast.Name) and owner.id.startswith("AutoModel")):
            continue
        key = _key_of(n.args[0])
        if key is None:
            return None
        keys.add(key)
        first = first or n.lineno
    return (keys.pop(), first) if len(keys) == 1 else None


def _key_line(text: str, key: str) -> int | None:
    needle = json.dumps(key)
    return next((i for i, line in enumerate(text.splitlines(), 1) if needle in line), None)


def loader_model(config: str | Path) -> LoaderModel | None:
    """The model the recipe's launched script loads through a repository class from a sibling JSON; None otherwise."""
    from .launched import launched_script, parse_in_tree
    from .launchers import find_script_launch
    from .pyargs import argparse_options

    real = Path(os.path.realpath(config))
    launched = launched_script(config)
    if launched is None or not launched.script_path:
        return None
    parsed = parse_in_tree(launched.script_path)
    if parsed is None:
        return None
    script, roots, root = parsed
    launch = find_script_launch(launched.script_path, naming=real)
    if launch is None:
        return None
    options = argparse_options(script.tree, {})
    for flag, word, _line in launch.flags:
        if word is None or not word.endswith(".json") or any(ch in word for ch in "$*?[`"):
            continue
        dest = next((a.dest for a in options.values() if flag in a.flags), None)
        if dest is None:
            continue
        base = Path(launch.file).parent
        candidates = [Path(os.path.realpath(b / word)) for b in (base, root)]
        sibling = next((c for c in candidates if c != real and c.is_relative_to(root) and c.is_file()), None)
        if sibling is None:
            continue
        found = _through_class(script, roots, root, dest)
        if found is None:
            continue
        key, cls_name, shown, load_line, call_line, decides = found
        try:
            text = read_text(sibling, roots=roots)
            data: Any = json.loads(text)
        except (UnsafePath, OSError, ValueError):
            return None
        model = data.get(key) if isinstance(data, dict) else None
        if not isinstance(model, str) or not model.strip() or "$" in model:
            return None
        how = (
            f"`{key}: {model}` in {word}, which {launch.where()} passes as `{flag}`; {launched.script} line {call_line} gives it to"
            f" {cls_name}, whose model load at {shown}:{load_line} reads `{key}` from that JSON"
        )
        return LoaderModel(model.strip(), str(sibling), _key_line(text, key), how, decides)
    return None


def _through_class(script: Any, roots: list[Path], root: Path, dest: str) -> tuple[str, str, str, int, int, tuple[str, ...]] | None:
    """(KEY, class, its module shown, load line, call line) of the repository class the script gives `args.<dest>`."""
    from .launched import RepoModules

    tree: ast.Module = script.tree
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}

    def leaf(node: ast.expr) -> tuple[bool, Any]:
        if isinstance(node, ast.Attribute) and node.attr == dest and isinstance(node.value, ast.Name):
            return True, _OPTION
        if isinstance(node, ast.Constant):
            return True, node.value
        return False, None

    ev = Evaluator(tree, parents, leaf)
    repo = RepoModules(script, roots, root)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if not isinstance(call.func, ast.Name):
            continue
        given = [*call.args, *(k.value for k in call.keywords if k.arg is not None)]
        if len(given) != 1 or ev.value(given[0]) != (True, _OPTION):
            continue
        hit = repo.find(call.func.id, script)
        if hit is None:
            continue
        cls, module = hit
        got = _class_key(cls)
        if got is None:
            return None
        return got[0], cls.name, module.shown, got[1], call.lineno, _deciding(cls)
    return None
