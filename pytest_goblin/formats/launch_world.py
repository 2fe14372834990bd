"""The distributed-launch variables a training script reads from its environment (`world_size =
int(os.environ["WORLD_SIZE"])`, `os.environ.get("WORLD_SIZE", 1)`), as the launcher goblin found for it sets them, so
that `per_device_train_batch_size=total // world_size` is read instead of assumed (review10b #33 CSCfi
llm-fine-tuning-examples finetuning.py:184 under `srun torchrun --standalone --nnodes=1 --nproc-per-node=1`).

torchrun's agent gives every worker WORLD_SIZE (the world) and LOCAL_WORLD_SIZE (its node's processes): torch 2.13.0
torch/distributed/elastic/agent/server/local_elastic_agent.py:420-421; accelerate's multi-process launch runs through
it; DeepSpeed's launcher sets WORLD_SIZE on every worker (deepspeed v0.19.5 deepspeed/launcher/launch.py:189). A plain
`python script.py` gets neither (a single-process `accelerate launch` neither: accelerate v1.14.0
src/accelerate/utils/launch.py:100 `prepare_simple_launcher_cmd_env` sets no WORLD_SIZE), unless the launcher exports it.
Counts the launch line does not state, a commented-out or beside-the-config launch, and every other variable are unknown.
"""

from __future__ import annotations

import re
from pathlib import Path

from .launch_line import Launch
from .pyeval import Environ

TORCH_AGENT_AT = "torch 2.13.0 torch/distributed/elastic/agent/server/local_elastic_agent.py:420-421"
_SETS_WORLD = re.compile(r"(^|[\s/])(torchrun|deepspeed)(\s|$)|torch\.distributed\.(run|launch)")
_VARIABLES = ("WORLD_SIZE", "LOCAL_WORLD_SIZE")


def launched_environ(script: Path) -> Environ:
    """The reader `pyeval.Evaluator` asks for an environment variable of the process the repository launches `script` in."""
    from .launchers import find_launch

    def read(name: str) -> tuple[bool, str | None]:
        if name not in _VARIABLES:
            return False, None
        launch = find_launch(script)
        return (False, None) if launch is None else _value(launch, name)

    return read


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
