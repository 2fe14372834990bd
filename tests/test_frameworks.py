"""Framework tables (read from each framework's source) and the edit validation built on them."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import check_key, check_writes, tables, torchtune_recipe
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch

from .repo_files import write_tree


def _installed(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


@pytest.mark.parametrize("name", sorted(tables.SPECS))
def test_shipped_table_matches_the_installed_framework(name: str) -> None:
    """Regenerate from the installed package's source; skipped where it is not installed at that version."""
    shipped = json.loads((tables.OUT_DIR / f"{name}.json").read_text())
    have = _installed(tables.SPECS[name][0])
    if have is None or have != shipped["version"]:
        pytest.skip(f"{name} {shipped['version']} is not installed here (have {have})")
    assert tables.build_installed(name) == shipped


def test_tables_carry_versions_and_lines() -> None:
    for name in [*tables.SPECS, "axolotl"]:
        t = tables.shipped(name)
        assert t["version"] and t["origin"]
        for cls in t.get("classes", {}).values():
            for entry in cls["fields"].values():
                assert isinstance(entry["line"], int) and entry["line"] > 0


def test_trl_defaults_come_from_base_config() -> None:
    f = tables.class_fields("trl", "SFTConfig")
    assert f["gradient_checkpointing"]["default"] is True and f["gradient_checkpointing"]["file"].endswith("base_config.py")
    assert f["bf16"]["default"] is None  # resolved to `not fp16` in __post_init__
    assert "per_device_train_batch_size" in f and f["per_device_train_batch_size"]["framework"] == "transformers"
    assert "AsyncGRPOConfig" in tables.table("trl")["classes"]


def test_llamafactory_v1_rejects_keys_of_the_classic_layout() -> None:
    data = {"model": "Qwen/Qwen3-0.6B", "train_dataset": "x", "micro_batch_size": 1}
    for key in ("optim", "torch_compile", "enable_liger_kernel", "dataloader_num_workers"):
        why = check_key("llamafactory", data, key, True)
        assert why and "stop at start-up" in why, key
    for key in ("optim_config", "kernel_config", "batching_workers", "enable_activation_checkpointing"):
        assert check_key("llamafactory", data, key, 4) is None, key


def test_classic_llamafactory_accepts_trainer_keys_and_checks_values() -> None:
    data = {"model_name_or_path": "x", "stage": "sft"}
    assert check_key("llamafactory", data, "optim", "adamw_torch_fused") is None
    assert check_key("llamafactory", data, "enable_liger_kernel", True) is None
    assert "not an accepted value" in (check_key("llamafactory", data, "optim", "adamw_turbo") or "")


def test_axolotl_unknown_key_is_named_as_ignored() -> None:
    assert check_key("axolotl", {"base_model": "x"}, "dataloader_num_workers", 4) is None
    assert "not an Axolotl key" in (check_key("axolotl", {"base_model": "x"}, "torch_compile_everything", True) or "")


QAT = """\
# Config for multi-device QAT full finetuning in qat_distributed.py
#   tune run --nnodes 1 --nproc_per_node 8 qat_distributed --config llama3_1/8B_qat_full
model:
  _component_: torchtune.models.llama3_1.llama3_1_8b
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
  max_seq_len: 2048
dataset:
  _component_: torchtune.datasets.alpaca_dataset
batch_size: 2
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
gradient_accumulation_steps: 1
dtype: bf16
enable_activation_checkpointing: True
compile: False
"""


def test_torchtune_qat_never_gets_compile(tmp_path: Path) -> None:
    path = tmp_path / "8B_qat_full.yaml"
    path.write_text(QAT)
    assert torchtune_recipe(str(path), QAT)[0] == "qat_distributed"
    bad = check_writes("torchtune", str(path), QAT, {}, {"compile": True})
    assert "raises" in bad["compile"] and "qat_distributed.py" in bad["compile"]
    loaded = load_config(path)
    rule = next(r for r in kb.cached_rules() if r.id == "compile.torch_compile")
    patch = build_patch(loaded, [rule], get_hardware("mi300x"), "p1")
    assert not patch.edits and "compile" not in patch.diff
    assert "raises" in patch.skipped["compile.torch_compile"]


def test_torchtune_lora_recipe_accepts_compile(tmp_path: Path) -> None:
    text = QAT.replace("qat_distributed", "lora_finetune_distributed").replace("llama3_1_8b", "lora_llama3_1_8b")
    path = tmp_path / "8B_lora.yaml"
    path.write_text(text)
    assert check_writes("torchtune", str(path), text, {}, {"compile": True}) == {}


def test_axolotl_ebft_strided_rejects_compile_with_checkpointing() -> None:
    from pytest_goblin.frameworks import check_writes

    data = {"base_model": "x", "rl": "ebft", "ebft": {"mode": "strided"}, "gradient_checkpointing": True}
    assert "validation.py:1802" in check_writes("axolotl", "a.yaml", "", data, {"torch_compile": True})["torch_compile"]
    assert check_writes("axolotl", "a.yaml", "", {**data, "gradient_checkpointing": False}, {"torch_compile": True}) == {}


def test_plain_training_arguments_script_gets_no_trl_keys() -> None:
    assert "TrainingArguments" in (check_key("python", {}, "packing", True, "TrainingArguments") or "")
    assert check_key("python", {}, "use_liger_kernel", True, "TrainingArguments") is None
    assert check_key("python", {}, "packing", True, "SFTConfig") is None


# An ORPO recipe (alignment-handbook recipes/zephyr-141b-A35b/orpo/config_full.yaml, trimmed): `beta`
# and `max_prompt_length` are no proof of DPO; the folder and the comment name the trainer.
ORPO_KEYS = "model_name_or_path: mistral-community/Mixtral-8x22B-v0.1\nbeta: 0.05\nmax_length: 2048\nmax_prompt_length: 1792\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 1\n"


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        ("recipes/zephyr/orpo/config_full.yaml", ORPO_KEYS, "ORPOConfig"),
        ("recipes/zephyr/config_full.yaml", "# ORPOTrainer arguments\n" + ORPO_KEYS, "ORPOConfig"),
        ("recipes/zephyr/config_full.yaml", "# accelerate launch scripts/run_orpo.py recipes/zephyr/config_full.yaml\n" + ORPO_KEYS, "ORPOConfig"),
        ("recipes/zephyr/config_dpo.yaml", ORPO_KEYS, "DPOConfig"),
    ],
)
def test_trl_class_is_read_from_what_the_file_and_its_path_name(tmp_path: Path, rel: str, text: str, expected: str) -> None:
    from pytest_goblin.frameworks import trl_classes

    path = tmp_path / rel
    path.parent.mkdir(parents=True)
    path.write_text(text)
    loaded = load_config(path)
    assert trl_classes(loaded.data, None, str(path), text).classes == (expected,)
    assert loaded.workload.framework == f"trl {tables.table('trl')['version']} ({expected})"


def test_unnamed_trl_class_is_not_guessed_from_beta(tmp_path: Path) -> None:
    """Without a name, `beta` fits DPO, ORPO, CPO, KTO, ...: none is assumed, and an edit must suit all."""
    from pytest_goblin.frameworks import trl_classes

    path = tmp_path / "config_full.yaml"
    path.write_text(ORPO_KEYS)
    loaded = load_config(path)
    found = trl_classes(loaded.data, None, str(path), ORPO_KEYS)
    assert {"DPOConfig", "ORPOConfig", "CPOConfig"} <= set(found.classes) and not found.named
    assert "trainer not named" in (loaded.workload.framework or "")
    assert any("every candidate class" in n for n in loaded.workload.notes)
    # `packing` is an SFTConfig key, unknown to DPO/ORPO: not offered on a guess
    why = check_writes("hf-trainer", str(path), ORPO_KEYS, loaded.data, {"packing": True})
    assert "not a key of every TRL config class" in why["packing"]
    # a TrainingArguments key every class has is still offered
    assert check_writes("hf-trainer", str(path), ORPO_KEYS, loaded.data, {"dataloader_num_workers": 4}) == {}
    # the same file in an `orpo/` folder is an ORPO recipe, which has no `packing` either
    named = tmp_path / "orpo" / "config_full.yaml"
    named.parent.mkdir()
    named.write_text(ORPO_KEYS)
    assert "not a ORPOConfig key" in check_writes("hf-trainer", str(named), ORPO_KEYS, loaded.data, {"packing": True})["packing"]


# An alignment-handbook-style repository pinning transformers 4.36.2 (its setup.py at f0ffa0d,
# January 2024, pinned `transformers==4.36.2`); the recipe is a trimmed SFT config.
PINNED_RECIPE = "model_name_or_path: mistralai/Mistral-7B-v0.1\ntorch_dtype: bfloat16\nbf16: true\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\nmax_seq_length: 2048\n"


def _pinned_repo(tmp_path: Path, setup: str) -> Path:
    config = "recipes/zephyr-7b-beta/sft/config_full.yaml"
    files = {"setup.py": f'_deps = [\n    "torch>=2.1",\n    "{setup}",\n    "trl==0.7.10",\n]\n', config: PINNED_RECIPE}
    return write_tree(tmp_path, files, git=True) / config


def test_key_newer_than_the_pinned_transformers_is_not_written(tmp_path: Path) -> None:
    from pytest_goblin.frameworks.pins import pins

    path = _pinned_repo(tmp_path, "transformers==4.36.2")
    assert pins(str(path))["transformers"].where == "setup.py:3"
    loaded = load_config(path)
    assert any("transformers==4.36.2 (setup.py:3)" in n for n in loaded.workload.notes)
    bad = check_writes("hf-trainer", str(path), loaded.text, loaded.data, {"use_liger_kernel": True, "dataloader_num_workers": 4})
    assert set(bad) == {"use_liger_kernel"}
    assert "first appears in transformers 4.45.0" in bad["use_liger_kernel"] and "transformers==4.36.2 (setup.py:3)" in bad["use_liger_kernel"]
    # packing (SFTConfig, trl 0.9.3) under trl==0.7.10
    assert "trl 0.9.3" in check_writes("hf-trainer", str(path), loaded.text, loaded.data, {"packing": True})["packing"]
    # the checkpointing edit uses the name 4.36 knows
    assert loaded.adapter.writes("gradient_checkpointing", False, loaded.workload, loaded.data) == {"gradient_checkpointing": False}
    # the patch planner drops a rule whose edit the pin rejects, with the reason
    hw = get_hardware("mi300x")
    liger = next(r for r in kb.cached_rules() if r.id == "kernels.liger_fused_kernels")
    patch = build_patch(loaded, [liger], hw, "p1")
    assert not patch.edits and "4.45.0" in patch.skipped["kernels.liger_fused_kernels"]


def test_a_key_present_in_the_oldest_release_read_is_not_said_to_first_appear_there(tmp_path: Path) -> None:
    """review1 #7 (artidoro/qlora, transformers==4.31.0): `bf16` was said to "first appear in 4.36.2", the
    oldest release goblin read; it exists in 4.31. What goblin knows is presence from 4.36.2 on."""
    path = _pinned_repo(tmp_path, "transformers==4.31.0")
    loaded = load_config(path)
    bad = check_writes("hf-trainer", str(path), loaded.text, loaded.data, {"dataloader_num_workers": 4})
    why = bad["dataloader_num_workers"]
    assert "first appears" not in why and "only from 4.36.2 on" in why and "does not know whether" in why and "transformers==4.31.0" in why


def test_trl_liger_deprecation_applies_only_to_the_trl_that_has_it(tmp_path: Path) -> None:
    """trl 1.16.0 forces Liger's fused loss off (sft_trainer.py:1125-1140); v1.9.0 still applied it
    (sft_trainer.py:1718-1720). A recipe pinned to an old TRL may get the edit; an unpinned one not."""
    (tmp_path / "old").mkdir()
    old = _pinned_repo(tmp_path / "old", "transformers>=4.53.3")  # with trl==0.7.10
    loaded = load_config(old)
    assert check_writes("hf-trainer", str(old), loaded.text, loaded.data, {"use_liger_kernel": True}) == {}
    unpinned = tmp_path / "new" / "sft.yaml"
    unpinned.parent.mkdir()
    unpinned.write_text(PINNED_RECIPE)
    loaded = load_config(unpinned)
    why = check_writes("hf-trainer", str(unpinned), loaded.text, loaded.data, {"use_liger_kernel": True})["use_liger_kernel"]
    assert "deprecates use_liger_kernel" in why and "sft_trainer.py:1125-1140" in why


def test_key_is_written_when_the_pin_is_recent_enough(tmp_path: Path) -> None:
    path = _pinned_repo(tmp_path, "transformers>=4.53.3")
    loaded = load_config(path)
    assert check_writes("hf-trainer", str(path), loaded.text, loaded.data, {"use_liger_kernel": True}) == {}


def test_pin_in_the_configs_own_comment(tmp_path: Path) -> None:
    path = tmp_path / "sft.yaml"
    path.write_text("# pip install transformers==4.44.2 trl==0.9.6\n" + PINNED_RECIPE)
    loaded = load_config(path)
    bad = check_writes("hf-trainer", str(path), loaded.text, loaded.data, {"use_liger_kernel": True})
    assert "transformers==4.44.2 (the config's own line 1)" in bad["use_liger_kernel"]


LF_SFT = "model_name_or_path: Qwen/Qwen2-7B\nstage: sft\ndo_train: true\nfinetuning_type: full\nbf16: true\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\ncutoff_len: 2048\n"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("use_asft_loss: true\nasft_alpha: 0.1\n", "changes the training objective"),
        ("use_dft_loss: true\n", "fused cross-entropy that makes Liger pay never runs"),
        ("use_eaft_loss: true\n", "fused cross-entropy that makes Liger pay never runs"),
    ],
)
def test_liger_is_not_advised_where_the_loss_needs_the_logits(tmp_path: Path, extra: str, reason: str) -> None:
    """LLaMA-Factory's ASFT/DFT/EAFT losses read the logits; Liger's fused cross-entropy gives none in training."""
    path = tmp_path / "qwen2_full_asft.yaml"
    path.write_text(LF_SFT + extra)
    loaded = load_config(path)
    hw = get_hardware("mi300x")
    # the planner's own check, whatever the rule's memory premise (kb/kernels.yaml) says of this config
    liger = [r for r in kb.cached_rules() if r.id == "kernels.liger_fused_kernels"]
    patch = build_patch(loaded, liger, hw, "p1")
    assert not patch.edits and reason in patch.skipped["kernels.liger_fused_kernels"]
    assert kb.unactionable(patch.skipped["kernels.liger_fused_kernels"])
    # without the custom loss, the same config gets the edit
    plain = tmp_path / "plain.yaml"
    plain.write_text(LF_SFT)
    assert check_writes("llamafactory", str(plain), LF_SFT, load_config(plain).data, {"enable_liger_kernel": True}) == {}


def test_liger_is_not_advised_for_a_stage_that_keeps_the_logits() -> None:
    data = {"model_name_or_path": "Qwen/Qwen2-7B", "stage": "dpo", "finetuning_type": "lora"}
    assert "needs the logits" in check_writes("llamafactory", "dpo.yaml", "", data, {"enable_liger_kernel": True})["enable_liger_kernel"]


TUNE_UNPACKED = (
    "# tune run --nproc_per_node 8 full_finetune_distributed --config llama3_1/8B_full\n"
    "tokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  path: /tmp/tokenizer.model\n  max_seq_len: null\n"
    "dataset:\n  _component_: torchtune.datasets.alpaca_dataset\n  packed: False\n"
    "model:\n  _component_: torchtune.models.llama3_1.llama3_1_8b\noptimizer:\n  _component_: torch.optim.AdamW\n  lr: 2e-5\n"
    "batch_size: 2\ndtype: bf16\n"
)


def test_torchtune_packing_needs_tokenizer_max_seq_len(tmp_path: Path) -> None:
    """torchtune 0.6.1 datasets raise on packed=True without tokenizer.max_seq_len: the guidance says so, no edit passes."""
    from pytest_goblin.rules import render_finding

    path = tmp_path / "8B_full.yaml"
    path.write_text(TUNE_UNPACKED)
    loaded = load_config(path)
    hw = get_hardware("mi300x")
    rule = next(r for r in kb.applicable(loaded.workload, hw, kb.cached_rules()) if r.id == "packing.sample_packing")
    assert "leaves tokenizer.max_seq_len unset" in render_finding(rule, loaded.workload, hw)
    assert "raises on `dataset.packed: True`" in check_writes("torchtune", str(path), loaded.text, loaded.data, {"dataset.packed": True})["dataset.packed"]
    set_len = TUNE_UNPACKED.replace("max_seq_len: null", "max_seq_len: 4096")
    path.write_text(set_len)
    loaded = load_config(path)
    assert "max_seq_len unset" not in render_finding(rule, loaded.workload, hw)
    assert check_writes("torchtune", str(path), set_len, loaded.data, {"dataset.packed": True}) == {}


def test_shipped_attention_table_matches_the_installed_transformers() -> None:
    """scripts/gen_attention_support.py regenerates pytest_goblin/frameworks/attention.json from transformers' source."""
    from pytest_goblin.frameworks import attention

    shipped = attention.table()
    have = _installed("transformers")
    if have != shipped["version"]:
        pytest.skip(f"transformers {shipped['version']} is not installed here (have {have})")
    assert attention.build_installed() == {k: v for k, v in shipped.items() if k != "history"}  # history: --wheels


def test_trl_unknown_key_is_said_to_do_nothing_not_to_stop_the_run() -> None:
    """trl 1.16.0's command scripts parse with fail_with_unknown_args=False (trl/scripts/sft.py:144): the
    installed TRL decides, so this fails if a TRL release changes it and the table is not regenerated."""
    import inspect

    sft = pytest.importorskip("trl.scripts.sft")
    if importlib.metadata.version("trl") == tables.table("trl")["version"]:
        assert "fail_with_unknown_args=False" in inspect.getsource(sft)
    why = check_key("hf-trainer", {"model_name_or_path": "x", "max_length": 512}, "not_a_trl_key", True, "SFTConfig") or ""
    assert "SFTConfig key" in why and "do nothing" in why and "stop" not in why


def test_a_value_the_pinned_transformers_rejects_is_not_written_even_for_a_key_in_the_file(tmp_path: Path) -> None:
    """review2 (SimPO gemma-2 on transformers 4.44.2): `attn_implementation: eager -> flex_attention` was offered;
    transformers 4.46.3 modeling_utils.py:1579-1584 raises on flex_attention, 4.47.1 :1544-1549 accepts it."""
    path = _pinned_repo(tmp_path, "transformers==4.44.2")
    loaded = load_config(path)
    data = {**loaded.data, "attn_implementation": "eager"}
    bad = check_writes("hf-trainer", str(path), loaded.text, data, {"attn_implementation": "flex_attention"})
    assert "4.47.1" in bad["attn_implementation"] and "transformers==4.44.2" in bad["attn_implementation"]
    assert not check_writes("hf-trainer", str(path), loaded.text, data, {"attn_implementation": "sdpa"})
    (tmp_path / "new").mkdir()
    newer = _pinned_repo(tmp_path / "new", "transformers==4.48.3")
    loaded = load_config(newer)
    assert not check_writes("hf-trainer", str(newer), loaded.text, {**loaded.data, "attn_implementation": "eager"}, {"attn_implementation": "flex_attention"})
