"""Unsloth runs read as Unsloth runs them (review 8b #28): FastLanguageModel.from_pretrained's quantization,
dtype and max_seq_length defaults, and a fast_inference=True load's vLLM engine, which Unsloth's GRPOTrainer
generates with, colocated, at the load's gpu_memory_utilization (pytest_goblin/frameworks/unsloth.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_goblin.formats import load_config
from pytest_goblin.options import build_settings
from pytest_goblin.rollout import FINDING_ID
from pytest_goblin.service import audit_file

from .repo_files import fresh_root, write_tree

MI300X_GB = 206.141652992  # kb/hardware.yaml reported_bytes


def _script(load: str, trainer: str, *, head: str = "from unsloth import FastLanguageModel\nfrom trl import GRPOConfig, GRPOTrainer\n") -> str:
    return (
        head + "\n"
        "model, tokenizer = FastLanguageModel.from_pretrained(\n"
        "    model_name='Qwen/Qwen2.5-7B-Instruct',\n"
        "    max_seq_length=1024,\n" + load + ")\n"
        "model = FastLanguageModel.get_peft_model(model, r=32, lora_alpha=32)\n" + trainer
    )


GRPO = (
    "args = GRPOConfig(\n    output_dir='out',\n    per_device_train_batch_size=8,\n    gradient_accumulation_steps=4,\n    bf16=True,\n"
    "    num_generations=8,\n    max_completion_length=512,\n    use_vllm=False,\n    vllm_gpu_memory_utilization=0.2,\n)\n"
    "trainer = GRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=[len], args=args)\ntrainer.train()\n"
)
SFT = (
    "from trl import SFTConfig, SFTTrainer\n"
    "args = SFTConfig(output_dir='out', per_device_train_batch_size=2, gradient_accumulation_steps=4, bf16=True)\n"
    "trainer = SFTTrainer(model=model, processing_class=tokenizer, train_dataset=None, args=args)\ntrainer.train()\n"
)


def _audit(tmp_path: Path, text: str, name: str = "train.py") -> Any:
    path = tmp_path / name
    path.write_text(text)
    result = audit_file(path, build_settings({"target": "mi300x"}), shown_as=name)
    assert result.report is not None, result.error
    for said in [result.report.reason, result.report.inconclusive or "", *(f.message for f in result.report.findings)]:
        assert "None" not in said, said
    return result.report


def test_fast_inference_grpo_generates_on_unsloths_colocated_engine_at_the_loads_reservation(tmp_path: Path) -> None:
    r = _audit(tmp_path, _script("    load_in_4bit=False,\n    fast_inference=True,\n    gpu_memory_utilization=0.6,\n", GRPO))
    split = r.rollout
    assert split is not None and split.vllm_mode == "colocate" and split.trainer.startswith("unsloth FastLanguageModel")
    # the config's use_vllm=False and vllm_gpu_memory_utilization=0.2 are not what runs: Unsloth's engine is
    assert split.values["use_vllm"].startswith("True (set true by Unsloth's GRPOTrainer")
    assert split.values["vllm_gpu_memory_utilization"].startswith("0.6 (gpu_memory_utilization 0.6 of FastLanguageModel.from_pretrained (line 9)")
    assert split.vllm_reserved_gb == round(0.6 * MI300X_GB, 1)
    assert split.generation_ms is not None  # 16-bit weights: vLLM's decode roofline
    assert split.values["beta"].startswith("0.001 (UnslothGRPOConfig's default")
    assert any(n.startswith("Unsloth builds the training model from the vLLM engine's own weights") for n in split.not_modelled)
    assert "Unsloth builds the training model from the vLLM engine's own weights" in (r.inconclusive or "")


def test_unsloths_shared_weights_make_no_memory_finding(tmp_path: Path) -> None:
    # 0.95 x 206 GB beside the training state would be over the GPU's memory in TRL's own colocate mode
    r = _audit(tmp_path, _script("    load_in_4bit=False,\n    fast_inference=True,\n    gpu_memory_utilization=0.95,\n", GRPO))
    assert r.rollout is not None and r.rollout.training_memory_gb + r.rollout.vllm_reserved_gb > r.rollout.hbm_gb
    assert not [f for f in r.findings if f.rule_id == FINDING_ID]


def test_a_4bit_engine_and_the_default_reservation(tmp_path: Path) -> None:
    # no load_in_4bit: Unsloth's default 4-bit; no gpu_memory_utilization: its default 0.5
    r = _audit(tmp_path, _script("    fast_inference=True,\n", GRPO))
    split = r.rollout
    assert split is not None and split.vllm_reserved_gb == round(0.5 * MI300X_GB, 1)
    assert "Unsloth's default 0.5 (unsloth/models/loader.py:430" in split.values["vllm_gpu_memory_utilization"]
    assert split.generation_ms is None and any("vLLM's 4-bit decode" in n for n in split.not_modelled)


def test_grpo_without_fast_inference_gets_no_vllm(tmp_path: Path) -> None:
    r = _audit(tmp_path, _script("    load_in_4bit=False,\n", GRPO))
    assert r.rollout is not None and r.rollout.vllm_mode is None and r.rollout.vllm_reserved_gb is None
    assert not r.rollout.trainer.startswith("unsloth")


def test_trl_imported_before_unsloth_keeps_trls_own_trainer(tmp_path: Path) -> None:
    head = "from trl import GRPOConfig, GRPOTrainer\nfrom unsloth import FastLanguageModel\n"
    path = tmp_path / "train.py"
    path.write_text(_script("    load_in_4bit=False,\n    fast_inference=True,\n", GRPO, head=head))
    w = load_config(path).workload
    assert any("imports trl before unsloth" in n for n in w.notes)
    r = _audit(tmp_path, path.read_text())
    assert r.rollout is not None and r.rollout.vllm_mode is None  # the config's use_vllm=False, on TRL's own trainer


def test_fast_inference_with_another_online_trainer_says_goblin_read_grpo_only(tmp_path: Path) -> None:
    rloo = GRPO.replace("GRPOConfig", "RLOOConfig").replace("GRPOTrainer", "RLOOTrainer")
    head = "from unsloth import FastLanguageModel\nfrom trl import RLOOConfig, RLOOTrainer\n"
    r = _audit(tmp_path, _script("    fast_inference=True,\n", rloo, head=head))
    assert r.rollout is None
    assert "goblin read how Unsloth places that engine for GRPO only" in (r.inconclusive or "")


def test_fast_inference_goblin_cannot_read_gives_the_reason(tmp_path: Path) -> None:
    text = "import os\n" + _script("    fast_inference=os.environ.get('FAST') == '1',\n", GRPO)
    r = _audit(tmp_path, text)
    assert r.rollout is None and "passes fast_inference as a value goblin cannot read" in (r.inconclusive or "")


def test_plain_unsloth_sft_reads_the_loads_defaults_and_gets_no_vllm(tmp_path: Path) -> None:
    path = tmp_path / "sft.py"
    path.write_text(_script("", SFT, head="from unsloth import FastLanguageModel\n"))
    w = load_config(path).workload
    assert w.model.name == "Qwen/Qwen2.5-7B-Instruct"
    assert w.quantization == "4bit" and w.method == "qlora"  # load_in_4bit's default, loader.py:414
    assert w.weight_dtype == "bf16" and not w.sources["weight_dtype"].explicit
    assert w.seq_len == 1024 and "Unsloth's SFTTrainer takes the model's" in (w.sources["seq_len"].note or "")
    r = _audit(tmp_path, path.read_text(), "sft.py")
    assert r.rollout is None


def test_an_sft_config_length_wins_over_the_loads(tmp_path: Path) -> None:
    path = tmp_path / "sft.py"
    path.write_text(_script("", SFT.replace("bf16=True)", "bf16=True, max_length=512)"), head="from unsloth import FastLanguageModel\n"))
    assert load_config(path).workload.seq_len == 512


def test_a_keyword_that_changes_the_quantization_leaves_the_4bit_default_unapplied(tmp_path: Path) -> None:
    path = tmp_path / "sft.py"
    for load in ("    load_in_16bit=True,\n", "    full_finetuning=True,\n", "    **kwargs,\n"):
        path.write_text(_script(load, SFT, head="from unsloth import FastLanguageModel\nkwargs = {}\n"))
        assert load_config(path).workload.quantization == "none", load


def test_unsloth_imported_but_trained_with_transformers_trainer(tmp_path: Path) -> None:
    trainer = (
        "from transformers import Trainer, TrainingArguments\n"
        "args = TrainingArguments(output_dir='out', per_device_train_batch_size=2, bf16=True)\n"
        "trainer = Trainer(model=model, args=args)\ntrainer.train()\n"
    )
    path = tmp_path / "train.py"
    path.write_text(_script("    fast_inference=True,\n", trainer, head="from unsloth import FastLanguageModel\n"))
    w = load_config(path).workload
    assert "Unsloth" not in (w.sources["seq_len"].note or "")  # transformers' Trainer does not take the load's length
    r = _audit(tmp_path, path.read_text())
    assert r.rollout is None and "vLLM" not in (r.inconclusive or "")


def test_a_fast_language_model_of_another_package_is_not_unsloths(tmp_path: Path) -> None:
    path = tmp_path / "sft.py"
    path.write_text(_script("", SFT, head="from mylib import FastLanguageModel\n"))
    w = load_config(path).workload
    assert w.quantization == "none" and "Unsloth" not in (w.sources["seq_len"].note or "")
    assert not any("Unsloth" in n for n in w.notes)


def test_unsloth_standby_in_the_script_turns_sleep_mode_on(tmp_path: Path) -> None:
    text = "import os\nos.environ['UNSLOTH_VLLM_STANDBY'] = '1'\n" + _script("    load_in_4bit=False,\n    fast_inference=True,\n", GRPO)
    r = _audit(tmp_path, text)
    assert r.rollout is not None and r.rollout.values["vllm_enable_sleep_mode"].startswith("True (UNSLOTH_VLLM_STANDBY set in the script")


BARE_SFT = (
    "from trl import SFTConfig, SFTTrainer\n"
    "args = SFTConfig(output_dir='out', bf16=True)\n"
    "trainer = SFTTrainer(model=model, processing_class=tokenizer, train_dataset=None, args=args)\ntrainer.train()\n"
)


def test_an_unsloth_config_left_unset_takes_unsloths_batch_accumulation_and_optimizer(tmp_path: Path) -> None:
    path = tmp_path / "sft.py"
    path.write_text(_script("", BARE_SFT, head="from unsloth import FastLanguageModel\n"))
    w = load_config(path).workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.optimizer) == (4, 2, "adamw_8bit")  # rl.py:3263-3312@2026.8.19
    for field in ("micro_batch_size", "gradient_accumulation", "optimizer"):
        src = w.sources[field]
        assert not src.explicit and "Unsloth's SFTConfig (imported after unsloth)" in (src.note or ""), field
        assert "rl.py:3263-3312@2026.8.19" in (src.note or "")
    assert any(n.startswith("the script's SFTConfig is Unsloth's") for n in w.notes)


def test_unsloths_config_defaults_do_not_replace_what_the_script_sets_nor_trls_own_classes(tmp_path: Path) -> None:
    path = tmp_path / "sft.py"
    path.write_text(_script("", SFT, head="from unsloth import FastLanguageModel\n"))  # batch 2, accumulation 4 set
    w = load_config(path).workload
    assert (w.micro_batch_size, w.gradient_accumulation) == (2, 4) and w.sources["micro_batch_size"].explicit
    assert w.optimizer == "adamw_8bit"  # the one left unset
    # trl imported before unsloth: TRL's own SFTConfig, TRL's defaults
    path.write_text(_script("", BARE_SFT, head="from trl import SFTConfig\nfrom unsloth import FastLanguageModel\n"))
    w = load_config(path).workload
    assert w.micro_batch_size == 8 and w.gradient_accumulation == 1 and w.optimizer != "adamw_8bit"
    # transformers' TrainingArguments is not one of the classes Unsloth generates
    trainer = "from transformers import Trainer, TrainingArguments\nargs = TrainingArguments(output_dir='out')\nTrainer(model=model, args=args).train()\n"
    path.write_text(_script("", trainer, head="from unsloth import FastLanguageModel\n"))
    w = load_config(path).workload
    assert w.micro_batch_size == 8 and w.gradient_accumulation == 1


EIGHT_BIT = "blocker.unsloth_8bit_with_4bit"


def _eight_bit_findings(tmp_path: Path, load: str, pinned: str = "") -> list[Any]:
    tmp_path = write_tree(fresh_root(tmp_path, "case"), {"requirements.txt": pinned} if pinned else {})  # a repository of its own per case
    r = _audit(tmp_path, _script(load, SFT, head="from unsloth import FastLanguageModel\n"), "sft.py")
    return [f for f in r.findings if f.rule_id.startswith(EIGHT_BIT)]


def test_load_in_8bit_with_the_default_4bit_stops_at_a_pinned_release(tmp_path: Path) -> None:
    (found,) = _eight_bit_findings(tmp_path, "    load_in_8bit=True,\n", "unsloth==2025.9.6\n")
    assert found.rule_id == EIGHT_BIT and found.blocker and found.line == 6
    assert "load_in_4bit not passed, so its default True: on unsloth==2025.9.6 (requirements.txt:1)" in found.message
    assert "Can only load in 4bit or 8bit or 16bit, not a combination!" in found.message
    assert "unsloth/models/loader.py:487, :1310-1319@2026.8.19" in found.message


def test_load_in_8bit_unpinned_is_a_requirement_at_the_newest_release(tmp_path: Path) -> None:
    (found,) = _eight_bit_findings(tmp_path, "    load_in_4bit=True,\n    load_in_8bit=True,\n")
    assert found.rule_id == f"{EIGHT_BIT}_at_newest" and not found.blocker
    assert "load_in_4bit=True: on unsloth 2026.8.19, the newest release goblin read (the repository pins no unsloth release)" in found.message


def test_load_in_8bit_with_4bit_off_or_before_the_keyword_or_an_old_bitsandbytes_does_not_fire(tmp_path: Path) -> None:
    assert _eight_bit_findings(tmp_path, "    load_in_4bit=False,\n    load_in_8bit=True,\n") == []
    assert _eight_bit_findings(tmp_path, "    load_in_8bit=True,\n    full_finetuning=True,\n") == []
    assert _eight_bit_findings(tmp_path, "    load_in_8bit=False,\n") == []
    assert _eight_bit_findings(tmp_path, "    load_in_8bit=True,\n", "unsloth==2025.2.4\n") == []  # no load_in_8bit keyword yet
    # on ROCm Unsloth drops 4-bit and 8-bit rather than raising without a bitsandbytes newer than 0.48.2.dev0
    assert _eight_bit_findings(tmp_path, "    load_in_8bit=True,\n", "unsloth==2025.9.6\nbitsandbytes==0.45.0\n") == []


def test_the_pinned_unsloth_release_is_said_beside_the_one_read(tmp_path: Path) -> None:
    def notes(pinned: str) -> list[str]:
        files = {"sft.py": _script("", SFT, head="from unsloth import FastLanguageModel\n")}
        if pinned:
            files["requirements.txt"] = pinned
        return load_config(write_tree(fresh_root(tmp_path, "case"), files) / "sft.py").workload.notes

    said = notes("unsloth==2025.3.11\nunsloth_zoo==2025.3.9\n")
    assert any(
        n.startswith("the repository pins unsloth==2025.3.11 (requirements.txt:1); Unsloth's defaults are read at unsloth 2026.8.19, not at the pinned")
        for n in said
    ), said
    assert any(n.endswith("the release Unsloth's defaults are read at") for n in notes("unsloth==2026.8.19\n"))
    said = notes("unsloth[cu124-torch250] @ git+https://github.com/unslothai/unsloth.git\n")
    assert any("unsloth @ git+https://github.com/unslothai/unsloth.git" in n and "not at the pinned" in n for n in said), said
    assert any(n.startswith("the repository pins no unsloth release") for n in notes(""))
    # a README's install line is read as the other frameworks' are
    readme = "# Setup\n\n```bash\npip install unsloth==2025.9.6\n```\n"
    repo = tmp_path / "readme"
    repo.mkdir()
    (repo / "README.md").write_text(readme)
    (repo / "sft.py").write_text(_script("", SFT, head="from unsloth import FastLanguageModel\n"))
    assert any(n.startswith("the repository pins unsloth==2025.9.6 (README.md:4)") for n in load_config(repo / "sft.py").workload.notes)


GRPO_BATCH = (
    "args = GRPOConfig(output_dir='out', per_device_train_batch_size=2, num_generations=6, max_completion_length=256, bf16=True)\n"
    "trainer = GRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=[len], args=args)\ntrainer.train()\n"
)


def _grpo_repo(tmp_path: Path, trainer: str, head: str = "from unsloth import FastLanguageModel\nfrom trl import GRPOConfig, GRPOTrainer\n") -> Path:
    files = {"run.sh": "#!/bin/bash\ntorchrun --nproc_per_node 1 train.py\n", "train.py": _script("    load_in_4bit=False,\n", trainer, head=head)}
    return write_tree(tmp_path, files) / "train.py"


def test_unsloths_grpo_config_sets_a_batch_of_no_whole_groups_to_num_generations(tmp_path: Path) -> None:
    path = _grpo_repo(tmp_path, GRPO_BATCH)
    w = load_config(path).workload
    assert w.micro_batch_size == 6 and "Unsloth's GRPOConfig sets per_device_train_batch_size to 6 before TRL checks it" in (
        w.sources["micro_batch_size"].note or ""
    )
    assert "per_device_train_batch_size 2 x gradient_accumulation_steps 2 x 1 GPU(s)" in (w.sources["micro_batch_size"].note or "")
    r = _audit(tmp_path, path.read_text())
    assert not [f for f in r.findings if f.rule_id.startswith("blocker.grpo_")]  # TRL's whole-groups ValueError is not met


def test_a_batch_of_whole_groups_or_trls_own_grpo_config_is_not_changed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    w = load_config(_grpo_repo(tmp_path / "a", GRPO_BATCH.replace("num_generations=6", "num_generations=4"))).workload
    assert w.micro_batch_size == 2 and w.sources["micro_batch_size"].explicit
    (tmp_path / "b").mkdir()
    head = "from trl import GRPOConfig, GRPOTrainer\nfrom unsloth import FastLanguageModel\n"
    w = load_config(_grpo_repo(tmp_path / "b", GRPO_BATCH, head=head)).workload
    assert w.micro_batch_size == 2 and w.gradient_accumulation == 1


def test_unsloths_get_peft_model_checkpointing_is_turned_off_there_not_in_the_config(tmp_path: Path) -> None:
    """review13b #26: get_peft_model turns checkpointing on by default (use_gradient_checkpointing="unsloth") and Unsloth's
    trainer keeps that mode over the config's gradient_checkpointing (frameworks/unsloth.PEFT_CHECKPOINTING_KEPT_AT)."""
    path = tmp_path / "train.py"
    path.write_text(_script("    load_in_4bit=False,\n", SFT, head="from unsloth import FastLanguageModel\n"))
    w = load_config(path).workload
    assert w.gradient_checkpointing is True and w.sources["gradient_checkpointing"].line == 8
    r = _audit(tmp_path, path.read_text())
    found = [f for f in r.findings if f.rule_id == "memory.disable_checkpointing_when_hbm_free"]
    assert len(found) == 1
    said = found[0].message
    assert "`FastLanguageModel.get_peft_model(...)` at line 8 turns gradient checkpointing on (use_gradient_checkpointing='unsloth' by default" in said
    assert "pass use_gradient_checkpointing=False there" in said
    assert r.patch is not None and "memory.disable_checkpointing_when_hbm_free" in r.patch.skipped
    assert "gradient_checkpointing" not in r.patch.diff


def test_unsloths_get_peft_model_with_checkpointing_off_or_peft_s_own_is_not_read_as_on(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    off = _script("    load_in_4bit=False,\n", SFT, head="from unsloth import FastLanguageModel\n").replace(
        "r=32, lora_alpha=32)", "r=32, lora_alpha=32, use_gradient_checkpointing=False)"
    )
    path.write_text(off)
    assert "get_peft_model" not in (load_config(path).workload.sources["gradient_checkpointing"].note or "")
    plain = (
        "from peft import LoraConfig, get_peft_model\nfrom transformers import AutoModelForCausalLM\nfrom trl import SFTConfig, SFTTrainer\n"
        "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-7B-Instruct')\nmodel = get_peft_model(model, LoraConfig(r=8))\n"
        "args = SFTConfig(output_dir='out', per_device_train_batch_size=2, gradient_checkpointing=False, bf16=True)\n"
        "SFTTrainer(model=model, train_dataset=None, args=args).train()\n"
    )
    path.write_text(plain)
    assert load_config(path).workload.gradient_checkpointing is False
