"""Launcher branches goblin can decide and `$(( ))` with spaces (review12b #29 SihengLi99/24Game train_grpo.slurm:67-97:
`USE_VLLM=true` then `if [[ "$USE_VLLM" == "true" ]]; then ... NUM_NODES=$((NUM_NODES - 1))`; review12a #18
hkust-nlp/dart-math scripts/train-multi-node.sh:3-106: defaults above a `while [[ $# -gt 0 ]]` argument loop and
`$((bs / n_procs))`). A test over the caller's variable, an argument or a value set under a branch stays undecided: read
as before. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import launcher_text, load_config
from pytest_goblin.formats.shell_branch import decide

from .repo_files import repo
from .test_launch_forms import TORCHTUNE_DIST


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


SLURM = """#!/bin/bash
#SBATCH --nodes=2
NUM_NODES=$SLURM_NNODES
GPUS_PER_NODE=8
WORLD_SIZE=$(($NUM_NODES*$GPUS_PER_NODE))
USE_VLLM={use}
if [[ "$USE_VLLM" == "true" ]]; then
    WORLD_SIZE=$((WORLD_SIZE - GPUS_PER_NODE))
    NUM_NODES=$((NUM_NODES - 1))
    HOST=vllm-node
else
    HOST="localhost"
fi
accelerate launch --num_machines $NUM_NODES --num_processes $WORLD_SIZE train.py --config c.yaml --host $HOST
"""


def _launch(script: str) -> launcher_text.Line:
    lines = [line for line in launcher_text.parse_launcher(Path("/x/run.slurm"), script).lines if "accelerate" in line.tokens]
    assert len(lines) == 1
    return lines[0]


def _flag(line: launcher_text.Line, flag: str) -> str:
    words = list(line.tokens)
    return words[words.index(flag) + 1]


def test_a_true_test_over_a_literal_set_above_takes_its_branch() -> None:
    line = _launch(SLURM.format(use="true"))
    assert (_flag(line, "--num_machines"), _flag(line, "--num_processes"), _flag(line, "--host")) == ("1", "8", "vllm-node")
    assert "NUM_NODES" in {o[0] for o in line.origins}  # set for certain: the branch runs


def test_a_false_test_takes_the_else_branch() -> None:
    line = _launch(SLURM.format(use="false"))
    assert (_flag(line, "--num_machines"), _flag(line, "--num_processes"), _flag(line, "--host")) == ("2", "16", "localhost")


@pytest.mark.parametrize(
    "use",
    ["${USE_VLLM:-true}", "$1", "$(cat flag)"],
    ids=["caller-default", "argument", "command-substitution"],
)
def test_a_test_over_a_value_not_set_literally_stays_undecided(use: str) -> None:
    line = _launch(SLURM.format(use=use))
    assert "NUM_NODES" not in {o[0] for o in line.origins} and "HOST" not in {o[0] for o in line.origins}
    assert _flag(line, "--host") == "localhost"  # as before: the last assignment of either branch


def test_a_test_over_a_value_set_under_a_branch_stays_undecided() -> None:
    script = SLURM.format(use="false").replace("USE_VLLM=false\n", 'if [ -n "$BIG" ]; then\n  USE_VLLM=true\nfi\n')
    assert "NUM_NODES" not in {o[0] for o in _launch(script).origins}


@pytest.mark.parametrize(
    ("test", "verdict"),
    [
        ('if [ "$MODE" = grpo ]', True),
        ("if [ $MODE = 'grpo' ]", True),
        ('if [[ "${MODE}" != "grpo" ]]', False),
        ('elif [[ "$MODE" == sft ]]', False),
        ('if [[ "$MODE" == gr* ]]', None),  # a pattern
        ('if [ "$OTHER" = grpo ]', None),  # not set for certain
        ('if [ "$MODE" = grpo ]]', None),  # brackets that do not pair
        ('if [ -z "$MODE" ]', None),
    ],
)
def test_which_tests_are_decided(test: str, verdict: bool | None) -> None:
    env = {"MODE": "grpo", "OTHER": "grpo"}
    assert decide(test, env, {"MODE"}) is verdict


def test_elif_and_nested_blocks() -> None:
    script = (
        "MODE=dpo\nN=1\n"
        'if [ "$MODE" = sft ]; then\n  N=2\n  if [ -n "$X" ]; then\n    N=7\n  fi\n'
        'elif [ "$MODE" = dpo ]; then\n  N=4\n  for i in 1 2; do\n    echo $i\n  done\nelse\n  N=8\nfi\n'
        "accelerate launch --num_processes $N train.py --config c.yaml\n"
    )
    assert _flag(_launch(script), "--num_processes") == "4"


def test_an_undecided_elif_after_a_false_if_is_read_as_before() -> None:
    script = 'MODE=dpo\nN=1\nif [ "$MODE" = sft ]; then\n  N=2\nelif [ -n "$X" ]; then\n  N=4\nfi\naccelerate launch --num_processes $N train.py\n'
    line = _launch(script)
    assert _flag(line, "--num_processes") == "4" and "N" not in {o[0] for o in line.origins}


def test_arithmetic_with_spaces_and_remainder() -> None:
    assert launcher_text.expand("$((bs / n_procs))", {"bs": "64", "n_procs": "32"}) == "2"
    assert (launcher_text.expand("$((7 % 3))", {}), launcher_text.expand("$((-7 / 2))", {}), launcher_text.expand("$((1 / 0))", {})) == (
        "1",
        "-3",
        "$((1 / 0))",
    )
    line = _launch("n=4\nm=$((n * gpus))\naccelerate launch --num_processes $m train.py\n")
    assert _flag(line, "--num_processes") == "$m"  # over a name not known for a number: unknown, never a half-read word


ARGS = """#! /bin/bash
bs=64
n_nodes=4
while [[ $# -gt 0 ]]; do
    case $1 in
    --bs)
        bs="$2"
        shift 2
        ;;
    --n_nodes)
        n_nodes="$2"
        shift 2
        ;;
    esac
done
n_gpus_per_node=8
n_procs=$((n_nodes * n_gpus_per_node))
per_gpu=$((bs / n_procs))
tune run --nnodes $n_nodes --nproc_per_node $n_gpus_per_node full_finetune_distributed --config ../configs/c.yaml batch_size=$per_gpu
"""


def test_an_argument_loop_is_read_as_the_script_run_without_arguments(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/c.yaml": TORCHTUNE_DIST, "scripts/run.sh": ARGS})
    w = load_config(root / "configs/c.yaml").workload
    assert (w.nodes, w.gpus_per_node, w.micro_batch_size) == (4, 8, 2)
    (line,) = launcher_text.parse_launcher(root / "scripts/run.sh", ARGS).lines
    assert any("`n_nodes` is '4', read as the script is run without arguments (line 11 sets it from them)" in n for n in line.notes)


def test_a_loop_over_something_else_is_read_as_before() -> None:
    script = ARGS.replace("while [[ $# -gt 0 ]]", "while [[ $i -gt 0 ]]")
    (line,) = launcher_text.parse_launcher(Path("/x/run.sh"), script).lines
    assert line.tokens[line.tokens.index("--nnodes") + 1] == "$n_nodes"  # the loop's `n_nodes="$2"`: unknown, as before
    assert not any("without arguments" in n for n in line.notes)
