"""Values a Python script or its launcher sets (issue 23; review2 classes 2 and 4): a quantization or
adapter config nothing uses, a script named relative to another folder, python-fire defaults, values
assigned in code, Python launchers that build a launch command. Small synthetic trees; nothing run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_file

# ------------------------------------------------------------------ a config built but never passed
UNUSED_BNB = """\
import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig
from trl import SFTConfig, SFTTrainer

quant_config = BitsAndBytesConfig(load_in_8bit=True)
model = AutoModelForCausalLM.from_pretrained(
    "Qwen/Qwen2.5-7B",
    dtype=torch.bfloat16,
    {use}
)
SFTTrainer(model=model, args=SFTConfig(output_dir="o", per_device_train_batch_size=2)).train()
"""


def test_a_quantization_config_passed_only_in_a_comment_is_not_read(tmp_path: Path) -> None:
    path = write_file(tmp_path, "train.py", UNUSED_BNB.replace("{use}", "# quantization_config=quant_config,"))
    loaded = load_config(path)
    assert loaded.workload.quantization == "none"
    assert any("BitsAndBytesConfig(...) is bound to a name nothing reads" in n for n in loaded.workload.notes)


def test_a_quantization_config_that_is_passed_is_read(tmp_path: Path) -> None:
    path = write_file(tmp_path, "train.py", UNUSED_BNB.replace("{use}", "quantization_config=quant_config,"))
    loaded = load_config(path)
    assert loaded.workload.quantization == "8bit"
    assert not any("nothing reads" in n for n in loaded.workload.notes)


def test_a_lora_config_nobody_uses_is_not_an_adapter(tmp_path: Path) -> None:
    text = UNUSED_BNB.replace("{use}", "").replace(
        "quant_config = BitsAndBytesConfig(load_in_8bit=True)", "from peft import LoraConfig\nlora = LoraConfig(r=8)"
    )
    used = text.replace("SFTTrainer(model=model, ", "SFTTrainer(model=model, peft_config=lora, ")
    assert load_config(write_file(tmp_path, "a/train.py", text)).workload.method == "full"
    assert load_config(write_file(tmp_path, "b/train.py", used)).workload.method == "lora"


# ------------------------------------------------------------------ a script named relative to another folder
PARSED = """\
import transformers

parser = transformers.HfArgumentParser((transformers.TrainingArguments,))
(args,) = parser.parse_args_into_dataclasses()
transformers.Trainer(model=transformers.AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B"), args=args).train()
"""


def test_a_launcher_in_a_subfolder_runs_the_script_of_its_parent(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "trainer/finetune.py", PARSED)
    write_file(tmp_path, "trainer/scripts/deepspeed/sft.sh", "deepspeed --num_gpus 4 finetune.py \\\n    --per_device_train_batch_size 3 --output_dir o\n")
    w = load_config(path).workload
    assert w.micro_batch_size == 3
    assert w.world_size == 4
    assert w.sources["micro_batch_size"].file.endswith("trainer/scripts/deepspeed/sft.sh") and w.sources["micro_batch_size"].line == 2


def test_a_nearer_file_of_the_same_name_is_the_one_run(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "trainer/finetune.py", PARSED)
    write_file(tmp_path, "trainer/scripts/finetune.py", "print('another script')\n")
    write_file(tmp_path, "trainer/scripts/deepspeed/sft.sh", "deepspeed --num_gpus 4 finetune.py --per_device_train_batch_size 3 --output_dir o\n")
    try:
        load_config(path)
    except Exception as exc:  # not collected: the reason names the line and what its path resolved to
        assert "trainer/scripts/deepspeed/sft.sh line 1 runs `finetune.py`" in str(exc)
        assert "which is trainer/scripts/finetune.py" in str(exc)
    else:
        raise AssertionError("a launcher that runs another finetune.py was read as this script's")


def test_a_cd_line_decides_where_the_script_path_is_read_from(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "trainer/finetune.py", PARSED)
    write_file(tmp_path, "trainer/scripts/finetune.py", "print('another script')\n")
    write_file(
        tmp_path, "trainer/scripts/run.sh", 'cd "$(dirname "$0")/.."\ntorchrun --nproc_per_node 2 finetune.py --per_device_train_batch_size 5 --output_dir o\n'
    )
    w = load_config(path).workload
    assert (w.micro_batch_size, w.world_size) == (5, 2)
    # without the cd the nearer scripts/finetune.py is the one that line runs
    write_file(tmp_path, "trainer/scripts/run.sh", "torchrun --nproc_per_node 2 finetune.py --per_device_train_batch_size 5 --output_dir o\n")
    from pytest_goblin.formats import launchers

    assert launchers.find_script_launch(path) is None


# ------------------------------------------------------------------ values assigned in code
ASSIGNED = """\
from dataclasses import dataclass, field
import transformers
import trl


@dataclass
class TrainingConfig:
    block_size: int = field(default=4096)


def train():
    parser = transformers.HfArgumentParser((TrainingConfig, trl.SFTConfig))
    config, args = parser.parse_args_into_dataclasses()
    model = transformers.AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B")
    args.max_seq_length = config.block_size
    trl.SFTTrainer(model, args=args).train()


if __name__ == "__main__":
    train()
"""


def test_an_attribute_set_from_a_launcher_value_is_read_where_the_pinned_trl_has_it(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "requirements.txt", "trl==0.12.0\ntransformers==4.46.1\n")
    path = write_file(tmp_path, "train/sft.py", ASSIGNED)
    write_file(
        tmp_path, "train/sft.sh", "torchrun --nproc-per-node 2 train/sft.py \\\n  --block_size=32768 \\\n  --per_device_train_batch_size=1 --output_dir o\n"
    )
    w = load_config(path).workload
    assert w.seq_len == 32768
    assert w.sources["seq_len"].file.endswith("train/sft.sh") and w.sources["seq_len"].line == 2
    assert any("args.max_seq_length = ...` sets max_seq_length" in n and "trl 0.12.0" in n for n in w.notes)


def test_an_attribute_the_running_trl_does_not_read_is_not_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "requirements.txt", "trl==1.16.0\n")  # SFTConfig calls it max_length there
    path = write_file(tmp_path, "train/sft.py", ASSIGNED)
    write_file(tmp_path, "train/sft.sh", "torchrun --nproc-per-node 2 train/sft.py --block_size=32768 --per_device_train_batch_size=1 --output_dir o\n")
    w = load_config(path).workload
    assert w.seq_len != 32768
    assert any("sets max_seq_length, which SFTConfig at trl 1.16.0" in n and "does not read" in n for n in w.notes)


# ------------------------------------------------------------------ python-fire entry points
FIRE = """\
import fire
import torch
import transformers


def train(
    base_model: str = "",
    micro_batch_size: int = 4,
    num_epochs: int = 3,
    load_8bit: bool = False,
):
    kwargs = {"load_in_8bit": True} if load_8bit else {}
    if load_8bit:
        model = transformers.AutoModelForCausalLM.from_pretrained(base_model, load_in_8bit=True)
    else:
        model = transformers.AutoModelForCausalLM.from_pretrained(base_model, torch_dtype=torch.bfloat16)
    transformers.Trainer(
        model=model,
        args=transformers.TrainingArguments(per_device_train_batch_size=micro_batch_size, num_train_epochs=num_epochs, output_dir="o"),
    ).train()


if __name__ == "__main__":
    {entry}
"""


def test_fire_defaults_are_the_values_and_the_launch_line_overrides_them(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "finetune.py", FIRE.replace("{entry}", "fire.Fire(train)"))
    w = load_config(path).workload
    assert w.micro_batch_size == 4 and w.sources["micro_batch_size"].line == 8  # the signature's default
    assert w.quantization == "none"
    write_file(
        tmp_path, "README.md", "```bash\npython finetune.py \\\n    --base_model='Qwen/Qwen2.5-7B' \\\n    --micro-batch-size 2 \\\n    --load_8bit\n```\n"
    )
    w = load_config(path).workload
    assert (w.model.name, w.micro_batch_size, w.quantization) == ("Qwen/Qwen2.5-7B", 2, "8bit")
    assert w.sources["micro_batch_size"].file.endswith("README.md") and w.sources["micro_batch_size"].line == 4


def test_a_function_fire_does_not_run_takes_no_command_line_values(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "finetune.py", FIRE.replace("{entry}", "fire.Fire()"))  # every module name a command: not read
    write_file(tmp_path, "README.md", "```bash\npython finetune.py train --micro_batch_size 2\n```\n")
    w = load_config(path).workload
    assert w.micro_batch_size != 2
    assert w.sources["micro_batch_size"].line != 8


# ------------------------------------------------------------------ launch-line keys the release rejects
def _key_findings(tmp_path: Path, parse: str, pin: str, flags: str) -> list:
    from pytest_goblin import blockers
    from pytest_goblin.hardware import get_hardware

    tmp_path.mkdir(exist_ok=True)
    (tmp_path / ".git").mkdir(exist_ok=True)
    write_file(tmp_path, "requirements.txt", pin)
    path = write_file(tmp_path, "train.py", PARSED.replace("parser.parse_args_into_dataclasses()", parse))
    write_file(tmp_path, "README.md", f"```bash\ntorchrun --nproc_per_node 4 train.py \\\n    --output_dir o \\\n    {flags}\n```\n")
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_a_launch_line_key_the_pinned_transformers_dropped_stops_the_run(tmp_path: Path) -> None:
    (f,) = _key_findings(tmp_path, "parser.parse_args_into_dataclasses()", "transformers==4.53.3\n", "--evaluation_strategy no")
    assert f.blocker and f.rule_id == "blocker.keys_rejected_at_version" and f.key == "evaluation_strategy"
    # the finding points at the launch line's own file and line (Finding.file, review10b #35), not the script's
    assert (f.file, f.line) == ("README.md", 4)
    assert "`--evaluation_strategy no`, passed by README.md line 4" in f.message
    assert "dropped it in transformers 4.51" in f.message and "pass `--eval_strategy` instead" in f.message
    assert "transformers==4.53.3" in f.message and "None" not in f.message and f.fix is None


def test_a_launch_line_key_the_pinned_release_has_is_not_flagged(tmp_path: Path) -> None:
    assert _key_findings(tmp_path, "parser.parse_args_into_dataclasses()", "transformers==4.46.3\n", "--evaluation_strategy no") == []


def test_a_parse_that_keeps_unknown_arguments_is_not_flagged_and_an_unpinned_release_is_a_requirement(tmp_path: Path) -> None:
    keeps = "parser.parse_args_into_dataclasses(return_remaining_strings=True)[:1]"
    assert _key_findings(tmp_path / "a", keeps, "transformers==4.53.3\n", "--evaluation_strategy no") == []
    (f,) = _key_findings(tmp_path / "b", "parser.parse_args_into_dataclasses()", "accelerate==1.0.0\n", "--evaluation_strategy no")
    assert not f.blocker and f.rule_id == "blocker.keys_unknown_at_version" and "assumed" in f.message


def test_a_launch_line_key_on_a_transformers_commit_goblin_cannot_place_is_not_judged(tmp_path: Path) -> None:
    # review5 #32, LLaVA-VL/LLaVA-NeXT pyproject.toml:45 transformers@git+...@1c39974a (not in commit_releases.json):
    # `--evaluation_strategy` was judged at transformers 5.25.0, the newest, assumed; the run's release is not known
    commit = "transformers @ git+https://github.com/huggingface/transformers.git@1c39974a4c4036fd641bc1191cc32799f85715a4\n"
    assert _key_findings(tmp_path / "a", "parser.parse_args_into_dataclasses()", commit, "--evaluation_strategy no") == []
    # must not: a tag of the same repository is a release, judged at it
    tag = "transformers @ git+https://github.com/huggingface/transformers.git@v4.53.3\n"
    (f,) = _key_findings(tmp_path / "b", "parser.parse_args_into_dataclasses()", tag, "--evaluation_strategy no")
    assert f.blocker and f.key == "evaluation_strategy" and "4.53.3" in f.message and "None" not in f.message


def test_a_key_the_scripts_own_dataclass_declares_is_not_flagged(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "requirements.txt", "transformers==4.53.3\n")
    own = "from dataclasses import dataclass, field\n" + PARSED.replace("(transformers.TrainingArguments,)", "(TrainingArguments,)").replace(
        "import transformers\n",
        "import transformers\n\n\n@dataclass\nclass TrainingArguments(transformers.TrainingArguments):\n    evaluation_strategy: str = field(default='no')\n",
    )
    path = write_file(tmp_path, "train.py", own)
    write_file(tmp_path, "README.md", "```bash\ntorchrun --nproc_per_node 4 train.py --output_dir o --evaluation_strategy no\n```\n")
    from pytest_goblin import blockers
    from pytest_goblin.hardware import get_hardware

    loaded = load_config(path)
    assert loaded.workload.world_size == 4  # the launch line was read
    assert [f for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")] == []


# ------------------------------------------------------------------ launch commands a Python file builds
AXOLOTL = "base_model: Qwen/Qwen2.5-0.5B\nmicro_batch_size: 2\nsequence_len: 512\nnum_epochs: 1\ndatasets:\n  - path: data.jsonl\n    type: alpaca\n"
MODAL_TRAIN = """\
import os
import subprocess

import modal

app = modal.App("ft")
GPU_CONFIG = os.environ.get("GPU_CONFIG", "a100:4")
if len(GPU_CONFIG.split(":")) <= 1:
    GPU_CONFIG = f"{GPU_CONFIG}:1"
SINGLE = os.environ.get("SINGLE", "a10g:1")


@app.function(gpu=GPU_CONFIG)
def train(folder: str):
    import torch

    cmd = f"accelerate launch --num_processes {torch.cuda.device_count()} --num_machines 1 -m axolotl.cli.train ./config.yml"
    subprocess.run(cmd, shell=True, cwd=folder)


@app.function(gpu=SINGLE)
def merge(folder: str):
    import torch

    subprocess.run(f"accelerate launch --num_processes {torch.cuda.device_count()} -m axolotl.cli.merge_lora ./config.yml", shell=True)
"""


def _modal_tree(tmp_path: Path, readme: str, train: str = MODAL_TRAIN) -> Path:
    (tmp_path / ".git").mkdir()
    config = write_file(tmp_path, "config/a.yml", AXOLOTL)
    write_file(tmp_path, "src/__init__.py", "")
    write_file(tmp_path, "src/train.py", train)
    write_file(tmp_path, "README.md", f"Run it:\n\n```bash\ngit clone https://example.invalid/ft && cd ft\n{readme}\n```\n")
    return config


def test_a_python_launcher_that_builds_the_command_gives_the_topology(tmp_path: Path) -> None:
    w = load_config(_modal_tree(tmp_path, "modal run --detach -m src.train --config=config/a.yml")).workload
    assert (w.nodes, w.gpus_per_node) == (1, 4)
    assert w.sources["world_size"].file.endswith("src/train.py") and w.sources["world_size"].line == 17
    assert any("torch.cuda.device_count()` at line 17 is the GPUs `gpu=GPU_CONFIG`" in n and "GPU_CONFIG unset: its default 'a100:4'" in n for n in w.notes)
    assert any("README.md line 5 runs src/train.py on this config" in n for n in w.notes)


def test_the_launch_lines_environment_is_what_the_python_launcher_reads(tmp_path: Path) -> None:
    w = load_config(_modal_tree(tmp_path, "GPU_CONFIG=h100:8 modal run -m src.train --config=config/a.yml")).workload
    assert w.gpus_per_node == 8
    assert any("GPU_CONFIG=h100:8 on the launch line" in n for n in w.notes)


def test_a_modal_gpu_object_count_is_read(tmp_path: Path) -> None:
    train = MODAL_TRAIN.replace("@app.function(gpu=GPU_CONFIG)", "@app.function(gpu=modal.gpu.A100(count=2))")
    w = load_config(_modal_tree(tmp_path, "modal run -m src.train --config=config/a.yml", train)).workload
    assert w.gpus_per_node == 2


def test_an_unread_gpu_count_is_not_a_topology(tmp_path: Path) -> None:
    train = MODAL_TRAIN.replace("@app.function(gpu=GPU_CONFIG)", "@app.function(gpu=pick_gpu())")
    w = load_config(_modal_tree(tmp_path, "modal run -m src.train --config=config/a.yml", train)).workload
    # the processes are not stated: assumed (said so), never read as a stated count
    assert w.sources["gpus_per_node"].file.endswith("src/train.py") and not w.sources["gpus_per_node"].explicit
    assert any("src/train.py line 17" in n and "every visible GPU per node, assumed 8" in n for n in w.notes)
    assert any("`gpu=pick_gpu()` of @app.function(...) at line 13: not read" in n for n in w.notes)


def test_a_subprocess_list_beside_the_config_names_it(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = write_file(tmp_path, "recipes/sft.yml", AXOLOTL)
    write_file(
        tmp_path,
        "recipes/launch.py",
        'import subprocess\nsubprocess.run(["torchrun", "--nnodes", "2", "--nproc_per_node", "4", "-m", "axolotl.cli.train", "sft.yml"])\n',
    )
    w = load_config(config).workload
    assert (w.nodes, w.gpus_per_node) == (2, 4)
    assert w.sources["nodes"].file.endswith("recipes/launch.py") and w.sources["nodes"].line == 2


def test_a_command_in_a_docstring_or_a_help_text_is_not_a_launcher(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = write_file(tmp_path, "recipes/sft.yml", AXOLOTL)
    write_file(
        tmp_path,
        "recipes/notes.py",
        '"""Run: torchrun --nproc_per_node 4 -m axolotl.cli.train sft.yml"""\nimport argparse\n'
        'p = argparse.ArgumentParser()\np.add_argument("--x", help="torchrun --nproc_per_node 4 -m axolotl.cli.train sft.yml")\n'
        'print("torchrun --nproc_per_node 4 -m axolotl.cli.train sft.yml")\n',
    )
    w = load_config(config).workload
    assert w.gpus_per_node != 4
    assert not any("recipes/notes.py" in (s.file or "") for s in w.sources.values())


# ------------------------------------------------------------------ commented-out pins are not pins
def test_a_commented_out_pin_is_not_a_pin(tmp_path: Path) -> None:
    from pytest_goblin.frameworks.pins import pins

    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "requirements.txt", "# transformers==4.30.0\naccelerate==1.0.0 # pinned\n")
    write_file(
        tmp_path, "setup.py", 'from setuptools import setup\nsetup(install_requires=[\n    # "trl==0.8.1",\n    "peft==0.7.1",  # trl==0.9.0 later\n])\n'
    )
    write_file(tmp_path, "Dockerfile", "FROM python:3.11\n# RUN pip install deepspeed==0.14.0\n")
    cfg = write_file(tmp_path, "sft.yaml", "model_name_or_path: Qwen/Qwen2.5-0.5B\n")
    got = pins(str(cfg), cfg.read_text())
    assert "transformers" not in got and "trl" not in got and "deepspeed" not in got
    assert got["accelerate"].version == "1.0.0" and got["accelerate"].line == 2
    assert got["peft"].version == "0.7.1" and got["peft"].line == 4


# ------------------------------------------------------------------ a local name bound once, arithmetic
COMPUTED = """\
import fire
import transformers


def train(micro_batch_size: int = 4, batch_size: int = 64):
    gradient_accumulation_steps = batch_size // micro_batch_size
{again}    transformers.Trainer(
        model=transformers.AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B"),
        args=transformers.TrainingArguments(
            per_device_train_batch_size=micro_batch_size, gradient_accumulation_steps=gradient_accumulation_steps, output_dir="o"
        ),
    ).train()


fire.Fire(train)
"""


def test_a_name_computed_once_from_known_values_is_read(tmp_path: Path) -> None:
    w = load_config(write_file(tmp_path, "finetune.py", COMPUTED.replace("{again}", ""))).workload
    assert (w.micro_batch_size, w.gradient_accumulation) == (4, 16)
    assert w.sources["gradient_accumulation"].line == 10


def test_a_name_bound_again_is_not_read(tmp_path: Path) -> None:
    again = "    if os.environ.get('WORLD_SIZE'):\n        gradient_accumulation_steps = gradient_accumulation_steps // 2\n"
    w = load_config(write_file(tmp_path, "finetune.py", "import os\n" + COMPUTED.replace("{again}", again))).workload
    assert w.gradient_accumulation == 1  # the trainer's default, said to be assumed
    assert any("gradient_accumulation_steps is computed at run time" in n for n in w.notes)


# ------------------------------------------------------------------ a Modal function that runs each config its calls pass
MODAL_SPAWN = """\
from pathlib import Path
import modal

image = modal.Image.from_registry("axolotlai/axolotl:main-20250812-py3.11-cu126-2.7.1").add_local_dir(Path(__file__).parent / "configs", "/root/configs")
app = modal.App("sft")


@app.function(image=image, gpu="H100:4")
def train(config: str, output_dir: str):
    import subprocess

    subprocess.run(f"axolotl train /root/configs/{config} --output-dir /checkpoints/{output_dir}", shell=True, check=True)


@app.function(image=image, gpu="H100:8")
def evaluate(model: str):
    import subprocess

    subprocess.run(f"accelerate launch eval.py --model {model} --data /root/configs/eval.jsonl", shell=True, check=True)


@app.local_entrypoint()
def main():
    handles = [train.spawn("full.yml", output_dir="a"), train.spawn("lora.yml", output_dir="b")]
    evaluate.remote("out")
"""


def test_a_modal_function_runs_each_config_its_calls_pass_on_its_gpus(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "sft/main.py", MODAL_SPAWN)
    for name in ("full.yml", "lora.yml"):
        w = load_config(write_file(tmp_path, f"sft/configs/{name}", AXOLOTL)).workload
        assert (w.nodes, w.gpus_per_node) == (1, 4) and w.sources["world_size"].explicit
        assert w.sources["world_size"].file.endswith("sft/main.py") and w.sources["world_size"].line == 12
        said = f"`config` and `output_dir` are {name!r}, {('a' if name == 'full.yml' else 'b')!r}, as the call(s) of train() at line(s) 24 pass it"
        assert any(said in n for n in w.notes)
        assert any("`/root/configs/" + name + "` is `configs/" + name + "` beside this file" in n for n in w.notes)
        assert any("'H100:4': 4 GPU(s)" in n and "4 GPUs visible" in n for n in w.notes)


def test_a_modal_gpu_of_a_function_that_runs_another_file_is_not_the_configs(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "sft/main.py", MODAL_SPAWN.replace('train.spawn("full.yml", output_dir="a"), ', ""))
    w = load_config(write_file(tmp_path, "sft/configs/full.yml", AXOLOTL)).workload  # no call passes it: nothing names it
    assert not w.sources["world_size"].explicit and w.gpus_per_node != 4
    assert not any("main.py line" in n for n in w.notes)


TRL_PARSED = """\
from dataclasses import dataclass, field

from trl import GRPOConfig, GRPOTrainer, TrlParser


@dataclass
class DataArguments:
    dataset: str = field(default="d")


def main(data_args, training_args):
    GRPOTrainer(model="Qwen/Qwen2.5-7B", reward_funcs=[], args=training_args).train()


if __name__ == "__main__":
    parser = TrlParser((DataArguments, GRPOConfig))
    data_args, training_args = parser.{parse}
    main(data_args, training_args)
"""


def _trl_key_findings(tmp_path: Path, parse: str, pin: str, other: str = "") -> list:
    from pytest_goblin import blockers
    from pytest_goblin.hardware import get_hardware

    tmp_path.mkdir(exist_ok=True)
    (tmp_path / ".git").mkdir(exist_ok=True)
    write_file(tmp_path, "requirements.txt", pin)
    if other:  # another script of the repository whose own dataclass has a field of that name
        write_file(tmp_path, "dpo.py", other)
    path = write_file(tmp_path, "grpo.py", TRL_PARSED.replace("{parse}", parse))
    launch = "torchrun --nproc_per_node 6 grpo.py \\\n    --output_dir o --dataset d --use_vllm true \\\n    --max_prompt_length 256 --num_generations 6\n"
    write_file(tmp_path, "grpo.sh", launch)
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_a_launch_line_key_trlparser_rejects_on_the_assumed_release_is_said(tmp_path: Path) -> None:
    # review7b #33, mesolitica/malaya session/qwen2.5/14b-lora-256-grpo.sh:26 `--max_prompt_length 256` to grpo.py's
    # TrlParser.parse_args_and_config(): GRPOConfig has it only up to trl 0.27.2; unpinned, read at 1.16.0, assumed
    other = "from dataclasses import dataclass\n\n\n@dataclass\nclass DPOArgs:\n    max_prompt_length: int = 128\n"
    (f,) = _trl_key_findings(tmp_path / "a", "parse_args_and_config()", "accelerate==1.0.0\n", other)
    assert not f.blocker and f.rule_id == "blocker.keys_unknown_at_version" and f.key == "max_prompt_length"
    assert "`--max_prompt_length 256`, passed by grpo.sh line 3" in f.message and "last in 0.27.2" in f.message
    assert "grpo.py parses its command line with TrlParser.parse_args_and_config() (line 16)" in f.message and "trl 1.16.0 trl/scripts/utils.py" in f.message
    assert "assumed trl 1.16.0" in f.message and "None" not in f.message and "Grpo.py" not in f.message
    # must not: a parse that keeps unknown arguments; a pinned release that has the key; a pinned release that lacks it
    # but whose TrlParser goblin did not read (TRL_PARSE_READ)
    assert _trl_key_findings(tmp_path / "b", "parse_args_and_config(return_remaining_strings=True)[:2]", "accelerate==1.0.0\n") == []
    assert _trl_key_findings(tmp_path / "c", "parse_args_and_config()", "trl==0.27.2\n") == []
    assert _trl_key_findings(tmp_path / "d", "parse_args_and_config()", "trl==0.29.0\n") == []
    (f,) = _trl_key_findings(tmp_path / "e", "parse_args_and_config()", "trl==1.16.0\n")
    assert f.blocker and f.rule_id == "blocker.keys_rejected_at_version" and "trl==1.16.0" in f.message
