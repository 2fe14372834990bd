"""Cluster/cloud launcher files that are YAML, read as data (never applied): dstack tasks, SkyPilot tasks and
Kubeflow PyTorchJobs. Each gives the shell commands it runs, with the physical line each starts on, the
environment it sets, and the nodes and GPUs per node it asks for; formats/launchers.py reads those commands as
it reads a shell script's (so the script arguments they pass reach a Python script's values too).

The keys, each from its format's own source or documentation:
- dstack (`*.dstack.yml`, `type: task`): `commands:` a list of shell commands, `env:` `NAME=value` items, `nodes:`
  the node count (default 1), `resources: gpu:` a spec `NAME:COUNT` / `MEMORY:COUNT` / a count / `{count: N}`,
  where a token of digits (or a range `a..b`) is the count and the default count is the range from 1
  (DSTACK_AT); the system environment variables DSTACK_GPUS_PER_NODE, DSTACK_NODES_NUM, DSTACK_GPUS_NUM
  (DSTACK_ENV_AT).
- SkyPilot: `num_nodes:` (default 1), `resources: accelerators:` `NAME:COUNT` per node (a name alone: one),
  `run:` the shell script, `envs:` a mapping; SKYPILOT_NUM_NODES and SKYPILOT_NUM_GPUS_PER_NODE (SKYPILOT_AT).
- Kubeflow PyTorchJob: `spec.pytorchReplicaSpecs.{Master,Worker}.replicas` (one pod per node), `spec.nprocPerNode`,
  else the container's `resources.limits` `nvidia.com/gpu` / `amd.com/gpu`; the container's `command` + `args`
  (KUBEFLOW_AT).
- A plain Kubernetes batch Job or Pod (`kind: Job` / `kind: Pod`, `_pod_workload`): the container that asks for GPUs
  in `resources.limits` (`nvidia.com/gpu`, `amd.com/gpu`, or a cluster's renamed whole-GPU resource such as
  `nvidia.com/a100`: not a `.shared` time-slice nor a `mig-` slice), its `command` + `args` and `env`; the pods a
  Job runs at once, `spec.parallelism` (default 1), one node each (KUBE_AT). A command that runs one of the
  repository's shell scripts (`bash run_pipeline.sh`) is read as that script's lines, and the scripts it runs in turn
  (`_followed`), under the container's environment: review6a #20 offendo/formalize jobs/herald_em.yaml runs
  run_pipeline.sh -> run_em.sh `axolotl train $CONFIG` with `CONFIG` set to the config. A manifest whose commands
  run no training command that names a config (an inference server) launches nothing.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DSTACK_AT = (
    "dstack 15670e1 src/dstack/_internal/core/models/resources.py:179,256,286-318 (gpu spec: a digits token is the count, "
    "default count 1..) and core/models/configurations.py:706,859-861,966 (commands, nodes default 1)"
)
DSTACK_ENV_AT = "dstack 15670e1 mkdocs/docs/concepts/tasks.md:565-567 (DSTACK_GPUS_NUM, DSTACK_NODES_NUM, DSTACK_GPUS_PER_NODE)"
SKYPILOT_AT = (
    "SkyPilot docs reference/yaml-spec (num_nodes default 1; resources.accelerators NAME:COUNT per node) and "
    "running-jobs/distributed-jobs (SKYPILOT_NUM_NODES, SKYPILOT_NUM_GPUS_PER_NODE)"
)
KUBEFLOW_AT = (
    "kubeflow/training-operator v1.9.0 pkg/controller.v1/pytorch/envvar.go:99-101,120,142-148 (PET_NPROC_PER_NODE = spec.nprocPerNode, "
    "PET_NNODES = every replica spec's replicas summed, one pod each) and pkg/apis/kubeflow.org/v1/pytorch_defaults.go:23,68-71 (nprocPerNode default `auto`)"
)

KUBE_AT = (
    "kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus (GPUs are asked for in a container's resources.limits as "
    "amd.com/gpu / nvidia.com/gpu, whole GPUs) and kubernetes pkg/apis/batch/v1/defaults.go:29-38@045bbb1 "
    "(SetDefaults_Job: .spec.parallelism, the pods a Job runs at once, 1 when unset)"
)
# an Azure ML command job: its `$schema` names commandJob.schema.json and `command:` is the shell command it runs in
# the `code:` folder (the schema the file names: azuremlschemas.azureedge.net/latest/commandJob.schema.json); only the
# command is read (no GPU count)
AZUREML_AT = "Azure ML CLI v2 command job YAML (azuremlschemas.azureedge.net/latest/commandJob.schema.json: `command`, `code`)"
_AZUREML = re.compile(r"^\$schema:[ \t]{0,64}['\"]?https://azuremlschemas\.azureedge\.net/[\w./-]{0,200}commandJob\.schema\.json", re.MULTILINE)
# the shell scripts a Job's command runs, read in its place (depth and lines bounded)
MAX_FOLLOW_DEPTH = 3
MAX_FOLLOWED_LINES = 2000
FOLLOW_BYTES = 256_000

# Cheap markers before any YAML is parsed: a config folder's training YAMLs carry none of them.
_SKY = re.compile(r"^(?:num_nodes:|run:|[ \t]{1,64}accelerators:)", re.MULTILINE)
_KUBE = re.compile(r"^kind:[ \t]{0,64}['\"]?PyTorchJob\b", re.MULTILINE)
_KUBE_POD = re.compile(r"^kind:[ \t]{0,64}['\"]?(?:Job|Pod)['\"]?[ \t]*$", re.MULTILINE)
_COUNT = re.compile(r"^(\d{1,5})(?:\.\.(\d{0,5}))?$|^\.\.(\d{1,5})$")
_GPU_LIMITS = ("amd.com/gpu", "nvidia.com/gpu")


@dataclass
class CloudFile:
    """What a cloud launcher file says: its commands, environment and node/GPU counts."""

    kind: str  # "dstack", "SkyPilot", "PyTorchJob"
    lines: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, shell text)
    env: dict[str, str] = field(default_factory=dict)
    nodes: tuple[int, int] | None = None  # (count, line)
    gpus: tuple[int, int] | None = None  # (per node, line)
    gpu_resource: tuple[str, int] | None = None  # (the resources.limits name a Kubernetes container asks for, line)
    image: tuple[str, int] | None = None  # (the training container's image, line): formats/container.py
    notes: list[str] = field(default_factory=list)
    # the variables the file itself sets for the training process: name -> (line, known); a value with `$` (a Kubernetes
    # `$(VAR)`, a dstack `${{ ... }}`), one taken from outside (`valueFrom`, a dstack name without `=`) is not known
    env_lines: dict[str, tuple[int, bool]] = field(default_factory=dict)


def is_dstack(name: str) -> bool:
    return name.lower().endswith((".dstack.yml", ".dstack.yaml"))  # `.dstack.yml` itself too


def maybe_cloud(name: str, text: str) -> bool:
    """True when the text may be a cloud launcher file (a marker of one of the formats)."""
    return bool(
        _KUBE.search(text)
        or (_KUBE_POD.search(text) and "containers:" in text)
        or (is_dstack(name) and "commands:" in text)
        or (_SKY.search(text) and "run:" in text and "resources:" in text)
        or (_AZUREML.search(text) is not None and "command:" in text)
    )


def _written_env(out: CloudFile, env: Any) -> None:
    """`out.env_lines` from an env mapping (dstack, SkyPilot) or list (dstack `NAME=value` strings, a Kubernetes
    container's `{name, value}` / `{name, valueFrom}` items)."""
    if isinstance(env, dict):
        for k, v in env.items():
            known = isinstance(v, (str, int, float)) and not isinstance(v, bool) and "$" not in str(v)
            out.env_lines[str(k)] = (_line(env, k), known)
    elif isinstance(env, list):
        for i, item in enumerate(env):
            if isinstance(item, str):
                name, eq, value = item.partition("=")
                out.env_lines[name.strip()] = (_line(env, i), bool(eq) and "$" not in value)
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                given = item.get("value")
                known = isinstance(given, (str, int, float)) and not isinstance(given, bool) and "$" not in str(given)
                out.env_lines[item["name"]] = (_line(env, i), known)


def _line(node: Any, key: Any) -> int:
    from ..yamlio import key_line

    return key_line(node, key) or 0


def _count(value: Any) -> tuple[int, bool] | None:
    """(count, exact) of a count token: `8`, `2..8` / `2..` (the minimum), `..4` (the maximum); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value, True) if 0 < value <= 65536 else None
    m = _COUNT.match(str(value).strip())
    if not m:
        return None
    if m.group(3):
        return int(m.group(3)), False
    low = int(m.group(1))
    if m.group(2) is None:
        return (low, True) if low > 0 else None
    return (low, False) if low > 0 else None


def _shell_lines(value: Any, line: int) -> list[tuple[int, str]]:
    """A shell script value: a block scalar's lines from the line after its key, else one line."""
    if not isinstance(value, str):
        return []
    if "\n" in value.rstrip("\n"):
        return [(line + 1 + i, row) for i, row in enumerate(value.splitlines())]
    return [(line, value)]


def _dstack(data: dict[Any, Any], out: CloudFile) -> None:
    commands = data.get("commands")
    if isinstance(commands, list):
        from ..yamlio import key_line

        for i, item in enumerate(commands):
            out.lines.extend(_shell_lines(item, key_line(commands, i) or _line(data, "commands")))
    env = data.get("env")
    _written_env(out, env)
    if isinstance(env, list):
        for item in env:
            if isinstance(item, str) and "=" in item:
                name, _, value = item.partition("=")
                out.env[name.strip()] = value.strip()
    elif isinstance(env, dict):
        out.env.update({str(k): str(v) for k, v in env.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)})
    nodes = _count(data.get("nodes")) if "nodes" in data else None
    if nodes is not None:
        out.nodes = (nodes[0], _line(data, "nodes"))
    n = out.nodes[0] if out.nodes else 1
    out.env.setdefault("DSTACK_NODES_NUM", str(n))
    resources = data.get("resources")
    gpu = resources.get("gpu") if isinstance(resources, dict) else None
    if gpu is None:
        return
    at = _line(resources, "gpu")
    count: tuple[int, bool] | None = None
    if isinstance(gpu, dict):
        count = _count(gpu.get("count")) if "count" in gpu else (1, False)
    else:
        tokens = [t for t in str(gpu).replace(" ", "").split(":") if t]
        counts = [t for t in tokens if not any(c.isalpha() for c in t)]
        count = _count(counts[0]) if len(counts) == 1 else (1, False) if not counts else None
    if count is None:
        out.notes.append(f"`resources.gpu: {gpu}` (line {at}) states no GPU count goblin reads")
        return
    if not count[1]:  # a range (`MI300X` alone is `1..`): the offer dstack picks decides, so no count is stated
        out.notes.append(f"`resources.gpu: {gpu}` (line {at}) asks for a range of GPUs per node (from {count[0]}): the count is the offer's, not stated")
        return
    out.gpus = (count[0], at)
    out.env.setdefault("DSTACK_GPUS_PER_NODE", str(count[0]))
    out.env.setdefault("DSTACK_GPUS_NUM", str(n * count[0]))


def _sky_accelerators(value: Any) -> tuple[int, bool] | None:
    if isinstance(value, dict) and len(value) == 1:
        ((_, n),) = value.items()
        return _count(n) if n is not None else (1, True)
    if isinstance(value, str) and "," not in value and "{" not in value:
        n = value.partition(":")[2]
        return _count(n) if n else (1, True)
    return None  # a list or set of alternatives: which one runs is not known here


def _skypilot(data: dict[Any, Any], out: CloudFile) -> None:
    out.lines.extend(_shell_lines(data.get("run"), _line(data, "run")))
    envs = data.get("envs")
    _written_env(out, envs)
    if isinstance(envs, dict):
        out.env.update({str(k): str(v) for k, v in envs.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)})
    nodes = _count(data.get("num_nodes")) if "num_nodes" in data else None
    if nodes is not None:
        out.nodes = (nodes[0], _line(data, "num_nodes"))
    out.env.setdefault("SKYPILOT_NUM_NODES", str(out.nodes[0] if out.nodes else 1))
    resources = data.get("resources")
    if not isinstance(resources, dict) or "accelerators" not in resources:
        return
    at = _line(resources, "accelerators")
    count = _sky_accelerators(resources.get("accelerators"))
    if count is None:
        out.notes.append(f"`resources.accelerators` (line {at}) lists alternatives: the GPU count is not read")
        return
    out.gpus = (count[0], at)
    out.env.setdefault("SKYPILOT_NUM_GPUS_PER_NODE", str(count[0]))


# Kubernetes expands `$(VAR_NAME)` in a container's command and args from its environment (kubernetes.io/docs/tasks/
# inject-data-application/define-command-argument-container, "Use environment variables to define arguments"):
# read as the shell's `${VAR_NAME}`, which the launcher reader expands from the same environment
_KUBE_VAR = re.compile(r"\$\((\w+)\)")


def _container_command(container: dict[Any, Any], at: int) -> list[tuple[int, str]]:
    words = [str(w) for key in ("command", "args") if isinstance(container.get(key), list) for w in container[key] if isinstance(w, (str, int, float))]
    if not words:
        return []
    if len(words) >= 3 and Path(words[0]).name in ("bash", "sh") and words[1] in ("-c", "-lc", "-ec"):  # a shell script in the last word
        return _shell_lines("\n".join(words[2:]), at) if "\n" in "".join(words[2:]) else [(at, " ".join(words[2:]))]
    return [(at, shlex.join(_KUBE_VAR.sub(r"${\1}", w) for w in words))]


def _pytorchjob(data: dict[Any, Any], out: CloudFile) -> None:
    spec = data.get("spec")
    replicas = spec.get("pytorchReplicaSpecs") if isinstance(spec, dict) else None
    if not isinstance(replicas, dict):
        return
    total, first = 0, 0
    for role in ("Master", "Worker"):
        part = replicas.get(role)
        if not isinstance(part, dict):
            continue
        n = _count(part.get("replicas", 1))
        if n is None:
            return  # a replica count goblin cannot read: no node count
        total += n[0]
        first = first or _line(part, "replicas") or _line(replicas, role)
        template = part.get("template")
        pod = template.get("spec") if isinstance(template, dict) else None
        containers = pod.get("containers") if isinstance(pod, dict) else None
        if not isinstance(containers, list) or not containers or not isinstance(containers[0], dict):
            continue
        container = containers[0]
        if not out.lines:
            at = _line(container, "command") or _line(container, "args")
            out.lines.extend(_container_command(container, at))
            env = container.get("env")
            _written_env(out, env)
            if isinstance(env, list):
                out.env.update(
                    {str(e["name"]): str(e["value"]) for e in env if isinstance(e, dict) and "name" in e and isinstance(e.get("value"), (str, int, float))}
                )
        limits = container.get("resources", {}).get("limits") if isinstance(container.get("resources"), dict) else None
        if isinstance(limits, dict) and out.gpus is None:
            for name in _GPU_LIMITS:
                if name in limits and (c := _count(limits[name])) is not None:
                    out.gpus = (c[0], _line(limits, name))
                    out.gpu_resource = (name, _line(limits, name))
                    if isinstance(container.get("image"), str):
                        out.image = (container["image"], _line(container, "image"))
    if total:
        out.nodes = (total, first)
        out.env.setdefault("PET_NNODES", str(total))
    raw = spec.get("nprocPerNode", "auto") if isinstance(spec, dict) else "auto"
    out.env.setdefault("PET_NPROC_PER_NODE", str(raw))  # torchrun without --nproc_per_node reads it; `auto`: every visible GPU
    nproc = _count(raw)
    if nproc is not None and out.gpus is None and isinstance(spec, dict):  # no GPU limit: the processes per node it asks for
        out.gpus = (nproc[0], _line(spec, "nprocPerNode"))


def _gpu_limit(limits: Any) -> tuple[int, int, str] | None:
    """(GPUs, line, resource name) a container's `resources.limits` asks for: `nvidia.com/gpu`, `amd.com/gpu`, or a
    cluster's renamed whole-GPU resource of either vendor (`nvidia.com/a100`); not a time-sliced `nvidia.com/gpu.shared`
    nor a MIG slice `nvidia.com/mig-1g.5gb`, which are parts of a GPU."""
    if not isinstance(limits, dict):
        return None
    for name, value in limits.items():
        key = str(name)
        vendor, _, resource = key.partition("/")
        if vendor not in ("nvidia.com", "amd.com") or not resource or "." in resource or resource.startswith("mig-") or "shared" in resource:
            continue
        if (c := _count(value)) is not None and c[1]:
            return c[0], _line(limits, name), key
    return None


_GUARD = re.compile(r"^\s*if\s+\[\[?\s+(?:-z\s+\"?\$\{?(\w+)\}?\"?|\"\$\{?(\w+)\}?\"\s*==?\s*\"\")\s+\]\]?\s*;?\s*(?:then)?\s*$")
_SCRIPT_RUN = re.compile(r"^\s*(?:(?:bash|sh)\s+(?:-[a-z]+\s+)*|\./)?([\w./-]+\.sh)\b")


_ASSIGNS = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=")


def _assigned(rows: list[str]) -> frozenset[str]:
    return frozenset(m.group(1) for r in rows if (m := _ASSIGNS.match(r)))


def _taken(body: str, env: dict[str, str], assigned: frozenset[str]) -> list[str]:
    """A followed script's lines without the branch of an `if [ "$X" = "" ]` / `if [ -z "$X" ]` block that does not
    run: the `then` branch where the container's environment sets X non-empty, the `else` branch where X is unset or
    empty and no script of the chain assigns it (bash's `-z` and `=` tests, GNU bash 5.2 manual 6.4 Bash Conditional
    Expressions). A block with an `elif`, or a test of anything else, is kept as written."""
    assigned = assigned | _assigned(body.splitlines())
    rows: list[str] = []
    state: tuple[bool, bool, int] | None = None  # (the then branch runs, in the else branch, nested ifs)
    for row in body.splitlines():
        if state is not None:
            runs, in_else, depth = state
            if re.match(r"^\s*if\b", row):
                depth += 1
            elif re.match(r"^\s*fi\b", row) and depth:
                depth -= 1
            elif re.match(r"^\s*fi\b", row):
                state = None
                continue
            elif not depth and re.match(r"^\s*elif\b", row):
                state = None  # more branches than goblin judges: the rest read as written
                rows.append(row)
                continue
            elif not depth and re.match(r"^\s*else\b", row):
                state = (runs, True, depth)
                if not runs:
                    rows.append(re.sub(r"^\s*else\b", "", row))
                continue
            state = (runs, in_else, depth)
            if runs != in_else:
                rows.append(row)
            continue
        g = _GUARD.match(row)
        name = (g.group(1) or g.group(2) or "") if g else ""
        if name and env.get(name):
            state = (False, False, 0)
            continue
        if name and name not in assigned:
            state = (True, False, 0)
            continue
        rows.append(row)
    return rows


def _followed(
    lines: list[tuple[int, str]],
    env: dict[str, str],
    path: Path,
    depth: int = 0,
    budget: list[int] | None = None,
    assigned: frozenset[str] = frozenset(),
) -> tuple[list[tuple[int, str]], list[str]]:
    """The container's command lines with each run of one of the repository's shell scripts (`bash run_pipeline.sh`,
    `./run.sh`) replaced by that script's lines, each at the command's own line of the manifest, and the notes saying
    which were read. An `if [ "$X" = "" ]` / `if [ -z "$X" ]` block is left out where the container's environment sets
    X (review6a #20 run_pipeline.sh:6 `if [ "$SKIP_TRAIN" = "" ]`: bash's `-z` and `=` tests, GNU bash 5.2 manual 6.4
    Bash Conditional Expressions). Read through safepath, nothing run."""
    from ..safepath import UnsafePath, read_text, repository_root, tree_of

    budget = budget if budget is not None else [MAX_FOLLOWED_LINES]
    root = repository_root(path.parent) or path.parent
    out: list[tuple[int, str]] = []
    notes: list[str] = []
    for at, text in lines:
        m = _SCRIPT_RUN.match(text)
        found = None
        if m and depth < MAX_FOLLOW_DEPTH:
            word = m.group(1)
            bases = (path.parent, root) if depth == 0 else (path.parent,)
            found = next((b / word for b in bases if not Path(word).is_absolute() and (b / word).is_file()), None)
        if found is None:
            out.append((at, text))
            continue
        try:
            body = read_text(found, roots=tree_of(found), limit=FOLLOW_BYTES)
        except (UnsafePath, OSError):
            out.append((at, text))
            continue
        rows = _taken(body, env, assigned)
        rows = rows[: max(budget[0], 0)]
        budget[0] -= len(rows)
        shown = found.relative_to(root).as_posix() if found.is_relative_to(root) else found.name
        notes.append(f"line {at} runs {shown}: its commands are read as this file's line {at}")
        inner, more = _followed([(at, r) for r in rows], env, found, depth + 1, budget, assigned | _assigned(rows))
        out.extend(inner)
        notes.extend(more)
    return out, notes


def _pod_workload(data: dict[Any, Any], out: CloudFile, path: Path) -> None:
    """A batch Job's or a Pod's training container: its commands (a repository script followed), environment, GPUs
    per pod and pods."""
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return
    template = spec.get("template") if data.get("kind") == "Job" else None
    pod = template.get("spec") if isinstance(template, dict) else spec if data.get("kind") == "Pod" else None
    containers = pod.get("containers") if isinstance(pod, dict) else None
    if not isinstance(containers, list):
        return
    gpu_containers = []
    for c in containers:
        res = c.get("resources") if isinstance(c, dict) else None
        found = _gpu_limit(res.get("limits")) if isinstance(res, dict) else None
        if found is not None:
            gpu_containers.append((c, found))
    if len(gpu_containers) != 1:
        if len(gpu_containers) > 1:
            out.notes.append(f"{len(gpu_containers)} containers ask for GPUs: which one trains is not read")
        return  # no GPUs asked for: nothing in it trains on a GPU goblin can count
    container, (gpus, gpu_at, name) = gpu_containers[0]
    env = container.get("env")
    _written_env(out, env)
    if isinstance(env, list):
        out.env.update({str(e["name"]): str(e["value"]) for e in env if isinstance(e, dict) and "name" in e and isinstance(e.get("value"), (str, int, float))})
    at = _line(container, "command") or _line(container, "args")
    lines, notes = _followed(_container_command(container, at), out.env, path)
    out.lines.extend(lines)
    out.notes.extend(notes)
    out.gpus = (gpus, gpu_at)
    out.gpu_resource = (name, gpu_at)
    if isinstance(container.get("image"), str):
        out.image = (container["image"], _line(container, "image"))
    if name not in _GPU_LIMITS:
        out.notes.append(f"`{name}: {gpus}` (line {gpu_at}) is a cluster's name for a whole-GPU resource: read as {gpus} GPU(s) per pod")
    pods = _count(spec.get("parallelism", 1)) if data.get("kind") == "Job" else (1, True)
    if pods is None:
        out.notes.append(f"`parallelism: {spec.get('parallelism')}` is not a count goblin reads: the pods are not read")
        return
    if pods[0] > 1 and not _joined(out):
        # a Job's parallel pods are independent runs unless the command joins them into one (kubernetes.io/docs/concepts/
        # workloads/controllers/job "Parallel execution for Jobs": the pods do not coordinate by themselves)
        out.notes.append(
            f"`parallelism: {pods[0]}` (line {_line(spec, 'parallelism')}) runs {pods[0]} pods, but the command joins no "
            "nodes (no --nnodes, --num_machines, rendezvous or master address): each pod is read as its own one-node run"
        )
        out.nodes = (1, _line(spec, "parallelism") or _line(data, "kind"))
        return
    out.nodes = (pods[0], _line(spec, "parallelism") or _line(data, "kind"))


# what joins a Job's pods into one run: a launcher's node count or rendezvous (torch 2.13.0 torch/distributed/run.py:426 --nnodes,
# :454 --rdzv-endpoint, :629 --master-addr; accelerate --num_machines / --main_process_ip; deepspeed --hostfile) or the
# env:// rendezvous variables torch reads (MASTER_ADDR, PET_NNODES)
# (`--nnodes 1` / `--num_machines 1` join nothing)
_JOIN = re.compile(
    r"--(?:nnodes|num[_-]machines)(?:=|\s+)['\"]?+(?!1(?::1)?(?![:\w]))\S|--(?:rdzv[_-]\w+|master[_-]addr|main[_-]process[_-]ip|hostfile)\b"
    r"|\bMASTER_ADDR\b|\bPET_NNODES\b"
)


def _joined(out: CloudFile) -> bool:
    return any(_JOIN.search(text) for _, text in out.lines) or any(k in out.env for k in ("MASTER_ADDR", "PET_NNODES", "PET_RDZV_ENDPOINT"))


def read_cloud(path: Path, text: str) -> CloudFile | None:
    """The commands and counts of a dstack / SkyPilot / PyTorchJob YAML; None for any other YAML or a broken one."""
    if not maybe_cloud(path.name, text):
        return None
    from ..errors import ConfigError
    from ..yamlio import load_yaml

    try:
        data = load_yaml(path, text)
    except ConfigError:
        return None  # a broken launcher file is not read (the configs it names are audited on their own)
    if not isinstance(data, dict):
        return None
    if str(data.get("kind", "")) == "PyTorchJob":
        out = CloudFile("PyTorchJob")
        _pytorchjob(data, out)
        at = KUBEFLOW_AT
    elif str(data.get("kind", "")) in ("Job", "Pod") and "apiVersion" in data:
        out = CloudFile(f"Kubernetes {data['kind']}")
        _pod_workload(data, out, path)
        at = KUBE_AT
        if not out.lines:
            return None
    elif is_dstack(path.name) and data.get("type") == "task" and isinstance(data.get("commands"), list):  # a service or dev environment trains nothing
        out = CloudFile("dstack")
        _dstack(data, out)
        at = f"{DSTACK_AT}; {DSTACK_ENV_AT}"
    elif isinstance(data.get("run"), str) and isinstance(data.get("resources"), dict):
        out = CloudFile("SkyPilot")
        _skypilot(data, out)
        at = SKYPILOT_AT
    elif _AZUREML.search(text) is not None and isinstance(data.get("command"), str):
        out = CloudFile("Azure ML command job")
        out.lines.extend(_shell_lines(data.get("command"), _line(data, "command")))
        at = AZUREML_AT
    else:
        return None
    said = []
    if out.nodes:
        said.append(f"{out.nodes[0]} node(s) (line {out.nodes[1]})")
    if out.gpus:
        said.append(f"{out.gpus[0]} GPU(s) per node (line {out.gpus[1]})")
    out.notes.insert(0, f"{path.name} is a {out.kind} launcher file" + (f" asking for {' and '.join(said)}" if said else "") + f" ({at})")
    return out
