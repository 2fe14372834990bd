"""A script whose training happens in a class of its own repository that builds a TRL or transformers
trainer (sotopia-rl@2ebb14e scripts/train_grpo.py: `trainer = SotopiaGRPOTrainer(args, accelerator)`,
`trainer.train()`; sotopia_rl/grpo_trainer.py builds `GRPOConfig(per_device_train_batch_size=self.args...)`
then trl's `GRPOTrainer(args=training_args, ...)`): the script is read through that class, its config call's
keywords resolved against the script's own command line (the namespace the script hands the class).

Found only where the class is the repository's (followed through its imports, `launched.RepoModules`), it or a
base of it builds a config class goblin reads (`pyclasses.CONFIG_CLASSES`) and a trainer of a known
framework (a name imported from `trl` or `transformers`, or a base class so imported), and the script calls
`.train()` on the instance: a script that builds the class only to `.evaluate()` or `.predict()` is not
training. Read with `ast` only; nothing is imported."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .launch_trains import trains_on as _trains
from .launched import ParsedModule, RepoModules, parse_in_tree
from .pyclasses import CONFIG_CLASSES, HF_ARGS, MODEL_KEYS
from .pyliteral import call_name, literal_value
from .pyscript import Location, Script

FRAMEWORKS = frozenset({"trl", "transformers"})
_OWN = {"trl": "TRL's", "transformers": "transformers'"}


@dataclass
class Built:
    cls: str  # the repository class the script builds
    shown: str  # `sotopia_rl/grpo_trainer.py:25`: where that class is defined
    module: ParsedModule  # the module of the class that builds the config
    classes: list[ast.ClassDef]  # the class and its repository bases, nearest first
    config_call: ast.Call
    config_class: str
    trainer: str  # the framework trainer it builds or subclasses: `TRL's GRPOTrainer`
    trainer_line: int
    call: ast.Call  # the script's call of the class
    namespace: dict[str, str]  # an attribute or parameter of the class holding what the script passes -> the script's name


def _framework_names(mod: ParsedModule) -> dict[str, str]:
    """Names the module imports from a known framework: name -> framework."""
    out: dict[str, str] = {}
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module and node.module.split(".")[0] in FRAMEWORKS:
            for alias in node.names:
                out[alias.asname or alias.name] = node.module.split(".")[0]
    return out


def _framework_trainer(classes: list[tuple[ast.ClassDef, ParsedModule]]) -> tuple[str, int] | None:
    """The framework trainer the class subclasses or builds: (`TRL's GRPOTrainer`, line)."""
    for cls, mod in classes:
        known = _framework_names(mod)
        for b in cls.bases:
            if isinstance(b, ast.Attribute) and isinstance(b.value, ast.Name) and b.value.id in FRAMEWORKS and b.attr.endswith("Trainer"):
                return f"{_OWN[b.value.id]} {b.attr}", cls.lineno
            if isinstance(b, ast.Name) and b.id in known and b.id.endswith("Trainer"):
                return f"{_OWN[known[b.id]]} {b.id}", cls.lineno
        for node in ast.walk(cls):
            if isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Name) and f.id in known and f.id.endswith("Trainer"):
                    return f"{_OWN[known[f.id]]} {f.id}", node.lineno
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in FRAMEWORKS and f.attr.endswith("Trainer"):
                    return f"{_OWN[f.value.id]} {f.attr}", node.lineno
    return None


def _namespace(classes: list[tuple[ast.ClassDef, ParsedModule]], call: ast.Call) -> dict[str, str]:
    """What the script passes the class by name (`args`), under the class's parameter and `self.` attribute names."""
    init = next(
        (f for cls, _ in classes for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"),
        None,
    )
    if init is None:
        return {}
    params = [a.arg for a in init.args.args[1:]]
    given: dict[str, str] = {}
    for i, a in enumerate(call.args):
        if i < len(params) and isinstance(a, ast.Name):
            given[params[i]] = a.id
    for kw in call.keywords:
        if kw.arg in params and isinstance(kw.value, ast.Name):
            given[kw.arg] = kw.value.id
    out = dict(given)
    for n in ast.walk(init):
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name) and n.value.id in given:
            for t in n.targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                    out[f"self.{t.attr}"] = given[n.value.id]
    return out


def built_trainer(path: Path) -> Built | None:
    """The repository trainer class the script builds and trains, when it builds a config and a framework trainer."""
    parsed = parse_in_tree(path)
    if parsed is None:
        return None
    script, roots, root = parsed
    repo = RepoModules(script, roots, root)
    for call in ast.walk(script.tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            continue
        found = repo.find(call.func.id, script)
        if found is None or found[1].path == script.path or not _trains(script.tree, call):
            continue
        chain = repo.chain(call.func.id, script)
        trainer = _framework_trainer(chain)
        if trainer is None:
            continue
        configs = [(n, mod) for cls, mod in chain for n in ast.walk(cls) if isinstance(n, ast.Call) and call_name(n.func) in CONFIG_CLASSES]
        if len(configs) != 1:
            continue  # none, or several (an SFT and a GRPO branch): which one runs is not guessed
        config, mod = configs[0]
        return Built(
            cls=call.func.id,
            shown=f"{found[1].shown}:{found[0].lineno}",
            module=mod,
            classes=[c for c, _ in chain],
            config_call=config,
            config_class=call_name(config.func),
            trainer=trainer[0],
            trainer_line=trainer[1],
            call=call,
            namespace=_namespace(chain, call),
        )
    return None


def read_built(s: Script, built: Built, attribute: Any) -> None:
    """Fill the record from the class's config call: `self.args.x` / `args.x` through the script's command line
    (`attribute(name, attr)`: the launch line's value or the option's default), a literal where the class writes it."""
    shown = built.module.shown
    where = f"the {built.cls} class ({built.shown})"

    def value(node: ast.expr) -> tuple[bool, Any, Location | None]:
        if isinstance(node, ast.Attribute):
            owner = ast.unparse(node.value)
            if owner in built.namespace:
                found = attribute(built.namespace[owner], node.attr)
                return found if found is not None else (False, None, None)
        ok, val, lit = literal_value(node, {})
        if ok:
            return True, val, Location(None, lit.lineno, file=shown, fixed=f"written in {shown} line {lit.lineno}, in {where}; change it there")
        return False, None, None

    s.config_class = built.config_class
    how = "subclasses" if any(c.lineno == built.trainer_line for c in built.classes) else "builds"
    s.built = f"{where}, which builds {built.config_class} ({shown} line {built.config_call.lineno}) and {how} {built.trainer} (line {built.trainer_line})"
    for kw in built.config_call.keywords:
        if kw.arg is None:
            s.notes.append(f"{shown} line {built.config_call.lineno}: `**` arguments of {built.config_class} are not read")
            continue
        ok, val, loc = value(kw.value)
        if ok and loc is not None:
            s.values[kw.arg], s.where[kw.arg] = val, loc
        else:
            s.notes.append(f"{shown} line {kw.value.lineno}: {kw.arg} is computed at run time; the trainer default is assumed")
            s.computed[kw.arg] = kw.value.lineno
    for cls in built.classes:  # the model id: the first load whose id is read
        for node in ast.walk(cls):
            if isinstance(node, ast.Call) and call_name(node.func) == "from_pretrained" and node.args and "model_name_or_path" not in s.values:
                ok, val, loc = value(node.args[0])
                if ok and isinstance(val, str) and loc is not None:
                    s.values["model_name_or_path"], s.where["model_name_or_path"] = val, loc
                    for kw in node.keywords:
                        if kw.arg in MODEL_KEYS and kw.arg not in ("quantization_config", "load_in_4bit", "load_in_8bit"):
                            ok, val, loc = value(kw.value)
                            if ok and loc is not None and val is not None:
                                s.values[MODEL_KEYS[kw.arg]], s.where[MODEL_KEYS[kw.arg]] = val, loc
    scoring = next(
        (
            n
            for cls in built.classes
            for n in ast.walk(cls)
            if isinstance(n, ast.Call) and call_name(n.func) == "from_pretrained" and "SequenceClassification" in ast.unparse(n.func)
        ),
        None,
    )
    if scoring is not None and built.config_class in HF_ARGS:
        # a Trainer over a sequence-classification model (sotopia-rl rm_trainer.py:53-57, num_labels=1, its own compute_loss):
        # a reward or classifier model, whose head and loss are not the causal LM goblin prices
        s.built_label = f"a reward or classification model: {ast.unparse(scoring.func)}(...) at {shown} line {scoring.lineno}"
    s.notes.append(f"read through {s.built}: the script hands it its command line and calls .train() (line {built.call.lineno})")


def built_unread(r: Any, script: Script) -> None:
    """The method, quantization and weight dtype of a script read through a repository class: that class loads
    the model, any adapter and quantization in its own code (sotopia_rl/grpo_trainer.py: LoRA and a 4-bit load
    under `if self.args.use_lora_train_grpo`), which goblin does not run. They keep the assumed value for the
    projection, said so, and no rule judges them (schemas.FieldSource.unread), as hf_trainer._model_built_in_code."""
    from ..schemas import FieldSource
    from .hf_trainer import SCRIPT_BUILT_FIELDS

    said = f"the model, any adapter and quantization are set up in code in {script.built}, which goblin does not run"
    for name in SCRIPT_BUILT_FIELDS:
        src = r.sources.get(name)
        if src is not None and src.explicit:
            continue
        value = r.values.get(name)
        shown = f"{name} {value}" if value is not None else f"no {name}"
        r.sources[name] = FieldSource(file=r.path, note=f"{said}; {shown} assumed for the projection, no rule judges it", unread=True)
    r.notes.append(f"{said}: the training method, quantization and weight dtype are assumed, not read")
    if script.built_label is not None:
        r.framework = f"{r.framework or 'transformers'} ({script.built_label})"
        r.notes.append(f"the class trains {script.built_label}; goblin does not model its memory")
