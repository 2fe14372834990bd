"""Launch lines written the way real repositories write them (review3 class 2): a slurm job that runs
`srun ... bash -c "$LAUNCHER $CMD"` after `cd` into a checkout outside the repository, a `for` loop
over config files, `${CONFIG_DIR}/x.yaml`, a GPU count from `nvidia-smi`, a model path given as
the script's positional argument with a `${VAR:-default}`, and a ModelScope download folder's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import launcher_text, load_config
from pytest_goblin.modelzoo import lookup_model

from .repo_files import repo
from .test_topology import AXOLOTL, AXOLOTL_FSDP, topo

# review3 shisa-ai/shisa-v2 train/slurm/base-llama3-70b-fft.slurm, cut down
SLURM = """#!/bin/bash
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
AXOLOTL_CFG=llama-fft.yaml
cd /fsx/user/axolotl
GPUS_PER_NODE=8
NNODES=$SLURM_JOB_NUM_NODES
WORLD_SIZE=$(($GPUS_PER_NODE*$NNODES))
CMD="-m axolotl.cli.train $AXOLOTL_CFG"
LAUNCHER="accelerate launch \\
    --multi_gpu \\
    --num_machines $NNODES \\
    --num_processes $WORLD_SIZE \\
    --machine_rank \\$SLURM_PROCID \\
"
srun --wait=60 --jobid $SLURM_JOB_ID bash -c "$LAUNCHER $CMD" 2>&1 | tee -a log.txt
"""


def test_slurm_bash_c_after_cd_outside_the_repository_reads_two_nodes(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train/ablations/llama-fft.yaml": AXOLOTL_FSDP, "train/slurm/run.slurm": SLURM})
    w = load_config(root / "train/ablations/llama-fft.yaml").workload
    assert topo(w) == (16, 2, 8)
    src = w.sources["nodes"]
    assert src.explicit and src.file.endswith("train/slurm/run.slurm") and src.line == 16
    assert "outside the repository" in " ".join(w.notes)


def test_a_bare_name_after_cd_outside_is_not_matched_when_the_repository_has_two_such_files(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {"train/ablations/llama-fft.yaml": AXOLOTL_FSDP, "train/old/llama-fft.yaml": AXOLOTL_FSDP, "train/slurm/run.slurm": SLURM},
    )
    w = load_config(root / "train/ablations/llama-fft.yaml").workload
    assert not w.sources["world_size"].explicit and w.nodes in (None, 1)


def test_bash_c_words_are_read_as_the_command_they_run() -> None:
    lf = launcher_text.parse_launcher(Path("x.sh"), 'srun -N 2 bash -c "torchrun --nproc_per_node 4 train.py c.yaml"\n')
    assert lf.lines[0].tokens == ("srun", "-N", "2", "torchrun", "--nproc_per_node", "4", "train.py", "c.yaml")
    plain = launcher_text.parse_launcher(Path("x.sh"), "srun -N 2 torchrun --nproc_per_node 4 train.py c.yaml\n")
    assert plain.lines[0].tokens == ("srun", "-N", "2", "torchrun", "--nproc_per_node", "4", "train.py", "c.yaml")


@pytest.mark.parametrize(
    "script",
    [
        "for cfg in configs/a.yaml configs/b.yaml; do\n  torchrun --nproc_per_node 4 -m axolotl.cli.train $cfg\ndone\n",
        "for cfg in configs/*.yaml; do torchrun --nproc_per_node 4 -m axolotl.cli.train ${cfg}; done\n",
        "CONFIG_DIR=/data/checkout/configs\ntorchrun --nproc_per_node 4 -m axolotl.cli.train ${CONFIG_DIR}/b.yaml\n",
        "CONFIG=configs/b.yaml\ntorchrun --nproc_per_node 4 -m axolotl.cli.train $CONFIG\n",
    ],
)
def test_loops_globs_and_variables_name_the_config(tmp_path: Path, script: str) -> None:
    root = repo(tmp_path, {"configs/a.yaml": AXOLOTL, "configs/b.yaml": AXOLOTL, "scripts/run.sh": script})
    w = load_config(root / "configs/b.yaml").workload
    assert topo(w) == (4, 1, 4) and w.sources["world_size"].explicit


@pytest.mark.parametrize(
    ("script", "config"),
    [
        # the loop runs other files
        ("for cfg in configs/a.yaml configs/c.yaml; do torchrun --nproc_per_node 4 -m axolotl.cli.train $cfg; done\n", "configs/b.yaml"),
        ("for cfg in other/*.yaml; do torchrun --nproc_per_node 4 -m axolotl.cli.train $cfg; done\n", "configs/b.yaml"),
        # the loop's words are not known
        ("for cfg in $(ls configs); do torchrun --nproc_per_node 4 -m axolotl.cli.train $cfg; done\n", "configs/b.yaml"),
        # a variable folder and a name two files of the repository have
        ("torchrun --nproc_per_node 4 -m axolotl.cli.train ${CONFIG_DIR}/a.yaml\n", "configs/a.yaml"),
    ],
)
def test_loops_and_variables_that_do_not_name_the_config(tmp_path: Path, script: str, config: str) -> None:
    root = repo(tmp_path, {"configs/a.yaml": AXOLOTL, "configs/b.yaml": AXOLOTL, "old/a.yaml": AXOLOTL, "scripts/run.sh": script})
    w = load_config(root / config).workload
    assert not w.sources["world_size"].explicit


def test_a_gpu_count_from_nvidia_smi_is_unknown_not_one(tmp_path: Path) -> None:
    script = "NUM_GPUS=$(nvidia-smi -L | wc -l)\ntorchrun --nproc_per_node=$NUM_GPUS -m axolotl.cli.train configs/b.yaml\n"
    root = repo(tmp_path, {"configs/b.yaml": AXOLOTL_FSDP, "run.sh": script})
    w = load_config(root / "configs/b.yaml").workload
    assert w.gpus_per_node == 8 and not w.sources["gpus_per_node"].explicit
    assert "not resolved" in (w.sources["world_size"].note or "")
    (root / "run.sh").write_text("NUM_GPUS=2\ntorchrun --nproc_per_node=$NUM_GPUS -m axolotl.cli.train configs/b.yaml\n")
    w = load_config(root / "configs/b.yaml").workload
    assert topo(w) == (2, 1, 2) and w.sources["gpus_per_node"].explicit


def test_a_positional_argument_leaves_the_variable_to_its_default() -> None:
    # review3 Qwen2.5-Coder finetuning/sft/scripts/sft_qwencoder.sh:13,17
    text = 'MODEL=${2}\nMODEL=${MODEL:-"/models/Qwen/Qwen2___5-Coder-1___5B/"}\ntorchrun train.py --model_name_or_path ${MODEL}\n'
    lf = launcher_text.parse_launcher(Path("x.sh"), text)
    assert lf.lines[0].tokens[-1] == "/models/Qwen/Qwen2___5-Coder-1___5B/"
    # a value the file sets is kept, and an empty one takes the `:-` default as bash does
    kept = launcher_text.parse_launcher(Path("x.sh"), "MODEL=a/b\nMODEL=${MODEL:-c/d}\ntorchrun train.py --m $MODEL\n")
    assert kept.lines[0].tokens[-1] == "a/b"
    assert launcher_text.expand("${X:-d}", {"X": ""}) == "d" and launcher_text.expand("${X-d}", {"X": ""}) == ""


def test_a_modelscope_download_folder_names_its_model() -> None:
    shape = lookup_model("/path/to/pretrained_models/Qwen/Qwen2___5-Coder-1___5B/")
    assert shape.params_b is not None and 1.0 < shape.params_b < 2.0
    assert lookup_model("Qwen/Qwen2.5-Coder-1.5B").params_b == shape.params_b
    # a single underscore is a dash, as before
    assert lookup_model("meta_llama/Meta_Llama_3_8B").params_b == lookup_model("meta-llama/Meta-Llama-3-8B").params_b


# review3 Joe-Hall-Lee/STaR-Judge scripts/train_dpo.sh, cut down
ACCELERATE_FSDP = "distributed_type: FSDP\nfsdp_config:\n  fsdp_sharding_strategy: FULL_SHARD\nnum_machines: 1\nnum_processes: 4\n"


@pytest.mark.parametrize(
    ("launch", "expected", "said"),
    [
        ('#SBATCH --gres=gpu:2\nCUDA_VISIBLE_DEVICES="5,7" accelerate launch --config_file acc.yaml train.py configs/b.yaml\n', (2, 1, 2), False),
        ("CUDA_VISIBLE_DEVICES=0,1 torchrun --nproc_per_node 4 train.py configs/b.yaml\n", (2, 1, 2), False),
        # agreeing statements: no conflict
        ("CUDA_VISIBLE_DEVICES=0,1,2,3 accelerate launch --config_file acc.yaml train.py configs/b.yaml\n", (4, 1, 4), True),
        ("#SBATCH --gres=gpu:8\naccelerate launch --config_file acc.yaml train.py configs/b.yaml\n", (4, 1, 4), True),
    ],
)
def test_more_processes_than_visible_gpus_is_a_stated_conflict(tmp_path: Path, launch: str, expected: tuple[int, int, int], said: bool) -> None:
    root = repo(tmp_path, {"configs/b.yaml": AXOLOTL, "acc.yaml": ACCELERATE_FSDP, "run.sh": launch})
    w = load_config(root / "configs/b.yaml").workload
    assert topo(w) == expected
    assert w.sources["gpus_per_node"].explicit is said
    assert ("the statements disagree" in (w.sources["world_size"].note or "")) is not said


def test_a_commented_out_launch_line_is_a_hint_when_no_live_line_names_the_config(tmp_path: Path) -> None:
    # review3 SWE-bench/SWE-smith scripts/train.run_ft_torchtune.sh:1,3
    script = "torchrun --nproc_per_node 8 -m axolotl.cli.train configs/a.yaml\n\n# torchrun --nproc_per_node 2 -m axolotl.cli.train configs/b.yaml\n"
    root = repo(tmp_path, {"configs/a.yaml": AXOLOTL_FSDP, "configs/b.yaml": AXOLOTL_FSDP, "scripts/run.sh": script})
    w = load_config(root / "configs/b.yaml").workload
    assert topo(w) == (2, 1, 2)
    assert not w.sources["world_size"].explicit and not w.sources["gpus_per_node"].explicit
    assert "scripts/run.sh line 3 does, commented out" in (w.sources["world_size"].note or "")
    from pytest_goblin.formats.semantics import world_size_note

    assert world_size_note(w).startswith("on 2 GPUs (assumed from a commented-out line, scripts/run.sh line 3")
    # the live line wins over a commented one for the config it names
    (root / "scripts/run.sh").write_text(script + "# torchrun --nproc_per_node 2 -m axolotl.cli.train configs/a.yaml\n")
    a = load_config(root / "configs/a.yaml").workload
    assert topo(a) == (8, 1, 8) and a.sources["world_size"].explicit


@pytest.mark.parametrize(
    "comment",
    [
        "# To launch on 4 devices: tune run --nproc_per_node 4 full_finetune_distributed --config llama3/8B_full\n",  # names another file
        "# torchrun is used for configs/b.yaml in production\n",  # prose: no launch command is read from it
    ],
)
def test_comments_that_are_no_launch_of_this_config_give_nothing(tmp_path: Path, comment: str) -> None:
    root = repo(tmp_path, {"configs/b.yaml": AXOLOTL_FSDP, "scripts/run.sh": comment})
    w = load_config(root / "configs/b.yaml").workload
    assert w.world_size == 8 and "commented out" not in (w.sources["world_size"].note or "")


# review3 magpie-align/magpie recipes/README.md:41,60-63, cut down: one Axolotl line without a count, one TRL line with one
MAGPIE_README = """# Recipes

```
accelerate launch -m axolotl.cli.train your_config_name.yaml
```

Please change `num_processes` if you are not using 4 GPUs.

```
ACCELERATE_LOG_LEVEL=info accelerate launch --num_processes 4 --config_file recipes/accelerate_configs/deepspeed_zero3.yaml scripts/run_dpo.py your_config_name.yaml
```
"""
TRL_DPO = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nbeta: 0.01\nper_device_train_batch_size: 2\nmax_length: 2048\ngradient_checkpointing: true\n"
)


def test_a_readme_template_line_for_a_placeholder_config_gives_count_and_strategy(tmp_path: Path) -> None:
    root = repo(tmp_path, {"recipes/README.md": MAGPIE_README, "recipes/dpo-v0.1/dpo-v0.1.yaml": TRL_DPO, "recipes/sft-v0.1/sft-v0.1.yaml": AXOLOTL})
    w = load_config(root / "recipes/dpo-v0.1/dpo-v0.1.yaml").workload
    assert topo(w) == (4, 1, 4)
    assert (w.strategy, w.zero_stage) == ("deepspeed", 3)
    # recipes/accelerate_configs/deepspeed_zero3.yaml is the alignment handbook's own file, read from its copy
    # (frameworks/shipped_files.json): the stage is its content's, not the file name's
    assert w.sources["world_size"].line == 10 and w.sources["zero_stage"].explicit
    notes = " ".join(w.notes)
    assert "a placeholder" in notes and "alignment-handbook v0.3.0's recipes/accelerate_configs/deepspeed_zero3.yaml (shipped)" in notes
    # the Axolotl recipe beside it: the Axolotl line states no count, so the README's prose (4 GPUs) says it
    a = load_config(root / "recipes/sft-v0.1/sft-v0.1.yaml").workload
    assert a.world_size == 4 and a.strategy != "deepspeed"


def test_a_template_line_in_another_folder_or_for_another_runner_is_not_read(tmp_path: Path) -> None:
    root = repo(tmp_path, {"docs/README.md": MAGPIE_README, "recipes/dpo-v0.1/dpo-v0.1.yaml": TRL_DPO})
    w = load_config(root / "recipes/dpo-v0.1/dpo-v0.1.yaml").workload
    assert w.strategy != "deepspeed" and not w.sources["world_size"].explicit
    only_axolotl = MAGPIE_README.split("Please")[0]
    root2 = repo(tmp_path / "two", {"recipes/README.md": only_axolotl, "recipes/dpo-v0.1/dpo-v0.1.yaml": TRL_DPO})
    assert not load_config(root2 / "recipes/dpo-v0.1/dpo-v0.1.yaml").workload.sources["world_size"].explicit


def test_an_accelerate_config_the_repository_has_is_read_not_its_name(tmp_path: Path) -> None:
    acc = "distributed_type: FSDP\nfsdp_config:\n  fsdp_sharding_strategy: FULL_SHARD\nnum_processes: 4\n"
    root = repo(
        tmp_path,
        {
            "configs/b.yaml": TRL_DPO,
            "accel/zero3.yaml": acc,  # the name says ZeRO-3, the file says FSDP
            "run.sh": "accelerate launch --config_file accel/zero3.yaml train.py --config configs/b.yaml\n",
        },
    )
    w = load_config(root / "configs/b.yaml").workload
    assert w.strategy == "fsdp" and topo(w) == (4, 1, 4)


def _multi(**update: object) -> tuple[object, object]:
    from pytest_goblin import hardware
    from pytest_goblin.schemas import FieldSource, WorkloadConfig

    stated = {k: FieldSource(file="train/slurm/run.slurm", line=64, explicit=True) for k in ("world_size", "nodes", "gpus_per_node")}
    base = WorkloadConfig(
        path="x.yaml",
        format="axolotl",
        model=lookup_model("meta-llama/Meta-Llama-3-70B"),
        method="full",
        precision="bf16",
        strategy="deepspeed",
        zero_stage=3,
        world_size=16,
        nodes=2,
        gpus_per_node=8,
        seq_len=4096,
        micro_batch_size=2,
        gradient_checkpointing=True,
        sources=stated,
    )
    return base.model_copy(update=update), hardware.get_hardware("mi300x")


def test_a_multi_node_zero3_run_below_the_premise_says_at_which_network_it_would_pay() -> None:
    # review3 #6 (shisa-v2 llama3-70b-fft, 2 x 8 from its slurm job): the rule is silent at the assumed
    # 50 GB/s per GPU; the note says what the share is, from where the topology came, and the break-even rate
    from pytest_goblin.costmodel import inter_node_share
    from pytest_goblin.rules import MATERIAL_INTER_NODE_SHARE, multi_node_note

    w, hw = _multi()
    note = multi_node_note(w, hw, set())
    assert note is not None and "on 2 nodes x 8 GPUs (train/slurm/run.slurm line 64)" in note
    assert "at 50 GB/s per GPU across nodes (kb/hardware.yaml, assumed" in note
    rate = float(note.split("only below about ")[1].split(" GB/s")[0])
    assert 0.5 < rate < 50
    assert inter_node_share(w, hw.model_copy(update={"scale_out_gb_s": rate * 0.9})) >= MATERIAL_INTER_NODE_SHARE
    assert inter_node_share(w, hw.model_copy(update={"scale_out_gb_s": rate * 1.1})) < MATERIAL_INTER_NODE_SHARE


def test_no_multi_node_note_where_the_rule_spoke_on_one_node_or_on_assumed_nodes() -> None:
    from pytest_goblin.rules import multi_node_note
    from pytest_goblin.schemas import FieldSource

    w, hw = _multi()
    assert multi_node_note(w, hw, {"distributed.hierarchical_sharding_across_nodes"}) is None
    assert multi_node_note(w.model_copy(update={"nodes": 1, "world_size": 8}), hw, set()) is None
    assumed = dict(w.sources, nodes=FieldSource(file="x.yaml", explicit=False, note="assumed"))
    assert multi_node_note(w.model_copy(update={"sources": assumed}), hw, set()) is None
    assert multi_node_note(w.model_copy(update={"zero_stage": 2}), hw, set()) is None
    assert multi_node_note(w.model_copy(update={"cpu_offload": True}), hw, set()) is None


def test_the_audit_report_carries_the_multi_node_note(tmp_path: Path) -> None:
    import json

    from pytest_goblin.cli import main

    config = AXOLOTL.replace("Meta-Llama-3-8B", "Meta-Llama-3-70B") + "deepspeed: zero3.json\n"
    root = repo(
        tmp_path,
        {"train/ablations/llama-fft.yaml": config, "train/ablations/zero3.json": '{"zero_optimization": {"stage": 3}}', "train/slurm/run.slurm": SLURM},
    )
    out = tmp_path / "r.json"
    main(["audit", str(root / "train/ablations/llama-fft.yaml"), "--target", "mi300x", "--json", str(out)])
    notes = json.loads(out.read_text())["items"][0]["report"]["notes"]
    multi = [n for n in notes if n.startswith("multi-node, on 2 nodes x 8 GPUs (train/slurm/run.slurm line 16)")]
    assert len(multi) == 1 and "None" not in multi[0]


DPO_8B = "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nper_device_train_batch_size: 4\nmax_length: 1024\ngradient_checkpointing: true\nbf16: true\n"
ACC_OFFLOAD = (
    "compute_environment: LOCAL_MACHINE\ndistributed_type: DEEPSPEED\ndeepspeed_config:\n  offload_optimizer_device: cpu\n"
    "  offload_param_device: cpu\n  zero3_init_flag: true\n  zero_stage: 3\nnum_machines: 1\nnum_processes: 8\n"
)
ACC_FSDP_OFFLOAD = "distributed_type: FSDP\nfsdp_config:\n  fsdp_offload_params: true\n  fsdp_sharding_strategy: FULL_SHARD\nnum_processes: 8\n"


def _audit(tmp_path: Path, files: dict[str, str]) -> dict:
    import json

    from pytest_goblin.cli import main

    root = repo(tmp_path, {"configs/dpo.yaml": DPO_8B, **files})
    out = tmp_path / "r.json"
    main(["audit", str(root / "configs/dpo.yaml"), "--target", "mi300x", "--json", str(out)])
    return json.loads(out.read_text())["items"][0]["report"]


@pytest.mark.parametrize(
    ("accelerate", "edits"),
    [
        (ACC_OFFLOAD, {"deepspeed_config.offload_optimizer_device": "none", "deepspeed_config.offload_param_device": "none"}),
        (ACC_FSDP_OFFLOAD, {"fsdp_config.fsdp_offload_params": False}),
    ],
)
def test_offload_in_the_accelerate_config_a_launcher_passes_is_patched_there(tmp_path: Path, accelerate: str, edits: dict) -> None:
    report = _audit(
        tmp_path, {"recipes/acc/zero3.yaml": accelerate, "run.sh": "accelerate launch --config_file recipes/acc/zero3.yaml run_dpo.py configs/dpo.yaml\n"}
    )
    others = report["patch"]["other_files"]
    assert [o["path"] for o in others] == ["recipes/acc/zero3.yaml"] and others[0]["edits"] == edits
    assert "memory.cpu_offload_when_it_fits" not in report["patch"]["skipped"]
    finding = next(f for f in report["findings"] if f["rule_id"] == "memory.cpu_offload_when_it_fits")
    assert "the file the run reads it from (accelerate config recipes/acc/zero3.yaml, passed by run.sh line 1)" in finding["message"]


def test_offload_the_launch_line_sets_by_flag_is_not_edited_in_any_file(tmp_path: Path) -> None:
    launch = "accelerate launch --use_deepspeed --zero_stage 3 --offload_param_device cpu --offload_optimizer_device cpu --num_processes 8 run_dpo.py configs/dpo.yaml\n"
    report = _audit(tmp_path, {"run.sh": launch})
    assert report["patch"]["other_files"] == []
    assert "memory.cpu_offload_when_it_fits" in report["patch"]["skipped"]


TORCHTUNE_DIST = """# Config for multi-device full finetuning in full_finetune_distributed.py
#   tune run --nproc_per_node 4 full_finetune_distributed --config llama3_1/8B_full
output_dir: /tmp/out
model:
  _component_: torchtune.models.llama3_2.llama3_2_1b
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
dataset:
  _component_: torchtune.datasets.alpaca_dataset
batch_size: 4
epochs: 1
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
dtype: bf16
"""


@pytest.mark.parametrize(
    ("recipe", "strategy"),
    [("cs229/full_finetune_single_device", "single"), ("full_finetune_distributed", "fsdp")],
)
def test_the_recipe_the_tune_run_line_names_beats_the_template_comment(tmp_path: Path, recipe: str, strategy: str) -> None:
    # review3 fengyuli-dev/cs229-project cs229/scripts/train.sh:9
    root = repo(
        tmp_path,
        {
            "cs229/configs/config_1b.yaml": TORCHTUNE_DIST,
            "cs229/scripts/train.sh": f"tune run --nproc_per_node 1 {recipe} --config cs229/configs/config_1b.yaml\n",
        },
    )
    w = load_config(root / "cs229/configs/config_1b.yaml").workload
    assert w.world_size == 1 and w.strategy == strategy
    if strategy == "single":
        assert w.sources["strategy"].explicit and recipe in (w.sources["strategy"].note or "")


def test_offload_in_the_deepspeed_file_an_accelerate_config_names_is_patched_there(tmp_path: Path) -> None:
    acc = "distributed_type: DEEPSPEED\ndeepspeed_config:\n  deepspeed_config_file: ds/z3_offload.json\n  zero3_init_flag: true\nnum_processes: 8\n"
    ds = '{\n  "zero_optimization": {\n    "stage": 3,\n    "offload_optimizer": {"device": "cpu"},\n    "offload_param": {"device": "cpu"}\n  }\n}\n'
    report = _audit(
        tmp_path,
        {
            "recipes/acc/zero3.yaml": acc,
            "ds/z3_offload.json": ds,
            "run.sh": "accelerate launch --config_file recipes/acc/zero3.yaml run_dpo.py configs/dpo.yaml\n",
        },
    )
    (other,) = report["patch"]["other_files"]
    assert other["path"] == "ds/z3_offload.json"
    assert other["edits"] == {"zero_optimization.offload_optimizer.device": "none", "zero_optimization.offload_param.device": "none"}
    assert other["note"] == ""  # the accelerate config that names it is the route, not another config
