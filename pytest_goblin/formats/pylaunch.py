"""Launch commands a Python file builds (read from its AST, never run): `subprocess.run([...])`,
`os.system(f"...")`, `cmd = f"accelerate launch --num_processes {...} ..."; run_cmd(cmd)`.

A string, f-string or list of strings counts as a command when it is the first argument of a call
that runs something (`RUNNERS`, or a function whose name says run/exec/launch/shell/system/cmd), or
is bound to a name that is; docstrings, `help=` texts and printed strings never are. An f-string's
`{...}` is read from the module's own values (`pyeval`), `os.environ.get("X", default)` as its
default (the launch line's `X=...` prefix wins; the note says which), and `torch.cuda.device_count()`
as the GPUs the Modal function around it asks for (`@app.function(gpu="a100:2")`: MODAL_GPU_AT), which is
also what any launcher in it sees (`PyCommand.gpus`). A parameter the function's calls pass different values
for (`train.spawn("a.yml")`, `train.spawn("b.yml")`) gives one command per call, and a path under a folder the
Modal image mounts from beside the file (MODAL_MOUNT_AT) is read as that folder's. A
part that cannot be read stays `${...}`, which the launcher reader reports as not resolved.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from ..pysource import parse as parse_source
from .pyeval import MODAL_CALL_AT, Evaluator

# modal py/v1.5.4 py/modal/_utils/function_utils.py:656-668 (gpu="TYPE:N" asks for N GPUs per container, "TYPE" for one);
# py/v1.3.6.dev0 py/modal/gpu.py:66-76 (the older modal.gpu.A100(count=1, ...) objects: count GPUs, default 1)
MODAL_GPU_AT = 'modal py/v1.5.4 py/modal/_utils/function_utils.py:656-668 (gpu="TYPE:N": N GPUs per container); py/v1.3.6.dev0 py/modal/gpu.py:66-76 (modal.gpu.X(count=1))'
RUNNERS = frozenset({"run", "Popen", "call", "check_call", "check_output", "system", "popen", "getoutput", "getstatusoutput", "execvp", "execv", "spawn"})
_RUNNER_WORD = re.compile(r"(run|exec|launch|shell|system|cmd|command)", re.IGNORECASE)
_NOT_RUNNERS = frozenset({"print", "add_argument", "ArgumentParser", "format", "write", "info", "debug", "warning", "error", "log", "echo", "join"})
_LAUNCH_WORDS = ("torchrun", "torch.distributed", "accelerate", "deepspeed", "llamafactory-cli", "axolotl", "tune run")
# a file is parsed only when its text holds a launch command as one string or as list items (`"accelerate", "launch"`);
# `import deepspeed` or `accelerate.Accelerator()` in a training script does not make it a launcher
_PREFILTER = re.compile(
    r"""torchrun|accelerate["']?\s*,?\s*["']?launch|["']?deepspeed["']?\s*,?\s*["']?(?:--|[\w./{}-]+\.py)|llamafactory-cli|axolotl\.cli|axolotl["']?\s*,?\s*["']?train|tune["']?\s*,?\s*["']?run|torch\.distributed\.(?:run|launch)"""
)
MAX_PY_BYTES = 256_000
# modal py/v1.5.4 py/modal/_image.py:864-939: `Image.add_local_dir(local_path, remote_path)` puts the local folder's
# contents at the (absolute) remote_path inside the container
MODAL_MOUNT_AT = "modal py/v1.5.4 py/modal/_image.py:864-939 (Image.add_local_dir(local_path, remote_path): the folder's contents at remote_path)"


@dataclass
class PyCommand:
    line: int
    tokens: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    # the GPUs of the Modal container the command runs in (`@app.function(gpu="H100:4")`: MODAL_GPU_AT) and how that
    # was read; None outside a Modal function with a readable gpu=
    gpus: tuple[int, str] | None = None
    # the nearest `if` around the command whose test is not read (`if config["NUM_GPUS"] == 4:`, review13b #29 DiscoPOP
    # scripts/launch_evo.py:218): (its line, 0 in its body / 1 in its `else`, the test as written); None when none
    branch: tuple[int, int, str] | None = None


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _runs(call: ast.Call) -> bool:
    name = _call_name(call)
    return name not in _NOT_RUNNERS and (name in RUNNERS or bool(_RUNNER_WORD.search(name)))


def _environ_get(node: ast.expr) -> tuple[str, ast.expr | None] | None:
    """`os.environ.get("X", d)` / `os.getenv("X", d)` / `os.environ["X"]`: (X, d)."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        f = node.func
        env_get = isinstance(f, ast.Attribute) and (
            (f.attr == "get" and isinstance(f.value, ast.Attribute) and f.value.attr == "environ") or (f.attr == "getenv")
        )
        if env_get:
            return node.args[0].value, node.args[1] if len(node.args) > 1 else None
    return None


class ParsedModule:
    """The module-level values (read in order, through `if`s whose test is known) and the notes on them."""

    def __init__(self, tree: ast.Module, env: dict[str, str], parents: dict[int, ast.AST]):
        self.tree = tree
        self.env = env  # the launch line's variables: they win over an os.environ.get default
        self.values: dict[str, Any] = {}
        self.reading: list[str] = []  # how the environment variables read by the statement being read were taken
        self.env_of: dict[str, list[str]] = {}  # module name -> how the environment variables its value comes from were taken
        self.ev = Evaluator(tree, parents, self._leaf)
        self._run(tree.body)

    def _leaf(self, node: ast.expr) -> tuple[bool, Any]:
        if isinstance(node, ast.Constant):
            return True, node.value
        if isinstance(node, ast.Name) and node.id in self.values:
            return True, self.values[node.id]
        got = _environ_get(node)
        if got is not None:
            var, default = got
            if var in self.env:
                self.reading.append(f"{var}={self.env[var]} on the launch line")
                return True, self.env[var]
            if default is None:
                return False, None
            ok, value = self.ev.value(default, 1)
            if ok:
                self.reading.append(f"{var} unset: its default {value!r}")
            return ok, value
        if isinstance(node, ast.JoinedStr):
            parts: list[str] = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                elif isinstance(v, ast.FormattedValue) and v.format_spec is None:
                    ok, value = self.ev.value(v.value, 1)
                    if not ok or not isinstance(value, (str, int, float)):
                        return False, None
                    parts.append(str(value))
                else:
                    return False, None
            return True, "".join(parts)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("int", "str") and len(node.args) == 1:
            ok, value = self.ev.value(node.args[0], 1)
            try:
                return (True, int(value) if node.func.id == "int" else str(value)) if ok else (False, None)
            except (TypeError, ValueError):
                return False, None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1:
            ok, value = self.ev.value(node.args[0], 1)
            return (True, len(value)) if ok and isinstance(value, (str, list, tuple)) else (False, None)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split" and len(node.args) <= 1:
            ok, value = self.ev.value(node.func.value, 1)
            sep: Any = None
            if node.args:
                ok_sep, sep = self.ev.value(node.args[0], 1)
                ok = ok and ok_sep and isinstance(sep, str) and bool(sep)
            return (True, value.split(sep)) if ok and isinstance(value, str) else (False, None)
        return False, None

    def env_notes(self, node: ast.expr) -> list[str]:
        """How the environment variables behind the module names in `node` were taken."""
        return list(dict.fromkeys(x for n in ast.walk(node) if isinstance(n, ast.Name) for x in self.env_of.get(n.id, [])))

    def _assigned(self, stmts: list[ast.stmt]) -> set[str]:
        return {t.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Assign) for tg in n.targets for t in ast.walk(tg) if isinstance(t, ast.Name)}

    def _run(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.reading = []
                ok, value = self.ev.value(stmt.value)
                if ok and isinstance(value, (str, int, float, bool, list, tuple)):
                    self.values[stmt.targets[0].id] = value
                    self.env_of[stmt.targets[0].id] = self.env_notes(stmt.value) + self.reading
                else:
                    self.values.pop(stmt.targets[0].id, None)
            elif isinstance(stmt, ast.If):
                ok, test = self.ev.value(stmt.test)
                if ok:
                    self._run(stmt.body if test else stmt.orelse)
                else:  # either branch may run: what they assign is unknown
                    for name in self._assigned([*stmt.body, *stmt.orelse]):
                        self.values.pop(name, None)


def _modal_gpus(fn: ast.FunctionDef | ast.AsyncFunctionDef, mod: ParsedModule) -> tuple[int | None, str]:
    """The GPU count a Modal decorator (`@app.function(gpu=...)`, `@app.cls(gpu=...)`) asks for, and how it was read."""
    for dec in fn.decorator_list:
        if not isinstance(dec, ast.Call):
            continue
        gpu = next((k.value for k in dec.keywords if k.arg == "gpu"), None)
        if gpu is None:
            continue
        where = f"`gpu={ast.unparse(gpu)[:60]}` of @{ast.unparse(dec.func)[:40]}(...) at line {dec.lineno}"
        if isinstance(gpu, ast.Call) and not (isinstance(gpu.func, ast.Attribute) and ast.unparse(gpu.func.value).split(".")[-1] == "gpu"):
            return None, f"{where}: not read"  # a call of the repository's own (pick_gpu()): not known
        if isinstance(gpu, ast.Call):  # modal.gpu.A100(count=2)
            count = next((k.value for k in gpu.keywords if k.arg == "count"), None)
            if count is None:
                return 1, f"{where}: one GPU ({MODAL_GPU_AT})"
            ok, value = mod.ev.value(count)
            return (value, f"{where}: {value} GPU(s) ({MODAL_GPU_AT})") if ok and isinstance(value, int) else (None, f"{where}: count not read")
        ok, value = mod.ev.value(gpu)
        if ok and isinstance(value, str):
            _type, colon, n = value.partition(":")
            env = "; ".join(mod.env_notes(gpu))
            said = f"{where} is {value!r}" + (f" ({env})" if env else "")
            if not colon:
                return 1, f"{said}: one GPU ({MODAL_GPU_AT})"
            if n.strip().isdigit():
                return int(n), f"{said}: {int(n)} GPU(s) ({MODAL_GPU_AT})"
        return None, f"{where}: not read"
    return None, ""


def _function_of(node: ast.AST, parents: dict[int, ast.AST]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    p = parents.get(id(node))
    while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)):
        p = parents.get(id(p))
    return p


def _device_count(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "device_count" and "cuda" in ast.unparse(node.func)


def commands(text: str, env: dict[str, str] | None = None) -> list[PyCommand]:
    """The launch commands a Python file builds, each with its line and how its parts were read."""
    if len(text) > MAX_PY_BYTES or not _PREFILTER.search(text):
        return []
    try:
        tree = parse_source(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    mod = ParsedModule(tree, dict(env or {}), parents)
    # names passed as the first argument of a runner, per function (None: module level)
    run_names: set[tuple[int, str]] = set()
    first_args: list[ast.expr] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and _runs(n) and n.args:
            arg = n.args[0]
            if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "split" and not arg.args:
                arg = arg.func.value  # `subprocess.run(command.split())`: the command is `command`
            first_args.append(arg)
            if isinstance(arg, ast.Name):
                fn = _function_of(n, parents)
                run_names.add((id(fn) if fn else 0, arg.id))
    exprs: list[ast.expr] = list(first_args)
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            fn = _function_of(n, parents)
            if (id(fn) if fn else 0, n.targets[0].id) in run_names:
                exprs.append(n.value)
    out: list[PyCommand] = []
    mounts = _mounts(tree)
    for e in exprs:
        fn = _function_of(e, parents)
        count, how = _modal_gpus(fn, mod) if fn is not None else (None, "")
        gpus = (count, how) if count is not None else None
        for fixed, said in _bindings(e, mod, fn):
            rendered = _render(e, mod, fn, fixed)
            if rendered is None:
                continue
            tokens, notes = rendered
            if not any(w in " ".join(tokens) for w in _LAUNCH_WORDS):
                continue
            if gpus is not None:  # a Modal function: a path under a folder the image mounts is that local folder's file
                tokens = [_unmounted(t, mounts, notes) for t in tokens]
            branch = _undecided_branch(e, parents, mod)
            if branch is not None:
                notes.append(f"built in the {'body' if branch[1] == 0 else '`else`'} of `if {branch[2]}:` (line {branch[0]}), whose test goblin does not read")
            out.append(PyCommand(e.lineno, tuple(tokens), [*said, *notes], gpus, branch))
    return sorted(out, key=lambda c: c.line)


def _undecided_branch(e: ast.expr, parents: dict[int, ast.AST], mod: ParsedModule) -> tuple[int, int, str] | None:
    """The nearest `if` statement holding the command whose test the module's values do not decide: (line, arm, test)."""
    child: ast.AST = e
    p = parents.get(id(e))
    while p is not None and not isinstance(p, ast.Module):
        if isinstance(p, ast.If) and child is not p.test:
            ok, _ = mod.ev.value(p.test)
            if not ok:
                return p.lineno, 0 if any(child is x for x in p.body) else 1, ast.unparse(p.test)[:80]
        child, p = p, parents.get(id(p))
    return None


def _mounts(tree: ast.Module) -> list[tuple[str, str, int]]:
    """(remote folder, local folder relative to this file, line) of each `.add_local_dir(Path(__file__).parent / "x",
    "/root/x")` (MODAL_MOUNT_AT); a local folder given any other way (relative to where `modal run` is started) is not read."""
    out: list[tuple[str, str, int]] = []
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "add_local_dir"):
            continue
        given = dict(zip(("local_path", "remote_path"), n.args, strict=False))
        given.update({k.arg: k.value for k in n.keywords if k.arg in ("local_path", "remote_path")})
        local, remote = given.get("local_path"), given.get("remote_path")
        if not (isinstance(remote, ast.Constant) and isinstance(remote.value, str) and remote.value.startswith("/")):
            continue
        parts: list[str] = []
        while isinstance(local, ast.BinOp) and isinstance(local.op, ast.Div) and isinstance(local.right, ast.Constant) and isinstance(local.right.value, str):
            parts.insert(0, local.right.value)
            local = local.left
        if local is not None and ast.unparse(local) in ("Path(__file__).parent", "pathlib.Path(__file__).parent", "Path(__file__).resolve().parent"):
            out.append((remote.value.rstrip("/"), "/".join(parts) or ".", n.lineno))
    return out


def _unmounted(token: str, mounts: list[tuple[str, str, int]], notes: list[str]) -> str:
    for remote, local, line in mounts:
        if remote and token.startswith(remote + "/") and "$" not in token:
            mapped = local + token[len(remote) :]
            notes.append(f"`{token}` is `{mapped}` beside this file: `.add_local_dir(...)` at line {line} mounts it at {remote} ({MODAL_MOUNT_AT})")
            return mapped
    return token


MAX_BINDINGS = 16


def _bindings(e: ast.expr, mod: ParsedModule, fn: ast.FunctionDef | ast.AsyncFunctionDef | None) -> list[tuple[dict[str, Any], list[str]]]:
    """One rendering per value the calls of the command's function pass for the one parameter whose calls
    disagree (`train.spawn("config-fft.yml")`, `train.spawn("config-lora.yml")` around `f"axolotl train
    /root/configs/{config}"`: MODAL_CALL_AT), each with a note; the command as it is otherwise."""
    if fn is None:
        return [({}, [])]
    varying: list[tuple[str, list[Any], list[int]]] = []
    for n in ast.walk(e):
        if isinstance(n, ast.FormattedValue) and isinstance(n.value, ast.Name) and not mod.ev.value(n.value)[0]:
            found = mod.ev.parameter_values(n.value)
            if found is not None and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in found[0]):
                if n.value.id not in {name for name, _, _ in varying}:
                    varying.append((n.value.id, found[0], found[1]))
    varying = [x for x in varying if len(set(x[1])) > 1]
    if not varying or len(varying[0][2]) > MAX_BINDINGS or any(len(x[1]) != len(varying[0][1]) for x in varying):
        return [({}, [])]
    # the same calls in the same order for every parameter: one binding per call (`train.spawn("a.yml", output_dir="x")`)
    out: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for i, line in enumerate(varying[0][2]):
        out.setdefault(tuple((name, values[i]) for name, values, _ in varying), []).append(line)
    said = " and ".join(f"`{name}`" for name, _, _ in varying)
    return [
        (
            dict(b),
            [
                f"{said} {'is' if len(b) == 1 else 'are'} {', '.join(repr(v) for _, v in b)}, as the call(s) of {fn.name}() at line(s) {', '.join(map(str, at))} pass it ({MODAL_CALL_AT})"
            ],
        )
        for b, at in out.items()
    ]


def _render(
    e: ast.expr, mod: ParsedModule, fn: ast.FunctionDef | ast.AsyncFunctionDef | None, fixed: dict[str, Any] | None = None
) -> tuple[list[str], list[str]] | None:
    notes: list[str] = []

    def part(v: ast.expr) -> str:
        if fixed and isinstance(v, ast.Name) and v.id in fixed:
            return str(fixed[v.id])
        if _device_count(v):
            count, how = _modal_gpus(fn, mod) if fn is not None else (None, "")
            if count is not None:
                notes.append(f"`{ast.unparse(v)}` at line {v.lineno} is the GPUs {how}")
                return str(count)
            notes.append(f"`{ast.unparse(v)}` at line {v.lineno}: every GPU the machine shows" + (f"; {how}" if how else ""))
            return "${" + ast.unparse(v)[:40] + "}"
        ok, value = mod.ev.value(v)
        if ok and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        return "${" + ast.unparse(v)[:40] + "}"

    def text_of(v: ast.expr) -> str | None:
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            return v.value
        if isinstance(v, ast.JoinedStr):
            return "".join(str(x.value) if isinstance(x, ast.Constant) else part(x.value) if isinstance(x, ast.FormattedValue) else "" for x in v.values)
        if isinstance(v, ast.Name) and isinstance(mod.values.get(v.id), str):
            return str(mod.values[v.id])
        return None

    if isinstance(e, (ast.List, ast.Tuple)):
        words = [text_of(x) if not (isinstance(x, ast.Constant) and isinstance(x.value, (int, float))) else str(x.value) for x in e.elts]
        if any(w is None for w in words):
            words = [w if w is not None else "${...}" for w in words]
        return [w for w in words if w is not None], notes
    whole = text_of(e)
    if whole is None:
        return None
    try:
        return shlex.split(whole, comments=True), notes
    except ValueError:
        return whole.split(), notes
