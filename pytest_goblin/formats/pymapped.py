"""What a script's dataset map function does to the samples' lengths (issue 23): a function the script maps over its
dataset (`ds.map(fn, ...)`) whose tokenizer call truncates at a readable `max_length` bounds every sample (review10b #33,
CSCfi/llm-fine-tuning-examples finetuning.py:204-214), and one that concatenates every column of a batch and slices
the result into chunks of one block size packs the data to that size (review10b #32, transformers' run_clm
`group_texts`). Read with `ast`; nothing imported or run."""

from __future__ import annotations

import ast
from typing import Any

from .base import IN_CODE_BY_HAND
from .pycommand import Lit
from .pyscript import Location, Script

_LENGTH_KEYS = ("max_seq_length", "max_length", "model_max_length")
# the calls that join a column's rows into one list: itertools.chain(*rows), chain.from_iterable(rows), sum(rows, [])
_JOINS = frozenset({"chain", "from_iterable", "sum"})


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _read(size: ast.expr, tree: ast.Module, lit: Lit) -> tuple[bool, Any, Location | None]:
    """`lit` of a size, but a name the script binds more than once (`block_size` set in three branches of run_clm) is not
    read: the script's first literal for it need not be the one in force where the map runs."""
    if isinstance(size, ast.Name) and sum(1 for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == size.id and isinstance(n.ctx, ast.Store)) > 1:
        return False, None, None
    return lit(size)


def _defined_once(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """The functions the script defines exactly once, by name (a name defined twice is not known to be either)."""
    defs: dict[str, list[ast.FunctionDef]] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.FunctionDef):
            defs.setdefault(n.name, []).append(n)
    return {name: found[0] for name, found in defs.items() if len(found) == 1}


def mapped_functions(tree: ast.Module, defs: dict[str, ast.FunctionDef] | None = None) -> list[tuple[ast.FunctionDef, ast.Call]]:
    """Each function the script defines once (by name) and passes to a `.map(...)` call as its function: (def, map call)."""
    once = _defined_once(tree) if defs is None else defs
    out: list[tuple[ast.FunctionDef, ast.Call]] = []
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "map"):
            continue
        fn = _mapped_name(n.args[0] if n.args else next((k.value for k in n.keywords if k.arg == "function"), None))
        if fn is not None and fn in once:
            out.append((once[fn], n))
    return out


def _mapped_name(fn: ast.expr | None) -> str | None:
    """The once-defined function a `.map(...)` argument runs on each row or batch: the name itself, the function a
    `lambda x: tokenize(x, tokenizer)` body calls (its whole body is that one call, its first argument the lambda's
    parameter; review12a #16, HK2184/MedQA-Medical-AI-on-AMD-ROCm train.py:112-113), or the function a
    `functools.partial(tokenize, tokenizer=tok)` wraps (partial calls it with the row first, then the bound keywords)."""
    if isinstance(fn, ast.Name):
        return fn.id
    if isinstance(fn, ast.Lambda):
        body, params = fn.body, fn.args.args
        if (
            isinstance(body, ast.Call)
            and isinstance(body.func, ast.Name)
            and params
            and body.args
            and isinstance(body.args[0], ast.Name)
            and body.args[0].id == params[0].arg
        ):
            return body.func.id
        return None
    if isinstance(fn, ast.Call) and fn.args and not any(isinstance(a, ast.Starred) for a in fn.args[:1]):
        called = fn.func.id if isinstance(fn.func, ast.Name) else fn.func.attr if isinstance(fn.func, ast.Attribute) else ""
        if called == "partial" and len(fn.args) == 1 and isinstance(fn.args[0], ast.Name):
            return fn.args[0].id
    return None


def _with_callees(fn: ast.FunctionDef, defs: dict[str, ast.FunctionDef]) -> list[ast.FunctionDef]:
    """The mapped function and each function it calls by name that the script defines once: alpaca-lora's mapped
    `generate_and_tokenize_prompt` tokenizes through its nested `tokenize` (review10b #36, finetune.py:129-134)."""
    called = {n.func.id for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return [fn, *(defs[name] for name in sorted(called) if name in defs and defs[name] is not fn)]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def mapped_truncation(s: Script, tree: ast.Module, lit: Lit) -> None:
    """The sequence length a map function's tokenizer call truncates every sample to: `tokenizer(..., truncation=True,
    max_length=256)` (transformers 5.25.0 tokenization_utils_base.py: TruncationStrategy LONGEST_FIRST cuts each row to
    max_length; with return_overflowing_tokens the rest becomes further rows of at most max_length). Every such call of
    every mapped function must give the same readable value; a max_length computed at run time leaves the length assumed."""
    if any(k in s.values for k in _LENGTH_KEYS):
        return
    found: list[tuple[int, Location, int, str]] = []
    defs = _defined_once(tree)
    for fn, _map in mapped_functions(tree, defs):
        for n in (n for body in _with_callees(fn, defs) for n in ast.walk(body)):
            if not (isinstance(n, ast.Call) and _true(_keyword(n, "truncation"))):
                continue
            size = _keyword(n, "max_length")
            if size is None:
                continue
            ok, value, loc = _read(size, tree, lit)
            if not ok or loc is None or not _positive_int(value):
                s.notes.append(
                    f"line {n.lineno}: `{fn.name}`, which the script maps over its dataset, truncates at max_length="
                    f"`{ast.unparse(size)[:40]}`, a value goblin cannot read; the length is assumed"
                )
                return
            found.append((value, loc, n.lineno, fn.name))
    if not found:
        return
    if len({v for v, _, _, _ in found}) != 1:
        s.notes.append(
            f"the script's map functions truncate at different max_length values ({', '.join(sorted({str(x[0]) for x in found}))}); the length is assumed"
        )
        return
    value, loc, line, name = found[0]
    s.values["max_length"], s.where["max_length"] = value, loc
    s.notes.append(f"seq_len {value}: `{name}`, which the script maps over its dataset, truncates every sample to max_length={value} (line {line})")


def _joins_every_column(fn: ast.FunctionDef) -> bool:
    """`{k: list(chain(*examples[k])) for k in examples.keys()}` (or `sum(examples[k], [])`, `chain.from_iterable`): a
    comprehension over every key of the function's batch parameter that joins each column's rows into one list."""
    if not fn.args.args:
        return False
    batch = fn.args.args[0].arg
    for n in ast.walk(fn):
        if not (isinstance(n, ast.DictComp) and len(n.generators) == 1 and isinstance(n.generators[0].target, ast.Name)):
            continue
        gen = n.generators[0]
        it = gen.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "keys" and not it.args:
            it = it.func.value
        if not (isinstance(it, ast.Name) and it.id == batch) or gen.ifs:
            continue
        if not isinstance(gen.target, ast.Name):
            continue
        key = gen.target.id
        for c in ast.walk(n.value):
            if not (isinstance(c, ast.Call) and c.args):
                continue
            name = c.func.id if isinstance(c.func, ast.Name) else c.func.attr if isinstance(c.func, ast.Attribute) else ""
            arg = c.args[0].value if isinstance(c.args[0], ast.Starred) else c.args[0]
            if (
                name in _JOINS
                and isinstance(arg, ast.Subscript)
                and isinstance(arg.value, ast.Name)
                and arg.value.id == batch
                and isinstance(arg.slice, ast.Name)
                and arg.slice.id == key
            ):
                return True
    return False


def _chunk_size(fn: ast.FunctionDef) -> ast.expr | None:
    """The size S of `[t[i : i + S] for i in range(0, total, S)]` in the function: the rows it slices the joined columns
    into, each S long. None where there is no such slice, or slices of different sizes."""
    sizes: list[ast.expr] = []
    for n in ast.walk(fn):
        if not (isinstance(n, ast.ListComp) and len(n.generators) == 1 and isinstance(n.generators[0].target, ast.Name)):
            continue
        gen = n.generators[0]
        it = gen.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and len(it.args) == 3):
            continue
        if not isinstance(gen.target, ast.Name):
            continue
        step, index = it.args[2], gen.target.id
        sl = n.elt.slice if isinstance(n.elt, ast.Subscript) else None
        if not (isinstance(sl, ast.Slice) and sl.step is None and isinstance(sl.lower, ast.Name) and sl.lower.id == index):
            continue
        up = sl.upper
        if (
            isinstance(up, ast.BinOp)
            and isinstance(up.op, ast.Add)
            and isinstance(up.left, ast.Name)
            and up.left.id == index
            and ast.dump(up.right) == ast.dump(step)
        ):
            sizes.append(step)
    if not sizes or len({ast.dump(x) for x in sizes}) != 1:
        return None
    return sizes[0]


def _from_field(tree: ast.Module, size: ast.expr, field: str) -> bool:
    """Whether the size is the parsed field itself (`data_args.block_size`) or a name one of whose assignments reads that
    field (run_clm: `block_size = min(data_args.block_size, tokenizer.model_max_length)`)."""
    if isinstance(size, ast.Attribute):
        return True
    assert isinstance(size, ast.Name)
    return any(
        isinstance(n, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == size.id for t in n.targets)
        and any(isinstance(a, ast.Attribute) and a.attr == field for a in ast.walk(n.value))
        for n in ast.walk(tree)
    )


def grouped_texts(s: Script, tree: ast.Module, lit: Lit, option: Lit | None = None) -> None:
    """A batched map (`ds.map(group_texts, batched=True)`) whose function joins every column of the batch and slices the
    joined rows into chunks of one size packs the data: every training row is that long (transformers' run_clm.py
    `group_texts`, examples/pytorch/language-modeling/run_clm.py). The size is the literal or option the slice uses, else
    the parsed field of the same name (`block_size`: the launch line's word or the dataclass default, which run_clm takes
    as min(block_size, tokenizer.model_max_length)); with `option` (a loop of its own, formats/pyloop.py), the argparse
    option of that name as the launch line passes it (`block_size = args.block_size`, review12b #23 frontier-guide
    train.py:95, :163-170); a size goblin cannot read leaves the length assumed, said."""
    if "sample_packing" in s.fixed or s.values.get("packing") is True:
        return
    for fn, call in mapped_functions(tree):
        if not _true(_keyword(call, "batched")) or not _joins_every_column(fn):
            continue
        size = _chunk_size(fn)
        if size is None:
            continue
        how = f"`{fn.name}` (line {fn.lineno}), which the script maps over its dataset in batches (line {call.lineno}), joins every column and cuts it into chunks of `{ast.unparse(size)[:40]}` tokens"
        s.fixed["sample_packing"] = f"{how}: the data are packed; change it {IN_CODE_BY_HAND}"
        s.code_lines["sample_packing"] = call.lineno
        s.values["packing"] = True
        s.where["packing"] = Location(None, call.lineno, fixed=s.fixed["sample_packing"])
        if any(k in s.values for k in _LENGTH_KEYS):
            return
        ok, value, loc = _read(size, tree, lit)
        field = size.attr if isinstance(size, ast.Attribute) else size.id if isinstance(size, ast.Name) else None
        cap = ""
        if (
            not (ok and loc is not None and _positive_int(value))
            and field is not None
            and field in s.values
            and field in s.where
            and _from_field(tree, size, field)
        ):
            ok, value, loc = True, s.values[field], s.where[field]
            cap = f" (the parsed `{field}`; a tokenizer whose model_max_length is lower would cut it further)"
        elif not (ok and loc is not None and _positive_int(value)) and field is not None and option is not None and _from_field(tree, size, field):
            ok, value, loc = option(ast.Name(id=field, ctx=ast.Load()))
            cap = f" (the `--{field}` option)"
        if ok and loc is not None and _positive_int(value):
            s.values["max_length"], s.where["max_length"] = value, loc
            s.notes.append(f"seq_len {value}: {how}{cap}")
        else:
            s.notes.append(f"{how}; goblin cannot read that size, so the length is assumed")
        return
