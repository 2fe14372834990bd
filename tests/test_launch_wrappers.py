"""Launch lines that change the config they run (review7a #4, review7b #35) and wrapper files whose framework
config is one block of a larger file (review7a #18)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .test_topology import AXOLOTL, repo, topo

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
