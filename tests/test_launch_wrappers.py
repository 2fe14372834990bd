"""Launch lines that change the config they run (review7a #4, review7b #35) and wrapper files whose framework
config is one block of a larger file (review7a #18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import repo
from .test_topology import AXOLOTL, topo

ZERO3 = '{"zero_optimization": {"stage": 3}, "bf16": {"enabled": "auto"}}\n'


def test_an_axolotl_launch_line_deepspeed_flag_overrides_the_yaml(tmp_path: Path) -> None:
    # review7a #4 robust-llm-finetunes example_training_so_re_gt.sh:2: axolotl's load_cfg writes `--deepspeed` over the YAML
    root = repo(
        tmp_path,
        {
            "configs/sft.yml": AXOLOTL,
            "deepspeed_configs/zero3_bf16.json": ZERO3,
            "run.sh": "accelerate launch -m axolotl.cli.train configs/sft.yml --deepspeed deepspeed_configs/zero3_bf16.json\n",
        },
    )
    w = load_config(root / "configs/sft.yml").workload
    assert (w.strategy, w.zero_stage) == ("deepspeed", 3)
    src = w.sources["zero_stage"]
    assert src.file.endswith("run.sh") and src.line == 1 and "Axolotl writes it over the YAML" in (src.note or "")
    # the YAML's own `deepspeed:` gives way, said
    root2 = repo(
        tmp_path / "two",
        {
            "configs/sft.yml": AXOLOTL + "deepspeed: ds/zero1.json\n",
            "ds/zero1.json": '{"zero_optimization": {"stage": 1}}\n',
            "deepspeed_configs/zero3_bf16.json": ZERO3,
            "run.sh": "axolotl train configs/sft.yml --deepspeed=deepspeed_configs/zero3_bf16.json\n",
        },
    )
    w2 = load_config(root2 / "configs/sft.yml").workload
    assert w2.zero_stage == 3 and any("`deepspeed: ds/zero1.json` (line 6) is overridden" in n for n in w2.notes)


def test_no_deepspeed_flag_or_a_flag_before_the_config_leaves_the_yaml_reading(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/sft.yml": AXOLOTL + "deepspeed: ds/zero1.json\n",
            "ds/zero1.json": '{"zero_optimization": {"stage": 1}}\n',
            "deepspeed_configs/zero3_bf16.json": ZERO3,
            # accelerate's own flags before the config, and a flag of another key after it
            "run.sh": "accelerate launch --num_processes 4 -m axolotl.cli.train configs/sft.yml --micro_batch_size 2\n",
        },
    )
    w = load_config(root / "configs/sft.yml").workload
    assert (w.strategy, w.zero_stage) == ("deepspeed", 1) and w.sources["zero_stage"].file.endswith("sft.yml")
    # a torchrun line of a script (not Axolotl) passing --deepspeed is not read as an Axolotl override
    root2 = repo(tmp_path / "two", {"configs/sft.yml": AXOLOTL, "run.sh": "torchrun --nproc_per_node 4 -m axolotl.cli.train configs/sft.yml\n"})
    w2 = load_config(root2 / "configs/sft.yml").workload
    assert w2.strategy == "ddp" and topo(w2) == (4, 1, 4)


def test_an_axolotl_launch_line_batch_flag_overrides_the_yaml_and_others_are_named(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yml": AXOLOTL, "run.sh": "axolotl train configs/sft.yml --micro_batch_size 8 --learning_rate 1e-5\n"})
    w = load_config(root / "configs/sft.yml").workload
    assert w.micro_batch_size == 8 and w.sources["micro_batch_size"].file.endswith("run.sh")
    assert "the YAML's own micro_batch_size (line 2) is overridden" in (w.sources["micro_batch_size"].note or "")
    assert any("`--learning_rate 1e-5` on run.sh line 1 over the YAML" in n and "not read by goblin" in n for n in w.notes)
    # a flag before the config (the launcher's own) is not an override
    root2 = repo(tmp_path / "two", {"configs/sft.yml": AXOLOTL, "run.sh": "accelerate launch --num_processes 2 -m axolotl.cli.train configs/sft.yml\n"})
    w2 = load_config(root2 / "configs/sft.yml").workload
    assert w2.micro_batch_size == 2 and w2.sources["micro_batch_size"].file.endswith("sft.yml") and not any("over the YAML" in n for n in w2.notes)
    # axolotl train's own options and the launcher's words after `--` are no config keys
    own = "axolotl train configs/sft.yml --launcher torchrun -- --nproc_per_node 4 --micro_batch_size 8\n"
    w3 = load_config(repo(tmp_path / "three", {"configs/sft.yml": AXOLOTL, "run.sh": own}) / "configs/sft.yml").workload
    assert w3.micro_batch_size == 2 and not any("over the YAML" in n for n in w3.notes)


HF_SCRIPT = """from dataclasses import dataclass, field
import transformers


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="facebook/opt-125m")


def train():
    parser = transformers.HfArgumentParser((ModelArguments, transformers.TrainingArguments))
    model_args, training_args = parser.parse_args_into_dataclasses()
    model = transformers.AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
    transformers.Trainer(model=model, args=training_args).train()
"""
BROKEN = (
    "# Train\n\n```bash\ntorchrun --nproc_per_node=8 train.py \\\n    --model_name_or_path meta-llama/Llama-2-7b-hf\n"
    "    --output_dir out \\\n    --fp16 True \\\n    --deepspeed ds_config.json\n```\n"
)


def test_a_readme_command_that_breaks_before_its_flags_is_reported_and_read_as_meant_assumed(tmp_path: Path) -> None:
    # review7b #35 codealpaca README.md:102-103: `--model_name_or_path ...` ends without `\`
    root = repo(tmp_path, {"train.py": HF_SCRIPT, "README.md": BROKEN, "ds_config.json": ZERO3})
    w = load_config(root / "train.py").workload
    said = [n for n in w.notes if "ends without" in n]
    assert said == [
        "the command on README.md:4 ends without `\\` at line 5; lines 6.. are not its arguments: the shell runs them as a command "
        "of their own, which fails; goblin reads them (`--output_dir`, `--fp16`, `--deepspeed`...) as the command's arguments, "
        "as the author meant: assumed"
    ]
    assert (w.precision, w.strategy, w.zero_stage) == ("fp16", "deepspeed", 3)
    assert not w.sources["precision"].explicit and "assumed its argument: line 5 ends without" in (w.sources["precision"].note or "")


def test_commands_whose_lines_all_continue_or_a_help_line_over_its_usage_say_nothing(tmp_path: Path) -> None:
    whole = BROKEN.replace("Llama-2-7b-hf\n", "Llama-2-7b-hf \\\n")
    root = repo(tmp_path, {"train.py": HF_SCRIPT, "README.md": whole, "ds_config.json": ZERO3})
    w = load_config(root / "train.py").workload
    assert not any("ends without" in n for n in w.notes) and w.sources["precision"].explicit and w.precision == "fp16"
    usage = "```\npython train.py --fp16 True --help\n  --output_dir OUTPUT_DIR   where to write\n```\n"
    root2 = repo(tmp_path / "two", {"train.py": HF_SCRIPT, "README.md": usage})
    assert not any("ends without" in n for n in load_config(root2 / "train.py").workload.notes)


WRAPPED_LF = """backend: llamafactory
slurm:
  partition: booster
  num_nodes: 2
  gpus_per_node: 4
llamafactory:
  model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct
  stage: sft
  do_train: true
  finetuning_type: full
  deepspeed: configs/deepspeed/z3.json
  dataset: alpaca_en_demo
  template: llama3
  cutoff_len: 2048
  per_device_train_batch_size: 2
  gradient_checkpointing: true
  bf16: true
"""


def test_a_wrapper_files_llamafactory_block_is_read_with_its_slurm_topology_and_edits_land_in_the_block(tmp_path: Path) -> None:
    # review7a #18 OpenEuroLLM post-training configs/llamafactory/long-context.yaml
    root = repo(tmp_path, {"configs/llamafactory/run.yaml": WRAPPED_LF, "configs/deepspeed/z3.json": ZERO3})
    loaded = load_config(root / "configs/llamafactory/run.yaml")
    w = loaded.workload
    assert (w.format, w.method, w.strategy, w.zero_stage, w.seq_len, w.micro_batch_size) == ("llamafactory", "full", "deepspeed", 3, 2048, 2)
    assert topo(w) == (8, 2, 4) and (w.sources["nodes"].key, w.sources["nodes"].line) == ("slurm.num_nodes", 4)
    assert (w.sources["seq_len"].key, w.sources["seq_len"].line) == ("llamafactory.cutoff_len", 14)
    assert any("the `llamafactory:` block (line 6) of a wrapper file" in n for n in w.notes)
    assert loaded.adapter.writes("micro_batch_size", 4, w, loaded.data) == {"llamafactory.per_device_train_batch_size": 4}
    text, skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, w, {"micro_batch_size": 4})
    assert not skipped and "  per_device_train_batch_size: 4\n" in text and text.count("per_device_train_batch_size") == 1


def test_a_block_the_format_does_not_accept_is_named_and_a_flat_file_or_plain_counts_are_read_as_before(tmp_path: Path) -> None:
    odd = "backend: llamafactory\nslurm:\n  num_nodes: 2\nllamafactory:\n  note: not a config\n"
    root = repo(tmp_path, {"w.yaml": odd, "flat.yaml": WRAPPED_LF.split("llamafactory:\n", 1)[1].replace("\n  ", "\n").lstrip()})
    with pytest.raises(NotATrainingConfig, match=r"its `llamafactory:` block \(line 4\) is not a config the llamafactory reader accepts"):
        load_config(root / "w.yaml")
    flat = load_config(root / "flat.yaml").workload
    assert flat.format == "llamafactory" and not any("wrapper file" in n for n in flat.notes)
    # nodes without GPUs per node in the slurm block: no topology read from it
    only_nodes = WRAPPED_LF.replace("  gpus_per_node: 4\n", "")
    root2 = repo(tmp_path / "two", {"run.yaml": only_nodes, "configs/deepspeed/z3.json": ZERO3})
    w2 = load_config(root2 / "run.yaml").workload
    assert w2.sources["world_size"].key != "slurm.num_nodes" and not any("topology from its" in n for n in w2.notes)


FLYTE_TASK = """import flytekit
from flytekit import Resources
from flytekitplugins.kfpytorch import Elastic


@flytekit.task(task_config=Elastic(nnodes=1{per}), requests=Resources(mem="120Gi", gpu="8"))
def train(model_args: dict, training_args: dict) -> None:
    pass
"""
FLYTE_README = (
    "```bash\npyflyte --config $FLYTECTL_CONFIG run --remote \\\n    --image x/y:latest \\\n    task.py train \\\n"
    '    --model_args "$(cat config/model_args.json)" \\\n    --training_args "$(cat config/training_args.json)"\n```\n'
)
TA_JSON = '{\n    "output_dir": "/tmp",\n    "per_device_train_batch_size": 1,\n    "gradient_accumulation_steps": 16,\n    "learning_rate": 0.00002\n}\n'


def test_a_pyflyte_line_gives_the_elastic_tasks_topology_and_the_model_file_it_passes(tmp_path: Path) -> None:
    # review7b #28 unionai-oss llm-fine-tuning: Elastic(nnodes=1) + Resources(gpu="8"), model in config/model_args.json
    files = {
        "task.py": FLYTE_TASK.format(per=""),
        "README.md": FLYTE_README,
        "config/training_args.json": TA_JSON,
        "config/model_args.json": '{\n    "model_name_or_path": "meta-llama/Meta-Llama-3-8B"\n}\n',
    }
    w = load_config(repo(tmp_path, files) / "config/training_args.json").workload
    assert topo(w) == (8, 1, 8) and not w.sources["gpus_per_node"].explicit
    assert "one process per GPU of its Resources(gpu=8) assumed" in (w.sources["world_size"].note or "")
    assert w.model.name == "meta-llama/Meta-Llama-3-8B" and w.sources["model"].file.endswith("model_args.json") and w.sources["model"].line == 2
    assert not any("built from a variable" in n for n in w.notes)
    # a literal nproc_per_node is stated
    w2 = load_config(repo(tmp_path / "two", {**files, "task.py": FLYTE_TASK.format(per=", nproc_per_node=2")}) / "config/training_args.json").workload
    assert topo(w2) == (2, 1, 2) and w2.sources["gpus_per_node"].explicit


def test_no_flyte_task_or_model_file_gives_nothing_from_them(tmp_path: Path) -> None:
    no_task = FLYTE_TASK.format(per="").replace("def train(", "def other(")
    files = {"task.py": no_task, "README.md": FLYTE_README, "config/training_args.json": TA_JSON}
    w = load_config(repo(tmp_path, files) / "config/training_args.json").workload
    assert w.world_size == 1 and not w.sources["world_size"].explicit and "model" not in w.sources
    assert not any("Flyte task" in n for n in w.notes)
