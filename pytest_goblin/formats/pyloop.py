"""Python scripts that train in a loop of their own: accelerate's `Accelerator` + `accelerator.prepare(...)`, or
`deepspeed.initialize(...)`, with no TrainingArguments or TRL config (review4 #28 STAR-1 train/sft.py, #29
HuatuoGPT-o1 SFT_stage1.py). Read with `ast` only, through the same readers as the TrainingArguments scripts
(`python.read_script`: argparse literals and the launch line's values, `from_pretrained`, code switches such as
`gradient_checkpointing_enable()`); this module reads what the loop sets and maps it to the HF keys the
TrainingArguments reader takes:

- micro-batch: the `batch_size` of the training DataLoader (torch's default 1 when it passes none);
- accumulation: `Accelerator(gradient_accumulation_steps=...)` (accelerate's default 1), the DeepSpeed file's
  `gradient_accumulation_steps`, or the `%` test a manual loop steps the optimizer under;
- sequence length: the tokenizer calls' `max_length=` (truncating or padding to it), else the value of the one
  option named like a length (`--max_seq_len`) that the script reads;
- precision: `Accelerator(mixed_precision=...)`, else the accelerate config or flag its launch line passes, else
  the DeepSpeed file's `bf16`/`fp16`, else the weights' `torch_dtype`;
- ZeRO stage and host offload: the accelerate config the launch passes (formats/semantics.py reads it, as for
  any script) or the DeepSpeed file `deepspeed.initialize` is given.

What goblin cannot read is named: the script is then not collected, with the missing items as the reason.
A script that sets up accelerate/DeepSpeed without a backward pass or an optimizer is not a training script.
Nothing set by the loop is patched: each value's place says the change to make by hand.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import NotATrainingConfig
from ..pysource import parse as parse_source
from .pyclasses import LOOP_MARKER as LOOP_MARKER

if TYPE_CHECKING:
    from .pyscript import Location, Script


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


# torch 2.13.0 torch/distributed/fsdp/fully_sharded_data_parallel.py:401 (sharding_strategy=None), :405
# (mixed_precision=None: parameters, gradients and reduction in the parameters' own dtype), torch/distributed/fsdp/
# _init_utils.py:448 (None is FULL_SHARD): a loop that wraps its model in FSDP itself (review12b #22 llm_training_demo
# fsdp/train_fsdp.py:229); FSDP2's fully_shard and DDP wrappers are not read
FSDP_AT = "torch 2.13.0 torch/distributed/fsdp/fully_sharded_data_parallel.py:401,405, _init_utils.py:448"
_FSDP_NAMES = frozenset({"FSDP", "FullyShardedDataParallel"})
# ShardingStrategy member -> TrainingArguments' `fsdp` option for the same sharding (hfstyle reads it)
_FSDP_SHARDING = {"FULL_SHARD": "full_shard", "SHARD_GRAD_OP": "shard_grad_op", "HYBRID_SHARD": "hybrid_shard", "_HYBRID_SHARD_ZERO2": "hybrid_shard_zero2"}

# accelerate v1.0.0 src/accelerate/accelerator.py:251-252 (`mixed_precision=None`, `gradient_accumulation_steps=1`),
# :327-328 (None: ACCELERATE_MIXED_PRECISION, which `accelerate launch` exports, utils/launch.py:410)
ACCELERATOR_AT = "accelerate v1.0.0 src/accelerate/accelerator.py"
# deepspeed v0.19.5 deepspeed/__init__.py:176-177 (config_params is config), :189-192 (args.deepspeed_config is the
# config when set), :290 (add_config_arguments declares --deepspeed_config)
INITIALIZE_AT = "deepspeed v0.19.5 deepspeed/__init__.py:176-192"
# accelerate's DummyOptim (v0.28.0 src/accelerate/utils/deepspeed.py:225-245, a holder of params, lr and weight_decay):
# `accelerator.prepare` with a DeepSpeed plugin hands its params to deepspeed.initialize, which builds the optimizer the
# config's "optimizer" block names (accelerator.py:1623-1624), its "auto" lr/weight_decay from the DummyOptim (:1596-1599);
# a config with no "optimizer" block raises ValueError (:1529-1532); the same at v1.14.0 accelerator.py:2250-2252, :2322, :2360
DUMMY_OPTIM_AT = "accelerate v0.28.0 src/accelerate/accelerator.py:1529-1532,1596-1599,1623-1624 (v1.14.0 :2250-2252,2322,2360)"
MAX_HELPERS = 16  # imported functions of the repository looked into for a loop's backward pass
# torch 2.13.0 torch/utils/data/dataloader.py:258 (batch_size=1), :262 (num_workers=0), :264 (pin_memory=False)
DATALOADER_AT = "torch 2.13.0 torch/utils/data/dataloader.py"
_DATALOADER_LINE = {"batch_size": 258, "num_workers": 262, "pin_memory": 264}
_DATALOADER_DEFAULT: dict[str, Any] = {"batch_size": 1, "num_workers": 0, "pin_memory": False}
# the optimizer class a loop builds -> TrainingArguments' name for the same optimizer (torch 2.13.0
# torch/optim/adamw.py:34 fused=None: not fused unless asked for)
_OPTIM_NAMES = {
    "AdamW": "adamw_torch",
    "Adam": "adamw_torch",
    "SGD": "sgd",
    "Adafactor": "adafactor",
    "AdamW8bit": "adamw_bnb_8bit",
    "PagedAdamW8bit": "paged_adamw_8bit",
}

_OPTIMIZERS = frozenset(
    {"AdamW", "Adam", "SGD", "Adafactor", "Lion", "Adagrad", "RMSprop", "AdamW8bit", "PagedAdamW", "PagedAdamW8bit", "DeepSpeedCPUAdam", "FusedAdam"}
)
# options whose name says the sequence length they cut to (`--max_seq_len 8192`)
# (`--block_size`: the length a causal-LM loop chunks its concatenated text into, as transformers'
# examples/pytorch/language-modeling/run_clm_no_trainer.py `group_texts` does; review12b row 23 frontier-guide train.py:78, :168-170)
LENGTH_OPTIONS = ("max_seq_len", "max_seq_length", "max_length", "model_max_length", "seq_len", "seq_length", "cutoff_len", "max_len", "block_size")
_BRACKETED = re.compile(r"^\[([\w.-]+/[\w.-]+)\]$")
_PRECISIONS = {"bf16": "bf16", "fp16": "fp16", "no": "no"}

_Lit = Callable[[ast.expr], tuple[bool, Any, "Location | None"]]


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) == name]


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_initialize(call: ast.Call) -> bool:
    return (
        isinstance(call.func, ast.Attribute) and call.func.attr == "initialize" and isinstance(call.func.value, ast.Name) and call.func.value.id == "deepspeed"
    )


def _bound(call: ast.Call, parents: dict[int, ast.AST]) -> set[str]:
    """The names a call's result is assigned to (`dl = DataLoader(...)`, `self.dl = ...` as `dl`)."""
    up = parents.get(id(call))
    return _names_in(up.targets) if isinstance(up, ast.Assign) else set()


def _names_in(nodes: list[ast.expr]) -> set[str]:
    out: set[str] = set()
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Name):
                out.add(n.id)
            elif isinstance(n, ast.Attribute):
                out.add(n.attr)
    return out


@dataclass(frozen=True)
class Kit:
    """What the script reader lends the loop reader: whether a call runs (pycode.guard), the argparse options and
    their values as the run has them (pycommand.CommandLine), and its Location class."""

    runs: Callable[[ast.AST], bool | None]
    options: dict[str, Any]
    value_of: Callable[[Any], tuple[bool, Any, Any]]
    location: Callable[..., Location]


def _backward_in(node: ast.AST) -> bool:
    return any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "backward" for c in ast.walk(node))


class _Loop:
    def __init__(self, s: Script, tree: ast.Module, path: Path, lit: _Lit, kit: Kit):
        self.s, self.tree, self.path, self.lit = s, tree, path, lit
        self.runs, self.options, self.value_of, self.at = kit.runs, kit.options, kit.value_of, kit.location
        self.parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        self.missing: list[str] = []
        # an optimizer class picked by a conditional expression (_class_choice): its test, arms, call and the arm it picks
        self.choice_test: ast.expr | None = None
        self.choice_arms: tuple[ast.expr, ...] = ()
        self.choice_call: ast.Call | None = None
        self.choice_arm: ast.expr | None = None
        self.helper = ""  # where the loop's backward is when an imported function of the repository holds it
        self.launch_read = True  # set by precision() where it looks the launch line up
        runs = [c for c in _calls(tree, "Accelerator") if self.runs(c) is not False]
        self.accelerator = runs[0] if runs else None
        inits = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and _is_initialize(c)]
        self.initialize = inits[0] if inits else None
        named = _bound(self.accelerator, self.parents) if self.accelerator is not None else set()
        prepares = [c for c in _calls(tree, "prepare") if isinstance(c.func, ast.Attribute) and _names_in([c.func.value]) & named]
        self.prepare = prepares[0] if prepares else None
        wraps = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and _name(c.func) in _FSDP_NAMES and c.args and self.runs(c) is not False]
        self.fsdp = wraps[0] if wraps and self.accelerator is None and self.initialize is None else None

    def kind(self) -> str:
        found = self._kind()
        return f"{found}, its backward pass in {self.helper}" if self.helper else found

    def _kind(self) -> str:
        if self.initialize is not None:
            return f"deepspeed.initialize(...) at line {self.initialize.lineno}"
        if self.fsdp is not None:
            return f"a torch FSDP loop: `{ast.unparse(self.fsdp.func)}(...)` at line {self.fsdp.lineno} wraps the model itself, with no accelerate or DeepSpeed"
        assert self.accelerator is not None
        prepared = f", prepared at line {self.prepare.lineno}" if self.prepare is not None else ""
        return f"accelerate's Accelerator(...) at line {self.accelerator.lineno}{prepared}"

    # -- is it training at all -------------------------------------------------------------------------
    def training(self) -> None:
        backward = [c for c in ast.walk(self.tree) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "backward"]
        optimizer = [c for c in ast.walk(self.tree) if isinstance(c, ast.Call) and _name(c.func) in _OPTIMIZERS]
        what = self.kind()
        helper = self._helper_backward() if not backward else None
        if helper is not None:
            # the loop's backward and optimizer step in one imported function of the repository (llama-recipes
            # src/llama_recipes/finetuning.py:271 `train(model, train_dataloader, ..., optimizer, ...)` of utils/train_utils.py)
            self.helper = helper
            self.s.notes.append(f"its backward pass is in {helper}, one level of import followed (nothing imported or run)")
            what = self.kind()
        if not backward and helper is None:
            raise NotATrainingConfig(
                str(self.path),
                f"it sets up {what} but has no backward pass (no `.backward(...)` call): not a training loop (inference, evaluation, or a Trainer subclass whose loop is the Trainer's)",
            )
        dummy = [c for c in _calls(self.tree, "DummyOptim") if self.runs(c) is not False]
        choice = self._class_choice() if not optimizer and not dummy and self.initialize is None else None
        if choice is not None:
            call, arm = choice
            if arm is None or _name(arm) != "DummyOptim":
                return  # a known optimizer class, or one of two goblin cannot pick between: optimizer() says which
            assert self.choice_test is not None
            test = self.choice_test
            why = self._dummy_optimizer(call, f" (the `{_name(arm)}` class `{ast.unparse(test)[:80]}` at line {test.lineno} picks)")
            if why is not None:
                raise NotATrainingConfig(str(self.path), f"it sets up {what} and calls backward ({self._backward_at(backward)}), but {why}")
            return
        if not optimizer and self.initialize is None and dummy:
            why = self._dummy_optimizer(dummy[0])
            if why is not None:
                raise NotATrainingConfig(str(self.path), f"it sets up {what} and calls backward ({self._backward_at(backward)}), but {why}")
            return
        if not optimizer and self.initialize is None:
            raise NotATrainingConfig(
                str(self.path),
                f"it sets up {what} and calls backward ({self._backward_at(backward)}), but builds no optimizer goblin knows"
                " (torch.optim.AdamW, SGD, Adafactor, bitsandbytes 8-bit, ...): whether and how it trains is not read",
            )

    def _class_choice(self) -> tuple[ast.Call, ast.expr | None] | None:
        """`optimizer_cls = (torch.optim.AdamW if <test> else DummyOptim)` then `optimizer = optimizer_cls(...)` (blind review 15b
        #31 kaiwo full-param-zero3-single-multinode/main.py:388-396): a name bound to a conditional expression whose two arms
        are optimizer classes goblin knows (or accelerate's DummyOptim), and called. The call and the arm the test picks
        where goblin evaluates it (the launch line's and the options' values, pycode.guard), else None for the arm (both
        named in a note by optimizer()); None where no such name is called."""
        known = _OPTIMIZERS | {"DummyOptim"}
        for n in ast.walk(self.tree):
            if not (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.IfExp)):
                continue
            arms = (n.value.body, n.value.orelse)
            if not all(isinstance(a, (ast.Name, ast.Attribute)) and _name(a) in known for a in arms) or self.runs(n) is False:
                continue
            calls = [c for c in _calls(self.tree, n.targets[0].id) if isinstance(c.func, ast.Name) and self.runs(c) is not False]
            if not calls:
                continue
            picked = [a for a in arms if self.runs(a) is True]
            self.choice_test, self.choice_arms, self.choice_call = n.value.test, arms, calls[0]
            self.choice_arm = picked[0] if len(picked) == 1 else None
            return calls[0], self.choice_arm
        return None

    def _backward_at(self, backward: list[ast.Call]) -> str:
        return f"line {backward[0].lineno}" if backward else f"in {self.helper}"

    def _helper_backward(self) -> str | None:
        """`f()` of module (file, line N) for the first function the script imports from a module of its repository and
        calls whose own body calls `.backward(...)`: one level of import, at most MAX_HELPERS functions, each module read
        through safepath and parsed, never imported; None where none does."""
        from ..safepath import text_or_empty, tree_of
        from .launch_walk import config_tree
        from .pyentry import MAX_MODULE_BYTES, module_file

        imported: dict[str, tuple[str, str]] = {}  # the name called -> (module, the function's name there)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.update({a.asname or a.name: (node.module, a.name) for a in node.names})
        called = [c for c in ast.walk(self.tree) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in imported]
        absolute = Path(os.path.abspath(self.path))
        _, root, _ = config_tree(absolute)
        here, roots = Path(os.path.realpath(absolute)).parent, tree_of(absolute)
        seen: set[str] = set()
        for c in called:
            assert isinstance(c.func, ast.Name)
            if c.func.id in seen or len(seen) >= MAX_HELPERS or self.runs(c) is False:
                continue
            seen.add(c.func.id)
            module, name = imported[c.func.id]
            found = module_file(here, module)
            if found is None or not Path(os.path.realpath(found)).is_relative_to(root):
                continue  # not a module of the repository (a framework's, or outside the tree)
            text = text_or_empty(found, roots=roots, limit=MAX_MODULE_BYTES)
            try:
                tree = parse_source(text) if ".backward" in text else None
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None
            fn = next((n for n in (tree.body if tree else []) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name), None)
            if fn is not None and _backward_in(fn):
                shown = os.path.relpath(Path(os.path.realpath(found)), root)
                return f"`{name}()` of {module} ({shown}:{fn.lineno}), called at line {c.lineno}"
        return None

    def _dummy_optimizer(self, call: ast.Call, picked: str = "") -> str | None:
        """accelerate's `DummyOptim(...)`: DeepSpeed builds the optimizer its config's "optimizer" block names (DUMMY_OPTIM_AT).
        None where the DeepSpeed file the launch's accelerate config names has that block (semantics then reads it as
        the optimizer, base.record_deepspeed_own); else why the loop is not read."""
        from .deepspeed import read
        from .launchers import find_launch

        built = f"`{ast.unparse(call.func)}(...)` at line {call.lineno}{picked}"
        launch = find_launch(self.path) if self.accelerator is not None else None
        st = launch.strategy if launch is not None else {}
        ds_file, base = st.get("deepspeed_config_file"), st.get("config_path") if not st.get("deepspeed_config_flag") else launch.file if launch else None
        if st.get("strategy") != "deepspeed" or not isinstance(ds_file, str) or not isinstance(base, str):
            where = f" ({launch.where()} runs it without a DeepSpeed config goblin reads)" if launch is not None else " (no launch line read)"
            return (
                f"its optimizer is {built}, a placeholder DeepSpeed replaces with the optimizer its config names ({DUMMY_OPTIM_AT}),"
                f" and no DeepSpeed config file is named by an accelerate config of its launch{where}"
            )
        found, _said = read(Path(base), ds_file)
        if not found.get("path"):
            return f"its optimizer is {built}, built by DeepSpeed from {ds_file}, which goblin could not read"
        if "own_optimizer" not in found:
            return (
                f'its optimizer is {built} and {ds_file} (named by {st.get("from") or "its accelerate config"}) has no "optimizer" block:'
                f" accelerate's prepare raises ValueError (\"You cannot create a `DummyOptim` without specifying an optimizer in the config"
                f' file."), so the run does not start ({DUMMY_OPTIM_AT})'
            )
        self.s.notes.append(
            f"optimizer: {built} is accelerate's placeholder; DeepSpeed builds the {found.get('own_optimizer_type', 'optimizer')!s} its file"
            f' {ds_file} names, with the DummyOptim\'s lr and weight_decay filling its "auto" values ({DUMMY_OPTIM_AT})'
        )
        return None

    def sequence_split(self) -> None:
        """A call inside the training loop given the process's rank and the process count (`accelerator.process_index`,
        `accelerator.num_processes`): each process may take a part of every sequence (sequence or context parallelism:
        LongVA@f4c8781 text_extend/text_extend_train.py:149 `prepare_seq_parallel_inputs(...)`, a zigzag ring attention
        over all 8 processes), which the per-GPU tokens goblin projects would overstate; named, not read."""
        if self.accelerator is None:
            return
        named = _bound(self.accelerator, self.parents)
        loops = [f for f in ast.walk(self.tree) if isinstance(f, (ast.For, ast.AsyncFor, ast.While)) and _backward_in(f)]
        for loop in loops:
            for c in ast.walk(loop):
                if not isinstance(c, ast.Call) or (isinstance(c.func, ast.Attribute) and _names_in([c.func.value]) & named):
                    continue
                given = [*c.args, *(k.value for k in c.keywords)]
                attrs = {a.attr for a in given if isinstance(a, ast.Attribute) and _names_in([a.value]) & named}
                if {"process_index", "num_processes"} <= attrs:
                    self.missing.append(
                        f"the sequence split (`{ast.unparse(c.func)[:60]}(...)` at line {c.lineno} is given the process index and count:"
                        " each process may train on a part of every sequence (sequence or context parallelism), in code goblin does not follow)"
                    )
                    return

    # -- micro-batch ----------------------------------------------------------------------------------
    def micro_batch(self, ds: dict[str, Any]) -> None:
        loaders = [c for c in _calls(self.tree, "DataLoader") if self.runs(c) is not False]
        data = _kw(self.initialize, "training_data") if self.initialize is not None else None
        if self.initialize is not None and data is not None and not (_names_in([data]) & {n for c in loaders for n in _bound(c, self.parents)}):
            # deepspeed.initialize(training_data=dataset) builds the loader at train_micro_batch_size_per_gpu
            # (deepspeed v0.19.5 deepspeed/runtime/engine.py:379, :2579)
            mb = ds.get("train_micro_batch_size_per_gpu")
            if isinstance(mb, int) and not isinstance(mb, bool) and mb >= 1:
                self.s.values["per_device_train_batch_size"] = mb
                self.s.where["per_device_train_batch_size"] = self.at(
                    None, self.initialize.lineno, file=ds.get("__path__"), fixed=f"train_micro_batch_size_per_gpu in {ds.get('__shown__')}; change it there"
                )
                self.s.notes.append(
                    f"micro-batch {mb}: deepspeed.initialize(training_data=...) builds the loader at {ds.get('__shown__')}'s train_micro_batch_size_per_gpu"
                )
                return
            self.missing.append(
                f"the micro-batch (deepspeed.initialize(training_data=...) at line {self.initialize.lineno}, and no train_micro_batch_size_per_gpu read)"
            )
            return
        if not loaders:
            self.missing.append("the micro-batch (no DataLoader(...) call in the script: it builds its batches in code goblin does not follow)")
            return
        handed: set[str] = set()
        if self.prepare is not None:
            handed |= _names_in(list(self.prepare.args))
        if self.initialize is not None:
            handed |= _names_in([k.value for k in self.initialize.keywords if k.arg == "training_data"])
        # the loader the backward pass iterates over, else the prepared/handed ones (a train-named one first), else a train-named one
        iterated = _names_in([f.iter for f in ast.walk(self.tree) if isinstance(f, (ast.For, ast.AsyncFor)) and _backward_in(f)])
        trained = [c for c in loaders if _bound(c, self.parents) & iterated]
        handed_to = [c for c in loaders if _bound(c, self.parents) & handed]
        named = [c for c in loaders if any("train" in n.lower() for n in _bound(c, self.parents))]
        picked = trained or [c for c in handed_to if c in named] or handed_to or named or loaders
        splat = next((c for c in picked if any(k.arg is None for k in c.keywords)), None)
        if splat is not None and _kw(splat, "batch_size") is None:
            star = next(k.value for k in splat.keywords if k.arg is None)
            self.missing.append(
                f"the micro-batch (DataLoader(...) at line {splat.lineno} takes `**{ast.unparse(star)[:40]}`, which may set its batch_size or a batch_sampler)"
            )
            return
        if any(_kw(c, "batch_sampler") is not None for c in picked):
            self.missing.append(f"the micro-batch (DataLoader(...) at line {picked[0].lineno} takes a batch_sampler)")
            return
        found: list[tuple[Any, Location, int]] = []
        for c in picked:
            node = _kw(c, "batch_size") or (c.args[1] if len(c.args) > 1 else None)
            if node is None:
                found.append((1, self.at(None, c.lineno, fixed=f"DataLoader(...) at line {c.lineno} passes no batch_size (1: {DATALOADER_AT})"), c.lineno))
                continue
            ok, value, loc = self.lit(node)
            if not ok or loc is None or not isinstance(value, int) or isinstance(value, bool) or value < 1:
                self.missing.append(f"the micro-batch (`batch_size={ast.unparse(node)[:60]}` of DataLoader(...) at line {c.lineno} is not read)")
                return
            found.append((value, loc, c.lineno))
        if len({v for v, _, _ in found}) != 1:
            lines = ", ".join(f"line {line}: {v}" for v, _, line in found)
            self.missing.append(f"the micro-batch (the training DataLoader calls differ: {lines})")
            return
        value, loc, line = found[0]
        self.s.values["per_device_train_batch_size"], self.s.where["per_device_train_batch_size"] = value, loc
        self.s.notes.append(f"micro-batch {value}: the batch_size of the training DataLoader(...) at line {line}")
        for key, hf in (("num_workers", "dataloader_num_workers"), ("pin_memory", "dataloader_pin_memory")):
            node = _kw(picked[0], key)
            if node is None:
                at = f"DataLoader(...) at line {picked[0].lineno} passes no {key} (torch's default {_DATALOADER_DEFAULT[key]}: {DATALOADER_AT}:{_DATALOADER_LINE[key]})"
                self.s.values[hf], self.s.where[hf] = _DATALOADER_DEFAULT[key], self.at(None, picked[0].lineno, fixed=f"{at}; add `{key}=` there by hand")
                continue
            ok, got, where = self.lit(node)
            if ok and where is not None:
                self.s.values[hf], self.s.where[hf] = (
                    got,
                    self.at(
                        where.node,
                        where.line,
                        file=where.file,
                        fixed=where.fixed or f"`{key}=` of DataLoader(...) at line {picked[0].lineno}; change it there by hand",
                    ),
                )

    def optimizer(self) -> None:
        built = [c for c in ast.walk(self.tree) if isinstance(c, ast.Call) and _name(c.func) in _OPTIMIZERS and self.runs(c) is not False]
        if not built and self.choice_call is not None and self.choice_test is not None:
            arms = " or ".join(f"`{ast.unparse(a)}`" for a in self.choice_arms)
            test = f"`{ast.unparse(self.choice_test)[:80]}`"
            if self.choice_arm is None:
                # unread, never TrainingArguments' default said as the loop's: no rule judges it (pyworkload.unread_fields)
                self.s.code_unread["optim"] = (
                    f"the optimizer `{ast.unparse(self.choice_call.func)}(...)` at line {self.choice_call.lineno} builds is {arms}, as {test}"
                    f" (line {self.choice_test.lineno}) picks, a test goblin does not evaluate"
                )
                return
            if _name(self.choice_arm) == "DummyOptim":
                return  # DeepSpeed builds it from its file: training() read that file (DUMMY_OPTIM_AT)
            self.s.notes.append(f"optimizer: `{ast.unparse(self.choice_arm)}`, the class {test} (line {self.choice_test.lineno}) picks of {arms}")
            built = [self.choice_call]
            named = _name(self.choice_arm)
        else:
            named = ""
        if len({_name(c.func) for c in built}) != 1:
            self.s.notes.append(
                "optimizer: "
                + (f"several classes built ({', '.join(sorted({_name(c.func) for c in built}))})" if built else "built by DeepSpeed from its file")
                + "; not read"
            )
            return
        c = built[0]
        named = named or _name(c.func)
        name = _OPTIM_NAMES.get(named)
        fused = _kw(c, "fused")
        if name == "adamw_torch" and fused is not None and self.lit(fused)[1] is True:
            name = "adamw_torch_fused"
        if name is None:
            self.s.notes.append(f"optimizer: {named}(...) at line {c.lineno}, which goblin does not model; not read")
            return
        self.s.values["optim"] = name
        self.s.where["optim"] = self.at(
            None, c.lineno, fixed=f"the optimizer is built by `{ast.unparse(c.func)}(...)` at line {c.lineno}; change it there by hand"
        )

    def saves(self) -> None:
        """A loop saves where its code says (per epoch, at the end): no per-step checkpoint term is placed."""
        self.s.values["save_strategy"] = "epoch"
        self.s.where["save_strategy"] = self.at(
            None, self.kind_line(), fixed="the loop saves where its own code does; goblin places no per-step checkpoint cost"
        )

    def kind_line(self) -> int:
        call = self.initialize or self.accelerator or self.fsdp
        return call.lineno if call is not None else 1

    # -- accumulation ---------------------------------------------------------------------------------
    def _unpacked(self, key: str) -> str | None:
        """`Accelerator(..., **kwargs)` where the script names `key` elsewhere: the keyword may come in through it."""
        if self.accelerator is None or _kw(self.accelerator, key) is not None:
            return None
        star = next((k.value for k in self.accelerator.keywords if k.arg is None), None)
        if star is None:
            return None
        said = any(isinstance(n, ast.Constant) and n.value == key for n in ast.walk(self.tree)) or any(
            isinstance(n, ast.keyword) and n.arg == key and n not in self.accelerator.keywords for n in ast.walk(self.tree)
        )
        return f"Accelerator(...) at line {self.accelerator.lineno} takes `**{ast.unparse(star)[:40]}`, which may set {key}" if said else None

    def accumulation(self, ds: dict[str, Any]) -> None:
        if (why := self._unpacked("gradient_accumulation_steps")) is not None:
            self.missing.append(f"the gradient accumulation ({why})")
            return
        if self.accelerator is not None and (node := _kw(self.accelerator, "gradient_accumulation_steps")) is not None:
            ok, value, loc = self.lit(node)
            if ok and loc is not None and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                self.s.values["gradient_accumulation_steps"], self.s.where["gradient_accumulation_steps"] = value, loc
                return
            self.missing.append(f"the gradient accumulation (`gradient_accumulation_steps={ast.unparse(node)[:60]}` at line {node.lineno} is not read)")
            return
        manual = self._manual_accumulation()
        if manual is not None:
            return
        if self.initialize is not None:
            ga = ds.get("gradient_accumulation_steps")
            if isinstance(ga, int) and not isinstance(ga, bool) and ga >= 1:
                self.s.values["gradient_accumulation_steps"] = ga
                self.s.where["gradient_accumulation_steps"] = self.at(
                    None, 1, file=ds.get("__path__"), fixed=f"gradient_accumulation_steps is set in {ds.get('__shown__')}"
                )
                return
            if "gradient_accumulation_steps" in ds:
                self.missing.append(
                    f"the gradient accumulation (`gradient_accumulation_steps` in {ds.get('__shown__')} is {ds['gradient_accumulation_steps']!r})"
                )
                return
        self.s.values["gradient_accumulation_steps"] = 1
        at = (
            f"Accelerator(...) at line {self.accelerator.lineno} passes none: {ACCELERATOR_AT}:252"
            if self.accelerator is not None
            else "the optimizer steps after every backward pass"
            if self.fsdp is not None
            else "the DeepSpeed file sets none"
        )
        self.s.where["gradient_accumulation_steps"] = self.at(
            None, self.kind_line(), fixed=f"no accumulation: {at}; pass gradient_accumulation_steps to it by hand"
        )

    def _manual_accumulation(self) -> bool | None:
        """`if step % args.accum == 0: optimizer.step()`: the divisor, read (True) or named missing (False); None: no such test."""
        for n in ast.walk(self.tree):
            if not isinstance(n, ast.If) or not any(isinstance(b, ast.BinOp) and isinstance(b.op, ast.Mod) for b in ast.walk(n.test)):
                continue
            steps = [c for b in n.body for c in ast.walk(b) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "step"]
            if not steps:
                continue
            mod = next(b for b in ast.walk(n.test) if isinstance(b, ast.BinOp) and isinstance(b.op, ast.Mod))
            right = mod.right
            if isinstance(right, ast.Attribute) and right.attr == "gradient_accumulation_steps" and self.accelerator is not None:
                return None  # the Accelerator's own value (read above)
            ok, value, loc = self.lit(right)
            if ok and loc is not None and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                # never rewritten: the loop may scale its loss by the same number elsewhere
                fixed = f"the optimizer steps under `if {ast.unparse(n.test)[:60]}` at line {n.lineno}; change it (and any loss scaling by it) by hand"
                self.s.values["gradient_accumulation_steps"] = value
                self.s.where["gradient_accumulation_steps"] = self.at(None, loc.line, file=loc.file, fixed=fixed)
                self.s.notes.append(f"gradient accumulation {value}: the optimizer steps under `if {ast.unparse(n.test)[:60]}` at line {n.lineno}")
                return True
            self.missing.append(f"the gradient accumulation (the optimizer steps under `if {ast.unparse(n.test)[:60]}` at line {n.lineno}, not read)")
            return False
        return None

    # -- sequence length ------------------------------------------------------------------------------
    def seq_len(self) -> None:
        if "max_length" in self.s.values:
            return  # the chunk size the script packs its data into (pymapped.grouped_texts)
        found: list[tuple[Any, Location, int]] = []
        for c in ast.walk(self.tree):
            if not isinstance(c, ast.Call) or (size := _kw(c, "max_length")) is None:
                continue
            trunc, pad = _kw(c, "truncation"), _kw(c, "padding")
            cuts = trunc is not None and self.lit(trunc)[1] not in (False, None, "do_not_truncate")
            pads = isinstance(pad, ast.Constant) and pad.value == "max_length"
            if not (cuts or pads) or self.runs(c) is False:
                continue
            ok, value, loc = self.lit(size)
            if not ok or loc is None or not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                self.missing.append(f"the sequence length (`max_length={ast.unparse(size)[:60]}` at line {c.lineno} is not read)")
                return
            found.append((value, loc, c.lineno))
        if found:
            if len({v for v, _, _ in found}) != 1:
                self.missing.append(f"the sequence length (tokenizer calls cut to different lengths: {', '.join(f'line {ln}: {v}' for v, _, ln in found)})")
                return
            value, loc, _ = found[0]
            self.s.values["max_length"], self.s.where["max_length"] = value, loc
            self.s.notes.append(
                f"seq_len {value}: the tokenizer call{'s' if len(found) > 1 else ''} at line {', '.join(str(x[2]) for x in found)} cut to max_length"
            )
            return
        read = {n.attr for n in ast.walk(self.tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and not self._in_generate(n)}
        named = [a for dest, a in self.options.items() if dest in LENGTH_OPTIONS and dest in read]
        if len(named) != 1:
            why = (
                "several length options"
                if named
                else "no tokenizer call with max_length= and truncation or padding, nor an option it reads named like a length: --max_seq_len, --block_size, ..."
            )
            self.missing.append(f"the sequence length ({why})")
            return
        arg = named[0]
        ok, value, loc = self.value_of(arg)
        if not ok or loc is None or not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            self.missing.append(f"the sequence length (`{arg.flags[0]}` at line {arg.line} has no value goblin reads)")
            return
        self.s.values["max_length"], self.s.where["max_length"] = value, loc
        self.s.notes.append(f"seq_len {value}: the `{arg.flags[0]}` option (line {arg.line}) is the length the script cuts its samples to, read from its name")

    def _built_dtype(self) -> tuple[str, int, str] | None:
        """(dtype name, line, what was read) where every model build of the script that may run (`X.from_pretrained`
        and `X.from_config` of a model class) passes the same `torch_dtype=torch.<dtype>` (or `dtype=`): the weights
        are in it whichever branch runs (review12b row 23 frontier-guide train.py:135, :138). `from_config` builds in
        it too: transformers v4.57.0 src/transformers/models/auto/auto_factory.py:453, :456 pass the keywords to
        `_from_config`, which sets the default dtype from `dtype`/`torch_dtype` (modeling_utils.py:2287-2291,
        :2297-2298). None where one passes none or another."""
        from .pyeval import TORCH_DTYPE_ATTRS

        builds = [
            c
            for c in ast.walk(self.tree)
            if isinstance(c, ast.Call)
            and isinstance(c.func, ast.Attribute)
            and c.func.attr in ("from_pretrained", "from_config")
            and "Model" in ast.unparse(c.func.value).split(".")[-1]
            and not any(part in ast.unparse(c.func.value).split(".")[-1] for part in ("Peft", "Tokenizer", "Config", "Processor"))
            and self.runs(c) is not False
        ]
        names: set[str] = set()
        for c in builds:
            node = next((k.value for k in c.keywords if k.arg in ("torch_dtype", "dtype")), None)
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch" and node.attr in TORCH_DTYPE_ATTRS):
                return None
            names.add(TORCH_DTYPE_ATTRS[node.attr])
        if len(names) != 1:
            return None
        name = names.pop()
        builds.sort(key=lambda c: c.lineno)
        lines = ", ".join(str(c.lineno) for c in builds)
        calls = " and ".join(dict.fromkeys(f"`{ast.unparse(c.func)}(...)`" for c in builds))
        verb = "pass" if len(builds) > 1 else "passes"
        return name, builds[0].lineno, f"{calls} at line{'s' if len(builds) > 1 else ''} {lines} {verb} torch_dtype=torch.{name}"

    def _in_generate(self, node: ast.AST) -> bool:
        """Whether a value is an argument of a `generate(...)` call (a generation length, not the training cutoff)."""
        up = self.parents.get(id(node))
        while up is not None and not isinstance(up, ast.stmt):
            if isinstance(up, ast.Call) and _name(up.func) == "generate":
                return True
            up = self.parents.get(id(up))
        return False

    # -- precision ------------------------------------------------------------------------------------
    def precision(self, ds: dict[str, Any]) -> None:
        value: str | None = None
        loc: Location | None = None
        how = ""
        if self.accelerator is not None and (node := _kw(self.accelerator, "mixed_precision")) is not None:
            ok, raw, _ = self.lit(node)
            if not ok or not isinstance(raw, str):
                self.missing.append(f"the precision (`mixed_precision={ast.unparse(node)[:60]}` at line {node.lineno} is not read)")
                return
            value, how = raw, f"Accelerator(mixed_precision={raw!r}) at line {node.lineno}"
            loc = self.at(None, node.lineno, fixed=f"mixed precision is set by {how} ({ACCELERATOR_AT}:327-328); change it there by hand")
        elif (why := self._unpacked("mixed_precision")) is not None:
            self.missing.append(f"the precision ({why})")
            return
        elif self.accelerator is not None:
            from .launchers import find_launch

            launch = find_launch(self.path)
            self.launch_read = launch is not None
            if launch is not None and launch.mixed_precision is not None:
                raw, file, line, said = launch.mixed_precision
                value, how = (
                    raw,
                    f"{said}, passed by {launch.where()} (the Accelerator at line {self.accelerator.lineno} passes none: {ACCELERATOR_AT}:327-328)",
                )
                loc = self.at(None, line or launch.line, file=file, fixed=f"mixed precision is set by {said}; change it there")
            elif launch is not None and not any(w == "accelerate" or w.endswith("/accelerate") for w in launch.command.split()):
                # `python`/`torchrun` set no ACCELERATE_MIXED_PRECISION: the Accelerator's "no"
                value = "no"
                how = f"{launch.where()} runs it without `accelerate launch` and the Accelerator at line {self.accelerator.lineno} passes none ({ACCELERATOR_AT}:327-328)"
                loc = self.at(None, self.accelerator.lineno, fixed=f"no mixed precision: {how}; pass mixed_precision= to it by hand")
        elif ds:
            for key in ("bf16", "fp16"):
                block = ds.get(key)
                if isinstance(block, dict) and block.get("enabled") is True:
                    value, how = key, f"`{key}.enabled: true` in {ds.get('__shown__')}"
            if value is None:
                value, how = "no", f"{ds.get('__shown__')} enables neither bf16 nor fp16"
            loc = self.at(None, 1, file=ds.get("__path__"), fixed=f"precision is set in {ds.get('__shown__')}; change it there")
        if "torch_dtype" not in self.s.values and (built := self._built_dtype()) is not None:
            # the weights' dtype beside any mixed precision: autocast leaves bf16-built weights bf16 (review12b #23)
            name, line, said = built
            self.s.values["torch_dtype"] = name
            self.s.where["torch_dtype"] = self.at(None, line, fixed=f"{said}; change it there by hand")
            self.s.notes.append(f"weights' dtype torch.{name}: {said}")
        if value is None or loc is None:
            if "torch_dtype" in self.s.values:
                return  # the weights' dtype: the TrainingArguments reader takes it
            if self.fsdp is not None:
                self.missing.append(
                    "the precision (the weights' dtype: no `torch_dtype=torch.<dtype>` goblin reads on every model load, and"
                    f" `{ast.unparse(self.fsdp.func)}(...)` at line {self.fsdp.lineno} keeps the parameters' own dtype)"
                )
            elif self.accelerator is None:  # deepspeed.initialize: its config's bf16/fp16 blocks set it (that config is not read)
                self.missing.append("the precision (the DeepSpeed config sets it, and that config is not read; no torch_dtype either)")
            elif not self.launch_read:
                self.missing.append(
                    "the precision (no mixed_precision in the Accelerator call, no launch line of the repository read for its"
                    " `accelerate launch --mixed_precision`, and no torch_dtype on every model load)"
                )
            else:
                self.missing.append(
                    "the precision (no mixed_precision in the Accelerator call nor in an accelerate config its launch line passes, and no torch_dtype)"
                )
            return
        if value not in _PRECISIONS:
            self.missing.append(f"the precision ({how} is {value!r}, which goblin does not model)")
            return
        if value == "no":
            if "torch_dtype" not in self.s.values:
                self.s.values["bf16"], self.s.where["bf16"] = False, loc
            self.s.notes.append(f"precision: no mixed precision, {how}")
            return
        self.s.values[value], self.s.where[value] = True, loc
        self.s.notes.append(f"precision {value}: {how}")

    # -- the sharding of a model the loop wraps in FSDP itself ---------------------------------------------
    def fsdp_sharding(self) -> None:
        if self.fsdp is None:
            return
        c, shown = self.fsdp, ast.unparse(self.fsdp.func)
        if self.runs(c) is not True:
            self.missing.append(f"the sharding (`{shown}(...)` at line {c.lineno} is under an `if` goblin cannot evaluate)")
            return
        if any(k.arg is None for k in c.keywords):
            self.missing.append(f"the sharding (`{shown}(...)` at line {c.lineno} takes `**` keywords)")
            return
        for key in ("mixed_precision", "cpu_offload"):
            node = _kw(c, key)
            if node is not None and not (isinstance(node, ast.Constant) and node.value is None) and not self._none_name(node):
                self.missing.append(f"the sharding (`{key}={ast.unparse(node)[:60]}` of `{shown}(...)` at line {c.lineno} is not read)")
                return
        node = _kw(c, "sharding_strategy")
        member = node.attr if isinstance(node, ast.Attribute) else None
        if node is not None and member not in _FSDP_SHARDING:
            self.missing.append(f"the sharding (`sharding_strategy={ast.unparse(node)[:60]}` of `{shown}(...)` at line {c.lineno} is not read)")
            return
        option = _FSDP_SHARDING[member] if member is not None else "full_shard"
        said = f"`sharding_strategy={ast.unparse(node)}`" if node is not None else "no sharding_strategy (FULL_SHARD)"
        how = f"`{shown}(...)` at line {c.lineno} passes {said} and no mixed_precision or cpu_offload ({FSDP_AT})"
        self.s.values["fsdp"] = option
        self.s.where["fsdp"] = self.at(None, c.lineno, fixed=f"{how}; change it there by hand")
        self.s.notes.append(f"FSDP {option}: {how}")

    def _none_name(self, node: ast.expr) -> bool:
        """A name the script binds to None only (`mp_policy = None`, llm_training_demo train_fsdp.py:213)."""
        if not isinstance(node, ast.Name):
            return False
        binds = [n.value for n in ast.walk(self.tree) if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets)]
        return bool(binds) and all(isinstance(v, ast.Constant) and v.value is None for v in binds)

    # -- the DeepSpeed file deepspeed.initialize is given -----------------------------------------------
    def deepspeed_file(self) -> dict[str, Any]:
        if self.initialize is None:
            return {}
        node = _kw(self.initialize, "config") or _kw(self.initialize, "config_params")
        args = _kw(self.initialize, "args")
        if node is None and args is not None:
            node = ast.Attribute(value=args, attr="deepspeed_config", ctx=ast.Load())
            ast.copy_location(node, args)
        if node is None:
            self.missing.append(
                f"the DeepSpeed config (deepspeed.initialize(...) at line {self.initialize.lineno} is given neither config= nor args=; {INITIALIZE_AT})"
            )
            return {}
        ok, ref, loc = self.lit(node)
        if not ok or not isinstance(ref, str) or loc is None:
            # `ds_config = get_train_ds_config(...)` (01-ai/Yi finetune/sft/main.py:233): a dict the code builds, named as such
            made = next(
                (
                    n.value
                    for n in ast.walk(self.tree)
                    if isinstance(node, ast.Name)
                    and isinstance(n, ast.Assign)
                    and isinstance(n.value, ast.Call)
                    and any(isinstance(x, ast.Name) and x.id == node.id for x in n.targets)
                ),
                None,
            )
            what = (
                f"a dict `{_name(made.func)}(...)` builds at line {made.lineno}, in code goblin does not run" if made is not None else "not a file goblin reads"
            )
            self.missing.append(
                f"the DeepSpeed config (`{ast.unparse(node)[:60]}` given to deepspeed.initialize(...) at line {self.initialize.lineno} is {what})"
            )
            return {}
        from .deepspeed import _load, find

        found = find(self.path, ref)
        if found is None:
            self.missing.append(
                f"the DeepSpeed config ({ref!r}, given to deepspeed.initialize(...) at line {self.initialize.lineno}, is not in the repository)"
            )
            return {}
        try:
            data = _load(self.path, found)
        except Exception as exc:  # refused or broken: named
            self.missing.append(f"the DeepSpeed config ({ref!r} could not be read: {type(exc).__name__})")
            return {}
        if not isinstance(data, dict):
            self.missing.append(f"the DeepSpeed config ({ref!r} is not a JSON object)")
            return {}
        self.s.values["deepspeed"], self.s.where["deepspeed"] = ref, loc
        return {**data, "__path__": str(found), "__shown__": ref}


# the HF key a loop value is mapped to -> what the user changes in the loop
TERMS = {
    "per_device_train_batch_size": "the training DataLoader's batch_size",
    "gradient_accumulation_steps": "the gradient accumulation",
    "dataloader_num_workers": "the training DataLoader's num_workers",
    "dataloader_pin_memory": "the training DataLoader's pin_memory",
    "bf16": "the mixed precision",
    "fp16": "the mixed precision",
    "optim": "the optimizer",
    "max_length": "the sequence length",
    "gradient_checkpointing": "gradient checkpointing (`model.gradient_checkpointing_enable()`)",
    "torch_compile": "torch.compile of the model",
    "use_liger_kernel": "Liger kernels (applied to the model in code)",
}


def change(key: str, new: Any) -> str:
    """The change a rule asks for, in a loop's own terms (`set the training DataLoader's num_workers to 4`)."""
    shown = new if isinstance(new, (str, int, float)) and not isinstance(new, bool) else str(new)
    if key in ("bf16", "fp16") and new is True:
        return f"set the mixed precision to {key}"
    return f"set {TERMS.get(key, f'`{key}`')} to {shown}"


def read_loop(s: Script, tree: ast.Module, path: Path, lit: _Lit, kit: Kit) -> None:
    """Fill `s` from a script's own training loop, or raise NotATrainingConfig naming what is missing."""
    loop = _Loop(s, tree, path, lit, kit)
    if loop.accelerator is None and loop.initialize is None and loop.fsdp is None:
        raise NotATrainingConfig(str(path), "a Python file without a TrainingArguments or TRL config call (its Accelerator(...) never runs)")
    loop.training()
    model = s.values.get("model_name_or_path")
    if isinstance(model, str) and (m := _BRACKETED.match(model)) is not None:
        # a README's `--model_path [meta-llama/Llama-3.1-8B-Instruct]` (review4 #29 HuatuoGPT-o1 README.md:99): the value to
        # fill in, written in brackets; the id inside is the model the line names
        s.values["model_name_or_path"] = m.group(1)
        s.notes.append(f"model {m.group(1)}: the launch line writes it in brackets ({model}), a value to fill in; read as the id inside")
    if "model_name_or_path" not in s.values:
        loads = [c for c in _calls(tree, "from_pretrained") if c.args]
        loads = [c for c in loads if "Model" in ast.unparse(c.func)] or loads  # AutoModelForCausalLM before AutoConfig/AutoTokenizer
        if loads:
            loop.missing.append(f"the model (`{ast.unparse(loads[0].args[0])[:60]}` given to from_pretrained(...) at line {loads[0].lineno} is not read)")
        else:
            # review6b #34 (01-ai/Yi finetune/sft/main.py:253: `model = create_hf_model(AutoModelForCausalLM, args.model_name_or_path, ...)`,
            # a function of its repository that loads it): the call that builds the model, where one is bound to `model`
            built = next(
                (
                    n.value
                    for n in ast.walk(tree)
                    if isinstance(n, ast.Assign)
                    and isinstance(n.value, ast.Call)
                    and any(isinstance(x, ast.Name) and x.id == "model" for x in n.targets)
                    and isinstance(n.value.func, (ast.Name, ast.Attribute))
                ),
                None,
            )
            how = f": `model = {_name(built.func)}(...)` at line {built.lineno} loads it in code goblin does not follow" if built is not None else ""
            loop.missing.append(f"the model (the script makes no from_pretrained(...) call{how})")
    ds = loop.deepspeed_file()
    loop.micro_batch(ds)
    loop.accumulation(ds)
    loop.seq_len()
    loop.precision(ds)
    loop.fsdp_sharding()
    loop.optimizer()
    loop.sequence_split()
    loop.saves()
    if loop.missing:
        raise NotATrainingConfig(
            str(path),
            f"a training loop of its own ({loop.kind()}), read only when goblin can read its model, micro-batch, accumulation,"
            f" sequence length{' ' if loop.fsdp is None else ', sharding '}and precision; it cannot read " + "; ".join(loop.missing),
        )
    s.loop = loop.kind()
    s.notes.insert(
        0, f"a training loop of its own: {loop.kind()}; read as its DataLoader, accelerate/DeepSpeed settings and launch line set it, nothing patched"
    )


def loop_defaults(r: Any) -> None:
    """The fields a loop leaves unset take TrainingArguments' defaults where the loop behaves the same (no compile,
    no Liger, SDPA); the source says so in the loop's terms instead of naming a Trainer the script does not run."""
    from ..schemas import FieldSource

    script = r.script
    loc = script.where.get("bf16")
    if script.values.get("bf16") is False and "fp16" not in script.values and loc is not None and r.values.get("precision") == "fp32":
        # no mixed precision, read from the Accelerator, its launch or the DeepSpeed file: fp32, stated
        r.sources["precision"] = FieldSource(file=loc.file or r.path, key="mixed_precision", line=loc.line, explicit=True, note=loc.fixed)
    for name, src in list(r.sources.items()):
        if not isinstance(src, FieldSource) or src.explicit or (name == "optimizer" and "optim" in script.code_unread):
            continue
        if name == "sample_packing":
            note = "the script's loop packs no samples (no packing dataset call read)"
        elif src.note and ("TrainingArguments" in src.note or "SFTConfig" in src.note or "[transformers" in src.note or "[trl" in src.note):
            note = f"the script's own loop sets none; the same as without a Trainer: {src.note.split(' [')[0]}"
        else:
            continue
        r.sources[name] = FieldSource(file=src.file, key=src.key, line=src.line, explicit=False, note=note)
