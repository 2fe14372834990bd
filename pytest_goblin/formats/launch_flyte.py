"""A `pyflyte run [options] FILE.py TASK --arg ...` launch line: the nodes and GPUs per node of the Flyte task it runs,
read from that task's decorator in FILE.py with `ast` (never imported): `@task(task_config=Elastic(nnodes=N,
nproc_per_node=M), requests=Resources(gpu="8"))` (review7b #28 unionai-oss llm-fine-tuning llm_fine_tuning.py:246-271).

Facts: flytekitplugins-kfpytorch `Elastic.nnodes` defaults to 1 and is a count or a `MIN:MAX` range (task.py:54@v1.6.0,
:130@v1.10.0); each node runs `nproc_per_node` worker processes through torch's elastic launcher (LaunchConfig,
task.py:161-163@v1.6.0, :316@v1.10.0). Its default was "auto" (task.py:55@v1.6.0, resolved by torch's
determine_local_world_size: one process per visible accelerator, torch 2.13.0 torch/distributed/run.py:768-770) until
flytekit 2602cb55e (2023-07-12, "Remove option to pass str value as nproc_per_node"), and is 1 since (task.py:131@v1.10.0).
`Resources(gpu="N")` asks the pod for N GPUs (flytekit v1.10.0 flytekit/core/resources.py:31,65-66)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..pysource import parse as parse_source
from ..safepath import UnsafePath, read_text

if TYPE_CHECKING:
    from .launcher_text import LauncherFile, Line


class Launch(Protocol):
    """What a Flyte task line sets on launch_line.Launch (named structurally: launch_line imports this module, so a
    type import back would make the two a circle)."""

    nodes: int
    per_node: int
    nodes_said: bool
    per_node_said: bool
    assumed: list[str]
    notes: list[str]
    strategy_unread: str

    def where(self) -> str: ...


# launch_line._locate, which takes its own Launch: Any here, as the Launch protocol above cannot stand in for it
Locate = Callable[[str, Path, list[Path], Path, Any, str], Path | None]
ELASTIC_AT = "flytekitplugins-kfpytorch task.py:54-55,161-163@v1.6.0 and :130-131,316@v1.10.0"
AUTO_AT = 'nproc_per_node default "auto" (one process per visible GPU, torch/distributed/run.py:768-770@2.13.0) before flytekit 2602cb55e (2023-07-12), 1 since'
RESOURCES_AT = "flytekit v1.10.0 flytekit/core/resources.py:31,65-66"
MAX_TASK_FILE = 512_000


def _name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _literal(node: ast.expr | None) -> int | str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str)) and not isinstance(node.value, bool):
        return node.value
    return None


def _gpus(call: ast.Call) -> int | None:
    """The GPU count of the task's `limits=`, else `requests=` Resources(gpu=...), when a literal count."""
    for key in ("limits", "requests"):
        res = _kw(call, key)
        if isinstance(res, ast.Call) and _name(res.func) == "Resources":
            value = _literal(_kw(res, "gpu"))
            if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
                return int(value) or None
    return None


def flyte_task(line: Line, lf: LauncherFile, roots: list[Path], root: Path, out: Launch, locate: Locate, per_node_assumed: int) -> bool:
    """Fill `out` from the decorator of the task the line runs (the task file found by launch_line's `locate`, the
    assumed count launch_line's PER_NODE_ASSUMED); False when the line names no task file goblin can read."""
    from .launcher_text import word_path

    words = list(line.tokens)
    at = next((i for i, w in enumerate(words) if w == "run"), None)
    if at is None:
        return False
    script = next((i for i in range(at + 1, len(words)) if words[i].endswith(".py") and not words[i].startswith("-")), None)
    if script is None or script + 1 >= len(words) or words[script + 1].startswith("-"):
        return False
    task = words[script + 1]
    path = locate(words[script], lf.path.parent, roots, root, out, "the Flyte task file")
    if path is None:
        return False
    try:
        tree = parse_source(read_text(path, roots=roots, limit=MAX_TASK_FILE))
    except (UnsafePath, OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == task), None)
    deco = next((d for d in fn.decorator_list if isinstance(d, ast.Call) and _name(d.func) == "task"), None) if fn is not None else None
    if fn is None or deco is None:
        return False
    where = f"{path.name}:{deco.lineno} (@task of {task})"
    gpus = _gpus(deco)
    elastic = _kw(deco, "task_config")
    if not (isinstance(elastic, ast.Call) and _name(elastic.func) == "Elastic"):
        out.nodes_said = out.per_node_said = False
        out.assumed.append(f"{where} has no Elastic task_config goblin reads: 1 node x 1 process assumed")
        return True
    nodes = _literal(_kw(elastic, "nnodes"))
    if _kw(elastic, "nnodes") is None:
        nodes = 1
    if isinstance(nodes, int) and nodes > 0:
        out.nodes = nodes
    elif isinstance(nodes, str) and nodes.partition(":")[2].isdigit():
        out.nodes, out.nodes_said = int(nodes.partition(":")[2]) or 1, False
        out.assumed.append(f"Elastic nnodes {nodes!r} at {where}: the maximum, {out.nodes}, assumed ({ELASTIC_AT})")
    else:
        out.nodes, out.nodes_said = 1, False
        out.assumed.append(f"Elastic nnodes at {where} is not a literal: 1 node assumed")
    per = _literal(_kw(elastic, "nproc_per_node"))
    if isinstance(per, int) and per > 0:
        out.per_node = per
    elif gpus is not None:
        out.per_node, out.per_node_said = gpus, False
        how = "unset" if per is None else f"{per!r}"
        out.assumed.append(
            f"Elastic nproc_per_node {how} at {where}: one process per GPU of its Resources(gpu={gpus}) assumed ({AUTO_AT}; {ELASTIC_AT}; {RESOURCES_AT})"
        )
    else:
        out.per_node, out.per_node_said = per_node_assumed, False
        out.assumed.append(f"Elastic nproc_per_node and the task's GPU count not read at {where}: {per_node_assumed} assumed")
    out.notes.append(f"{out.nodes} node(s) x {out.per_node} process(es) from the Flyte task {task} the line runs, {where} ({ELASTIC_AT})")
    for flag, value in zip(words[script + 2 :], words[script + 3 :], strict=False):
        name = Path(word_path(value)).name.lower()
        if flag.startswith("-") and word_path(value) != value and any(k in name for k in ("deepspeed", "fsdp", "ds_", "zero")):
            # the task's own code hands it to TrainingArguments (llm_fine_tuning.py:289-294): not read here
            out.strategy_unread = f"{out.where()} passes the task {flag} {word_path(value)}, which the task's code applies: the sharding it sets is not read"
            break
    return True
