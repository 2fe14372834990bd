"""The distributed-launch variables a training script reads from its environment (`world_size =
int(os.environ["WORLD_SIZE"])`, `os.environ.get("WORLD_SIZE", 1)`), as the launcher goblin found for it sets them, so
that `per_device_train_batch_size=total // world_size` is read instead of assumed (review10b #33 CSCfi
llm-fine-tuning-examples finetuning.py:184 under `srun torchrun --standalone --nnodes=1 --nproc-per-node=1`).

torchrun's agent gives every worker WORLD_SIZE (the world) and LOCAL_WORLD_SIZE (its node's processes): torch 2.13.0
torch/distributed/elastic/agent/server/local_elastic_agent.py:420-421; accelerate's multi-process launch runs through
it; DeepSpeed's launcher sets WORLD_SIZE on every worker (deepspeed v0.19.5 deepspeed/launcher/launch.py:189). A plain
`python script.py` gets neither (a single-process `accelerate launch` neither: accelerate v1.14.0
src/accelerate/utils/launch.py:100 `prepare_simple_launcher_cmd_env` sets no WORLD_SIZE), unless the launcher exports it.
Counts the launch line does not state and a commented-out or beside-the-config launch are unknown.

Any other variable (`MBS = int(os.environ.get("MBS", 1))`, review13a #15 tprimat train/amd_tran.py:39) is the launcher's
export where the launch script sets it (its own line, or a file it sources: `set -a; source config.env; set +a`), unknown
where that export is not literal; where the launcher does not set it, the read's default, said as an assumption: the
shell the user runs the launcher from may export it (`said`). A launcher that sources a file goblin did not read may
export anything, and a variable a launcher or scheduler sets itself (torchrun's worker environment, SLURM_*, MPI ranks,
accelerate's ACCELERATE_*) is never read from a default: both stay unknown.
"""

from __future__ import annotations

import re
from pathlib import Path

from .launch_line import Launch
from .pyeval import Environ

TORCH_AGENT_AT = "torch 2.13.0 torch/distributed/elastic/agent/server/local_elastic_agent.py:420-421"
_SETS_WORLD = re.compile(r"(^|[\s/])(torchrun|deepspeed)(\s|$)|torch\.distributed\.(run|launch)")
_VARIABLES = ("WORLD_SIZE", "LOCAL_WORLD_SIZE")
# what torchrun's agent gives every worker (TORCH_AGENT_AT:416-433, LOCAL_RANK by `_set_local_rank_env`, OMP_NUM_THREADS
# passed through) and the prefixes schedulers, MPI and launchers set: never read as unset
_LAUNCHER_SET = frozenset(
    {"RANK", "LOCAL_RANK", "GROUP_RANK", "ROLE_RANK", "ROLE_NAME", "GROUP_WORLD_SIZE", "ROLE_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "NODE_RANK"}
    | {"OMP_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "HOME", "USER", "PATH", "PWD"}
)
_LAUNCHER_PREFIXES = (
    "TORCHELASTIC_",
    "SLURM_",
    "OMPI_",
    "PMI_",
    "PMIX_",
    "MV2_",
    "ACCELERATE_",
    "DEEPSPEED_",
    "SM_",
    "LOCAL_",
    "CROSS_",
    "KUBERNETES_",
    "MLFLOW_",
)


def launched_environ(script: Path, said: list[str] | None = None) -> Environ:
    """The reader `pyeval.Evaluator` asks for an environment variable of the process the repository launches `script` in;
    a variable read from the script's default because the launcher does not set it is said once in `said`."""
    from .launchers import find_launch

    def read(name: str, has_default: bool = False) -> tuple[bool, str | None]:
        launch = find_launch(script)
        if launch is None:
            return False, None
        if name in _VARIABLES:
            return _value(launch, name)
        return _other(launch, name, has_default, said)

    return read


def _other(launch: Launch, name: str, has_default: bool, said: list[str] | None) -> tuple[bool, str | None]:
    """A variable no launcher sets of its own: the launch script's export, else unset where the read writes a default
    (which then applies), said; a bare `.get(X)` / `os.environ[X]` is a value the author leaves to the user: unknown."""
    for key, value, _file, _line, known in reversed(launch.env):
        if key == name:
            return (True, value) if known else (False, None)
    if not has_default or launch.commented or launch.beside or launch.unread_sources or name in _LAUNCHER_SET or name.startswith(_LAUNCHER_PREFIXES):
        return False, None
    if said is not None:
        note = (
            f"{name} is read as its default in the script: the launch line ({launch.where()}) does not set it; a shell that exports"
            f" {name} before running it changes that value"
        )
        if note not in said:
            said.append(note)
    return True, None


def _value(launch: Launch, name: str) -> tuple[bool, str | None]:
    for key, value, _file, _line, known in reversed(launch.env):  # the launcher's own export wins
        if key == name:
            return (True, value) if known else (False, None)
    if launch.commented or launch.beside:
        return False, None
    if launch.interpreter:
        return True, None  # `python script.py`: one process, no launcher variables
    if not (launch.nodes_said and launch.per_node_said) or launch.nodes_unset:
        return False, None
    if launch.world > 1 or _SETS_WORLD.search(launch.command):
        if name == "WORLD_SIZE":
            return True, str(launch.world)
        if "deepspeed" not in launch.command:  # DeepSpeed's launcher names it LOCAL_SIZE
            return True, str(launch.per_node)
    return False, None
