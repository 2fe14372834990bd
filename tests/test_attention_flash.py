"""attention.flash_over_eager: eager attention on a model type whose transformers class refuses SDPA and
flex_attention but accepts flash-attention 2 (review11b #32: LUMI Getting_Started_with_AI_workshop
08_Scaling_to_multiple_GPUs/reference_solution/GPT-neo-IMDB-finetuning.py, GPT-Neo with attn_implementation unset,
which runs eager: frameworks/attention.unset_runs_eager). GPT-Neo sets `_supports_flash_attn_2 = True` and never
`_supports_sdpa` (frameworks/attention.json, scripts/gen_attention_support.py: 4.36.2
models/gpt_neo/modeling_gpt_neo.py:607; 5.24.0 the same flags). The edit is written where each format sets
the attention, as attention.sdpa_over_eager's is."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import attention
from pytest_goblin.hardware import get_hardware

from .findings import audit, write_config
from .repo_files import write_tree

RULE = "attention.flash_over_eager"
SWAPS = {RULE, "attention.sdpa_over_eager", "attention.flex_over_eager"}

SCRIPT = (
    "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n\n"
    "model = AutoModelForCausalLM.from_pretrained('{model}'{kw})\n"
    "args = TrainingArguments(output_dir='out', per_device_train_batch_size=4, bf16=True)\n"
    "Trainer(model=model, args=args).train()\n"
)


def _script(tmp_path: Path, name: str, model: str = "EleutherAI/gpt-neo-1.3B", kw: str = "") -> Path:
    return write_tree(tmp_path / name, {"train.py": SCRIPT.format(model=model, kw=kw)}, git=True) / "train.py"


def test_the_table_says_gpt_neo_takes_flash_only() -> None:
    t = attention.table()["types"]["gpt_neo"]
    assert (t["sdpa"], t["flex"], t["flash"]) == (False, False, True)


def test_gpt_neo_script_with_unset_attention_gets_flash_attention_2(tmp_path: Path) -> None:
    shown, patch, text = audit(_script(tmp_path, "neo"))
    assert RULE in shown and not {"attention.sdpa_over_eager", "attention.flex_over_eager"} & shown
    assert [(e.old, e.new) for e in patch.edits if e.field == "attention"] == [("eager", "flash")]
    assert "from_pretrained('EleutherAI/gpt-neo-1.3B', attn_implementation='flash_attention_2')" in text


def test_gpt_neo_explicit_eager_in_a_script_is_replaced_in_place(tmp_path: Path) -> None:
    shown, _, text = audit(_script(tmp_path, "neo_eager", kw=", attn_implementation='eager'"))
    assert RULE in shown
    assert "eager" not in text and "flash_attention_2" in text


TRL = """model_name_or_path: {model}
attn_implementation: eager
torch_dtype: bfloat16
bf16: true
dataset_name: stanfordnlp/imdb
learning_rate: 2.0e-5
per_device_train_batch_size: 4
max_length: 1024
output_dir: out
"""


def test_hf_yaml_gets_attn_implementation_flash_attention_2(tmp_path: Path) -> None:
    shown, patch, text = audit(write_config(tmp_path, "sft.yaml", TRL.format(model="EleutherAI/gpt-neo-1.3B")))
    assert RULE in shown
    assert "attn_implementation: flash_attention_2" in text and "eager" not in text
    assert [e.new for e in patch.edits if e.field == "attention"] == ["flash"]


LF = """model_name_or_path: EleutherAI/gpt-neo-1.3B
stage: sft
do_train: true
finetuning_type: lora
lora_target: all
dataset: alpaca_en_demo
template: default
cutoff_len: 1024
per_device_train_batch_size: 4
gradient_accumulation_steps: 2
bf16: true
flash_attn: disabled
output_dir: out
"""


def test_llamafactory_gets_flash_attn_fa2(tmp_path: Path) -> None:
    shown, _, text = audit(write_config(tmp_path, "sft.yaml", LF))
    assert RULE in shown
    assert "flash_attn: fa2" in text and "disabled" not in text


AXOLOTL = """base_model: EleutherAI/gpt-neo-1.3B
datasets:
  - path: mhenrichsen/alpaca_2k_test
    type: alpaca
sequence_len: 1024
adapter: lora
lora_r: 16
lora_alpha: 32
lora_target_linear: true
micro_batch_size: 4
gradient_accumulation_steps: 2
num_epochs: 1
optimizer: adamw_torch
learning_rate: 0.0002
bf16: true
gradient_checkpointing: true
flash_attention: false
output_dir: ./out
"""


def test_axolotl_gets_flash_attention_true(tmp_path: Path) -> None:
    path = write_config(tmp_path, "lora.yml", AXOLOTL)
    assert load_config(path).workload.attention == "eager"
    shown, _, text = audit(path)
    assert RULE in shown
    assert "flash_attention: true" in text


# ------------------------------------------------------------------ must not fire


def test_a_class_with_sdpa_gets_sdpa_not_flash(tmp_path: Path) -> None:
    shown, _, _ = audit(_script(tmp_path, "llama", model="meta-llama/Llama-3.1-8B", kw=", attn_implementation='eager'"))
    assert "attention.sdpa_over_eager" in shown and RULE not in shown


def test_a_class_without_flash_gets_nothing(tmp_path: Path) -> None:
    # XGLM: no _supports_sdpa, _supports_flash_attn_2 nor _supports_flex_attn (frameworks/attention.json)
    t = attention.table()["types"]["xglm"]
    assert (t["sdpa"], t["flex"], t["flash"]) == (False, False, False)
    shown, patch, _ = audit(_script(tmp_path, "xglm", model="facebook/xglm-564M", kw=", attn_implementation='eager'"))
    assert not SWAPS & shown and not [e for e in patch.edits if e.field == "attention"]


def test_trust_remote_code_gets_nothing(tmp_path: Path) -> None:
    # the checkpoint's own code builds the model: transformers' class, whose flags were read, is not the one that runs
    shown, _, _ = audit(_script(tmp_path, "remote", kw=", trust_remote_code=True"))
    assert not SWAPS & shown
    shown, _, _ = audit(_script(tmp_path, "remote_eager", kw=", trust_remote_code=True, attn_implementation='eager'"))
    assert RULE not in shown
    assert load_config(_script(tmp_path, "remote_eager2", kw=", trust_remote_code=True, attn_implementation='eager'")).workload.remote_code


def test_gpt_neo_asked_for_sdpa_or_flash_gets_nothing(tmp_path: Path) -> None:
    shown, _, _ = audit(_script(tmp_path, "fa", kw=", attn_implementation='flash_attention_2'"))
    assert RULE not in shown


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"attention_patched": "the script replaces the attention"}, "attention_patched"),
        ({"eager_for_training": "the model's own code asks for eager"}, "eager_for_training"),
        ({"precision": "fp32"}, "fp32"),
    ],
)
def test_premises_that_keep_the_rule_quiet(tmp_path: Path, change: dict[str, object], why: str) -> None:
    w = load_config(_script(tmp_path, why)).workload
    rules = [r for r in kb.cached_rules() if r.id == RULE]
    assert [r.id for r in kb.applicable(w, get_hardware("mi300x"), rules)] == [RULE]
    assert not kb.applicable(w.model_copy(update=change), get_hardware("mi300x"), rules)


def test_nvidia_target_gets_nothing(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, "h100")).workload
    rules = [r for r in kb.cached_rules() if r.id == RULE]
    assert not kb.applicable(w, get_hardware("h100"), rules)


def test_the_rule_asks_for_the_rocm_flash_attention_build() -> None:
    # as attention.flash_attn_rocm_build: not raised where the repository installs that build (frameworks/rocm_ship.py)
    rule = next(r for r in kb.cached_rules() if r.id == RULE)
    assert rule.rocm_build == "flash-attn"


@pytest.mark.parametrize("ships", [True, False])
def test_a_repository_that_installs_rocm_flash_attention_keeps_the_finding_with_a_note(tmp_path: Path, ships: bool) -> None:
    """Unlike the footgun attention.flash_attn_rocm_build, which is left out where the build is installed, the edit
    is shown there too (its premise is stronger), and a note says the repository installs the build."""
    from pytest_goblin.options import build_settings
    from pytest_goblin.service import audit_file

    files = {"train.py": SCRIPT.format(model="EleutherAI/gpt-neo-1.3B", kw="")}
    if ships:
        files["requirements.txt"] = "flash_attn==2.7.4.post1+rocm6.3\n"
    root = write_tree(tmp_path / "repo", files, git=True)
    report = audit_file(root / "train.py", build_settings({"target": "mi300x"}), shown_as="train.py").report
    assert report is not None
    assert RULE in [f.rule_id for f in report.findings] and report.patch is not None and RULE in report.patch.rule_ids
    notes = [n for n in report.notes if n.startswith(RULE)]
    if ships:
        assert len(notes) == 1 and "needs a ROCm build of flash-attn" in notes[0] and "requirements.txt:1" in notes[0]
        assert "not raised" not in notes[0] and "None" not in notes[0]
    else:
        assert not notes
