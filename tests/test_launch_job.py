"""The launch lines of one multi-node torchrun job whose nodes run different process counts (blind review 15b #28,
241121_qwerty script/finetune_2_machine/0.sh `--nproc_per_node=3 --nnodes=2 --node_rank=0`, 1.sh `--nproc_per_node=2
--node_rank=1`): the world size is the sum, 5 (torch 2.13.0 torch/distributed/elastic/agent/server/api.py:643-647), said,
with the larger count as the GPUs of one node. Small synthetic trees."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launch_job import job_words
from pytest_goblin.formats.launch_walk import launched_by

from .repo_files import write_tree

SCRIPT = """\
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments

parser = HfArgumentParser((TrainingArguments,))
(args,) = parser.parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B")
Trainer(model=model, args=args).train()
"""


def node(per: int, rank: int, addr: str = "10.0.0.1") -> str:
    return (
        f"torchrun --nproc_per_node={per} --nnodes=2 --node_rank={rank} --master_addr={addr} --master_port=29500 train.py \\\n"
        "    --output_dir o --per_device_train_batch_size 2 --bf16 True\n"
    )


def _workload(tmp: Path, files: dict[str, str]) -> tuple[int, int, int, list[str], str]:
    root = write_tree(tmp, {"train.py": SCRIPT, **files}, git=True)
    with launched_by((root / "two/0.sh").resolve()):
        w = load_config(root / "train.py").workload
    return w.world_size, w.nodes or 0, w.gpus_per_node or 0, w.notes, w.sources["world_size"].note or ""


def test_an_uneven_two_node_job_is_the_sum_of_its_nodes(tmp_path: Path) -> None:
    world, nodes, per, notes, note = _workload(tmp_path, {"two/0.sh": node(3, 0), "two/1.sh": node(2, 1)})
    assert (world, nodes, per) == (5, 2, 3)
    assert "(2 nodes of 3 + 2 GPUs)" in note
    said = " ".join(notes)
    assert "world size 5 = 3 (two/0.sh line 1, node_rank 0) + 2 (two/1.sh line 1, node_rank 1)" in said
    assert "GPUs per node read as the larger, 3, for the memory of one node" in said and "None" not in said


def test_an_even_job_or_another_jobs_line_keeps_nodes_times_gpus(tmp_path: Path) -> None:
    # must not fire: both nodes run 3
    world, nodes, per, notes, _note = _workload(tmp_path / "a", {"two/0.sh": node(3, 0), "two/1.sh": node(3, 1)})
    assert (world, nodes, per) == (6, 2, 3) and not any("different process counts" in n for n in notes)
    # must not fire: the other line joins another master, so it is not a node of this job
    world, nodes, per, notes, _note = _workload(tmp_path / "b", {"two/0.sh": node(3, 0), "two/1.sh": node(2, 1, addr="10.0.0.9")})
    assert (world, nodes, per) == (6, 2, 3) and not any("different process counts" in n for n in notes)


def test_job_words() -> None:
    line = tuple("torchrun --nproc_per_node=3 --nnodes=2 --node_rank=1 --master_addr=h --master_port=1 train.py --nnodes 9".split())
    assert job_words(line) == ("h", "1", 2, 1)
    assert job_words(tuple("torchrun --nnodes=2 --node_rank=$RANK --master_addr=h --master_port=1 train.py".split())) is None
    assert job_words(tuple("python train.py --nnodes=2 --node_rank=0 --master_addr=h --master_port=1".split())) is None
