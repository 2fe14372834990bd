"""Topology from the repository: the launch scripts, slurm jobs, accelerate configs and README code
blocks around a config (formats/launchers.py), nodes x GPUs per node in the workload, the cost
model's two-level collectives, and findings that say where their topology came from."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.cli import main
from pytest_goblin.costmodel import seconds_per_byte, step, topology
from pytest_goblin.formats import launcher_text, launchers, load_config
from pytest_goblin.formats.semantics import with_world_size, world_size_note
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nsequence_len: 4096\nbf16: true\n"
AXOLOTL_FSDP = AXOLOTL + "fsdp_config:\n  fsdp_version: 2\n"
TRL = "model_name_or_path: Qwen/Qwen2.5-7B\nper_device_train_batch_size: 4\nmax_length: 2048\ngradient_checkpointing: true\n"
LLAMAFACTORY = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
    "dataset: alpaca_en_demo\ntemplate: llama3\ncutoff_len: 2048\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 3\nbf16: true\n"
)


def topo(w: WorkloadConfig) -> tuple[int, int | None, int | None]:
    return w.world_size, w.nodes, w.gpus_per_node


def test_torchrun_script_in_scripts_folder_gives_nodes_and_gpus_with_its_line(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": AXOLOTL_FSDP,
            "scripts/train.sh": '#!/bin/bash\nset -e\ncd "$(dirname "$0")/.."\ntorchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n',
        },
    )
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (16, 2, 8)
    src = w.sources["world_size"]
    assert src.explicit and src.line == 4 and Path(src.file) == (root / "scripts/train.sh").resolve()
    assert w.sources["nodes"].explicit and w.sources["gpus_per_node"].explicit
    assert world_size_note(w) == "on 2 nodes x 8 GPUs (scripts/train.sh line 4)"


def test_slurm_script_with_sbatch_directives_and_variables(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "recipes/llama/sft.yaml": AXOLOTL_FSDP,
            "slurm/train.slurm": (
                "#!/bin/bash\n#SBATCH --job-name=sft\n#SBATCH --nodes=4\n#SBATCH --gres=gpu:mi300x:8\n"
                "CONFIG=recipes/llama/sft.yaml\nNNODES=${SLURM_NNODES:-1}\n"
                "srun torchrun --nnodes $NNODES --nproc_per_node ${SLURM_GPUS_PER_NODE} \\\n  -m axolotl.cli.train $CONFIG\n"
            ),
        },
    )
    w = load_config(root / "recipes/llama/sft.yaml").workload
    assert topo(w) == (32, 4, 8)
    assert w.sources["world_size"].line == 7  # the command's first line, continuation joined


def test_accelerate_config_file_gives_processes_machines_stage_and_offload(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "recipes/qwen/sft/config.yaml": TRL,
            "recipes/accelerate_configs/zero3.yaml": (
                "compute_environment: LOCAL_MACHINE\ndistributed_type: DEEPSPEED\ndeepspeed_config:\n  zero_stage: 3\n"
                "  offload_optimizer_device: cpu\n  offload_param_device: none\nnum_machines: 2\nnum_processes: 16\n"
            ),
            "scripts/run.sh": "accelerate launch --config_file recipes/accelerate_configs/zero3.yaml scripts/sft.py --config recipes/qwen/sft/config.yaml\n",
        },
    )
    w = load_config(root / "recipes/qwen/sft/config.yaml").workload
    assert topo(w) == (16, 2, 8)
    assert (w.strategy, w.zero_stage, w.cpu_offload, w.offload_params) == ("deepspeed", 3, True, False)
    assert Path(w.sources["strategy"].file) == (root / "recipes/accelerate_configs/zero3.yaml").resolve()
    at = [s for k, s in w.sources.items() if k.startswith("cpu_offload_in.")]
    assert at and at[0].key == "deepspeed_config.offload_optimizer_device" and at[0].line == 5
    # the command line wins over the file (accelerate 1.16.0 commands/launch.py:1313-1333)
    (root / "scripts/run.sh").write_text(
        "accelerate launch --num_processes 8 --num_machines 1 --config_file recipes/accelerate_configs/zero3.yaml x.py --config recipes/qwen/sft/config.yaml\n"
    )
    os.utime(root / "scripts/run.sh", ns=(1, 1))
    assert topo(load_config(root / "recipes/qwen/sft/config.yaml").workload) == (8, 1, 8)


def test_readme_code_block_llamafactory_env_and_every_visible_gpu(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "examples/train_full/llama3_full_sft.yaml": LLAMAFACTORY,
            "README.md": (
                "# Training\n\nRun it on two nodes:\n\n```bash\n"
                "FORCE_TORCHRUN=1 NNODES=2 NODE_RANK=0 NPROC_PER_NODE=4 llamafactory-cli train examples/train_full/llama3_full_sft.yaml\n```\n"
            ),
        },
    )
    w = load_config(root / "examples/train_full/llama3_full_sft.yaml").workload
    assert topo(w) == (8, 2, 4)
    assert w.sources["world_size"].line == 6 and w.sources["world_size"].file.endswith("README.md")
    # without NPROC_PER_NODE LLaMA-Factory uses every visible GPU: assumed 8, and said so
    (root / "README.md").write_text("```\nllamafactory-cli train examples/train_full/llama3_full_sft.yaml\n```\n")
    w = load_config(root / "examples/train_full/llama3_full_sft.yaml").workload
    assert topo(w) == (8, 1, 8)
    assert w.sources["nodes"].explicit and not w.sources["gpus_per_node"].explicit
    assert "every visible GPU per node, assumed 8" in (w.sources["world_size"].note or "")
    # ... unless the line narrows the visible GPUs
    (root / "README.md").write_text("```\nCUDA_VISIBLE_DEVICES=0,1 llamafactory-cli train examples/train_full/llama3_full_sft.yaml\n```\n")
    assert topo(load_config(root / "examples/train_full/llama3_full_sft.yaml").workload) == (2, 1, 2)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("deepspeed --num_nodes 2 --num_gpus 4 train.py --deepspeed ds.json --config configs/sft.yaml", (8, 2, 4)),
        ("tune run --nnodes 1 --nproc_per_node 4 full_finetune_distributed --config configs/sft.yaml", (4, 1, 4)),
        ("tune run full_finetune_single_device --config configs/sft.yaml", (1, 1, 1)),
        ("axolotl train configs/sft.yaml --launcher torchrun -- --nproc_per_node 8 --nnodes 2", (16, 2, 8)),
        ("accelerate launch --num_processes 16 --num_machines 2 -m axolotl.cli.train configs/sft.yaml", (16, 2, 8)),
        ("python -m torch.distributed.run --nproc_per_node=4 train.py configs/sft.yaml", (4, 1, 4)),
        ("sbatch -N 3 --gpus-per-node=8 job.sh configs/sft.yaml", (24, 3, 8)),
        ("NODES=2; GPUS=8; torchrun --nnodes=$NODES --nproc_per_node=$((GPUS)) x.py configs/sft.yaml", (16, 2, 8)),
    ],
)
def test_each_launcher_reads_nodes_and_gpus_per_node(tmp_path: Path, command: str, expected: tuple[int, int, int]) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL_FSDP, "launch.sh": command.replace("; ", "\n") + "\n"})
    assert topo(load_config(root / "configs/sft.yaml").workload) == expected


@pytest.mark.parametrize(
    ("command", "hostfile", "expected", "said"),
    [
        ("deepspeed --hostfile hostfile train.py --config configs/sft.yaml", "# two nodes\nnode-a slots=8\nnode-b slots=8\n", (16, 2, 8), True),
        ("deepspeed -H hostfile --num_nodes 1 train.py --config configs/sft.yaml", "node-a slots=8\nnode-b slots=8\n", (8, 1, 8), True),
        ("deepspeed --hostfile=hostfile --num_gpus 4 train.py --config configs/sft.yaml", "node-a slots=8\nnode-b slots=8\n", (8, 2, 4), True),
        ("deepspeed --hostfile hostfile train.py --config configs/sft.yaml", "node-a slots=8\nnode-b slots=4\n", (8, 2, 4), False),
        # DeepSpeed refuses a bad entry or a host twice: the file is not used, one node assumed and said so
        ("deepspeed --hostfile hostfile train.py --config configs/sft.yaml", "node-a slots=8\nnode-a slots=8\n", (8, 1, 8), False),
        ("deepspeed --hostfile hostfile train.py --config configs/sft.yaml", "node-a 8\n", (8, 1, 8), False),
    ],
)
def test_a_deepspeed_hostfile_in_the_repository_gives_nodes_and_slots(
    tmp_path: Path, command: str, hostfile: str, expected: tuple[int, int, int], said: bool
) -> None:
    """DeepSpeed 0.19.6 deepspeed/launcher/runner.py:243-270 (`host slots=N` lines) and :521-533."""
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL_FSDP, "launch.sh": command + "\n", "hostfile": hostfile})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == expected
    assert w.sources["world_size"].file.endswith("launch.sh")
    assert (w.sources["nodes"].explicit and w.sources["gpus_per_node"].explicit) is said


def test_a_hostfile_outside_the_tree_is_not_opened(tmp_path: Path) -> None:
    outside = tmp_path / "hosts"
    outside.write_text("a slots=8\nb slots=8\nc slots=8\n")
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL_FSDP, "launch.sh": f"deepspeed --hostfile {outside} --num_gpus 8 train.py --config configs/sft.yaml\n"})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (8, 1, 8) and not w.sources["nodes"].explicit
    assert "outside the audited tree" in " ".join(w.notes) + (w.sources["world_size"].note or "")


def test_a_script_that_launches_another_config_is_not_read_for_this_one(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": AXOLOTL,
            "configs/other.yaml": AXOLOTL,
            "scripts/train.sh": "torchrun --nnodes 4 --nproc_per_node 8 -m axolotl.cli.train configs/other.yaml\n",
            # a bare file name from another folder names nothing certain
            "scripts/bare.sh": "torchrun --nnodes 4 --nproc_per_node 8 -m axolotl.cli.train sft.yaml\n",
            # a name that only ends like this config's
            "scripts/suffix.sh": "torchrun --nproc_per_node 8 -m axolotl.cli.train configs/big_sft.yaml\n",
        },
    )
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (1, 1, 1) and not w.sources["world_size"].explicit
    assert topo(load_config(root / "configs/other.yaml").workload) == (32, 4, 8)
    # the same bare name from the config's own folder does name it
    (root / "configs/run.sh").write_text("torchrun --nproc_per_node 2 -m axolotl.cli.train sft.yaml\n")
    assert topo(load_config(root / "configs/sft.yaml").workload) == (2, 1, 2)


def test_a_launcher_outside_the_repository_through_a_symlink_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "train.sh").write_text("torchrun --nnodes 8 --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n")
    (outside / "scripts").mkdir()
    (outside / "scripts" / "go.sh").write_text("torchrun --nnodes 8 --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n")
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL})
    (root / "train.sh").symlink_to(outside / "train.sh")  # a file link out of the tree
    (root / "scripts").symlink_to(outside / "scripts", target_is_directory=True)  # a folder link out of the tree
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (1, 1, 1) and not w.sources["world_size"].explicit
    assert not any("outside" in n for n in w.notes)


def test_an_accelerate_config_outside_the_repository_is_refused_by_name(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("distributed_type: DEEPSPEED\nnum_processes: 64\ndeepspeed_config:\n  zero_stage: 3\n")
    root = repo(
        tmp_path, {"configs/sft.yaml": TRL, "run.sh": "accelerate launch --num_processes 8 --config_file ../outside.yaml sft.py --config configs/sft.yaml\n"}
    )
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (8, 1, 8) and w.strategy == "ddp"  # the command line's count; nothing from the refused file
    assert any("was not opened" in n and "outside" in n for n in w.notes)


def test_limits_a_large_script_is_not_read(tmp_path: Path) -> None:
    big = "# padding\n" * (launcher_text.MAX_BYTES // 10 + 1) + "torchrun --nproc_per_node 8 x.py configs/sft.yaml\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "train.sh": big})
    assert topo(load_config(root / "configs/sft.yaml").workload) == (1, 1, 1)


# review3 class 2: a framework's template comment ("To launch on 2 devices ...") left in a config that the
# repository's own launcher runs on 8: the launcher that names the file wins, the comment is the fallback.
TEMPLATE_COMMENT = (
    "# To launch on 2 devices, run the following command from root:\n#   torchrun --nnodes 1 --nproc_per_node 2 -m axolotl.cli.train configs/sft.yaml\n"
)


@pytest.mark.parametrize(
    "script",
    [
        "torchrun --nnodes 1 --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n",
        'cd "$(dirname "$0")"/..\ntorchrun --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n',
        "CFG=configs/sft.yaml\nN_GPUS=8\ntorchrun --nproc_per_node $N_GPUS -m axolotl.cli.train $CFG\n",
        "torchrun --nproc_per_node 8 -m axolotl.cli.train /home/user/proj/configs/sft.yaml\n",
    ],
)
def test_a_repository_launcher_that_names_the_config_beats_its_template_comment(tmp_path: Path, script: str) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": TEMPLATE_COMMENT + AXOLOTL, "scripts/train.sh": script})
    w = load_config(root / "configs/sft.yaml").workload
    src = w.sources["world_size"]
    assert topo(w) == (8, 1, 8) and src.file is not None and src.file.endswith("train.sh")
    assert src.note is not None and "the launcher was used" in src.note and "line 2" in src.note and "is overridden" in src.note
    assert any("launcher that names it wins" in n for n in w.notes)


def test_the_configs_own_comment_is_the_fallback_when_no_launcher_names_it(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": TEMPLATE_COMMENT + AXOLOTL,
            "configs/other.yaml": AXOLOTL,
            "scripts/train.sh": "torchrun --nproc_per_node 8 -m axolotl.cli.train configs/other.yaml\n",
        },
    )
    w = load_config(root / "configs/sft.yaml").workload
    src = w.sources["world_size"]
    assert topo(w) == (2, 1, 2) and src.line == 2 and src.note is not None and "fallback" in src.note
    assert not any("launcher that names it wins" in n for n in w.notes)


def test_axolotl_parallel_sizes_give_a_minimum_and_llamafactory_global_batch_arithmetic(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "a/sharded.yaml": AXOLOTL_FSDP + "dp_shard_size: 16  # requires 2x8 nodes\n",
            "b/hsdp.yaml": AXOLOTL_FSDP + "dp_shard_size: 8\ndp_replicate_size: 2\n",
            "c/few.yaml": AXOLOTL_FSDP + "dp_shard_size: 16\n",
            "c/run.sh": "torchrun --nproc_per_node 8 -m axolotl.cli.train few.yaml\n",
            "d/lf.yaml": LLAMAFACTORY + "global_batch_size: 96\n",
        },
    )
    w = load_config(root / "a/sharded.yaml").workload
    assert topo(w) == (16, 2, 8) and w.sources["world_size"].key == "dp_shard_size"
    assert "at least 16" in (w.sources["world_size"].note or "") and not w.sources["nodes"].explicit
    assert "2 nodes x 8 assumed" in world_size_note(w)
    w = load_config(root / "b/hsdp.yaml").workload
    assert w.world_size == 16 and "exactly 16" in (w.sources["world_size"].note or "")
    # a launcher with fewer GPUs than the sizes need cannot start them: the minimum is taken, and said
    w = load_config(root / "c/few.yaml").workload
    assert w.world_size == 16 and "fewer than that" in (w.sources["world_size"].note or "")
    w = load_config(root / "d/lf.yaml").workload
    assert w.world_size == 32 and w.sources["world_size"].key == "global_batch_size"


def test_parse_json_shows_topology_and_where_for_every_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": AXOLOTL_FSDP,
            "configs/lone.yaml": AXOLOTL,
            "configs/native.yaml": "goblin: 1\nmodel: meta-llama/Meta-Llama-3-8B\nworld_size: 16\n",
            "train.sh": "torchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n",
        },
    )
    assert main(["parse", "--json", str(root / "configs")]) == 0
    records = {Path(r["path"]).name: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(records) == {"sft.yaml", "lone.yaml", "native.yaml"}
    for name, r in records.items():
        assert isinstance(r["nodes"], int) and isinstance(r["gpus_per_node"], int), name
        assert {"world_size", "nodes", "gpus_per_node"} <= set(r["sources"]), name
    sft = records["sft.yaml"]
    assert (sft["world_size"], sft["nodes"], sft["gpus_per_node"]) == (16, 2, 8)
    assert sft["sources"]["nodes"]["line"] == 1 and sft["sources"]["nodes"]["file"].endswith("train.sh")
    assert "train.sh line 1" in sft["sources"]["world_size"]["note"]
    lone = records["lone.yaml"]
    assert (lone["nodes"], lone["gpus_per_node"]) == (1, 1) and "assumed" in lone["sources"]["nodes"]["note"]
    native = records["native.yaml"]
    assert (native["nodes"], native["gpus_per_node"]) == (2, 8) and "assumed" in native["sources"]["nodes"]["note"]


def test_stated_world_size_keeps_the_gpus_per_node_read(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL_FSDP, "train.sh": "torchrun --nnodes 2 --nproc_per_node 4 -m axolotl.cli.train configs/sft.yaml\n"})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(with_world_size(w, 16)) == (16, 4, 4)
    assert topo(with_world_size(w, 6)) == (6, 1, 6)
    assert not with_world_size(w, 6).sources["nodes"].explicit


def test_findings_that_depend_on_topology_name_the_launcher(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        # fully sharded: collectives are a projected share of the step, the rule's premise (review8b #23/#34)
        {"configs/sft.yaml": AXOLOTL_FSDP, "train.sh": "NNODES=2\ntorchrun --nnodes $NNODES --nproc_per_node 4 -m axolotl.cli.train configs/sft.yaml\n"},
    )
    w = load_config(root / "configs/sft.yaml").workload
    hw = hardware.get_hardware("mi300x")
    rule = {r.id: r for r in kb.cached_rules()}["comm.partial_node_collectives"]
    assert rule in kb.applicable(w, hw, [rule])  # 4 GPUs of each 8-GPU node
    text = kb.render_finding(rule, w, hw)
    assert "on 2 nodes x 4 GPUs (train.sh line 2)" in text
    # a full node is not partial, whatever the world size
    (root / "train.sh").write_text("torchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\n")
    os.utime(root / "train.sh", ns=(1, 1))
    assert rule not in kb.applicable(load_config(root / "configs/sft.yaml").workload, hw, [rule])


def test_a_finding_never_points_at_a_launcher_line_as_a_config_line(tmp_path: Path) -> None:
    from pytest_goblin.tools.audit_tools import _anchor

    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "scripts/train.sh": "\n" * 40 + "torchrun --nproc_per_node 4 x.py ../configs/sft.yaml\n"})
    w = load_config(root / "configs/sft.yaml").workload
    assert w.sources["world_size"].line == 41
    rule = {r.id: r for r in kb.cached_rules()}["comm.partial_node_collectives"]
    assert _anchor(rule, w) == (None, None)


def test_cost_model_charges_inter_node_traffic_at_the_network_and_intra_node_at_the_fabric() -> None:
    hw = hardware.get_hardware("mi300x")
    from pytest_goblin.modelzoo import lookup_model

    base = WorkloadConfig(path="x", format="goblin", model=lookup_model("meta-llama/Meta-Llama-3-70B"), method="full", precision="bf16", strategy="fsdp")
    one = base.model_copy(update={"world_size": 8, "nodes": 1, "gpus_per_node": 8})
    two = base.model_copy(update={"world_size": 16, "nodes": 2, "gpus_per_node": 8})
    flat = base.model_copy(update={"world_size": 16, "nodes": 1, "gpus_per_node": 16})  # 16 GPUs on one fabric
    assert topology(two, hw) == (2, 8) and topology(base.model_copy(update={"world_size": 16}), hw) == (2, 8)
    eff = 0.6
    assert seconds_per_byte(one, hw, 8, eff) == pytest.approx(7 / 8 / (448e9 * eff), rel=1e-9)
    across = seconds_per_byte(two, hw, 16, eff)
    assert across == pytest.approx(7 / 8 / (448e9 * eff) + 1 / 16 / (50e9 * eff), rel=1e-9)
    assert seconds_per_byte(flat, hw, 16, eff) < across < 15 / 16 / (50e9 * eff)  # between one fabric and the flat network
    # per GPU, two nodes stay near one node's rate: the step slows by well under a third
    assert step(one, hw).step_s <= step(two, hw).step_s < 1.33 * step(one, hw).step_s


def test_the_configs_own_count_with_the_strategy_of_the_accelerate_config_its_readme_passes(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "recipes/sft/config.yaml": "# Config for 2 nodes of 8 GPUs\n" + TRL,
            "recipes/accelerate_configs/zero3.yaml": "distributed_type: DEEPSPEED\ndeepspeed_config:\n  zero_stage: 3\nnum_processes: 8\n",
            "recipes/README.md": "```shell\naccelerate launch --config_file recipes/accelerate_configs/zero3.yaml scripts/sft.py --config recipes/sft/config.yaml\n```\n",
        },
    )
    w = load_config(root / "recipes/sft/config.yaml").workload
    assert topo(w) == (16, 2, 8) and w.sources["world_size"].line == 1  # the count is the config's own
    assert (w.strategy, w.zero_stage) == ("deepspeed", 3) and w.sources["strategy"].line == 1
    assert Path(w.sources["strategy"].file) == (root / "recipes/accelerate_configs/zero3.yaml").resolve()


def test_an_accelerate_deepspeed_config_without_a_stage_runs_accelerate_s_default_zero_2(tmp_path: Path) -> None:
    """review2 #29 (taishan1994/DPO-Finetuning): `distributed_type: DEEPSPEED` with its deepspeed_config commented out;
    accelerate's DeepSpeedPlugin defaults zero_stage to 2 (utils/dataclasses.py:1079-1080@v1.0.0), not "unknown: 3"."""
    files = {
        "train_config/dpo.yaml": TRL,
        "accelerate_config/default_config.yaml": "#deepspeed_config:\n#  zero_stage: 3\ndistributed_type: DEEPSPEED\nnum_machines: 1\nnum_processes: 8\n",
        "train.sh": "accelerate launch --config_file accelerate_config/default_config.yaml finetune_dpo.py train_config/dpo.yaml\n",
    }
    w = load_config(repo(tmp_path / "a", files) / "train_config/dpo.yaml").workload
    assert (w.strategy, w.zero_stage) == ("deepspeed", 2)
    src = w.sources["zero_stage"]
    assert not src.explicit and src.note is not None and "accelerate's default, 2" in src.note and "dataclasses.py:1079-1080@v1.0.0" in src.note
    # must not: a stage the config, a flag or a DeepSpeed file names wins; a DeepSpeed file goblin cannot read leaves it unknown
    stated = {**files, "train.sh": files["train.sh"].replace("--config_file", "--zero_stage 3 --config_file")}
    assert load_config(repo(tmp_path / "b", stated) / "train_config/dpo.yaml").workload.zero_stage == 3
    named = {
        **files,
        "accelerate_config/default_config.yaml": files["accelerate_config/default_config.yaml"] + "deepspeed_config:\n  deepspeed_config_file: missing.json\n",
    }
    assert load_config(repo(tmp_path / "c", named) / "train_config/dpo.yaml").workload.zero_stage is None


_INSTELLA_LAUNCH = (
    "```bash\naccelerate launch \\\n    --mixed_precision bf16 \\\n    --num_machines 1 \\\n    --num_processes 8 \\\n    --use_deepspeed \\\n"
    "    --deepspeed_config_file configs/{name} \\\n    scripts/dpo_tune.py \\\n    configs/dpo.yaml\n```\n"
)


def test_accelerate_flag_deepspeed_config_file_gives_the_stage_or_says_it_is_missing(tmp_path: Path) -> None:
    """review10b #34 (AMD-AIG-AIMA/Instella README.md:131-138): `accelerate launch --use_deepspeed --deepspeed_config_file
    configs/ds_stage2.conf`: the stage is the file's (accelerate 1.14.0 commands/launch.py:411, utils/launch.py:580-581),
    not accelerate's default; a file the repository lacks is said missing where the launch names it, with the stage assumed."""
    ds3 = '{"zero_optimization": {"stage": 3}, "bf16": {"enabled": "auto"}}'
    files = {"configs/dpo.yaml": TRL, "configs/ds_stage2.conf": ds3, "README.md": _INSTELLA_LAUNCH.format(name="ds_stage2.conf")}
    w = load_config(repo(tmp_path / "a", files) / "configs/dpo.yaml").workload
    src = w.sources["zero_stage"]
    assert (w.strategy, w.zero_stage) == ("deepspeed", 3) and src.explicit and "configs/ds_stage2.conf" in (src.note or ""), src
    # must not: a file the repository lacks gives no stage as read; the note names the launch line and the stage assumed
    gone = {"configs/dpo.yaml": TRL, "README.md": _INSTELLA_LAUNCH.format(name="ds_stage2.conf")}
    w = load_config(repo(tmp_path / "b", gone) / "configs/dpo.yaml").workload
    said = "DeepSpeed file configs/ds_stage2.conf named at README.md line 2 (`--deepspeed_config_file`) is not in the repository; ZeRO stage assumed 2 (from its file name)"
    assert w.zero_stage == 2 and not w.sources["zero_stage"].explicit and (w.sources["zero_stage"].note or "").startswith(said)
    assert said in w.notes, w.notes
    unnamed = {"configs/dpo.yaml": TRL, "README.md": _INSTELLA_LAUNCH.format(name="ds.conf")}
    w = load_config(repo(tmp_path / "c", unnamed) / "configs/dpo.yaml").workload
    assert w.zero_stage == 2 and "ZeRO stage assumed 2 (accelerate's default when no file names one" in (w.sources["zero_stage"].note or "")


def test_a_python_training_script_is_found_by_its_launcher(tmp_path: Path) -> None:
    script = (
        "from transformers import TrainingArguments, Trainer\n"
        "args = TrainingArguments(output_dir='o', per_device_train_batch_size=4, bf16=True)\n"
        "trainer = Trainer(model='meta-llama/Meta-Llama-3-8B', args=args)\n"
    )
    root = repo(tmp_path, {"train/sft.py": script, "train/run.sh": "torchrun --nproc_per_node 4 sft.py\n"})
    w = load_config(root / "train/sft.py").workload
    assert topo(w) == (4, 1, 4) and w.strategy == "ddp"


def test_offload_from_the_launchers_accelerate_config_is_reported_where_it_is_set(tmp_path: Path) -> None:
    from pytest_goblin.formats.base import offload_elsewhere

    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": TRL,
            "accel/zero3_offload.yaml": "distributed_type: DEEPSPEED\ndeepspeed_config:\n  zero_stage: 3\n  offload_optimizer_device: cpu\n  offload_param_device: cpu\nnum_processes: 8\n",
            "train.sh": "accelerate launch --config_file accel/zero3_offload.yaml sft.py --config configs/sft.yaml\n",
        },
    )
    w = load_config(root / "configs/sft.yaml").workload
    assert (w.cpu_offload, w.offload_params, w.zero_stage) == (True, True, 3)
    said = offload_elsewhere(w) or ""
    assert "in accel/zero3_offload.yaml (" in said and "`deepspeed_config.offload_optimizer_device` at line 4" in said
    assert 'set each to "none" there' in said and "train.sh line 1" in said


# ---- red team round 9: the launcher reader on hostile repositories ------------------------------------


def test_r9_a_secret_a_launch_script_assigns_is_masked_where_the_launch_line_is_quoted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = "3f2a9c1e5b7d4a6f8e0c2b4d6a8f0e1c3b5d7f9a"
    url = "https://alice:Sup3rS3cretDbPassw0rdLongValue@db.internal/x"
    root = repo(
        tmp_path,
        {
            "configs/a.yml": AXOLOTL,
            "scripts/train.sh": f"export WANDB_API_KEY={key}\n"
            f"torchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train configs/a.yml --wandb-login $WANDB_API_KEY --dataset_url {url}\n",
        },
    )
    assert main(["audit", str(root / "configs/a.yml"), "--json", str(tmp_path / "r.json"), "--md", str(tmp_path / "r.md")]) in (0, 1)
    main(["parse", "--json", str(root / "configs/a.yml")])
    out = capsys.readouterr().out + (tmp_path / "r.json").read_text() + (tmp_path / "r.md").read_text()
    assert "2 nodes x 8 GPUs" in out  # the launch line was read
    assert key[:12] not in out and "Sup3rS3cret" not in out


def test_r9_an_accelerate_config_named_outside_the_tree_is_not_probed(tmp_path: Path) -> None:
    """The note is the same whether the named file exists on the runner or not: no existence oracle."""
    notes = []
    for ref in ("/etc/hostname", "/no/such/file.yaml", "../../outside.yaml"):
        root = repo(
            tmp_path / ref.replace("/", "_"),
            {"configs/a.yml": AXOLOTL, "configs/run.sh": f"accelerate launch --config_file {ref} -m axolotl.cli.train configs/a.yml\n"},
        )
        w = load_config(root / "configs/a.yml").workload
        notes.append([n.replace(ref, "REF") for n in w.notes if n.startswith("accelerate config")])
    assert notes[0] == notes[1] == notes[2] and notes[0] and "outside the audited tree" in notes[0][0]


def test_r9_an_over_long_launch_line_is_not_read_and_an_unclosed_default_is_cheap(tmp_path: Path) -> None:
    many = "torchrun --nproc_per_node 8 -m axolotl.cli.train configs/a.yml " + " ".join(f"--f{i} 1" for i in range(5000)) + "\n"
    assert launcher_text.parse_launcher(Path("x.sh"), many).lines == ()  # longer than any real launch command
    unclosed = "torchrun --nproc_per_node 8 -m axolotl.cli.train configs/a.yml " + "${A:-" * 2000 + "\n"
    parsed = launcher_text.parse_launcher(Path("x.sh"), unclosed)
    assert len(parsed.lines) == 1  # read, with the unclosed text left as written
    assert launcher_text.expand("${A:-x} ${B} ${C:-${D}", {"B": "b"}) == "x b ${C:-${D}"


def test_a_shell_comment_after_an_assignment_keeps_the_value(tmp_path: Path) -> None:
    """review2 (s1 train/sft.sh:9): `micro_batch_size=1 # ...` was read as an inline prefix and its value lost."""
    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": AXOLOTL_FSDP,
            "launch.sh": "NODES=2 # two nodes\nGPUS=4  # per node\ntorchrun --nnodes $NODES --nproc_per_node $GPUS -m axolotl.cli.train configs/sft.yaml # go\n",
        },
    )
    assert topo(load_config(root / "configs/sft.yaml").workload) == (8, 2, 4)
    lf = launcher_text.parse_launcher(root / "x.sh", 'A="x # y"\nB=${#A} # len\n')
    assert lf.lines == () and launcher_text.hash_comment_cut('echo "a # b" # c') == 'echo "a # b" '


@pytest.mark.parametrize(
    ("readme", "expected"),
    [
        ("# Recipes\n\nAll training configs are set for 4xH100 GPUs.\n", (4, 1, 4)),  # review2: SimPO README.md:184
        ("Fine-tune Llama 3 across 2 A100s in a few minutes.\n", (2, 1, 2)),  # review2: modal-labs README.md:28
        ("70B: 8 x A100; 8B: 1 x A100\n", None),  # two counts: which is this config's is not said
        ("No hardware named here.\n", None),
    ],
)
def test_a_readme_that_names_one_gpu_count_gives_the_topology(tmp_path: Path, readme: str, expected: tuple[int, int, int] | None) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "README.md": readme})
    w = load_config(root / "configs/sft.yaml").workload
    if expected is None:
        assert topo(w) == (1, 1, 1) and not w.sources["world_size"].explicit
        return
    assert topo(w) == expected and w.sources["world_size"].file.endswith("README.md") and w.sources["world_size"].explicit
    assert w.strategy == "ddp"


def test_a_launcher_wins_over_readme_prose(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": AXOLOTL,
            "README.md": "Trained on 8 x H100.\n",
            "launch.sh": "torchrun --nproc_per_node 2 -m axolotl.cli.train configs/sft.yaml\n",
        },
    )
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (2, 1, 2) and w.sources["world_size"].file.endswith("launch.sh")


# review3 class 2 repro shape (SWE-smith): a shell line runs a Modal file with N_GPUS=8; the file builds
# `tune run --nproc_per_node {gpus}` in a function whose `gpus` every call passes from os.environ.
MODAL_FT = """import os
import subprocess

N = int(os.environ.get("N_GPUS", 2))


def train(cfg: str, gpus: int):
    cmd = f"tune run --nnodes 1 --nproc_per_node {gpus} full_finetune_distributed --config {cfg}"
    subprocess.run(cmd.split(), check=True)


def main(config: str):
    train.remote(cfg=config, gpus=N)
"""


def test_a_modal_launcher_passing_the_gpu_count_to_its_function_beats_the_template_comment(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/big.yaml": TEMPLATE_COMMENT + AXOLOTL,
            "pkg/ft.py": MODAL_FT,
            "scripts/run.sh": "N_GPUS=8 modal run --detach pkg/ft.py --config configs/big.yaml\n",
        },
    )
    w = load_config(root / "configs/big.yaml").workload
    assert topo(w) == (8, 1, 8) and w.sources["world_size"].file == str((root / "pkg/ft.py").resolve())
    assert any("scripts/run.sh line 1 runs pkg/ft.py" in n for n in w.notes)
    assert any("launcher that names it wins" in n for n in w.notes)


def test_a_function_parameter_the_calls_disagree_on_stays_unread(tmp_path: Path) -> None:
    two_calls = MODAL_FT + "\n\ndef other(config: str):\n    train(config, 4)\n"
    root = repo(
        tmp_path,
        {
            "configs/big.yaml": TEMPLATE_COMMENT + AXOLOTL,
            "pkg/ft.py": two_calls,
            "scripts/run.sh": "N_GPUS=8 modal run --detach pkg/ft.py --config configs/big.yaml\n",
        },
    )
    w = load_config(root / "configs/big.yaml").workload
    assert topo(w) == (2, 1, 2) and w.sources["world_size"].line == 2  # the comment, as the fallback
    assert not any("launcher that names it wins" in n for n in w.notes)


def test_a_readme_cd_after_install_steps_into_missing_folders_still_finds_the_config(tmp_path: Path) -> None:
    """review3 class 2 (`cd` first): install blocks `cd` into clones the repository lacks; `cd sft` then runs the config."""
    readme = "```sh\ngit clone https://example.invalid/tool.git && cd tool\npip install -e .\n```\n\n```sh\ncd sft\ntorchrun --nproc_per_node 8 -m axolotl.cli.train cfg.yaml\n```\n"
    root = repo(tmp_path, {"sft/cfg.yaml": AXOLOTL, "README.md": readme})
    w = load_config(root / "sft/cfg.yaml").workload
    assert topo(w) == (8, 1, 8) and w.sources["world_size"].line == 8


def test_a_readme_cd_into_another_folder_does_not_name_a_same_named_config(tmp_path: Path) -> None:
    readme = "```sh\ncd other\ntorchrun --nproc_per_node 8 -m axolotl.cli.train cfg.yaml\n```\n"
    root = repo(tmp_path, {"sft/cfg.yaml": AXOLOTL, "other/cfg.yaml": AXOLOTL, "README.md": readme})
    assert topo(load_config(root / "sft/cfg.yaml").workload) == (1, 1, 1)


# review4 class 2 (#4 SWE-Gym, #10 torchtune-amd-recipes): a Markdown launch line that names the config and
# states a count beats a header comment that is a framework template (its launch line runs another config,
# or it offers several counts); a comment that runs this very config with one count stays first.
COPIED_HEADER = "# To launch on 2 devices, run the following command from root:\n#   tune run --nnodes 1 --nproc_per_node 2 full_finetune_distributed --config qwen2_5/7B_full\n"
OPTIONS_HEADER = (
    "# To launch on 2 devices:\n#   tune run --nproc_per_node 2 lora_finetune_distributed --config sft.yaml\n"
    "# To launch on 8 devices:\n#   tune run --nproc_per_node 8 lora_finetune_distributed --config sft.yaml\n"
)
OWN_HEADER = "# To launch on 2 devices:\n#   tune run --nproc_per_node 2 lora_finetune_distributed --config configs/sft.yaml\n"
DOCS_LINE = "```\ntune run --nproc_per_node 8 full_finetune_distributed --config configs/sft.yaml\n```\n"


@pytest.mark.parametrize("header", [COPIED_HEADER, OPTIONS_HEADER])
def test_a_markdown_launch_line_beats_a_template_header_comment(tmp_path: Path, header: str) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": header + AXOLOTL, "docs/Training.md": DOCS_LINE})
    w = load_config(root / "configs/sft.yaml").workload
    src = w.sources["world_size"]
    assert topo(w) == (8, 1, 8) and src.file is not None and src.file.endswith("Training.md")
    assert src.note is not None and "is overridden" in src.note and ("another config" in src.note or "several counts per node (2, 8)" in src.note)


def test_the_configs_own_one_count_comment_still_beats_a_markdown_line(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": OWN_HEADER + AXOLOTL, "docs/Training.md": DOCS_LINE})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (2, 1, 2) and w.sources["world_size"].key is not None and w.sources["world_size"].key.startswith("comment:")


# review4 #4 SWE-Gym docs/OpenHands.md:96: a launch command written as inline code in a Markdown sentence names the config.
@pytest.mark.parametrize(
    ("prose", "expected"),
    [
        ("Then use `N_GPUS=8 tune run --nproc_per_node 8 full_finetune_distributed --config configs/sft.yaml` to train.\n", (8, 1, 8)),
        ("Edit `configs/sft.yaml`, then run `pip install -e .` first.\n", (2, 1, 2)),  # no launch command: the comment stays
    ],
)
def test_an_inline_code_launch_in_markdown_prose_names_the_config(tmp_path: Path, prose: str, expected: tuple[int, int, int]) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": COPIED_HEADER + AXOLOTL, "docs/Guide.md": prose})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == expected


# review12b #21 daje0601/AllinOne_LLM chapter3/3.5/readme.md:7: a whole prose line, no fence nor backticks, that is a
# launch command naming the config is read; a sentence that only mentions a launcher and the config is not.
@pytest.mark.parametrize(
    ("prose", "expected"),
    [
        ("pip install trl\nACCELERATE_USE_FSDP=1 torchrun --nproc_per_node=4 ./train.py --config ../configs/sft.yaml\n", (4, 1, 4)),
        ("accelerate launch is how we train with configs/sft.yaml on 8 GPUs.\n", (2, 1, 2)),  # a sentence: the comment stays
        ("torchrun --nproc_per_node=4 ./train.py --config ../configs/sft.yaml.\n", (2, 1, 2)),  # the config word ends a sentence
    ],
)
def test_a_bare_launch_line_in_markdown_prose_names_the_config(tmp_path: Path, prose: str, expected: tuple[int, int, int]) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": COPIED_HEADER + AXOLOTL, "docs/readme.md": prose})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == expected


# review4 #11 Virgo: `NNODES=$WORLD_SIZE` that the script never sets (the scheduler's variable) is an unknown
# node count, said so, and the world size is not stated; one the script sets is read.
@pytest.mark.parametrize(
    ("script", "expected", "stated"),
    [
        ("FORCE_TORCHRUN=1 NNODES=$WORLD_SIZE NPROC_PER_NODE=8 llamafactory-cli train configs/sft.yaml\n", (8, 1, 8), False),
        ("WORLD_SIZE=2\nFORCE_TORCHRUN=1 NNODES=$WORLD_SIZE NPROC_PER_NODE=8 llamafactory-cli train configs/sft.yaml\n", (16, 2, 8), True),
    ],
)
def test_a_node_count_the_script_never_sets_is_unknown_not_one(tmp_path: Path, script: str, expected: tuple[int, int, int], stated: bool) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": LLAMAFACTORY, "scripts/train.sh": script})
    w = load_config(root / "configs/sft.yaml").workload
    src = w.sources["world_size"]
    assert topo(w) == expected and src.explicit is stated
    said = world_size_note(w)
    if stated:
        assert "unknown" not in said and "None" not in said
    else:
        assert "an unknown node count" in said and "`$WORLD_SIZE` is a variable the file never sets" in (src.note or "") and "None" not in said


# review4 #16 SPPO scripts/pipeline.sh:85-99: the launcher copies the config to a new name and launches the copy.
COPY_SCRIPT = (
    'ds=$1\nnew_config="recipes/sft/{src}_${{ds}}.yaml"\ncp recipes/sft/{src}.yaml "$new_config"\n'
    'accelerate launch --num_processes 4 scripts/run_sft.py "$new_config"\n'
)


def test_a_launch_of_a_copy_of_the_config_names_it(tmp_path: Path) -> None:
    root = repo(tmp_path, {"recipes/sft/config.yaml": TRL, "scripts/pipeline.sh": COPY_SCRIPT.format(src="config")})
    w = load_config(root / "recipes/sft/config.yaml").workload
    src = w.sources["world_size"]
    assert topo(w) == (4, 1, 4) and src.file is not None and src.file.endswith("pipeline.sh") and src.line == 4
    assert any("line 3 copies recipes/sft/config.yaml to recipes/sft/config_${ds}.yaml" in n for n in w.notes)


def test_a_launch_of_a_copy_of_another_config_does_not_name_it(tmp_path: Path) -> None:
    files = {"recipes/sft/config.yaml": TRL, "recipes/sft/other.yaml": TRL, "scripts/pipeline.sh": COPY_SCRIPT.format(src="other")}
    root = repo(tmp_path, files)
    w = load_config(root / "recipes/sft/config.yaml").workload
    assert not (w.sources["world_size"].file or "").endswith("pipeline.sh") and w.world_size == 1
    other = load_config(root / "recipes/sft/other.yaml").workload
    assert topo(other) == (4, 1, 4)


# review4 #33 starcoder README.md:140/:162: `python finetune.py` runs one process; a block's trailing `\`
# does not continue into the next block (its `--nproc_per_node number_of_gpus` line is another command).
SCRIPT = "import argparse\nfrom transformers import Trainer, TrainingArguments\np = argparse.ArgumentParser()\np.add_argument('--lr')\nargs = p.parse_args()\n"


@pytest.mark.parametrize(
    ("readme", "expected"),
    [
        (
            "```bash\npython finetune/finetune.py \\\n  --lr 1e-4 \\\n```\nMore GPUs:\n```bash\ntorchrun --nproc_per_node 4 finetune/finetune.py --lr 1e-4\n```\n",
            1,
        ),
        ("```bash\ntorchrun --nproc_per_node 4 finetune/finetune.py --lr 1e-4\n```\n", 4),
    ],
)
def test_a_plain_python_run_of_the_script_is_one_process(tmp_path: Path, readme: str, expected: int) -> None:
    root = repo(tmp_path, {"finetune/finetune.py": SCRIPT, "README.md": readme})
    launch = launchers.find_launch(root / "finetune/finetune.py")
    assert launch is not None and launch.world == expected and launch.line == 2


# review11b #36 gritlm scripts/training/train_embonly.sh:36: `--config_file /home/niklas/gritlm/scripts/configs/x.yml`, a
# checkout on the author's machine; the repository's one file whose path ends like it is read (the path itself never is)
FSDP_ACCEL = "distributed_type: FSDP\nnum_machines: 2\nnum_processes: 16\nfsdp_config:\n  fsdp_sharding_strategy: HYBRID_SHARD\n"


def _tail_repo(tmp_path: Path, ref: str, files: dict[str, str]) -> WorkloadConfig:
    run = f"accelerate launch --config_file {ref} --num_machines 2 --num_processes 16 -m axolotl.cli.train configs/a.yml\n"
    root = repo(tmp_path, {"configs/a.yml": AXOLOTL, "scripts/run.sh": run, **files})
    return load_config(root / "configs/a.yml").workload


def test_an_absolute_accelerate_path_is_read_from_the_one_repository_file_ending_like_it(tmp_path: Path) -> None:
    ref = "/home/someone/proj/scripts/configs/acc_m7.yml"
    w = _tail_repo(tmp_path, ref, {"scripts/configs/acc_m7.yml": FSDP_ACCEL, "other/acc_m7.yml": "distributed_type: MULTI_GPU\n"})
    assert w.strategy == "fsdp"
    assert any(f"read from scripts/configs/acc_m7.yml, the only file whose path ends like {ref}" in n for n in w.notes)


def test_an_absolute_accelerate_path_two_files_end_like_is_not_read(tmp_path: Path) -> None:
    ref = "/home/someone/proj/scripts/configs/acc_m7.yml"
    w = _tail_repo(tmp_path, ref, {"a/scripts/configs/acc_m7.yml": FSDP_ACCEL, "b/scripts/configs/acc_m7.yml": FSDP_ACCEL})
    assert w.strategy != "fsdp" and not any("the only file whose path ends like" in n for n in w.notes)
    assert any("outside the audited tree" in n for n in w.notes)


def test_an_absolute_accelerate_path_sharing_only_its_file_name_is_not_read(tmp_path: Path) -> None:
    """A bare name (`config.yaml`, however unique in the repository) names no file: the tail must hold a folder too."""
    w = _tail_repo(tmp_path, "/home/someone/proj/accel/config.yaml", {"configs/config.yaml": FSDP_ACCEL})
    assert w.strategy != "fsdp" and not any("the only file whose path ends like" in n for n in w.notes)
