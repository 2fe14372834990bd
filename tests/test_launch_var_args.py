"""A launcher argument given through a shell variable (review10b #26, lumi-nlp-recipes sft_trl/slurm_scripts/sft.sh:53,
66-84: `ACCELERATE_CONFIG_FILE=configs/accelerate/deepspeed_zero3.yaml`, then an exported `ACC_LAUNCHER="... accelerate
launch --config_file $ACCELERATE_CONFIG_FILE ... --role \\$(hostname -s) ..."` that `srun ... bash -c "$ACC_LAUNCHER
..."` runs). The one resolver (`launcher_text.expand` over the file's own and sourced assignments) reads `$VAR`,
`${VAR}`, `"$VAR"` and `${VAR:-default}`; an escaped `\\$(...)` in a value is text the value keeps, not a command
substitution. A value the shell computes stays unresolved and the strategy says what was assumed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config

from .repo_files import repo
from .test_blockers import HF

Z3 = "distributed_type: DEEPSPEED\ndeepspeed_config:\n  zero_stage: 3\nnum_machines: 1\nnum_processes: 8\n"
TAIL = " train.py --config configs/sft.yaml\n"


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _workload(tmp_path: Path, script: str, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    files = {"configs/sft.yaml": HF, "configs/z3.yaml": Z3, "train.py": "from trl import TrlParser\n", "run.sh": script, **(extra or {})}
    return load_config(repo(tmp_path, files) / "configs/sft.yaml").workload


@pytest.mark.parametrize(
    "script",
    [
        "ACC=configs/z3.yaml\naccelerate launch --config_file $ACC" + TAIL,
        "ACC=configs/z3.yaml\naccelerate launch --config_file ${ACC}" + TAIL,
        'export ACC="configs/z3.yaml"\naccelerate launch --config_file "$ACC"' + TAIL,
        "accelerate launch --config_file ${ACC:-configs/z3.yaml}" + TAIL,
        "source env.sh\naccelerate launch --config_file $ACC" + TAIL,
    ],
    ids=["bare", "braced", "export-quoted", "default", "sourced"],
)
def test_a_config_file_given_through_a_variable_is_read(tmp_path: Path, script: str) -> None:
    w = _workload(tmp_path, script, {"env.sh": "export ACC=configs/z3.yaml\n"})
    assert (w.strategy, w.zero_stage, w.world_size) == ("deepspeed", 3, 8)
    assert w.sources["zero_stage"].file.endswith("z3.yaml")


# the shape of lumi-nlp-recipes sft_trl/slurm_scripts/sft.sh:53-84: the launch command is an exported string, whose
# `\$SLURM_PROCID` and `\$(hostname -s)` are escaped for the shell `bash -c` starts
LUMI = """#!/bin/bash
#SBATCH --nodes=3
#SBATCH --gpus-per-node=8
export MASTER_PORT=$(expr 10000 + $(echo -n $SLURM_JOBID | tail -c 4))
export WORLD_SIZE=$((SLURM_GPUS_ON_NODE*SLURM_NNODES))
ACCELERATE_CONFIG_FILE=configs/z3.yaml
CONFIG_FILE=configs/sft.yaml
export CMD=" \\
    train.py --config $CONFIG_FILE
    "
export ACC_LAUNCHER="accelerate launch \\
    --rdzv_conf "rdzv_backend=c10d,rdzv_endpoint=$MASTER_ADDR:$MASTER_PORT" \\
    --config_file $ACCELERATE_CONFIG_FILE \\
    --num_machines $SLURM_NNODES \\
    --num_processes $WORLD_SIZE \\
    --machine_rank \\$SLURM_PROCID \\
    --role \\$(hostname -s) \\
    "
srun --jobid $SLURM_JOB_ID bash -c "$ACC_LAUNCHER --role \\$SLURMD_NODENAME: $CMD"
"""


def test_an_exported_launcher_string_with_escaped_substitutions_is_read(tmp_path: Path) -> None:
    w = _workload(tmp_path, LUMI)
    assert (w.strategy, w.zero_stage) == ("deepspeed", 3)
    assert (w.world_size, w.nodes, w.gpus_per_node) == (24, 3, 8)


def test_an_unescaped_substitution_leaves_the_launcher_string_unread(tmp_path: Path) -> None:
    """Must not resolve: `$(hostname -s)` unescaped is computed when the assignment runs; the string is unknown."""
    script = LUMI.replace("\\$(hostname -s)", "$(hostname -s)")
    assert script != LUMI
    w = _workload(tmp_path, script)
    assert w.zero_stage is None and w.strategy != "deepspeed"


def test_a_config_file_computed_at_run_time_stays_unresolved_and_said(tmp_path: Path) -> None:
    w = _workload(tmp_path, "ACC=$(pick_config)\naccelerate launch --config_file $ACC" + TAIL)
    assert w.zero_stage is None and w.strategy == "ddp"
    note = w.sources["strategy"].note or ""
    assert "'$ACC', is set at run time" in note and "DDP assumed" in note and "None" not in note
