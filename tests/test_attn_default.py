"""The attention a config that names none runs with, at the releases its repository pins (formats/attn_default.py).

review4 #3 (moeru-ai/Moeru-Llama-3-8B lora.yml): Dockerfile `git checkout v0.4.0` of Axolotl plus
a pip install of transformers 4.36.0, `flash_attention: false`. Axolotl v0.4.0 passes no attn_implementation
without flash_attention (src/axolotl/utils/models.py:450-470@v0.4.0), so transformers 4.36.0 picks SDPA
(modeling_utils.py:1309-1313,1473-1481); only a transformers pin below 4.36 makes it eager."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .findings import audit
from .repo_files import write_tree

LORA = (
    "base_model: meta-llama/Llama-2-7b-hf\nmodel_type: LlamaForCausalLM\nload_in_8bit: false\nload_in_4bit: false\n"
    "datasets:\n  - path: mhenrichsen/alpaca_2k_test\n    type: alpaca\nsequence_len: 4096\nsample_packing: true\n"
    "adapter: lora\nlora_r: 16\nlora_alpha: 32\nlora_dropout: 0.05\nlora_target_linear: true\n"
    "micro_batch_size: 1\ngradient_accumulation_steps: 4\nnum_epochs: 1\noptimizer: adamw_torch\nlearning_rate: 0.0002\n"
    "bf16: true\nfp16: false\ngradient_checkpointing: true\nxformers_attention:\nflash_attention: false\noutput_dir: ./out\n"
)


def _docker(transformers: str) -> str:
    return (
        "FROM intelanalytics/ipex-llm-xpu:2.1.0-SNAPSHOT\nWORKDIR /workspace\n"
        "RUN git clone https://github.com/OpenAccess-AI-Collective/axolotl.git\nWORKDIR /workspace/axolotl\n"
        f"RUN git checkout v0.4.0 && \\\n    rm requirements.txt\nRUN pip install -e . && \\\n    pip install transformers=={transformers}\n"
    )


def _tree(tmp_path: Path, name: str, dockerfile: str | None) -> Path:
    files = {"lora.yml": LORA}
    if dockerfile is not None:
        files["Dockerfile"] = dockerfile
    return write_tree(tmp_path / name, files, git=True) / "lora.yml"


def test_axolotl_at_transformers_before_436_runs_eager_and_gets_the_attention_edit(tmp_path: Path) -> None:
    path = _tree(tmp_path, "old", _docker("4.35.2"))
    w = load_config(path).workload
    note = w.sources["attention"].note or ""
    assert w.attention == "eager" and not w.sources["attention"].explicit
    assert "axolotl 0.4.0" in note and "transformers==4.35.2 (Dockerfile:8)" in note and "models.py:450-470" in note
    assert "4.35.2 models/llama/modeling_llama.py:629-633" in note and "None" not in note
    shown, patch, text = audit(path)
    assert "attention.sdpa_over_eager" in shown
    assert [(e.old, e.new) for e in patch.edits if e.field == "attention"] == [("eager", "sdpa")]
    assert "sdp_attention: true" in text  # Axolotl v0.4.0's own flag (src/axolotl/utils/models.py:301-307)


def test_axolotl_040_at_transformers_436_keeps_sdpa_and_names_both_releases(tmp_path: Path) -> None:
    # the review4 #3 tree as it is: no eager, so no attention edit is invented
    path = _tree(tmp_path, "moeru", _docker("4.36.0"))
    w = load_config(path).workload
    note = w.sources["attention"].note or ""
    assert w.attention == "sdpa"
    assert "axolotl 0.4.0 passes no attn_implementation" in note and "transformers==4.36.0 (Dockerfile:8)" in note
    assert "modeling_utils.py:1309-1313" in note and "None" not in note
    shown, patch, _ = audit(path)
    assert "attention.sdpa_over_eager" not in shown
    assert not [e for e in patch.edits if e.field == "attention" and e.old == "eager"]


def test_unpinned_axolotl_says_the_default_is_assumed(tmp_path: Path) -> None:
    path = _tree(tmp_path, "bare", None)
    w = load_config(path).workload
    note = w.sources["attention"].note or ""
    assert w.attention == "sdpa"
    assert "no Axolotl release pinned (assumed axolotl 0.18.0" in note and "transformers picks SDPA" in note


def test_an_explicit_flag_is_not_a_default(tmp_path: Path) -> None:
    path = _tree(tmp_path, "flag", _docker("4.35.2"))
    path.write_text(LORA.replace("flash_attention: false", "sdp_attention: true"))
    w = load_config(path).workload
    assert w.attention == "sdpa" and w.sources["attention"].explicit


TUNE = "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\nbatch_size: 2\noptimizer:\n  _component_: torch.optim.AdamW\n  lr: 3e-4\ndevice: cuda\n"


def test_torchtune_attention_is_sourced_at_the_pinned_release(tmp_path: Path) -> None:
    notes = {}
    for name, req in (("old", "torchtune==0.2.1\n"), ("new", "torchtune==0.6.1\n"), ("bare", None)):
        root = tmp_path / name
        (root / ".git").mkdir(parents=True)
        if req is not None:
            (root / "requirements.txt").write_text(req)
        (root / "cfg.yaml").write_text(TUNE)
        w = load_config(root / "cfg.yaml").workload
        assert w.attention == "sdpa" and not w.sources["attention"].explicit
        notes[name] = w.sources["attention"].note or ""
    assert notes["old"].startswith("torchtune 0.2.1 (torchtune==0.2.1, requirements.txt:1)") and "attention.py:218" in notes["old"]
    assert "no flex attention before 0.3" in notes["old"]
    assert notes["new"].startswith("torchtune 0.6.1") and "flex attention when packed" in notes["new"] and ":185,212-222@v0.6.1" in notes["new"]
    assert "no torchtune release pinned, the newest read assumed" in notes["bare"]
    assert all("None" not in n for n in notes.values())


def _tune_tree(tmp_path: Path, name: str, req: str | None, text: str) -> Path:
    files = {"cfg.yaml": "# tune run lora_finetune_single_device --config cfg.yaml\n" + text}
    if req is not None:
        files["requirements.txt"] = req
    return write_tree(tmp_path / name, files, git=True) / "cfg.yaml"


def test_torchtune_checkpointing_default_follows_the_pinned_release(tmp_path: Path) -> None:
    import pytest

    from pytest_goblin.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config(_tune_tree(tmp_path, "old", "torchtune==0.3.1\n", TUNE))
    said = str(err.value)
    assert "torchtune 0.3.1 (torchtune==0.3.1, requirements.txt:1) recipe lora_finetune_single_device reads it with no default" in said
    assert "lora_finetune_single_device.py:245@0.3.1" in said and "ConfigAttributeError" in said and "None" not in said
    ok = load_config(_tune_tree(tmp_path, "set", "torchtune==0.3.1\n", TUNE + "enable_activation_checkpointing: true\n")).workload
    assert ok.gradient_checkpointing is True and ok.sources["gradient_checkpointing"].explicit
    new = load_config(_tune_tree(tmp_path, "new", "torchtune==0.6.1\n", TUNE)).workload
    note = new.sources["gradient_checkpointing"].note or ""
    assert new.gradient_checkpointing is False and "off at torchtune 0.6.1" in note and "lora_finetune_single_device.py:161@0.6.1" in note
    bare = load_config(_tune_tree(tmp_path, "bare", None, TUNE)).workload
    assert bare.gradient_checkpointing is False and "off at torchtune" not in (bare.sources["gradient_checkpointing"].note or "")
