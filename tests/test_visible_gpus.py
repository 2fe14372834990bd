"""The GPUs a run really uses (blind review 14a #10, 14b #22/#32): a visible-device list bounds what one process sees
(`python train.py` under `CUDA_VISIBLE_DEVICES=0,...,7`: distributed.one_process_many_gpus), a script's own
`os.environ["HIP_VISIBLE_DEVICES"] = "0"` keeps a device_map="auto" load on one GPU, and a launch line's list bounds the
GPUs a trl 0.15 GRPO run's vLLM device can take. Small synthetic trees; nothing run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware

from .repo_files import write_file, write_tree

RULE = "distributed.one_process_many_gpus"
HW = get_hardware("mi300x")

TRAINER = """\
{env}from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments

parser = HfArgumentParser((TrainingArguments,))
(args,) = parser.parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B"{device_map})
Trainer(model=model, args=args).train()
"""


def _script(tmp_path: Path, launcher: str, env: str = "", device_map: str = "") -> Path:
    write_file(tmp_path, "scripts/train_sft.sh", launcher)
    return write_file(tmp_path, "train.py", TRAINER.format(env=env, device_map=device_map))


def _fired(path: Path) -> bool:
    w = load_config(path).workload
    return RULE in {r.id for r in kb.applicable(w, HW, kb.cached_rules())}


PLAIN = "export CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7\n\npython train.py --output_dir o --per_device_train_batch_size 1\n"


def test_one_process_under_eight_visible_gpus_fires(tmp_path: Path) -> None:
    path = _script(tmp_path, PLAIN)
    w = load_config(path).workload
    rule = next(r for r in kb.applicable(w, HW, kb.cached_rules()) if r.id == RULE)
    msg = kb.render_finding(rule, w, HW)
    assert "CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7 (train_sft.sh line 1) makes 8 GPUs visible" in msg
    assert "torch.nn.DataParallel" in msg and "torchrun --nproc_per_node 8 train.py" in msg
    assert "trainer.py:2711-2724" in msg and "None" not in msg


def test_one_process_without_a_visible_list_does_not_fire(tmp_path: Path) -> None:
    # never from an assumed node size: no list, no finding
    assert not _fired(_script(tmp_path, "python train.py --output_dir o\n"))


def test_one_visible_gpu_or_a_torchrun_launch_does_not_fire(tmp_path: Path) -> None:
    assert not _fired(_script(tmp_path / "a", "CUDA_VISIBLE_DEVICES=0 python train.py --output_dir o\n"))
    torchrun = "export CUDA_VISIBLE_DEVICES=0,1,2,3\ntorchrun --nproc_per_node 4 train.py --output_dir o\n"
    assert not _fired(_script(tmp_path / "b", torchrun))


def test_the_script_narrowing_to_one_gpu_does_not_fire(tmp_path: Path) -> None:
    env = 'import os\nos.environ["HIP_VISIBLE_DEVICES"] = "0"\n'
    assert not _fired(_script(tmp_path, PLAIN, env=env))


def test_the_script_own_visible_list_keeps_device_map_on_one_gpu(tmp_path: Path) -> None:
    env = 'import os\nos.environ["HIP_VISIBLE_DEVICES"] = "0"\n'
    w = load_config(_script(tmp_path, "python train.py --output_dir o\n", env=env, device_map=', device_map="auto"')).workload
    assert any("keeps the model on one GPU: the script sets HIP_VISIBLE_DEVICES=0 itself (line 2)" in n for n in w.notes)
    assert not any("may split the model" in n for n in w.notes)


def test_device_map_without_the_script_narrowing_may_still_split(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, "python train.py --output_dir o\n", device_map=', device_map="auto"')).workload
    assert not any("keeps the model on one GPU" in n for n in w.notes)


GRPO = (
    "model_name_or_path: Qwen/Qwen2.5-3B-Instruct\noutput_dir: out\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 8\n"
    "bf16: true\nmax_prompt_length: 256\nmax_completion_length: 1024\nnum_generations: 6\nuse_vllm: true\nvllm_device: auto\n"
)


def _grpo(tmp_path: Path, visible: str) -> list[str]:
    root = write_tree(
        tmp_path / "mini",
        {
            "requirements.txt": "trl==0.15.0\ntransformers==4.48.1\n",
            "grpo.yaml": GRPO,
            "main.py": "from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser\n",
            "start.sh": f"export CUDA_VISIBLE_DEVICES={visible}\naccelerate launch --num_processes 3 main.py --config grpo.yaml\n",
        },
        git=True,
    )
    return load_config(root / "grpo.yaml").workload.notes


def test_the_visible_list_bounds_the_vllm_gpu(tmp_path: Path) -> None:
    notes = _grpo(tmp_path, "0,1,2")
    assert any("CUDA_VISIBLE_DEVICES=0,1,2 (start.sh line 1) makes 3 GPUs visible" in n and "grpo_trainer.py:381-387" in n for n in notes)
    assert not any("the job uses 4 GPUs" in n for n in notes)


def test_a_fourth_visible_gpu_is_the_vllm_gpu(tmp_path: Path) -> None:
    notes = _grpo(tmp_path, "0,1,2,3")
    assert any("the job uses 4 GPUs: 3 training processes + 1 vLLM GPU" in n for n in notes)
    assert not any("makes 4 GPUs visible, the 3 training" in n for n in notes)


def test_one_process_with_deepspeed_trains_on_one_gpu_not_in_dataparallel(tmp_path: Path) -> None:
    """review14b #22 trl_mix.py:246: TrainingArguments(deepspeed=...) under `python`: the Trainer starts a DeepSpeed world
    of one process (n_gpu 1), so no DataParallel: one GPU trains and the others are idle."""
    write_file(tmp_path, "ds.json", '{"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": "auto"}\n')
    path = _script(tmp_path, PLAIN.replace("--per_device_train_batch_size 1", "--per_device_train_batch_size 1 --deepspeed ds.json"))
    w = load_config(path).workload
    assert (w.strategy or "").startswith("deepspeed")
    rule = next(r for r in kb.applicable(w, HW, kb.cached_rules()) if r.id == RULE)
    msg = kb.render_finding(rule, w, HW)
    assert "leaves the other 7 idle" in msg and "DataParallel" not in msg and "training_args.py:1875" in msg


def test_idle_visible_gpus_fail_the_item_only_where_they_are_idle_for_certain(tmp_path: Path) -> None:
    """The job, not only the step: 7 of 8 visible GPUs idle under one DeepSpeed process fail the item (review14b #22);
    a Trainer's DataParallel uses them all (slowly, unpriced), so it does not."""
    from pytest_goblin.rules import idle_gpus
    from pytest_goblin.service import audit_file
    from pytest_goblin.settings import Settings

    write_file(tmp_path, "ds.json", '{"zero_optimization": {"stage": 2}}\n')
    ds = _script(tmp_path, PLAIN.replace("--per_device_train_batch_size 1", "--per_device_train_batch_size 1 --deepspeed ds.json"))
    assert idle_gpus(load_config(ds).workload) == (7, 8, "CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7, train_sft.sh line 1")
    report = audit_file(ds, Settings(runner="projection", target="mi300x"), shown_as="train.py").report
    assert report is not None and report.verdict == "fail"
    assert report.reason.startswith("7 of the 8 GPUs the run makes visible (CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7, train_sft.sh line 1) stay idle")

    other = tmp_path / "dp"
    other.mkdir()
    dp = _script(other, PLAIN)
    assert idle_gpus(load_config(dp).workload) is None
    report = audit_file(dp, Settings(runner="projection", target="mi300x"), shown_as="train.py").report
    assert report is not None and "stay idle" not in report.reason
