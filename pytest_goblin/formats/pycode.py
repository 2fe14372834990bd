"""Settings a Python script makes in code, each counted only where the code runs (`guard`: every enclosing
`if` known true): model loads, quantization and adapters, a frozen base, code switches
(`gradient_checkpointing_enable()`, a packing dataset), attention patches, `os.environ` settings, padded
tokenizer lengths and SFTTrainer's own keywords."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from ..frameworks.unsloth import PEFT_CHECKPOINTING_AT, PEFT_CHECKPOINTING_DEFAULT, PEFT_CHECKPOINTING_KEPT_AT, PEFT_LOADERS
from .base import IN_CODE_BY_HAND
from .pyclasses import CONFIG_CLASSES, HF_ARGS
from .pycommand import IN_TEST, Lit
from .pyliteral import call_name, literal_value
from .pyscript import Location, Script

TRL_SFT_TRAINER_AT = "trl 0.7.11 trl/trainer/sft_trainer.py:138-140 (SFTTrainer(packing=False, max_seq_length=None)), :221-223 (max_seq_length None: min(tokenizer.model_max_length, 1024))"
PACKED_AT = {
    # TRL 0.7.11 trl/trainer/utils.py:361-480: joins the tokenized rows and yields seq_length-token chunks
    "ConstantLengthDataset": "trl 0.7.11 trl/trainer/utils.py:361-480",
    # TRL 1.16.0 trl/data_utils.py:837: pack_dataset packs rows into sequences of seq_length
    "pack_dataset": "trl 1.16.0 trl/data_utils.py:837",
}
# peft 0.7.1 src/peft/utils/other.py:72 (use_gradient_checkpointing=True) and :135 (gradient_checkpointing_enable)
KBIT_AT = "peft 0.7.1 peft/utils/other.py:72, 135"


def padded_length(s: Script, tree: ast.Module, lit: Lit) -> None:
    """The sequence length a plain-TrainingArguments script sets in code: every tokenizer call that pads to
    `max_length=` (`padding="max_length"`: PaddingStrategy.MAX_LENGTH, transformers 5.25.0 utils/generic.py:728; `_pad` pads
    every row shorter than max_length, transformers 5.25.0 tokenization_utils_base.py:2846)
    gives the same value (`max_length=self.args.response_max_length`, review3 #32 xfactlab/orpo main.py:108-122);
    calls that disagree, or a value goblin cannot read, leave the assumed length."""
    if any(k in s.values for k in ("max_seq_length", "max_length", "model_max_length")):
        return
    found: list[tuple[Any, Location, int]] = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call):
            continue
        pad = next((k.value for k in n.keywords if k.arg == "padding"), None)
        size = next((k.value for k in n.keywords if k.arg == "max_length"), None)
        if not (isinstance(pad, ast.Constant) and pad.value == "max_length") or size is None:
            continue
        ok, value, loc = lit(size)
        if not ok or loc is None or not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            s.notes.append(f"line {n.lineno}: a tokenizer call pads to a max_length goblin cannot read; the length is assumed")
            return
        found.append((value, loc, n.lineno))
    if not found:
        return
    if len({v for v, _, _ in found}) != 1:
        s.notes.append(f"tokenizer calls pad to different max_length values ({', '.join(str(v) for v, _, _ in found)}); the length is assumed")
        return
    value, loc, _line = found[0]
    s.values["max_length"], s.where["max_length"] = value, loc
    s.notes.append(
        f"seq_len {value}: the script's tokenizer call{'s' if len(found) > 1 else ''} at line {', '.join(str(x[2]) for x in found)} pad every sample to max_length"
    )


# a script option named for a length (`max_training_seq_length`, `max_len`, `seq_length`); a slice by any other
# option (`rows[: args.num_samples]`) selects rows, not tokens
_LENGTH_OPTION = re.compile(r"(?:^|_)(?:seq|len|length|max_len)(?:_|$)")


def truncated_length(s: Script, tree: ast.Module, lit: Lit) -> None:
    """A script that truncates every sample itself caps the sequence length as SFT's max_length does (topo10, review6b #33
    ise-uiuc/magicoder src/magicoder/train.py:63-71 `input_id[: args.max_training_seq_length]` with the option at the
    launch line): a slice `ids[: args.<length option>]` (`args.x` or an HfArgumentParser dataclass field: the launch
    line's word, else the option's default), every such slice the same value. A literal slice (`ids[:512]`), a slice by
    another option (`rows[: args.num_rows]` picks rows) or slices that disagree leave the length assumed. A tokenizer
    call that truncates is read by `pymapped.mapped_truncation` (after these), a padded one by `padded_length`."""
    if s.config_class not in HF_ARGS or any(k in s.values for k in ("max_seq_length", "max_length", "model_max_length")):
        return
    found: list[tuple[Any, Location, int]] = []
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice) and n.slice.lower is None and n.slice.step is None):
            continue
        size = n.slice.upper
        if not (isinstance(size, ast.Attribute) and isinstance(size.value, ast.Name) and _LENGTH_OPTION.search(size.attr)):
            continue
        ok, value, loc = lit(size)
        if not ok and size.attr in s.values and size.attr in s.where:
            # HfArgumentParser's dataclass field: the launch line's word (or the field's default) read as a config key
            ok, value, loc = True, s.values[size.attr], s.where[size.attr]
        if not ok or loc is None or not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            continue
        found.append((value, loc, n.lineno))
    if not found or len({v for v, _, _ in found}) != 1:
        if found:
            s.notes.append(f"the script truncates samples to different lengths ({', '.join(sorted({str(v) for v, _, _ in found}))}); the length is assumed")
        return
    value, loc, _line = found[0]
    s.values["max_length"], s.where["max_length"] = value, loc
    lines = ", ".join(str(x) for x in sorted({x[2] for x in found}))
    s.notes.append(f"seq_len {value}: the script truncates every sample to at most {value} tokens (line {lines})")


def trainer_kwargs(s: Script, node: ast.Call, lit: Lit) -> None:
    """TRL before 0.12 took `packing` and `max_seq_length` on SFTTrainer itself; a config keyword wins, but for a true
    `packing`, which the trainer sets over its config's (TRAINER_PACKING_AT)."""
    for kw in node.keywords:
        if kw.arg in ("packing", "max_seq_length") and (kw.arg not in s.values or kw.arg == "packing"):
            ok, value, loc = lit(kw.value)
            if ok and loc is not None and value is not None:
                s.trainer_values[kw.arg] = (value, loc)


def guard(node: ast.AST, parents: dict[int, ast.AST], lit: Lit, same: Callable[[ast.AST], bool] | None = None, sites: bool = True) -> tuple[bool | None, str]:
    """Whether the code around `node` runs: True, False, or None when an `if` goblin cannot evaluate
    guards it. Every enclosing `if` counts (an `elif` is an `if` in the `else` of the one above); a
    test is read by `lit`: literals, the launcher's and the declared command-line values, function
    parameters and simple expressions of those (pyeval.py). The text names the deciding `if`.
    With `sites`, a node inside a function the script calls by name runs only where a call of it runs
    (one level: review7b #26, `if use_peft: model = setup_peft(...)` around the function holding get_peft_model)."""
    runs, said = _guard_here(node, parents, lit, same)
    if runs is False or not sites:
        return runs, said
    fn: ast.AST | None = parents.get(id(node))
    while fn is not None and not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        fn = parents.get(id(fn))
    if fn is None:
        return runs, said
    name = fn.name
    inside = {id(n) for n in ast.walk(fn)}
    top: ast.AST = fn
    while (up := parents.get(id(top))) is not None:
        top = up
    calls = [
        n
        for n in ast.walk(top)
        if isinstance(n, ast.Call)
        and id(n) not in inside
        and (n.func.id if isinstance(n.func, ast.Name) else n.func.attr if isinstance(n.func, ast.Attribute) else "") == name
    ]
    if not calls:
        return runs, said
    results = [(c, *_guard_here(c, parents, lit, same)) for c in calls]
    if all(r is False for _, r, _ in results):
        c, _, why = results[0]
        return False, f"{why} (around the call of `{name}` at line {c.lineno})"
    if runs is None:
        return runs, said
    hit = next(((c, why) for c, r, why in results if r is True), None)
    if hit is None:
        c, _, why = next((c, r, why) for c, r, why in results if r is None)
        return None, f"{why} (around the call of `{name}` at line {c.lineno})"
    c, why = hit
    return True, "; ".join(x for x in (said, f"{why} (around the call of `{name}` at line {c.lineno})" if why else "") if x)


def _guard_here(node: ast.AST, parents: dict[int, ast.AST], lit: Lit, same: Callable[[ast.AST], bool] | None = None) -> tuple[bool | None, str]:
    """`guard` over the `if`s enclosing `node` itself."""
    child, parent = node, parents.get(id(node))
    said: list[str] = []
    unknown: str | None = None
    while parent is not None:
        if (isinstance(parent, ast.If) and child is not parent.test) or (isinstance(parent, ast.IfExp) and child is not parent.test):
            # `BitsAndBytesConfig(...) if args.q else None`: an IfExp guards its branches as an `if` does
            test, negate = parent.test, (child in parent.orelse if isinstance(parent, ast.If) else child is parent.orelse)
            token = IN_TEST.set(True)
            try:
                ok, value, loc = lit(test)
            finally:
                IN_TEST.reset(token)
            if not ok or not isinstance(value, (bool, int, str, float, type(None), list, tuple, set)):
                other = parent.body if negate else parent.orelse
                branch = other if isinstance(other, list) else [other]
                if same is None or not any(same(n) for stmt in branch for n in ast.walk(stmt)):
                    unknown = unknown or f"line {parent.lineno}"
                else:  # both branches do the same kind of thing: the test does not matter
                    said.append(f"the `if` at line {parent.lineno} is not known, but its other branch does the same")
            elif bool(value) == negate:
                return False, f"line {parent.lineno}"
            elif not (isinstance(test, ast.Compare) and ast.unparse(test).replace("'", '"') == '__name__ == "__main__"'):
                said.append(
                    f"the `if` at line {parent.lineno} is {'false' if negate else 'true'}"
                    + (
                        f" ({loc.fixed.split(';')[0].split(': ')[0]})"
                        if loc is not None and loc.fixed
                        else f" (its value is written at line {loc.line})"
                        if loc is not None and loc.file is None and loc.line != parent.lineno
                        else ""
                    )
                )
        child, parent = parent, parents.get(id(parent))
    if unknown is not None:
        return None, unknown
    return True, "; ".join(said)


_NOT_A_MODEL = re.compile(r"(Tokenizer|Processor|FeatureExtractor|Config|^PeftModel|\.PeftModel)\w*$")


def unused_load(node: ast.Call, parents: dict[int, ast.AST], loaded: set[str]) -> bool:
    """True when the call's value is only bound to names the script never reads (`quant_config =
    BitsAndBytesConfig(...)` whose one use, `# quantization_config=quant_config`, is a comment: review2
    D-Katt train_lora.py:32/:38). A call used in place, or bound to a name read anywhere, is used."""
    parent = parents.get(id(node))
    if not (isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node):
        return False
    targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
    names = [t.id for t in targets if isinstance(t, ast.Name)]
    return len(names) == len(targets) and not any(n in loaded for n in names)


def spreads_layers(value: Any) -> bool:
    """A device_map that places the layers over several GPUs: the strings transformers hands to accelerate's
    balanced placement (5.25.0 src/transformers/integrations/accelerate.py:115-126 accepts "auto", "balanced",
    "balanced_low_0", "sequential"), or a dict naming more than one GPU."""
    if isinstance(value, str):
        return value in ("auto", "balanced", "balanced_low_0", "sequential")
    if isinstance(value, dict):
        return len({v for v in value.values() if v not in ("cpu", "disk")}) > 1
    return False


def model_load(node: ast.Call) -> bool:
    """A from_pretrained that loads the model: not a tokenizer's, processor's, config's or PeftModel's."""
    return not (isinstance(node.func, ast.Attribute) and _NOT_A_MODEL.search(ast.unparse(node.func.value)))


def trainable_adapter(node: ast.Call) -> bool:
    """`PeftModel.from_pretrained(model, path, is_trainable=True)`: an adapter loaded for training
    (peft 0.7.1 peft_model.py:288 is_trainable=False, :334 inference_mode = not is_trainable)."""
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "from_pretrained"
        and ast.unparse(func.value).split(".")[-1] == "PeftModel"
        and any(k.arg == "is_trainable" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)
    )


def _adds_adapter(n: ast.AST) -> bool:
    return isinstance(n, ast.Call) and (call_name(n.func) in ("LoraConfig", "get_peft_model") or trainable_adapter(n))


def _requires_grad(stmt: ast.AST, var: str) -> bool | None:
    """`var.requires_grad = True/False` (or `var.requires_grad_(True/False)`): the value set; None otherwise."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if (
            isinstance(target, ast.Attribute)
            and target.attr == "requires_grad"
            and isinstance(target.value, ast.Name)
            and target.value.id == var
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, bool)
        ):
            return stmt.value.value
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "requires_grad_"
            and isinstance(func.value, ast.Name)
            and func.value.id == var
            and len(call.args) == 1
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, bool)
        ):
            return call.args[0].value
    return None


def frozen_base(s: Script, tree: ast.Module, parents: dict[int, ast.AST], lit: Lit) -> None:
    """A script that trains only its adapters by hand (review5 #33 NJUDeepEngine/meteora meteora_train.py:258-264):
    `for name, p in model.named_parameters(): if "lora_" in name: p.requires_grad = True else: p.requires_grad = False`.
    The base's weights take no gradient and no optimizer state (transformers 5.25.0 trainer.py:1274,1291,1297:
    create_optimizer passes only `p.requires_grad` parameters; torch 2.13.0 torch/optim/adam.py:151-160, which
    AdamW subclasses: state only for a parameter whose grad is set), so the run is an adapter run. Read only
    when the `if` splitting the two names an adapter's parameters (a string with "lora"); a loop that freezes other
    layers (embeddings, a vision tower) is a partial freeze, not read."""
    for loop in ast.walk(tree):
        if not (isinstance(loop, ast.For) and isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Attribute)):
            continue
        if loop.iter.func.attr not in ("parameters", "named_parameters"):
            continue
        target = loop.target
        var = target.elts[-1] if isinstance(target, ast.Tuple) and target.elts else target
        if not isinstance(var, ast.Name):
            continue
        for branch in ast.walk(loop):
            if not isinstance(branch, ast.If):
                continue
            names_adapter = any(isinstance(c, ast.Constant) and isinstance(c.value, str) and "lora" in c.value.lower() for c in ast.walk(branch.test))
            if not names_adapter:
                continue
            body = {_requires_grad(x, var.id) for x in branch.body} - {None}
            other = {_requires_grad(x, var.id) for x in branch.orelse} - {None}
            if not (body and other and body != other and len(body) == len(other) == 1):
                continue
            runs, cond = guard(loop, parents, lit)
            if not runs:
                return
            s.values["use_peft"] = True
            s.where.setdefault("use_peft", Location(None, branch.lineno))
            s.notes.append(
                f"the loop over `{ast.unparse(loop.iter)}` at line {loop.lineno} freezes every parameter but the adapter's"
                f" (the `if` at line {branch.lineno}: `{ast.unparse(branch.test)[:60]}`): the base takes no gradient or optimizer state,"
                " read as a LoRA run" + (f" ({cond})" if cond else "")
            )
            return


def applied_by_wrap(node: ast.Call, parents: dict[int, ast.AST], tree: ast.Module) -> bool:
    """`peft_config = LoraConfig(...)` whose name is read only as an argument of `get_peft_model(...)`: building
    the config adapts nothing, the wrap does (TRL's own trainer puts the adapter in by that call: trl 0.7.11
    trl/trainer/sft_trainer.py:212 `model = get_peft_model(model, peft_config)`), so that call's own `if` decides (`if args.use_peft_lora: model = get_peft_model(model, peft_config)`
    with `--use_peft_lora False` is a full run)."""
    parent = parents.get(id(node))
    if not (isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return False
    var = parent.targets[0].id
    reads = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, ast.Load)]
    if not reads:
        return False
    for n in reads:
        up = parents.get(id(n))
        if up is None and isinstance(n, ast.Name):
            return False
        if isinstance(up, ast.keyword):
            up = parents.get(id(up))
        if not (isinstance(up, ast.Call) and call_name(up.func) == "get_peft_model"):
            return False
    return True


def adapter_passed_unread(s: Script, tree: ast.Module, parents: dict[int, ast.AST], lit: Lit) -> None:
    """A trainer given `peft_config=<name>` that a function of the repository returns (huggingface/peft
    examples/sft/train.py: `model, peft_config, tokenizer = create_and_prepare_model(...)`, then
    `SFTTrainer(..., peft_config=peft_config)`; the helper in utils.py builds a LoraConfig under
    `if args.use_peft_lora`): TRL's trainers wrap the model in that adapter when it is not None (trl 0.7.11
    trl/trainer/sft_trainer.py:172 `if is_peft_available() and peft_config is not None:`, :212 get_peft_model), and goblin does not follow the helper, so whether the run is LoRA is
    not read: the method is unread (`code_unread`), never priced as a full fine-tune on a guess. A value read as
    None, TRL's own `get_peft_config(model_args)` (read from ModelConfig's use_peft) or a LoraConfig built in the
    script (read where it is built) are not this."""
    if "use_peft" in s.values or "use_peft" in s.code_unread:
        return
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and call_name(node.func).endswith("Trainer")):
            continue
        value = next((k.value for k in node.keywords if k.arg == "peft_config"), None)
        if value is None or guard(node, parents, lit)[0] is False:
            continue
        ok, got, _ = lit(value)
        if ok and got is None:
            continue
        source: ast.Call | None = value if isinstance(value, ast.Call) else None
        if isinstance(value, ast.Name):
            for a in ast.walk(tree):
                if isinstance(a, ast.Assign) and any(value.id in {x.id for x in ast.walk(t) if isinstance(x, ast.Name)} for t in a.targets):
                    if any(isinstance(x, ast.Call) and call_name(x.func) == "LoraConfig" for x in ast.walk(a.value)):
                        source = None
                        break
                    if isinstance(a.value, ast.Call):
                        source = a.value
        if source is None or call_name(source.func) in ("get_peft_config", "LoraConfig", "get_peft_model"):
            continue
        s.code_unread["use_peft"] = (
            f"`{call_name(node.func)}(peft_config={ast.unparse(value)[:40]})` at line {node.lineno} takes an adapter config"
            f" that `{call_name(source.func)}(...)` (line {source.lineno}) builds, which goblin does not follow:"
            " whether the run trains a LoRA adapter or the full model is not read"
        )
        return


# the attribute a multimodal model keeps its language model under (MiniCPM-V `model.llm`, LLaVA-style `language_model`)
_LANGUAGE_MODEL = re.compile(r"(?:^|_)(?:llm|language_model|text_model)(?:_|$)")


def _language_part(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and bool(_LANGUAGE_MODEL.search(node.attr))


def frozen_language_model(s: Script, tree: ast.Module, parents: dict[int, ast.AST], lit: Lit) -> None:
    """A multimodal script that freezes its language model (OpenBMB/MiniCPM-V finetune/finetune.py: `if not
    training_args.tune_llm: model.llm.requires_grad_(False)`, the launch line's `--tune_llm false`): only the vision
    tower / resampler trains. A frozen parameter takes no gradient and no optimizer state (transformers 5.25.0
    trainer.py:1274,1291,1297: create_optimizer passes only `p.requires_grad` parameters), and WorkloadConfig has no
    trainable share to price the part that trains. Where the freeze runs for certain (its `if` read true, e.g. from the
    launch line or the dataclass default), the run is priced as a frozen base (`Script.frozen_llm`, then
    `WorkloadConfig.frozen_language_model`); where it may run (an `if` goblin cannot evaluate), the method is unread
    (`code_unread`), with the line. Read where `X.<llm>.requires_grad_(False)` or a loop over `X.<llm>.parameters()`
    setting `requires_grad = False` runs; under an `if` known false, nothing; an adapter read elsewhere wins."""
    if "use_peft" in s.values or "use_peft" in s.code_unread:
        return
    for node in ast.walk(tree):
        what: str | None = None
        if not isinstance(node, (ast.Expr, ast.For)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            func = call.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "requires_grad_"
                and _language_part(func.value)
                and len(call.args) == 1
                and isinstance(call.args[0], ast.Constant)
                and call.args[0].value is False
            ):
                what = f"`{ast.unparse(call)[:60]}`"
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Attribute):
            if node.iter.func.attr in ("parameters", "named_parameters") and _language_part(node.iter.func.value):
                target = node.target
                var = target.elts[-1] if isinstance(target, ast.Tuple) and target.elts else target
                if isinstance(var, ast.Name) and any(_requires_grad(x, var.id) is False for x in node.body):
                    what = f"the loop over `{ast.unparse(node.iter)[:60]}`"
        if what is None:
            continue
        runs, cond = guard(node, parents, lit)
        if runs is False:
            continue
        if runs:
            s.frozen_llm = (node.lineno, f"{what} at line {node.lineno} freezes the language model" + (f" ({cond})" if cond else ""))
            return
        where = f" (under the `if` at {cond}, which goblin cannot evaluate)"
        s.code_unread["use_peft"] = (
            f"{what} at line {node.lineno} freezes the language model{where}: only the rest of the model (a vision tower,"
            " a resampler) trains, which goblin has no trainable share to price; not a full fine-tune of the language model"
        )
        return


def guarded_call(s: Script, node: ast.Call, name: str, parents: dict[int, ast.AST], lit: Lit) -> bool:
    """Whether a model-setup call (from_pretrained, BitsAndBytesConfig, LoraConfig) is read: it runs
    as the script is launched. Under an `if` that is false it does not; under one goblin cannot
    evaluate it is not read either, and a note says so (never a finding on a guess)."""
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        name = f"{node.func.value.id}.{name}"  # AutoModelForCausalLM.from_pretrained
    runs, cond = guard(node, parents, lit, _adds_adapter if _adds_adapter(node) else None)
    if runs is None:
        s.notes.append(f"`{name}(...)` at line {node.lineno} is under the `if` at {cond}, which goblin cannot evaluate; not applied (assumed not to run)")
    elif runs and cond:
        s.notes.append(f"`{name}(...)` at line {node.lineno} runs as the script is launched: {cond}")
    return bool(runs)


def code_switches(s: Script, node: ast.Call, name: str, parents: dict[int, ast.AST], lit: Lit) -> None:
    """Settings made by code, not by a keyword: `model.gradient_checkpointing_enable()`,
    `prepare_model_for_kbit_training(model)`, a packing dataset (ConstantLengthDataset, pack_dataset,
    a helper called with `packing=True`)."""
    what: str | None = None
    label = f"`{name}(...)` at line {node.lineno}"
    if name == "gradient_checkpointing_enable" and isinstance(node.func, ast.Attribute):
        label = f"`{ast.unparse(node.func)}()` at line {node.lineno}"
        what, how = "gradient_checkpointing", f"{label} turns gradient checkpointing on in code"
    elif name == "prepare_model_for_kbit_training":
        use = next((k.value for k in node.keywords if k.arg == "use_gradient_checkpointing"), None)
        ok, value, _ = lit(use) if use is not None else (True, True, None)
        if ok and value is True:
            what, how = "gradient_checkpointing", f"{label} turns gradient checkpointing on ({KBIT_AT})"
    elif name == "get_peft_model" and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id in PEFT_LOADERS:
        # review13b #26: amd/playbooks test_unsloth.py `FastModel.get_peft_model(model, ...)` with no keyword
        label = f"`{ast.unparse(node.func)}(...)` at line {node.lineno}"
        use = next((k.value for k in node.keywords if k.arg == "use_gradient_checkpointing"), None)
        ok, value, _ = lit(use) if use is not None else (True, PEFT_CHECKPOINTING_DEFAULT, None)
        if ok and (value is True or value == PEFT_CHECKPOINTING_DEFAULT):
            given = f"use_gradient_checkpointing={value!r}" + (" by default" if use is None else "")
            what, how = (
                "gradient_checkpointing",
                f"{label} turns gradient checkpointing on ({given}: {PEFT_CHECKPOINTING_AT}) and Unsloth's trainer keeps that mode"
                f" whatever the config's gradient_checkpointing says ({PEFT_CHECKPOINTING_KEPT_AT}): pass use_gradient_checkpointing=False there",
            )
    elif name in PACKED_AT:
        what, how = "sample_packing", f"{label} packs the rows ({PACKED_AT[name]})"
        size = next((k.value for k in node.keywords if k.arg == "seq_length"), None)
        if size is None and name == "pack_dataset" and len(node.args) > 1:
            size = node.args[1]  # pack_dataset(dataset, seq_length, ...): trl 1.16.0 trl/data_utils.py:837
        if size is not None:
            ok, value, loc = lit(size)
            if ok and loc is not None and isinstance(value, int) and not isinstance(value, bool) and value > 0:
                s.packed_length = (value, loc, node.lineno)
            else:
                s.notes.append(f"{label} packs to a seq_length goblin cannot read; the length is assumed")
    elif not name.endswith("Trainer") and name not in CONFIG_CLASSES and any(k.arg == "packing" for k in node.keywords):
        ok, value, _ = lit(next(k.value for k in node.keywords if k.arg == "packing"))
        if ok and value is True:
            what, how = "sample_packing", f"{label} builds a packed dataset (packing=True)"
    if what is None or what in s.fixed:
        return
    runs, cond = guard(node, parents, lit)
    if runs is None:
        s.notes.append(f"{label} is guarded by the `if` at {cond}, which goblin cannot evaluate; not read (assumed not to run)")
        return
    if runs:
        s.fixed[what] = how + (f" ({cond})" if cond else "") + f"; change it {IN_CODE_BY_HAND}"
        s.code_lines[what] = node.lineno


def _replaces_attention(name: str) -> bool:
    """A repository's own attention monkeypatch: `replace_llama_attn`, `patch_attention`, `monkey_patch_attn`."""
    low = name.lower()
    return ("attn" in low or "attention" in low) and any(w in low for w in ("replace", "patch", "monkey"))


def attention_patch(s: Script, node: ast.Call, name: str, parents: dict[int, ast.AST], lit: Lit) -> None:
    """A call that swaps the model's attention for the script's own (LongLoRA fine-tune.py calls
    `replace_llama_attn(training_args.use_flash_attn, ...)`): the attention is then not the one
    attn_implementation names, whatever its flags say, so it is not judged. Only a call under an `if`
    known to be false is left out; an `if` goblin cannot evaluate may run it, so it counts too."""
    if "attention" in s.fixed or not _replaces_attention(name):
        return
    runs, cond = guard(node, parents, lit)
    if runs is False:
        return
    args = [*node.args, *(k.value for k in node.keywords if k.arg is not None)]
    shown = []
    for a in args[:3]:
        ok, value, _ = lit(a)
        text = ast.unparse(a)
        text = text if len(text) <= 40 else text[:37] + "..."
        shown.append(f"{text} = {value!r}" if ok and value is not None and text != repr(value) else text)
    flags = f" with {', '.join(shown)}" if shown else ""
    where = f"under the `if` at {cond}, which goblin cannot evaluate" if runs is None else (cond or "as the script is launched")
    s.fixed["attention"] = (
        f"`{name}(...)` at line {node.lineno}{flags} replaces the model's attention in code ({where}): "
        "which kernel runs is the script's own, so attention is not judged; change it in the code by hand"
    )
    s.code_lines["attention"] = node.lineno


def environ_setting(
    s: Script,
    node: ast.AST,
    key: ast.expr,
    value: ast.expr,
    consts: dict[str, tuple[Any, ast.expr]],
    parents: dict[int, ast.AST],
    lit: Lit,
    *,
    default: bool = False,
) -> None:
    """`os.environ[X] = v` / `os.environ.setdefault(X, v)`, counted where it runs (`guard`, as the rest of the
    script's settings): under an `if` known false it sets nothing; under one goblin cannot evaluate, or to a value it
    cannot read, the variable's value is unknown (`Script.env_at` "unknown": no rule judges it)."""
    ok_k, k, _ = literal_value(key, consts)
    if not ok_k or not isinstance(k, str):
        return
    runs, cond = guard(node, parents, lit)
    if runs is False:
        return
    ok_v, v, _ = literal_value(value, consts)
    line = getattr(node, "lineno", 0)
    if runs is None or not ok_v or v is None:
        s.env.pop(k, None)
        s.env_at[k] = (line, "unknown")
        why = f"under the `if` at {cond}, which goblin cannot evaluate" if runs is None else "to a value goblin cannot read"
        s.notes.append(f"line {line} sets the environment variable {k} {why}: its value in the run is unknown, and no rule judges it")
        return
    if default and k in s.env:
        return  # setdefault keeps a value the script already set
    s.env[k] = str(v)
    s.env_at[k] = (line, "default" if default else "set")
