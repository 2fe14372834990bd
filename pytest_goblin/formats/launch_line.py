"""What a launch line says: nodes and GPUs per node, with the accelerate config, hostfile and strategy it
passes, and the kind of run it is (`program_kind`, matched with a config's `config_kind`).

The launchers' own semantics, each from its source:
- torchrun: `--nnodes` (default 1:1) x `--nproc_per_node` (default 1; `gpu`/`auto`: every visible GPU);
  torch 2.13.0 torch/distributed/run.py:426-440, :745-770.
- accelerate launch: `--num_processes` is the total over all machines, `--num_machines` the nodes,
  per node = processes // machines (accelerate 1.16.0 commands/launch.py:201-205, utils/launch.py:200-201);
  a `--config_file` fills every flag the command line leaves unset (commands/launch.py:1313-1333);
  without either, every visible GPU (commands/launch.py:1358-1365).
- deepspeed: `--num_gpus` per node, `--num_nodes` nodes (DeepSpeed 0.16.5 deepspeed/launcher/runner.py:86-108);
  without them every local GPU (runner.py:441-451); a `--hostfile`/`-H` in the repository gives one node per
  `host slots=N` line and N GPUs each (DeepSpeed 0.19.6 runner.py:243-270, :521-533); `--include/-i` keeps
  the listed `host:slot,slot` (a bare host: all its slots), `--exclude/-e` removes them (DeepSpeed 0.19.6
  runner.py:310-357, :391-398), and cannot be combined with --num_nodes/--num_gpus (:462-464).
- llamafactory-cli train: torchrun with `NNODES` (default 1) x `NPROC_PER_NODE` (default: every visible GPU)
  when FORCE_TORCHRUN is set or more than one GPU is visible (llamafactory 0.9.5 src/llamafactory/launcher.py:61-66).
- axolotl train: `accelerate launch -m axolotl.cli.train` by default, `--launcher torchrun` for torchrun,
  launcher flags after `--` (axolotl 0.18.0 src/axolotl/cli/utils/train.py:157-207).
- tune run: torchrun's `--nnodes` / `--nproc_per_node` before the recipe; without them one process.
- slurm: `#SBATCH --nodes/-N`, `--gpus-per-node`, `--gres=gpu:N`, `--ntasks-per-node`; `srun`/`sbatch -N`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..redact import redact
from ..safepath import UnsafePath, read_text
from .launch_lfentry import DEEPSPEED_RANK_AT, entry_script, unread_by_deepspeed
from .launcher_text import MAX_BYTES, LauncherFile, Line, launcher_kind, word_path

PER_NODE_ASSUMED = 8  # one MI300X platform: 8 GPUs on one xGMI fabric

TORCHRUN_AT = "torch 2.13.0 torch/distributed/run.py:426-440 (--nnodes default 1:1, --nproc-per-node default 1)"
ACCELERATE_AT = "accelerate 1.16.0 commands/launch.py:201-205 (--num_processes: total over all machines) and utils/launch.py:200-201 (per node = num_processes // num_machines)"
ACCELERATE_ALL_AT = "accelerate 1.16.0 commands/launch.py:1358-1365 (no --num_processes and no config file: every GPU the machine shows, unless a default accelerate config exists there)"
TORCHRUN_ENV_AT = (
    "torch 2.13.0 torch/distributed/argparse_util.py:13-45 (an `action=env` argument left off the command line is read from PET_<DEST>) and run.py:426-440"
)
DEEPSPEED_AT = "DeepSpeed 0.16.5 deepspeed/launcher/runner.py:86-108 (--num_nodes, --num_gpus per node) and :441-451 (without them: every local GPU)"
HOSTFILE_AT = "DeepSpeed 0.19.6 deepspeed/launcher/runner.py:243-270 (hostfile: one `host slots=N` per line) and :521-533 (--num_nodes keeps the first N hosts, --num_gpus replaces the slots)"
DEEPSPEED_FILTER_AT = (
    "DeepSpeed 0.19.6 deepspeed/launcher/runner.py:310-357 (--include keeps the listed host:slots, --exclude removes them; a bare host is all its slots)"
)
LLAMAFACTORY_AT = "llamafactory 0.9.5 src/llamafactory/launcher.py:61-66 (NNODES default 1, NPROC_PER_NODE default: every visible GPU)"
AXOLOTL_AT = (
    "axolotl 0.18.0 src/axolotl/cli/utils/train.py:157-207 (accelerate launch by default, torchrun with --launcher torchrun; flags after -- go to the launcher)"
)


@dataclass
class Launch:
    """What a launch line says: nodes and GPUs per node, where, and what was assumed."""

    nodes: int
    per_node: int
    file: str  # the launcher's path (real)
    shown: str  # the launcher as a reader would name it: relative to the repository root
    line: int
    command: str  # the launch words, shortened
    nodes_said: bool = True  # False: nodes assumed (the note says how)
    nodes_unset: str = ""  # the node count is a variable the file never sets (`$WORLD_SIZE`): unknown, not a statement
    # where the node count was read when not on the launch line: (file (real path), line) of the script that runs the
    # launcher with the variable set (formats/launch_caller.py); None when the line states it
    nodes_at: tuple[str, int] | None = None
    per_node_said: bool = True
    # the repository's other launch lines that name the config (launchers._count_others): how many, the first few with
    # another nodes x GPUs per node ("x.slurm line 18: 1 x 4"), and how many more differ
    others: int = 0
    other_topologies: list[str] = field(default_factory=list)
    other_differ: int = 0
    # a Python entry point several launch scripts run with different topologies (launchers._count_others): the other
    # scripts' "x.sh line 82: 16 x 8"; non-empty: nothing ties the audited file to one, the topology read is assumed
    ambiguous: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)  # what was assumed, with the launcher's own default cited
    strategy: dict[str, Any] = field(default_factory=dict)  # from an accelerate config / flags: strategy, zero_stage, offload
    notes: list[str] = field(default_factory=list)
    place: str = ""  # in a notebook: "cell N line M"
    script: str = ""  # the repository's Python file the line runs on the config (real path), "" when it names none
    # why the strategy could not be read although the launch names where it lives (an accelerate
    # --config_file that is a placeholder, set at run time, or not in the repository); "" when read or not named
    strategy_unread: str = ""
    template: bool = False  # a README line launching a placeholder config (`launch_forms._template_launch`): how its recipes run, not this config's line
    commented: bool = False  # read from a commented-out line (no live line names the config): its counts are a hint, not a statement
    recipe: str = ""  # `tune run ... RECIPE --config ...`: the recipe the line runs
    # accelerate's mixed precision as the line sets it: (value, file (real path), line or None, how); None when the
    # line sets none it can read (no accelerate launch, or no readable --config_file and no --mixed_precision flag)
    mixed_precision: tuple[str, str, int | None, str] | None = None
    # `python train.py` (`launch_forms.plain_python`): one process, whatever the GPUs it sees; `visible` is the line's
    # `CUDA_VISIBLE_DEVICES=0,1` (or HIP/ROCR) assignment, "" when it sets none (every GPU of the machine)
    # the .json/.yaml words of the line as written (`$(cat x.json)` unwrapped): files it passes beside the config
    files: list[str] = field(default_factory=list)
    interpreter: bool = False
    visible: str = ""
    # read from the one accelerate config beside the config that no launcher passes (`beside_accelerate`): counts
    # and strategy are assumed, not stated
    beside: bool = False
    # `tune run ... --config x.yaml key=value`: torchtune merges these over the YAML, the command line winning
    # (torchtune v0.5.0 torchtune/config/_parse.py:96-97, torchtune/config/_utils.py:112-193 `OmegaConf.merge(yaml_conf,
    # cli_conf)`), and so does Axolotl the `--key value` words after its YAML (`_axolotl_overrides`): (key, value, file (real
    # path), line, how the value was read); `unresolved`: the overrides whose value is a variable not set for certain before
    # the line (said, never applied)
    overrides: list[tuple[str, str, str, int, str]] = field(default_factory=list)
    unresolved: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    # a Python script's flags beside its recipe: "config" (after `--config FILE`) or "positional" (the recipe first), "" otherwise
    flag_form: str = ""
    # `llamafactory-cli train x.yaml`: the folder the line runs in (real path), the one its config word is written from
    # (after the line's `cd`, else the launcher's folder or a parent); "" when the word does not tell
    workdir: str = ""
    # the folder a `cd`/`pushd` before the line moved to (launcher_text.Line.cwd): relative files it passes (an accelerate
    # --config_file, a hostfile) are looked up from there (`_locate`); "" when no `cd` ran
    cwd: str = ""
    # the environment the launched process gets from the launcher (launcher_text.Line.exported, `launch_env`):
    # (name, value, file (real path), line, known)
    env: list[tuple[str, str, str, int, bool]] = field(default_factory=list)
    # where the launcher sources a file goblin did not read ("train.sh line 9"): it may export any variable
    unread_sources: list[str] = field(default_factory=list)
    # exported names whose value is their own `${X:-literal}` default (launcher_text.Line.env_defaults)
    env_defaults: list[str] = field(default_factory=list)
    # why the line runs on the CPU, not on a GPU (`CUDA_VISIBLE_DEVICES=""`, accelerate `--cpu` or `use_cpu: true`:
    # `cpu_reason`): a debug run, never chosen over a GPU launch line (`launchers._find_launch`); "" otherwise
    cpu: str = ""
    demoted: str = ""  # why the line is not the GPU run's, a CPU or a placeholder line (`launch_demote.demotion`); "" otherwise
    # the Markdown code block ("README.md line 335") that also launches the config, over which this launch script was
    # read (launchers.over_readme_note); "" when none was passed over
    over_readme: str = ""
    # read from the launch line of another config of the same recipe family (formats/launch_family.py; its path relative
    # to the repository root): counts and strategy assumed, nothing else of the line is this config's; "" otherwise
    family: str = ""
    # the processes of each node, by node rank, where the lines of one multi-node job give different counts
    # (formats/launch_job.py: their sum is the world size, `per_node` the larger); empty for an even job
    node_counts: list[int] = field(default_factory=list)

    @property
    def world(self) -> int:
        return sum(self.node_counts) if self.node_counts else self.nodes * self.per_node

    def where(self) -> str:
        return f"{self.shown} {self.place}" if self.place else f"{self.shown} line {self.line}"


# review4 #11 Virgo: `NNODES=$WORLD_SIZE` comes from the scheduler; the node count is unknown, not 1.
NODES_UNSET = "is a variable the file never sets (the scheduler or caller sets it): the node count is unknown"


# ------------------------------------------------------------------ what a launch line says
def launch_flags(tokens: tuple[str, ...]) -> dict[str, str]:
    """`--flag value` / `--flag=value` / `-N 2`, names with `-` as `_`; the first occurrence wins."""
    out: dict[str, str] = {}
    for i, tok in enumerate(tokens):
        if not tok.startswith("-") or tok == "--":
            continue
        name, eq, value = tok.partition("=")
        if not eq:
            value = tokens[i + 1] if i + 1 < len(tokens) and not tokens[i + 1].startswith("-") else "true"
        key = name.lstrip("-").replace("-", "_") if name.startswith("--") else name.lstrip("-")
        out.setdefault(key, value)
    return out


def before_script(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The words before the script a launcher runs (`x.py`, or `-m module`): what follows is the script's own
    arguments (accelerate 1.16.0 commands/launch.py:878,982: training_script, then training_script_args as argparse.REMAINDER)."""
    for i, tok in enumerate(tokens):
        runs_module = tok in ("-m", "--module") and i + 1 < len(tokens) and not tokens[i + 1].startswith("accelerate")
        if runs_module or tok.endswith(".py"):
            return tokens[:i]
    return tokens


def _int(value: str | None) -> int | None:
    if value is None or not re.fullmatch(r"\d{1,5}", value.strip()):
        return None
    n = int(value)
    return n if 1 <= n <= 65536 else None


def visible_devices(env: dict[str, str]) -> tuple[int, str] | None:
    for name in ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"):
        value = env.get(name)
        if value and re.fullmatch(r"\d+(,\d+)*", value.strip()):
            return len(value.split(",")), f"{name}={value}"
    return None


# accelerate v1.14.0: `--cpu` (commands/launch.py:174) and a config file's `use_cpu` (commands/config/config_args.py:80,120-121,
# default False; copied onto the arguments at commands/launch.py:1272-1277) set ACCELERATE_USE_CPU (utils/launch.py:133), on
# which AcceleratorState runs on the CPU (state.py:913)
ACCELERATE_CPU_AT = "accelerate v1.14.0 commands/launch.py:174,1272-1277, commands/config/config_args.py:80, utils/launch.py:133, state.py:913"


def hidden_gpus(env: dict[str, str]) -> str:
    """`CUDA_VISIBLE_DEVICES=""` (or HIP/ROCR) in the line's environment: the process sees no GPU and runs on the CPU;
    the assignment as written, "" where none hides every GPU."""
    for name in ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"):
        if name in env and not env[name].strip().strip("\"'"):
            return f'{name}=""'
    return ""


def short_command(tokens: tuple[str, ...]) -> str:
    text = " ".join(t for t in tokens if not re.match(r"^[A-Za-z_]\w*=", t) or "VISIBLE" in t or "NNODES" in t or "NPROC" in t or "TORCHRUN" in t)
    text = redact(text)  # before it is cut: a cut token or URL password no longer looks like one
    return text if len(text) <= 120 else text[:117] + "..."


def read_launch(line: Line, lf: LauncherFile, shown: str, roots: list[Path], root: Path) -> Launch | None:
    """Nodes x GPUs per node from one launch line naming the config; None when it is no launcher goblin reads."""
    kind = launcher_kind(line.tokens)
    if kind is None:
        return None
    env = dict(line.env)
    flags = launch_flags(line.tokens)
    sb = {what: (value, n) for what, value, n in reversed(lf.sbatch)}  # first directive wins
    out = Launch(nodes=1, per_node=1, file=str(lf.path), shown=shown, line=line.line, command=short_command(line.tokens), cwd=line.cwd)
    out.files = [w for w in (word_path(t) for t in line.tokens) if w.lower().endswith((".json", ".yaml", ".yml")) and "$" not in w]
    out.notes.extend(lf.cloud)
    out.notes.extend(line.notes)
    spread = line.run_by is not None or any(Path(t).name in SPREADERS for t in line.tokens)  # run once per task
    # deepspeed with a hostfile starts its other hosts itself, over pdsh by default (DeepSpeed 0.16.5 deepspeed/launcher/runner.py:6-9,
    # :129-130, :524 multi_node_exec when more than one host is active)
    spread = spread or (kind == "deepspeed" and bool(flags.get("hostfile") or flags.get("H")))
    out.cpu = hidden_gpus(env)
    visible = visible_devices(env) or line.gpus  # a Modal container shows the GPUs its gpu= asks for (pylaunch.MODAL_GPU_AT)

    def every_gpu(why: str) -> None:
        if visible is not None:
            out.per_node = visible[0]
            out.notes.append(f"{visible[1]}: {visible[0]} GPUs visible")
        elif "gpus_per_node" in sb:
            out.per_node = sb["gpus_per_node"][0]
            hidden = next((k for k in ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES") if "$" in env.get(k, "")), "")
            if hidden:  # `export CUDA_VISIBLE_DEVICES="$TRAINING_GPUS"` (review11b #26 grail-simulation training-grpo-wage.sh:258)
                out.per_node_said = False
                out.assumed.append(
                    f"{hidden} is set at run time (from a variable) and may show the line fewer GPUs: the job's {out.per_node} per node (#SBATCH) assumed"
                )
        else:
            out.per_node, out.per_node_said = PER_NODE_ASSUMED, False
            out.assumed.append(f"every visible GPU per node, assumed {PER_NODE_ASSUMED} (one MI300X node; {why})")

    def nodes_from(value: str | None, default_note: str | None = None) -> None:
        n = _int(value)
        if n is not None:
            out.nodes = n
        elif value is not None and _int(value.partition(":")[2]) is not None and _int(value.partition(":")[0]) is not None:  # elastic MIN:MAX
            out.nodes = int(value.split(":")[1]) or 1
            out.assumed.append(f"elastic node range {value}: the maximum, {out.nodes}, assumed")
            out.nodes_said = False
        elif value is not None and "$" in value:  # a variable the file never sets (`NNODES=$WORLD_SIZE`: the scheduler's)
            out.nodes, out.nodes_said, out.nodes_unset = 1, False, value
            out.assumed.append(f"node count `{value}` {NODES_UNSET}: 1 node assumed only to project")
        elif value is not None:  # an unresolved variable
            out.nodes, out.nodes_said = 1, False
            out.assumed.append(f"node count `{value}` is not resolved in the file: 1 node assumed")
        elif _int(flags.get("N") or flags.get("nodes")) is not None:  # `srun -N 2 torchrun ...`
            out.nodes = _int(flags.get("N") or flags.get("nodes")) or 1
        elif "nodes" in sb and (spread or sb["nodes"][0] <= 1):
            out.nodes = sb["nodes"][0]
        elif "nodes" in sb:  # a bare launcher line of a multi-node batch script runs on the batch host only
            out.nodes = 1
            out.notes.append(
                f"#SBATCH --nodes={sb['nodes'][0]} (line {sb['nodes'][1]}) allocates {sb['nodes'][0]} nodes, but {shown} line {line.line}"
                f" is not started by srun (or mpirun, pdsh): it runs once, on the batch host, so 1 node ({SBATCH_HOST_AT})"
            )
        elif default_note:
            out.nodes = 1

    if kind == "tune":
        out.recipe = _tune_recipe(line.tokens)
        _tune_overrides(line, lf, shown, root, out)
    elif program_kind(line.tokens) == "axolotl":
        _axolotl_overrides(line, lf, shown, out)
    elif kind == "llamafactory" or program_kind(line.tokens) == "llamafactory":
        _llamafactory_overrides(line, lf, shown, root, out)
    elif (entry := entry_script(line.tokens, lf.path.parent, root, line.cwd)) is not None:
        llamafactory_entry(line, lf, shown, root, out, entry)
    else:
        _script_overrides(line, lf, shown, out)
    if kind in ("torchrun", "tune"):
        raw = flags.get("nproc_per_node")
        if raw is None and kind == "torchrun" and env.get("PET_NPROC_PER_NODE"):  # torchrun reads an unset flag from PET_<NAME> (TORCHRUN_ENV_AT)
            raw = env["PET_NPROC_PER_NODE"]
        if kind == "tune" and raw is None:
            out.per_node = 1  # tune run without torchrun arguments runs one process
        elif raw in ("gpu", "auto"):
            every_gpu(TORCHRUN_AT)
        elif _int(raw) is not None:
            out.per_node = _int(raw) or 1
        elif raw is not None:
            out.per_node, out.per_node_said = PER_NODE_ASSUMED, False
            out.assumed.append(f"processes per node `{raw}` not resolved in the file: {PER_NODE_ASSUMED} assumed (one MI300X node)")
        nodes_from(flags.get("nnodes") or (env.get("PET_NNODES") if kind == "torchrun" else None), TORCHRUN_AT)
    elif kind == "deepspeed":
        ref = flags.get("hostfile") or flags.get("H")
        hosts = _hostfile(ref, lf.path.parent, roots, root, out) if ref else None
        gpus = _int(flags.get("num_gpus") or flags.get("num_accelerators"))
        own = launch_flags(launcher_words(line.tokens))  # --include/-i, --exclude/-e of deepspeed itself, not of the script
        include, exclude = own.get("include") or own.get("i"), own.get("exclude") or own.get("e")
        if include or exclude:
            _deepspeed_filter(out, include, exclude, hosts, own)
        elif gpus is not None:
            out.per_node = gpus or 1
        elif hosts is not None:
            slots = sorted({n for _, n in hosts})
            out.per_node = slots[0] or 1
            if len(slots) > 1:
                out.per_node_said = False
                out.assumed.append(f"hosts with different slots ({', '.join(map(str, slots))}): the smallest, {slots[0]}, assumed per node")
        else:
            every_gpu(DEEPSPEED_AT)
        if include or exclude:
            pass  # nodes and GPUs per node came from the filter
        elif hosts is not None:  # --num_nodes keeps the first N hosts
            n = _int(flags.get("num_nodes"))
            out.nodes = min(len(hosts), n) if n and n > 0 else len(hosts)
            out.notes.append(f"{out.nodes} node(s) x {out.per_node} GPU(s) from the hostfile ({HOSTFILE_AT})")
            if flags.get("num_nodes") is not None and n is None:
                out.assumed.append(f"node count `{flags['num_nodes']}` is not resolved in the file: every host of the hostfile assumed")
        else:
            nodes_from(flags.get("num_nodes"), DEEPSPEED_AT)
        if hosts is None and "num_nodes" not in flags and ref and not (include or exclude):
            out.nodes_said = False
            out.assumed.append(f"the hostfile {ref!r} names the nodes and was not read: 1 node assumed")
    elif kind == "llamafactory":
        nodes_from(env.get("NNODES"), LLAMAFACTORY_AT)
        count = _int(env.get("NPROC_PER_NODE"))
        if count is not None:
            out.per_node = count
        else:
            every_gpu(LLAMAFACTORY_AT)
    elif kind in ("accelerate", "axolotl"):
        if kind == "axolotl" and flags.get("launcher") == "torchrun":
            count = _int(flags.get("nproc_per_node"))
            if count is not None:
                out.per_node = count
            else:
                every_gpu(AXOLOTL_AT)
            nodes_from(flags.get("nnodes"), AXOLOTL_AT)
        elif kind == "axolotl" and flags.get("launcher") == "python":
            out.per_node = 1
        else:
            _accelerate(out, flags, env, sb, lf, roots, root, every_gpu, nodes_from, own=launch_flags(before_script(line.tokens)))
    elif kind == "flyte":
        from .launch_flyte import flyte_task

        if not flyte_task(line, lf, roots, root, out, _locate, PER_NODE_ASSUMED):
            return None
    elif kind in ("srun", "sbatch"):
        nodes_from(flags.get("N") or flags.get("nodes"))
        tasks = _int(flags.get("ntasks_per_node")) or _int(flags.get("gpus_per_node"))
        total = _int(flags.get("n") or flags.get("ntasks"))
        one_node = _int(flags.get("N") or flags.get("nodes")) == 1 or ("nodes" in sb and sb["nodes"][0] == 1 and not (flags.get("N") or flags.get("nodes")))
        if tasks is None and total is not None and (one_node or total == 1):
            # `srun -n 1 python sft.py`: that many tasks, each one process (srun.1:2440-2442), on the one node
            tasks = total
            out.nodes = 1
            out.notes.append(f"{shown} line {line.line} starts {total} task{'s' if total != 1 else ''} (srun -n {total}), one process each ({SRUN_TASKS_AT})")
        if tasks is not None:
            out.per_node = tasks
        elif "gpus_per_node" in sb:
            out.per_node = sb["gpus_per_node"][0]
        else:
            out.per_node, out.per_node_said = PER_NODE_ASSUMED, False
            out.assumed.append(f"GPUs per node not stated: {PER_NODE_ASSUMED} assumed (one MI300X node)")
    _visible_limit(out, visible, sb, f"{lf.path.name} line" if lf.cloud else "#SBATCH line")
    return out


def _visible_limit(out: Launch, visible: tuple[int, str] | None, sb: dict[str, tuple[int, int]], said: str = "#SBATCH line") -> None:
    """More processes per node than the GPUs the line makes visible (`CUDA_VISIBLE_DEVICES=5,7` with an
    accelerate config's `num_processes: 4`) or the slurm job asks for (`#SBATCH --gres=gpu:2`): the two
    statements disagree; the smaller, the GPUs the processes can have, is taken and the conflict said
    (review3 STaR-Judge scripts/train_dpo.sh:5,8)."""
    limits = []
    if visible is not None:
        limits.append((visible[0], f"{visible[1]} makes {visible[0]} visible"))
    if "gpus_per_node" in sb:
        limits.append((sb["gpus_per_node"][0], f"{said} {sb['gpus_per_node'][1]} asks for {sb['gpus_per_node'][0]} per node"))
    below = [(n, why) for n, why in limits if n < out.per_node]
    if not below:
        return
    n = min(count for count, _ in below)
    said = " and ".join(why for _, why in below)
    out.assumed.append(f"the line starts {out.per_node} processes per node but {said}: the statements disagree, {n} GPUs per node assumed")
    out.per_node, out.per_node_said = n, False


_OVERRIDE = re.compile(r"^([A-Za-z_][\w.]{0,127})=(.{1,512})$")
_VAR_ALONE = re.compile(r"^\$(?:\{([A-Za-z_]\w{0,63})\}|([A-Za-z_]\w{0,63}))$")


def _tune_overrides(line: Line, lf: LauncherFile, shown: str, root: Path, out: Launch) -> None:
    """The `key=value` words after `--config` of a `tune run` line, read from the words as written: a literal value
    is the line's own; `$VAR` / `${VAR}` alone takes the value VAR was given for certain before the line (an assignment
    outside any branch, loop or function, in the file or a file it sources: `Line.origins`), said with that file and
    line; any other variable, or a value built around one, stays unresolved."""
    words = list(line.raw)
    at = next((i for i, w in enumerate(words) if w == "--config" or w.startswith("--config=")), None)
    if at is None:
        return
    origins = {name: (file, at) for name, file, at in line.origins}
    env = dict(line.env)
    for word in words[at + (1 if "=" in words[at] else 2) :]:
        m = _OVERRIDE.match(word)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        if "$" not in value and "`" not in value:
            out.overrides.append((key, value, str(lf.path), line.line, f"`{key}={value}` on {shown} line {line.line}"))
            continue
        var = _VAR_ALONE.match(value)
        name = (var.group(1) or var.group(2)) if var else ""
        if name in origins and name in env:
            file, at = origins[name]
            real = os.path.realpath(file)
            base = os.path.realpath(root)
            where = os.path.relpath(real, base) if Path(real).is_relative_to(base) else Path(real).name
            out.overrides.append(
                (key, env[name], str(lf.path), line.line, f"`{key}={value}` on {shown} line {line.line}, {name}={env[name]} set at {where} line {at}")
            )
        else:
            out.unresolved.append((key, f"`{key}={value}` on {shown} line {line.line}: {name or value} is not set for certain before that line"))


# Axolotl applies the `--key value` / `--key=value` words after the config over the YAML: `python -m axolotl.cli.train`
# hands them to do_cli as keyword arguments (fire.Fire, src/axolotl/cli/train.py:206, :111), `axolotl train` through its
# click options (src/axolotl/cli/main.py:96-129, `--deepspeed` at src/axolotl/cli/config_options.py:2438-2441), and
# load_cfg writes each into the config, the command line winning (src/axolotl/cli/config.py:282-286: unless `strict`,
# whose default is unset), all at axolotl 0.18.0 (067b021c8b).
# `axolotl train`'s own options, not config keys (src/axolotl/cli/main.py:83-96, TrainerCliArgs src/axolotl/cli/args.py:29-45@067b021c8b)
_AXOLOTL_CLI_OWN = frozenset({"launcher", "cloud", "sweep", "debug", "debug_text_only", "debug_num_examples", "prompter", "shard", "host"})
AXOLOTL_CLI_AT = "axolotl 0.18.0 (067b021c8b) src/axolotl/cli/config.py:282-286, src/axolotl/cli/train.py:111,206"


def _axolotl_overrides(line: Line, lf: LauncherFile, shown: str, out: Launch) -> None:
    """The `--key value` / `--key=value` words after the YAML an Axolotl line runs (`accelerate launch -m axolotl.cli.train
    x.yml --deepspeed ds.json`, review7a #4): Axolotl writes them over the YAML (AXOLOTL_CLI_AT). A value with a
    variable left in it stays unresolved (said, never applied)."""
    words = list(line.tokens)
    at = next((i for i, w in enumerate(words) if word_path(w).lower().endswith((".yml", ".yaml")) and not w.startswith("-")), None)
    if at is None:
        return
    i = at + 1
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            break  # `axolotl train x.yml --launcher torchrun -- --nproc_per_node 4`: the launcher's own words follow
        if not word.startswith("--") or len(word) < 3:
            continue
        key, eq, value = word[2:].partition("=")
        if not eq:
            if i >= len(words) or words[i].startswith("-"):
                continue  # a switch (`--no-deepcompile`): not a value goblin reads
            value = words[i]
            i += 1
        key = key.replace("-", "_")
        if not re.fullmatch(r"[A-Za-z_]\w{0,127}", key) or not value or key in _AXOLOTL_CLI_OWN:
            continue
        how = f"`--{key} {value}` on {shown} line {line.line}"
        _keep(out, key, value, how, lf, line)


def _keep(out: Launch, key: str, value: str, how: str, lf: LauncherFile, line: Line) -> None:
    """A launch word over the config: kept, or said unresolved where a variable is left in its value (never applied)."""
    if "$" in value or "`" in value:
        out.unresolved.append((key, f"{how}: the value is set at run time"))
    else:
        out.overrides.append((key, value, str(lf.path), line.line, how))


# LLaMA-Factory merges the `key=value` words after a `.yaml`/`.yml`/`.json` first argument over the file, the command line
# winning (llamafactory v0.9.5 src/llamafactory/hparams/parser.py:90-97: OmegaConf.from_cli(sys.argv[2:]) merged over
# OmegaConf.load(sys.argv[1]))
LLAMAFACTORY_CLI_AT = "llamafactory v0.9.5 src/llamafactory/hparams/parser.py:90-97"


def llamafactory_entry(line: Line, lf: LauncherFile, shown: str, root: Path, out: Launch, entry: int) -> None:
    """A line running LLaMA-Factory's entry script (`torchrun ... src/train.py x.yaml k=v`, `python src/train.py x.yaml`;
    `entry`: the script word's index): read as `llamafactory-cli train` is, where the config is the script's first word
    (launch_lfentry.ENTRY_AT); a deepspeed line without `--no_local_rank` puts its own flag there, so the YAML is not
    LLaMA-Factory's config and the run stops at start-up (said; nothing read)."""
    words = line.tokens
    if unread_by_deepspeed(words, entry):
        nxt = word_path(words[entry + 1]) if entry + 1 < len(words) else ""
        if nxt.lower().endswith((".yaml", ".yml", ".json")):
            out.notes.append(
                f"{out.where()} runs LLaMA-Factory's {word_path(words[entry])} under deepspeed without --no_local_rank: its first word is then "
                f"`--local_rank=N` ({DEEPSPEED_RANK_AT}), so LLaMA-Factory does not read {nxt} as its config and HfArgumentParser refuses the "
                "word (llamafactory v0.9.5 src/llamafactory/hparams/parser.py:90-99, :109-114): the run stops at start-up; the words after it are not read"
            )
        return
    _llamafactory_overrides(line, lf, shown, root, out, entry)


def _llamafactory_overrides(line: Line, lf: LauncherFile, shown: str, root: Path, out: Launch, entry: int | None = None) -> None:
    """`llamafactory-cli train x.yaml dataset=foo dataset_dir=bar`: the `key=value` words after the config (kept as
    overrides, LLAMAFACTORY_CLI_AT), and the folder the line runs in, read from where its config word is written from
    (`out.workdir`): LLaMA-Factory opens a relative `dataset_dir` there. `entry`: the index of LLaMA-Factory's entry
    script the line runs, whose first word must be the config (launch_lfentry.ENTRY_AT)."""
    from .launch_naming import workdir_of

    words = list(line.tokens)
    at = next((i for i, w in enumerate(words) if word_path(w).lower().endswith((".yaml", ".yml", ".json")) and not w.startswith("-") and "=" not in w), None)
    if at is None or (entry is not None and at != entry + 1):
        return
    if "$" not in words[at]:
        found = workdir_of(word_path(words[at]), Path(lf.path).parent, root, line.cwd)
        out.workdir = str(found) if found is not None else ""
    for word in words[at + 1 :]:
        m = _OVERRIDE.match(word)
        if m:
            _keep(out, m.group(1), m.group(2), f"`{word}` on {shown} line {line.line}", lf, line)


# TrlParser.parse_args_and_config sets the file's values as defaults and parses the command line over them (trl 0.18.0
# trl/scripts/utils.py:186-208; 1.16.0 :340,345); H4ArgumentParser.parse_yaml_and_args (alignment-handbook
# src/alignment/configs.py:34-89@227deaa, and the repositories' copies of it) splits each `--key=value` word at `=` and sets
# it over the YAML's value of that field
SCRIPT_FLAGS_AT = {
    "config": "trl 0.18.0 trl/scripts/utils.py:186-208, 1.16.0 :340,345 (TrlParser parses the command line over the file)",
    "positional": "alignment-handbook src/alignment/configs.py:34-89@227deaa (parse_yaml_and_args splits each `--field=value` word at `=` and sets it over the file)",
}


def _script_overrides(line: Line, lf: LauncherFile, shown: str, out: Launch) -> None:
    """The `--key value` words a line passes to the Python script it runs beside the recipe (`train.py config.yaml
    --deepspeed=ds.json`, review8b #29; `grpo.py --config x.yaml --num_generations 8`): kept with the form that says which
    parser sets them over the file (`out.flag_form`, SCRIPT_FLAGS_AT): after `--config FILE` every `--key value` /
    `--key=value` word (TrlParser), after a recipe given as the script's first word only `--key=value` words (what
    parse_yaml_and_args splits; a `--key value` pair there stops it). The reader applies them only where the script
    parses that way (formats/launched.Launched.trl_parse / yaml_args)."""
    words = list(line.tokens)
    script = next((i for i, w in enumerate(words) if w.endswith(".py") and not w.startswith("-")), None)
    if script is None:
        return
    at = next(
        (i for i in range(script + 1, len(words)) if word_path(words[i]).lower().endswith((".yml", ".yaml", ".json")) and not words[i].startswith("-")),
        None,
    )
    if at is None:
        return
    if words[at - 1] in ("--config", "--config_file", "--config-file") and at - 1 > script:
        form, skip = "config", {at - 1, at}
    elif at == script + 1:
        form, skip = "positional", {at}
    else:
        return
    out.flag_form = form
    for key, value, at_word, eq in script_flags(words, script, skip, split_pairs=form == "config"):
        how = f"`--{words[at_word][2:].partition('=')[0]}{'=' if eq else ' '}{value}` on {shown} line {line.line}"
        _keep(out, key, value, how, lf, line)


def script_flags(words: list[str], script: int, skip: set[int], *, split_pairs: bool) -> list[tuple[str, str, int, bool]]:
    """The `--key value` / `--key=value` words after the script (`words[script]`) that its parser sets over the recipe
    (SCRIPT_FLAGS_AT), the one reading of them for Launch.overrides (`_script_overrides`) and the rollout's
    (`blockers.launch_config_flags`): (key with `-` as `_`, value as written, index of the flag word, written with `=`).
    `skip`: the indexes of the recipe's own words (`--config FILE`). `split_pairs` False (parse_yaml_and_args) takes only
    `--key=value` words. A bare switch is `true` (HfArgumentParser's `nargs="?", const=True`). Kept in order; a key given
    twice is kept once, at its last word: TrlParser's argparse store action sets the value at each occurrence
    (ARGPARSE_STORE_AT; HfArgumentParser adds every dataclass field with no other action: transformers 5.25.0
    hf_argparser.py:235), and parse_yaml_and_args builds a dict of the words, the later one replacing the earlier
    (alignment-handbook src/alignment/configs.py:51@227deaa)."""
    out: list[tuple[str, str, int, bool]] = []
    i = script + 1
    while i < len(words):
        at, word = i, words[i]
        i += 1
        if at in skip or not word.startswith("--") or len(word) < 3:
            continue
        key, eq, value = word[2:].partition("=")
        if not eq:
            if not split_pairs:
                continue  # not split by parse_yaml_and_args
            if i < len(words) and not words[i].startswith("--") and i not in skip:
                value = words[i]
                i += 1
            else:
                value = "true"  # a bare switch: a bool field set true
        key = key.replace("-", "_")
        if re.fullmatch(r"[A-Za-z_]\w{0,127}", key) and value:
            out.append((key, value, at, bool(eq)))
    last = {word[0]: n for n, word in enumerate(out)}
    return [word for n, word in enumerate(out) if last[word[0]] == n]


# CPython 3.11.7 Lib/argparse.py:955-956: _StoreAction.__call__ does `setattr(namespace, self.dest, values)` at each
# occurrence of its option, so a flag given twice keeps its last value
ARGPARSE_STORE_AT = "CPython 3.11.7 Lib/argparse.py:955-956 (_StoreAction sets the value at each occurrence: the last wins)"


# Slurm doc/man/man1/sbatch.1:36-39@284c3b95f0 (https://slurm.schedmd.com/sbatch.html): "Slurm runs a single copy of the
# batch script on one of the allocated nodes"; only a command srun (or MPI's launcher, pdsh) starts reaches the others.
SBATCH_HOST_AT = "Slurm doc/man/man1/sbatch.1:36-39@284c3b95f0 (Slurm runs a single copy of the batch script on one of the allocated nodes)"
SPREADERS = frozenset({"srun", "mpirun", "mpiexec", "pdsh"})
SRUN_TASKS_AT = "Slurm doc/man/man1/srun.1:2440-2442@284c3b95f0 (-n, --ntasks: the number of tasks to run)"
SRUN_AT = (
    "Slurm doc/man/man1/srun.1:2488-2489@284c3b95f0 (--ntasks-per-node: that many tasks invoked on each node), :3919-3920 "
    "(SLURM_NTASKS_PER_NODE, which sbatch sets from its --ntasks-per-node, sbatch.1:3526-3528, read as --ntasks-per-node)"
)


def srun_body(line: Line, lf: LauncherFile, shown: str) -> Launch | None:
    """A `python script.py --config x.yaml` line of a here-document body that a later `srun` line runs (6a #19
    llm-workshop job_multiGPU_QA.sh:89-147): srun starts the body once per task, so nodes x tasks per node processes,
    from srun's own -N/--ntasks-per-node else the #SBATCH lines; None where srun gives a total task count (-n/--ntasks)
    or no per-node count is stated (one process per node is then not assumed)."""
    srun = line.run_by
    if srun is None or not line.tokens or not Path(line.tokens[0]).name.startswith("python"):
        return None
    flags = launch_flags(srun.tokens)
    if flags.get("n") or flags.get("ntasks"):
        return None
    sb = {what: (value, n) for what, value, n in reversed(lf.sbatch)}
    per = _int(flags.get("ntasks_per_node"))
    per_said = f"srun line {srun.line} --ntasks-per-node {per}" if per else ""
    if per is None and "ntasks_per_node" in sb:
        per = sb["ntasks_per_node"][0]
        per_said = f"#SBATCH --ntasks-per-node={per} (line {sb['ntasks_per_node'][1]})"
    if per is None:
        return None
    out = Launch(nodes=1, per_node=per, file=str(lf.path), shown=shown, line=line.line, command=short_command(line.tokens))
    nodes = _int(flags.get("N") or flags.get("nodes"))
    if nodes is None and "nodes" in sb:
        nodes = sb["nodes"][0]
    if nodes is None:
        out.nodes_said = False
        out.assumed.append("nodes not stated on the srun line nor in #SBATCH: 1 assumed")
    out.nodes = nodes or 1
    into = f"hold this command in the shell function {line.written_to[:-2]}" if line.written_to.endswith("()") else f"write this command into {line.written_to}"
    out.notes.append(f"{shown} lines {line.body[0]}-{line.body[1]} {into}, which srun runs at line {srun.line}: one process per task, {per_said} ({SRUN_AT})")
    return out


def _tune_recipe(tokens: tuple[str, ...]) -> str:
    """The recipe of `tune run [torchrun flags] RECIPE --config ...`: the first word after `run` that is
    neither a flag nor a flag's value; "" when there is none."""
    words = list(tokens)
    for i in range(len(words) - 1):
        if Path(words[i]).name == "tune" and words[i + 1] == "run":
            rest = words[i + 2 :]
            j = 0
            while j < len(rest):
                if rest[j].startswith("-"):
                    j += 1 if "=" in rest[j] else 2
                    continue
                return rest[j]
    return ""


def launcher_words(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The words of a launch line before the script it runs (a `.py` word or `-m module`): the
    launcher's own flags, not the script's (`deepspeed --include localhost:1 train.py -e 3`)."""
    for i, tok in enumerate(tokens):
        if tok.endswith(".py") or tok in ("-m", "--module"):
            return tokens[:i]
    return tokens


def _node_specs(text: str) -> dict[str, list[int]] | None:
    """DeepSpeed's `NAME[:SLOT[,SLOT ...]][@NAME...]` as {host: slots} (no slots: the whole host);
    None when a part is not that shape (an unresolved `$VAR`, a slot that is no number).
    DeepSpeed 0.19.6 deepspeed/launcher/runner.py:285-307 (parse_node_config, parse_node_config_list)."""
    out: dict[str, list[int]] = {}
    for spec in text.split("@"):
        host, colon, slots = spec.partition(":")
        if not re.fullmatch(r"[\w.-]{1,253}", host) or (colon and not re.fullmatch(r"\d{1,4}(,\d{1,4}){0,255}", slots)):
            return None
        out.setdefault(host, [])
        out[host] = sorted({*out[host], *(int(x) for x in slots.split(",") if colon)})
    return out


def _deepspeed_filter(out: Launch, include: str | None, exclude: str | None, hosts: list[tuple[str, int]] | None, own: dict[str, str]) -> None:
    """Nodes and GPUs per node from `deepspeed --include/--exclude` (DeepSpeed 0.19.6
    deepspeed/launcher/runner.py:310-357 parse_resource_filter, :391-398 parse_inclusion_exclusion):
    an included `host:slots` runs those slots only, a bare host every slot it has (the hostfile's
    `slots=N`, else every local GPU); an exclusion removes them from the pool. The pool without a
    hostfile is `localhost` with every local GPU (:466-474); a CUDA_VISIBLE_DEVICES is then ignored (:452-456)."""
    text = include or exclude or ""
    specs = _node_specs(text)
    flag = "--include" if include else "--exclude"
    if include and exclude:
        out.notes.append(f"deepspeed stops at start-up: --include and --exclude together ({DEEPSPEED_FILTER_AT})")
    if any(k in own for k in ("num_gpus", "num_accelerators", "num_nodes")):
        out.notes.append(
            f"deepspeed stops at start-up: --num_nodes/--num_gpus cannot be combined with {flag} (DeepSpeed 0.19.6 deepspeed/launcher/runner.py:462-464)"
        )
    if specs is None:
        out.nodes, out.per_node, out.nodes_said, out.per_node_said = 1, PER_NODE_ASSUMED, False, False
        out.assumed.append(f"deepspeed {flag} {text!r} is not resolved in the file: 1 node x {PER_NODE_ASSUMED} GPUs assumed")
        return
    # the pool: {host: number of slots, None when it is every local GPU (unknown here)}
    pool: dict[str, int | None] = {h: n for h, n in hosts} if hosts is not None else {"localhost": None}
    unknown = []
    for host in specs:
        if host not in pool:
            unknown.append(host)
    if unknown:
        out.notes.append(
            f"deepspeed stops at start-up: {flag} names {', '.join(repr(h) for h in unknown)}, not in "
            + ("the hostfile" if hosts is not None else "the pool (no hostfile: only `localhost`)")
            + f" ({DEEPSPEED_FILTER_AT})"
        )
    assumed_all = False
    counts: list[int] = []
    if include:
        for host, slots in specs.items():
            if slots:
                counts.append(len(slots))
            elif pool.get(host) is not None:
                counts.append(pool[host] or 1)
            else:
                counts.append(PER_NODE_ASSUMED)
                assumed_all = True
    else:
        for host, size in pool.items():
            dropped = specs.get(host)
            if dropped is not None and not dropped:
                continue  # the whole host excluded
            if size is None:
                size, assumed_all = PER_NODE_ASSUMED, True
            left = size - len([x for x in (dropped or []) if x < size])
            if left > 0:
                counts.append(left)
    if not counts:
        out.nodes, out.per_node, out.nodes_said, out.per_node_said = 1, 1, False, False
        out.assumed.append(f"deepspeed {flag} {text!r} leaves no GPU: 1 assumed")
        return
    out.nodes = len(counts)
    out.per_node = min(counts)
    if assumed_all:
        out.per_node_said = False
        out.assumed.append(f"every local GPU of a host {flag} names without slots, assumed {PER_NODE_ASSUMED} (one MI300X node; {DEEPSPEED_AT})")
    if len(set(counts)) > 1:
        out.per_node_said = False
        out.assumed.append(f"hosts with different GPU counts ({', '.join(map(str, counts))}): the smallest, {min(counts)}, assumed per node")
    out.notes.append(f"{out.nodes} node(s) x {out.per_node} GPU(s) from deepspeed {flag} {text} ({DEEPSPEED_FILTER_AT})")


def _accelerate(
    out: Launch,
    flags: dict[str, str],
    env: dict[str, str],
    sb: dict[str, tuple[int, int]],
    lf: LauncherFile,
    roots: list[Path],
    root: Path,
    every_gpu: Any,
    nodes_from: Any,
    own: dict[str, str] | None = None,
) -> None:
    """accelerate launch (or axolotl train through it): the command line first, then its --config_file. `own`: the
    flags before the script, accelerate's own (a `--mixed_precision` after it is the script's)."""
    found: dict[str, Any] = {}
    ref = flags.get("config_file")
    if ref and "$" not in ref:
        found = _accelerate_file(ref, lf.path.parent, roots, root, out) or _written_accelerate(ref, lf, roots, out) or _shipped_accelerate(ref, lf.path, out)
    cfg: Any = found.get("data", {})
    total = _int(flags.get("num_processes"))
    machines_raw = flags.get("num_machines")
    if total is None and isinstance(cfg.get("num_processes"), int) and cfg["num_processes"] >= 1:
        total = cfg["num_processes"]
    machines = _int(machines_raw)
    if machines is None and machines_raw is None and isinstance(cfg.get("num_machines"), int) and cfg["num_machines"] >= 1:
        machines = cfg["num_machines"]
    if machines is not None:
        out.nodes = machines
    else:
        nodes_from(machines_raw, ACCELERATE_AT)
    if total is not None:
        if total % max(1, out.nodes):
            out.notes.append(f"{total} processes on {out.nodes} machines do not divide evenly")
        out.per_node = max(1, total // max(1, out.nodes))
    else:
        every_gpu(ACCELERATE_ALL_AT)
    _accelerate_precision(out, flags if own is None else own, cfg, found)
    if not out.cpu and ((own if own is not None else flags).get("cpu") == "true" or cfg.get("use_cpu") is True):
        said = "`--cpu`" if (own if own is not None else flags).get("cpu") == "true" else f"`use_cpu: true` in {found.get('file')}"
        out.cpu = f"accelerate {said} ({ACCELERATE_CPU_AT})"
    strategy = accelerate_strategy(flags, cfg, found.get("file"), found.get("path"))
    if found.get("shipped") or found.get("written"):
        # the lines recorded are the framework's copy's or the script's heredoc's: no edit is pointed at them
        strategy.pop("offload_at", None)
    if strategy and not (out.strategy and strategy.get("strategy") == "ddp" and not found):
        out.strategy = strategy
    elif ref and not found:  # the launch names where its strategy lives, and goblin could not read it
        named = strategy_from_name(ref)
        if named is not None:
            out.strategy = named
            out.notes.append(f"strategy from the accelerate config's name {Path(ref).name!r} (the file is not in the repository): {_said_strategy(named)}")
        else:
            out.strategy_unread = unread_why(ref, out.where(), exists=False)


def _written_accelerate(ref: str, lf: LauncherFile, roots: list[Path], out: Launch) -> dict[str, Any]:
    """The accelerate config the launcher script writes to `ref` above this launch line (`cat > accel.yaml <<EOF`,
    formats/heredoc.py), where the repository has no such file: its literal text as the config's data (a value bash
    expands at run time stays a placeholder string, which no key reads as a count or a name); {} when none."""
    from ..yamlio import load_yaml
    from .heredoc import SHELL_SUFFIXES, written_in

    if out.place or lf.path.suffix.lower() not in SHELL_SUFFIXES or placeholder(ref):
        return {}
    try:
        got = written_in(read_text(lf.path, roots=roots, limit=MAX_BYTES).splitlines(), ref, out.line)
        data = load_yaml(lf.path, got[0]) if got is not None else None
    except Exception:
        return {}
    if got is None or not isinstance(data, dict):
        return {}
    shown = f"{Path(ref).name} as {out.shown} line {got[1]} writes it"
    unread = f"; not literal, so not read: {', '.join(got[3])}" if got[3] else ""
    out.notes.append(f"accelerate config {ref!r} read from the text {out.shown} line {got[1]} writes to it before {out.where()}{unread}")
    return {"data": data, "file": shown, "path": None, "written": True}


def _shipped_accelerate(ref: str, launcher: Path, out: Launch) -> dict[str, Any]:
    """The accelerate config a framework ships (TRL's examples/accelerate_configs/deepspeed_zero3.yaml), named by a
    launch line where no folder of the repository has a file at that path: its recorded settings
    (frameworks/shipped_files.json, generated from the framework's release tags) as the config's data; {} when the
    table holds no such file (a bare name too: the launch line does not say whose it is) or the repository has one."""
    from ..frameworks.shipped import lookup
    from .deepspeed import _in_repository

    got = lookup(ref, None, kind="accelerate")
    if got is None or placeholder(ref) or _in_repository(launcher, ref) is not False:
        return {}
    st = got.settings
    data: dict[str, Any] = {k: st[k] for k in ("distributed_type", "mixed_precision", "num_processes") if st.get(k) is not None}
    ds = {"zero_stage": st.get("zero_stage"), "offload_optimizer_device": st.get("offload_optimizer"), "offload_param_device": st.get("offload_param")}
    if any(v is not None for v in ds.values()):
        data["deepspeed_config"] = {k: v for k, v in ds.items() if v is not None}
    sharding = st.get("fsdp_sharding")
    fsdp = {
        "fsdp_offload_params": st.get("fsdp_offload_params"),
        "fsdp_version": st.get("fsdp_version"),
        "fsdp_sharding_strategy": sharding if isinstance(sharding, str) else None,
        "fsdp_reshard_after_forward": sharding if isinstance(sharding, bool) else None,
    }
    if any(v is not None for v in fsdp.values()):
        data["fsdp_config"] = {k: v for k, v in fsdp.items() if v is not None}
    shown = f"{got.where()} (shipped)"
    said = "; the run's release is not known here: read at the newest" if not got.matched else ""
    out.notes.append(f"accelerate config read from {shown}: the repository has no {Path(ref).name}; same settings in {got.span()}{said}")
    if isinstance(st.get("mixed_precision"), str):
        out.mixed_precision = (st["mixed_precision"], out.file, out.line, f"`mixed_precision: {st['mixed_precision']}` in {shown}, passed by {out.where()}")
    return {"data": data, "file": shown, "path": None, "shipped": True}


def strategy_from_name(ref: str) -> dict[str, Any] | None:
    """The strategy an accelerate config's file name states when the file cannot be read, as a DeepSpeed
    file's stage is (formats/deepspeed.stage_from_name): `deepspeed_zero3.yaml` -> DeepSpeed ZeRO-3,
    `fsdp.yaml` -> FSDP, `multi_gpu.yaml` / `ddp.yaml` -> DDP; None for a placeholder or a name that says none."""
    from .deepspeed import stage_from_name

    if placeholder(ref) or "$" in ref:
        return None
    name = Path(ref).name.lower()
    stage = stage_from_name(ref)
    if "fsdp" in name:
        return {"strategy": "fsdp", "by_name": Path(ref).name}
    if "deepspeed" in name or re.search(r"(?<![a-z])ds[_-]", name) or stage is not None:
        return {"strategy": "deepspeed", "by_name": Path(ref).name, **({"zero_stage": stage} if stage is not None else {})}
    if re.search(r"(?<![a-z])(multi[_-]?gpu|ddp)(?![a-z])", name):
        return {"strategy": "ddp", "by_name": Path(ref).name}
    return None


# A word that stands for a file the user is to supply, not a file: `<your_config>.yaml`, `path/to/config`,
# `your_config_name.yaml`, `{config}`, `xxx.yaml`, `/path/to/...`
_PLACEHOLDER = re.compile(r"[<>{}]|(^|/)path/to/|(^|[/_.-])your[_-]?\w*|(^|/)my[_-][\w.-]*$|(^|/)x{3,}\.|(^|[/_-])config[_-]?name\b", re.IGNORECASE)


def placeholder(word: str) -> bool:
    """Whether a launch-line word names a file to be supplied rather than a file of the repository."""
    return bool(_PLACEHOLDER.search(word))


def unread_why(ref: str, where: str, *, exists: bool) -> str:
    if placeholder(ref):
        return f"the accelerate config {where} passes, {ref!r}, is a placeholder, so the strategy it sets is not known"
    if "$" in ref:
        return f"the accelerate config {where} passes, {ref!r}, is set at run time, so the strategy it sets is not known"
    return f"the accelerate config {where} passes, {ref!r}, is not in the repository, so the strategy it sets is not known"


def _said_strategy(st: dict[str, Any]) -> str:
    if st.get("strategy") == "deepspeed":
        return f"DeepSpeed ZeRO-{st['zero_stage']}" if "zero_stage" in st else "DeepSpeed"
    return "FSDP" if st.get("strategy") == "fsdp" else "DDP"


def _locate(ref: str, here: Path, roots: list[Path], root: Path, out: Launch, what: str) -> Path | None:
    """A file a launch line names, looked up from the launcher's folder up to the repository root (a
    launch runs from one of them), or after a `cd` from the folder it moved to (`launch_naming._bases`: review11b #23
    llm2025compet training/commands/dpo-qwen3-14b-3node.sh:35-40, `cd .../training/open-r1/src` then `--config_file
    ../recipes/accelerate_configs/zero3.yaml`); None (with a note) when it is outside the tree or not found."""
    from .launch_naming import _bases, tail_file

    p = Path(ref)
    candidates = [p] if p.is_absolute() else []
    cwd = getattr(out, "cwd", "")
    if cwd and not p.is_absolute():
        candidates.extend(Path(os.path.normpath(b / p)) for b in _bases(here, root, cwd))
    base = here
    while not p.is_absolute() and not cwd:
        candidates.append(Path(os.path.normpath(base / p)))
        if base == root or base.parent == base or not base.is_relative_to(root):
            break
        base = base.parent
    for c in candidates:
        if not any(Path(os.path.normpath(c)).is_relative_to(r) for r in roots):
            # named outside the tree: refused by name, never probed (whether it exists is the runner's business); a
            # checkout on the author's machine is read as the repository's one file whose path ends like it
            if p.is_absolute() and (inside := tail_file(p, root)) is not None:
                out.notes.append(f"{what} {ref!r} (a path on another machine) read from {shown_path(inside, root)}, the only file whose path ends like {ref}")
                return inside
            out.notes.append(f"{what} {ref!r} was not opened: it is outside the audited tree")
            return None
        if c.exists() or c.is_symlink():
            return c
    out.notes.append(f"{what} {ref!r} named by {out.where()} was not found in the repository")
    return None


def shown_path(c: Path, root: Path) -> str:
    real = Path(os.path.realpath(c))
    return os.path.relpath(real, root) if real.is_relative_to(root) else str(c)


def _accelerate_precision(out: Launch, flags: dict[str, str], cfg: Any, found: dict[str, Any]) -> None:
    """The mixed precision `accelerate launch` hands the script's Accelerator (ACCELERATE_MIXED_PRECISION): the
    --mixed_precision flag, else the config file's key, else "no" (accelerate v1.0.0 commands/launch.py:1050-1054 takes
    the config's value when the flag is unset, "no" when the config has none; utils/launch.py:410 exports it)."""
    from ..yamlio import key_line

    if flags.get("mixed_precision"):
        out.mixed_precision = (flags["mixed_precision"], out.file, out.line, f"`--mixed_precision {flags['mixed_precision']}` at {out.where()}")
    elif found.get("path") and isinstance(cfg, dict):
        value = cfg.get("mixed_precision")
        if value is None:
            out.mixed_precision = ("no", found["path"], None, f"accelerate config {found['file']} sets no mixed_precision: accelerate's default, no")
        else:
            out.mixed_precision = (
                str(value),
                found["path"],
                key_line(cfg, "mixed_precision"),
                f"`mixed_precision: {value}` in accelerate config {found['file']}",
            )


def _accelerate_file(ref: str, here: Path, roots: list[Path], root: Path, out: Launch) -> dict[str, Any]:
    """The accelerate config a launch line passes, read through safepath; {} when unreadable."""
    from ..yamlio import load_yaml

    c = _locate(ref, here, roots, root, out, "accelerate config")
    if c is None:
        return {}
    from .deepspeed import _IN_PLACE

    placed = (_IN_PLACE.get() or {}).get(os.path.realpath(c))  # a patch's edit of it, being read back
    try:
        data = load_yaml(c, placed if placed is not None else read_text(c, roots=roots, limit=MAX_BYTES))
    except UnsafePath as exc:
        out.notes.append(f"accelerate config {ref!r} was not read: {exc.reason}")
        return {}
    except Exception as exc:  # a broken YAML: say so, use the command line alone
        out.notes.append(f"accelerate config {ref!r} could not be parsed ({type(exc).__name__})")
        return {}
    if not isinstance(data, dict):
        return {}
    out.notes.append(f"accelerate config {shown_path(c, root)} read (passed by {out.where()})")
    return {"data": data, "file": shown_path(c, root), "path": os.path.realpath(c)}


# DeepSpeed 0.19.6 deepspeed/launcher/runner.py:243-270 (_parse_hostfile): one `host slots=N` per line,
# `#` comments and blank lines skipped, anything else (or a host twice, or no host) stops the launcher.
_HOST = re.compile(r"^(\S+)\s+slots=(\d+)")


def _hostfile(ref: str, here: Path, roots: list[Path], root: Path, out: Launch) -> list[tuple[str, int]] | None:
    """The (host, slots) pairs of the hostfile a `deepspeed --hostfile` line passes; None when unread."""
    c = _locate(ref, here, roots, root, out, "hostfile")
    if c is None:
        return None
    try:
        text = read_text(c, roots=roots, limit=MAX_BYTES)
    except UnsafePath as exc:
        out.notes.append(f"hostfile {ref!r} was not read: {exc.reason}")
        return None
    hosts: list[tuple[str, int]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _HOST.match(line)
        if m is None or any(h == m.group(1) for h, _ in hosts):
            out.notes.append(f"hostfile {shown_path(c, root)} has an entry DeepSpeed refuses ({redact(line)[:80]!r}): not used")
            return None
        hosts.append((m.group(1), int(m.group(2))))
    if not hosts:
        out.notes.append(f"hostfile {shown_path(c, root)} names no host: not used")
        return None
    out.notes.append(f"hostfile {shown_path(c, root)} read (passed by {out.where()}): {len(hosts)} host(s)")
    return hosts


def accelerate_strategy(flags: dict[str, str], cfg: Any, where: str | None, path: str | None) -> dict[str, Any]:
    """Strategy, ZeRO stage and host offload from accelerate flags, then its config file (flags win);
    `where` / `path`: the file as shown and its real path, None without one."""
    from ..yamlio import key_line

    dtype = str(cfg.get("distributed_type", "")).upper()
    ds: dict[str, Any] = cfg["deepspeed_config"] if isinstance(cfg.get("deepspeed_config"), dict) else {}
    fsdp: dict[str, Any] = cfg["fsdp_config"] if isinstance(cfg.get("fsdp_config"), dict) else {}
    out: dict[str, Any] = {}
    if flags.get("use_deepspeed") == "true" or (dtype == "DEEPSPEED" and "use_fsdp" not in flags and "multi_gpu" not in flags):
        out["strategy"] = "deepspeed"
        stage = _int(flags.get("zero_stage")) if "zero_stage" in flags else ds.get("zero_stage")
        if isinstance(stage, int) and 0 <= stage <= 3:
            out["zero_stage"] = stage
        opt = flags.get("offload_optimizer_device") or ds.get("offload_optimizer_device")
        par = flags.get("offload_param_device") or ds.get("offload_param_device")
        at = []
        for key, value in (("offload_optimizer_device", opt), ("offload_param_device", par)):
            if str(value).lower() in ("cpu", "nvme"):
                at.append((path, f"deepspeed_config.{key}", key_line(ds, key) if key not in flags else None))
        if at:
            out["cpu_offload"] = True
            out["offload_params"] = str(par).lower() in ("cpu", "nvme")
            out["offload_at"] = at
        if isinstance(ds.get("deepspeed_config_file"), str) and ds["deepspeed_config_file"].strip():
            out["deepspeed_config_file"] = ds["deepspeed_config_file"].strip()
        ds_flag = flags.get("deepspeed_config_file")
        if ds_flag and ds_flag.strip() and not any(c in ds_flag for c in "$`{}*?~"):
            # `accelerate launch --deepspeed_config_file x.json` (accelerate 1.14.0 commands/launch.py:411, utils/launch.py:580-581: the
            # path goes to ACCELERATE_DEEPSPEED_CONFIG_FILE, which DeepSpeedPlugin opens, utils/dataclasses.py:1263-1271): the flag
            # wins over the config file's, as every flag does (review10b #34: Instella README.md:131-138)
            out["deepspeed_config_file"] = ds_flag.strip()
            out["deepspeed_config_flag"] = True
    elif flags.get("use_fsdp") == "true" or (dtype == "FSDP" and "use_deepspeed" not in flags and "multi_gpu" not in flags):
        out["strategy"] = "fsdp"
        from .deepspeed import fsdp_sharding

        named = fsdp_sharding({k: v for k, v in flags.items() if k in ("fsdp_sharding_strategy", "fsdp_reshard_after_forward")}) or fsdp_sharding(fsdp)
        # HSDP under FSDP2: accelerate's parallelism config, dp_replicate_size > 1 (accelerate 1.14.0
        # src/accelerate/parallelism_config.py:61-64; `--parallelism_config_dp_replicate_size`, commands/launch.py:900)
        pc = cfg.get("parallelism_config") if isinstance(cfg.get("parallelism_config"), dict) else {}
        replicate = flags.get("parallelism_config_dp_replicate_size") or pc.get("parallelism_config_dp_replicate_size") or pc.get("dp_replicate_size")
        if _int(str(replicate)) is not None and (_int(str(replicate)) or 0) > 1:
            out["sharding"], out["sharding_key"] = "hybrid", "parallelism_config.dp_replicate_size"
            shard = flags.get("parallelism_config_dp_shard_size") or pc.get("parallelism_config_dp_shard_size") or pc.get("dp_shard_size")
            if (_int(str(shard)) or 0) > 1:
                out["shard_group"] = _int(str(shard))
        elif named is not None:
            out["sharding"], out["sharding_key"] = named[0], f"fsdp_config.{named[1]}"
        off = flags.get("fsdp_offload_params") or fsdp.get("fsdp_offload_params") or fsdp.get("offload_params")
        if str(off).lower() == "true":
            key = "fsdp_offload_params" if "fsdp_offload_params" in fsdp else "offload_params"
            out["cpu_offload"] = out["offload_params"] = True
            out["offload_at"] = [(path, f"fsdp_config.{key}", key_line(fsdp, key))]
    elif flags.get("multi_gpu") == "true" or dtype == "MULTI_GPU":
        out["strategy"] = "ddp"
    if out and where:
        out["from"] = where
        out["config_path"] = path
        out["line"] = key_line(cfg, "distributed_type") if "distributed_type" in cfg else None
    return out


def program_kind(tokens: tuple[str, ...]) -> str:
    """What a launch line runs on its config: axolotl, llamafactory, torchtune, else a script."""
    words = [word_path(t).lower() for t in tokens]
    if any("axolotl" in w for w in words):
        return "axolotl"
    if any(w in ("llamafactory-cli", "lmf") or "llamafactory" in w for w in words):
        return "llamafactory"
    if any(a == "tune" and b == "run" for a, b in pairwise(words)):
        return "torchtune"
    return "script"


def config_kind(text: str) -> str:
    """The same for a config's text, by each format's marking key (Axolotl's `base_model`, torchtune's
    `_component_`, LLaMA-Factory's `finetuning_type`/`stage`); else a file a script reads."""
    if re.search(r"(?m)^base_model\s*:", text):
        return "axolotl"
    if "_component_:" in text:
        return "torchtune"
    if re.search(r"(?m)^(finetuning_type|stage)\s*:", text):
        return "llamafactory"
    return "script"
