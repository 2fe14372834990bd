"""What holds whatever the model's size is listed, not dropped with the guesses (review7b class 1 and 8):
#26 rhymes-ai/Aria config_full offloads ZeRO-3 parameters and optimizer on 8 GPUs for a model goblin cannot size
(rules.offload_bound: every model up to a bound fits without it); #36 a GRPO recipe that evaluates every optimizer step
over an eval set of unstated size (rollout.eval_floor: one eval batch is the least an evaluation costs); #25 a recipe
whose launched script trains with the repository's own preference trainer (formats.launched.custom_preference)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_goblin.options import build_settings
from pytest_goblin.rollout import EVAL_ID
from pytest_goblin.rules import OFFLOAD_BOUND_ID
from pytest_goblin.service import audit_file

from .repo_files import write_tree

ACCELERATE = (
    "compute_environment: LOCAL_MACHINE\ndeepspeed_config:\n  offload_optimizer_device: {dev}\n  offload_param_device: {pdev}\n"
    "  zero3_init_flag: true\n  zero_stage: 3\ndistributed_type: DEEPSPEED\nmixed_precision: bf16\nnum_machines: 1\nnum_processes: 8\n"
)
SCRIPT = (
    "from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser\n"
    "parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))\n"
    "script_args, training_args, model_args = parser.parse_args_and_config()\n"
    "SFTTrainer(model=model_args.model_name_or_path, args=training_args).train()\n"
)

LORA_SCRIPT = (
    "from peft import LoraConfig, get_peft_model\n"
    "from transformers import AutoModelForCausalLM\n"
    "from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser\n"
    "parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))\n"
    "script_args, training_args, model_args = parser.parse_args_and_config()\n"
    "model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path), LoraConfig(r=8))\n"
    "SFTTrainer(model=model, args=training_args).train()\n"
)


def _audit(path: Path) -> Any:
    result = audit_file(path, build_settings({"target": "mi300x"}), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def _sft(tmp: Path, model: str, *, offload: bool = True, micro: int = 4, script: str = SCRIPT, params: bool = True) -> Any:
    files = {
        "acc/zero3_offload.yaml": ACCELERATE.format(dev="cpu", pdev="cpu" if params else "none"),
        "acc/zero3.yaml": ACCELERATE.format(dev="none", pdev="none"),
        "run.sh": f"accelerate launch --config_file acc/{'zero3_offload' if offload else 'zero3'}.yaml train.py --config sft.yaml\n",
        "train.py": script,
        "sft.yaml": (
            f"model_name_or_path: {model}\nbf16: true\nper_device_train_batch_size: {micro}\ngradient_accumulation_steps: 2\n"
            "gradient_checkpointing: true\nmax_length: 2048\nlearning_rate: 1.0e-5\n"
        ),
    }
    return _audit(write_tree(tmp, files) / "sft.yaml")


def _ids(report: Any) -> set[str]:
    return {f.rule_id for f in report.findings}


def test_offload_of_an_unsized_model_is_listed_with_the_bound_it_holds_for(tmp_path: Path) -> None:
    report = _sft(tmp_path, "acme/mystery-model")
    found = [f for f in report.findings if f.rule_id == OFFLOAD_BOUND_ID]
    assert len(found) == 1, _ids(report)
    msg = found[0].message
    # the offload keys where they are set, the bound in the config's own numbers, the repository's file without offload
    assert "`deepspeed_config.offload_param_device`, acc/zero3_offload.yaml line 4" in msg
    assert "any model up to 75B parameters" in msg and "DeepSpeed ZeRO-3 on 8 GPUs (run.sh line 1)" in msg
    assert "point the launch at acc/zero3.yaml" in msg
    assert "None" not in msg
    # the verdict still waits for the size, and its reason says what is listed
    assert report.verdict == "warn" and report.inconclusive is not None
    assert "size unknown" in report.inconclusive and f"up to 75B parameters ({OFFLOAD_BOUND_ID}, listed)" in report.inconclusive


def test_a_method_set_in_code_is_priced_as_a_full_fine_tune(tmp_path: Path) -> None:
    """The config's keys do not set the method; the script wraps the model in LoRA in code (review7b #26 read LoRA from a
    `setup_peft` the run never reaches): the bound is priced at a full fine-tune, the most state any method keeps."""
    lora = _sft(tmp_path, "acme/mystery-model", script=LORA_SCRIPT)
    msg = next(f for f in lora.findings if f.rule_id == OFFLOAD_BOUND_ID).message
    assert "(full bf16," in msg and "priced as a full fine-tune: the config's keys do not set the method (goblin read lora)" in msg
    assert "any model up to 75B parameters" in msg  # the same bound as the SFT script's full fine-tune


@pytest.mark.parametrize(
    ("model", "offload", "micro"),
    [
        # the offload is needed: a 70B full fine-tune at micro-batch 16 does not fit 8 GPUs without it (memory rules judge
        # a sized model; at micro-batch 4 memory.cpu_offload_when_it_fits fires, so the size is what decides)
        ("meta-llama/Llama-2-70b-hf", True, 16),
        # no offload to remove
        ("acme/mystery-model", False, 4),
    ],
)
def test_no_offload_bound_where_the_offload_is_needed_or_absent(tmp_path: Path, model: str, offload: bool, micro: int) -> None:
    report = _sft(tmp_path, model, offload=offload, micro=micro)
    assert OFFLOAD_BOUND_ID not in _ids(report)
    assert "memory.cpu_offload_when_it_fits" not in _ids(report)


def test_an_adapters_optimizer_offload_is_no_bound_finding(tmp_path: Path) -> None:
    """Only the optimizer state offloaded, and a LoRA run (review7b #34's QLoRA DPO with ZeRO-2 offload_optimizer):
    what the offload moves is the adapter's, small whatever the size, so nothing certain is left to report."""
    report = _sft(tmp_path, "acme/mystery-model", script=LORA_SCRIPT, params=False)
    assert OFFLOAD_BOUND_ID not in _ids(report)
    full = _sft(tmp_path, "acme/mystery-model", params=False)  # a full fine-tune's optimizer state is not small
    assert OFFLOAD_BOUND_ID in _ids(full)


def test_a_sized_model_is_judged_by_the_memory_rule_not_the_bound(tmp_path: Path) -> None:
    report = _sft(tmp_path, "meta-llama/Llama-2-70b-hf", micro=4)
    assert "memory.cpu_offload_when_it_fits" in _ids(report) and OFFLOAD_BOUND_ID not in _ids(report)


def test_an_unsized_model_with_nothing_size_independent_keeps_todays_reason(tmp_path: Path) -> None:
    report = _sft(tmp_path, "acme/mystery-model", offload=False)
    assert report.inconclusive is not None and "size unknown" in report.inconclusive
    assert "listed" not in report.inconclusive and report.inconclusive.endswith("the Hub with goblin_hub)")


GRPO_SCRIPT = (
    "from trl import GRPOConfig, GRPOTrainer, ModelConfig, ScriptArguments, TrlParser\n"
    "parser = TrlParser((ScriptArguments, GRPOConfig, ModelConfig))\n"
    "script_args, training_args, model_args = parser.parse_args_and_config()\n"
    "GRPOTrainer(model=model_args.model_name_or_path, reward_funcs=[], args=training_args).train()\n"
)


def _grpo(tmp: Path, evals: str) -> Any:
    files = {
        "setup.py": 'from setuptools import setup\nsetup(name="x", install_requires=["trl==0.18.0"])\n',
        "grpo.py": GRPO_SCRIPT,
        "run.sh": "accelerate launch --num_processes 2 grpo.py --config grpo.yaml --vllm_mode colocate\n",
        "grpo.yaml": (
            "model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct\nbf16: true\nuse_vllm: true\nper_device_train_batch_size: 1\n"
            "gradient_accumulation_steps: 4\nnum_generations: 4\nmax_prompt_length: 1024\nmax_completion_length: 1024\n"
            f"per_device_eval_batch_size: 4\nlogging_steps: 1\n{evals}"
        ),
    }
    return _audit(write_tree(tmp, files) / "grpo.yaml")


def test_grpo_evaluating_every_step_is_a_finding_with_its_floor(tmp_path: Path) -> None:
    report = _grpo(tmp_path, "eval_strategy: steps\n")
    found = [f for f in report.findings if f.rule_id == EVAL_ID]
    assert len(found) == 1, _ids(report)
    msg = found[0].message
    assert "evaluates every 1 optimizer step (`eval_strategy`, line 11; `logging_steps`, line 10" in msg
    assert "an assumed eval set of 4 completions per GPU of 1024 prompt + 1024 completion tokens" in msg
    assert "grpo_trainer.py:962-964,976-981,1406-1411" in msg and "None" not in msg
    assert report.verdict == "warn" and report.inconclusive is not None  # online RL stays inconclusive


@pytest.mark.parametrize("evals", ["eval_strategy: steps\neval_steps: 500\n", "eval_strategy: 'no'\n", ""])
def test_grpo_evaluating_rarely_or_never_is_no_finding(tmp_path: Path, evals: str) -> None:
    assert EVAL_ID not in _ids(_grpo(tmp_path, evals))


DPO_KEYS = (
    "model_name_or_path: alignment-handbook/zephyr-7b-sft-full\nbeta: 0.01\nmax_prompt_length: 512\nmax_length: 1024\nbf16: true\n"
    "per_device_train_batch_size: 2\ngradient_accumulation_steps: 4\nlearning_rate: 5.0e-7\nnum_train_epochs: 1\noutput_dir: out\n"
)


def test_a_launched_repository_preference_trainer_is_the_reason(tmp_path: Path) -> None:
    """review7b #25 wx-zhang/bfpo: bfpo.sh runs scripts/run_bfpo.py on the recipe, whose BFPOTrainer subclasses the
    repository's own DPOTrainer(Trainer): the reason names it, not 'no launch line runs a script'."""
    (tmp_path / "src" / "trainer").mkdir(parents=True)
    (tmp_path / "src" / "__init__.py").write_text("")
    (tmp_path / "src" / "trainer" / "__init__.py").write_text("")
    (tmp_path / "src" / "trainer" / "dpo.py").write_text("from transformers import Trainer\n\n\nclass DPOTrainer(Trainer):\n    pass\n")
    (tmp_path / "src" / "trainer" / "bfpo.py").write_text("from src.trainer.dpo import DPOTrainer\n\n\nclass BFPOTrainer(DPOTrainer):\n    pass\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "run_bfpo.py").write_text(
        "from src.trainer.bfpo import BFPOTrainer\n\n\ndef main():\n    trainer = BFPOTrainer(model=None)\n    trainer.train()\n"
    )
    (tmp_path / "bfpo.sh").write_text("accelerate launch --num_processes=4 scripts/run_bfpo.py recipe.yaml\n")
    cfg = tmp_path / "recipe.yaml"
    cfg.write_text(DPO_KEYS)
    why = _audit(cfg).inconclusive
    assert why is not None and "a repository preference trainer goblin does not model" in why
    assert "scripts/run_bfpo.py, run on this file by bfpo.sh line 1" in why
    assert "BFPOTrainer (src/trainer/bfpo.py:4)" in why and "DPOTrainer (src/trainer/dpo.py:4, bases: Trainer)" in why
    assert "no launch line" not in why


def test_a_preference_recipe_no_launch_line_runs_keeps_its_reason(tmp_path: Path) -> None:
    cfg = tmp_path / "recipe.yaml"
    cfg.write_text(DPO_KEYS)
    why = _audit(cfg).inconclusive
    assert why is not None and "no launch line in its repository runs a script goblin could read the trainer from" in why


def test_no_bound_on_an_assumed_world_size(tmp_path: Path) -> None:
    """The sharding divides the state by the world size: with no launcher stating it, the bound would be a guess."""
    (tmp_path / "ds.json").write_text('{"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "cpu"}, "offload_param": {"device": "cpu"}}}\n')
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(
        "model_name_or_path: acme/mystery-model\nbf16: true\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\n"
        "gradient_checkpointing: true\nmax_length: 2048\nlearning_rate: 1.0e-5\ndeepspeed: ds.json\n"
    )
    report = _audit(cfg)
    assert OFFLOAD_BOUND_ID not in _ids(report)
    cfg.write_text(cfg.read_text() + "# torchrun --nproc_per_node 8 train.py --config sft.yaml\n")
    assert OFFLOAD_BOUND_ID in _ids(_audit(cfg))  # stated in the file's own launch line


# A config.json in rhymes-ai/Aria's layout (its own keys, aria/model/moe_lm.py:54-80@9b25fec; the sizes are made up)
ARIA_LIKE = {
    "model_type": "aria",
    "text_config": {
        "model_type": "aria_moe_lm",
        "hidden_size": 2048,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "num_key_value_heads": 16,
        "intermediate_size": 8192,
        "moe_intermediate_size": 1024,
        "moe_num_experts": 32,
        "moe_topk": 4,
        "moe_num_shared_experts": 2,
        "vocab_size": 64000,
    },
}


def test_an_aria_config_is_read_with_its_experts() -> None:
    from pytest_goblin.hubconfig import shape_from_config

    shape = shape_from_config("acme/moe-vlm", ARIA_LIKE)
    assert shape is not None and shape.n_experts == 32 and shape.experts_per_token == 4
    # 24 x (attention 2048 x 128 x 64 + 3 x 2048 x 1024 x (32 + 2)) + 64000 x 2048 x 2 = 5.80B, not the 1.87B of a dense
    # read at intermediate_size; active: 4 routed + 2 shared experts, 1.57B
    assert shape.params_b == 5.8 and shape.active_params_b == 1.57


def test_a_model_goblin_can_size_is_judged_by_the_memory_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The FAIL route of review7b #26: with the model's config.json in the HF cache, the size is known, the memory rule
    judges the offload and the verdict no longer waits for the size."""
    import json

    snap = tmp_path / "hf" / "models--acme--moe-vlm" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(ARIA_LIKE))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    tree = tmp_path / "repo"
    tree.mkdir()
    report = _sft(tree, "acme/moe-vlm")
    assert "memory.cpu_offload_when_it_fits" in _ids(report) and OFFLOAD_BOUND_ID not in _ids(report)
    assert report.inconclusive is None or "size unknown" not in report.inconclusive
