"""The launch line that really runs a config or script (blind review 14a #11, 14b #23/#24): a CPU/debug line
(`CUDA_VISIBLE_DEVICES=""`, accelerate `use_cpu: true` or `--cpu`) and a line of placeholder values lose to a complete
GPU line that launches the same script; a CPU line alone is said and its words are not read. Small synthetic trees."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launch_demote import placeholder_words

from .repo_files import write_file

SCRIPT = """\
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments
from trl import ModelConfig

parser = HfArgumentParser((TrainingArguments, ModelConfig))
args, model_args = parser.parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
Trainer(model=model, args=args).train()
"""

CPU_LINE = """\
CUDA_VISIBLE_DEVICES="" \\
accelerate launch --config_file {cfg} train.py \\
    --model_name_or_path Qwen/Qwen2.5-0.5B --output_dir o --fp16 --per_device_train_batch_size 2
"""

GPU_LINE = """\
CUDA_VISIBLE_DEVICES="0,1,2,3" \\
accelerate launch --num_processes 4 train.py \\
    --model_name_or_path Qwen/Qwen2.5-3B --output_dir o --bf16 --per_device_train_batch_size 16
"""

CPU_YAML = "compute_environment: LOCAL_MACHINE\ndistributed_type: 'NO'\nmixed_precision: fp16\nnum_processes: 1\nuse_cpu: true\n"
GPU_YAML = "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_processes: 4\nuse_cpu: false\n"


def test_a_cpu_debug_launcher_loses_to_the_gpu_launcher(tmp_path: Path) -> None:
    write_file(tmp_path, "scripts/a_debug.sh", CPU_LINE.format(cfg="debug_cpu.yaml"))
    write_file(tmp_path, "scripts/debug_cpu.yaml", CPU_YAML)
    write_file(tmp_path, "scripts/run.sh", GPU_LINE)
    w = load_config(write_file(tmp_path, "scripts/train.py", SCRIPT)).workload
    assert w.world_size == 4 and w.precision == "bf16" and w.micro_batch_size == 16
    assert "run.sh" in (w.sources["world_size"].file or "")
    assert "topology ambiguous" not in (w.sources["world_size"].note or "")
    assert any("a_debug.sh line 1 also launches it but runs on the CPU" in n for n in w.notes)


def test_use_cpu_in_the_accelerate_config_makes_a_cpu_line(tmp_path: Path) -> None:
    cpu = CPU_LINE.replace('CUDA_VISIBLE_DEVICES="" \\\n', "")
    write_file(tmp_path, "scripts/a_debug.sh", cpu.format(cfg="debug_cpu.yaml"))
    write_file(tmp_path, "scripts/debug_cpu.yaml", CPU_YAML)
    write_file(tmp_path, "scripts/run.sh", GPU_LINE)
    w = load_config(write_file(tmp_path, "scripts/train.py", SCRIPT)).workload
    assert w.precision == "bf16" and w.world_size == 4
    assert any("`use_cpu: true`" in n and "accelerate v1.14.0" in n for n in w.notes)


def test_a_cpu_launcher_alone_is_said_and_gives_no_topology(tmp_path: Path) -> None:
    write_file(tmp_path, "scripts/a_debug.sh", CPU_LINE.format(cfg="debug_cpu.yaml"))
    write_file(tmp_path, "scripts/debug_cpu.yaml", CPU_YAML)
    w = load_config(write_file(tmp_path, "scripts/train.py", SCRIPT)).workload
    assert "a_debug.sh" not in (w.sources["world_size"].file or "")
    assert any("a_debug.sh line 1, runs on the CPU" in n and "a debug run's" in n for n in w.notes)


def test_a_gpu_launcher_with_a_gpu_accelerate_config_is_not_a_cpu_run(tmp_path: Path) -> None:
    # must not fire: use_cpu false, GPUs visible; the first line found is read as before
    write_file(tmp_path, "scripts/a_first.sh", CPU_LINE.replace('CUDA_VISIBLE_DEVICES="" \\\n', "").format(cfg="gpu.yaml"))
    write_file(tmp_path, "scripts/gpu.yaml", GPU_YAML)
    write_file(tmp_path, "scripts/run.sh", GPU_LINE)
    w = load_config(write_file(tmp_path, "scripts/train.py", SCRIPT)).workload
    assert w.precision == "fp16" and w.micro_batch_size == 2
    assert not any("runs on the CPU" in n for n in w.notes)


PLACEHOLDER_LINE = """\
torchrun --nproc_per_node=8 train.py --model_name_or_path <PATH-TO-Qwen2-VL-2B-Instruct> --output_dir <OUTPUT_DIR> \\
    --per_device_train_batch_size 1
"""
COMPLETE_LINE = """\
export CUDA_VISIBLE_DEVICES=0,1,2,3
torchrun --nproc_per_node=4 train.py --model_name_or_path Qwen/Qwen2-VL-2B --output_dir out --per_device_train_batch_size 2
"""


def test_a_placeholder_launch_line_loses_to_the_complete_one(tmp_path: Path) -> None:
    write_file(tmp_path, "run.sh", PLACEHOLDER_LINE)
    write_file(tmp_path, "run_sat.sh", COMPLETE_LINE)
    w = load_config(write_file(tmp_path, "train.py", SCRIPT)).workload
    assert w.model.name == "Qwen/Qwen2-VL-2B" and w.world_size == 4 and w.micro_batch_size == 2
    assert "topology ambiguous" not in (w.sources["world_size"].note or "")
    assert any("run.sh line 1 also launches it but passes placeholder values" in n for n in w.notes)


def test_a_placeholder_line_alone_is_still_read(tmp_path: Path) -> None:
    # must not fire: no complete sibling, the placeholder line stays the one read
    write_file(tmp_path, "run.sh", PLACEHOLDER_LINE)
    w = load_config(write_file(tmp_path, "train.py", SCRIPT)).workload
    assert w.world_size == 8 and w.micro_batch_size == 1
    assert not any("also launches it but" in n for n in w.notes)


def test_placeholder_words() -> None:
    assert placeholder_words(("--model", "/path/to/model", "--x", "YOUR_MODEL", "--o=<out>")) == ["/path/to/model", "YOUR_MODEL", "<out>"]
    assert placeholder_words(("--model", "$MODEL", "--model", "Qwen/Qwen2.5-7B", "--output_dir", "out")) == []
