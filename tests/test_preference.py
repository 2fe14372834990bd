"""Preference training priced as it runs: chosen + rejected sequences and the reference model (issue 23, point 5)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.costmodel import memory_gb, step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import WorkloadConfig

HW = get_hardware("mi300x")

TRL = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\ndataset_name: trl-lib/ultrafeedback_binarized\n"
    "per_device_train_batch_size: 2\ngradient_accumulation_steps: 8\nmax_length: 1024\nbeta: 0.1\nbf16: true\n"
    "gradient_checkpointing: true\n{extra}# accelerate launch trl/scripts/dpo.py --config this.yaml\n"
)


def _w(tmp_path: Path, text: str, name: str = "cfg.yaml") -> WorkloadConfig:
    path = tmp_path / name
    path.write_text(text)
    return load_config(path).workload


def _as_sft(w: WorkloadConfig) -> WorkloadConfig:
    return w.model_copy(update={"sequences_per_example": 1, "reference_forward": False, "reference_copy": False})


def test_trl_dpo_full_runs_both_sequences_and_a_reference_copy(tmp_path: Path) -> None:
    """trl 1.16.0 dpo_trainer.py:306-318/1316 (chosen and rejected in one batch), :908-929 (a reference
    model made when the policy is not a PEFT model), :1321-1347 (its forward on the same batch)."""
    w = _w(tmp_path, TRL.format(extra=""))
    assert (w.sequences_per_example, w.reference_forward, w.reference_copy) == (2, True, True)
    sft = _as_sft(w)
    # an 8B reference copy in bf16 (16 GB) plus twice the activations and logits
    assert memory_gb(w) > memory_gb(sft) + 16
    dpo_s, sft_s = step(w, HW), step(sft, HW)
    assert dpo_s.parts["compute"] > 2.0 * sft_s.parts["compute"]  # 2x the tokens (GEMMs a little more efficient) + a forward
    assert dpo_s.step_s > 2.0 * sft_s.step_s


def test_trl_dpo_with_peft_uses_the_adapter_disabled_base(tmp_path: Path) -> None:
    w = _w(tmp_path, TRL.format(extra="use_peft: true\nlora_r: 16\n"))
    assert (w.sequences_per_example, w.reference_forward, w.reference_copy) == (2, True, False)
    assert any("adapter-disabled base" in n for n in w.notes)


def test_trl_dpo_with_precomputed_reference_log_probs_has_no_reference(tmp_path: Path) -> None:
    """dpo_trainer.py:909-914: with precompute_ref_log_probs TRL keeps no reference model, and the
    loss reads the precomputed log-probs (:1323-1324)."""
    w = _w(tmp_path, TRL.format(extra="precompute_ref_log_probs: true\n"))
    assert (w.sequences_per_example, w.reference_forward, w.reference_copy) == (2, False, False)
    assert memory_gb(w) < memory_gb(w.model_copy(update={"reference_copy": True})) - 16


def test_axolotl_rl_kinds(tmp_path: Path) -> None:
    base = (
        "base_model: meta-llama/Meta-Llama-3-8B\nrl: {rl}\n{adapter}datasets:\n  - path: foo/bar\n    type: chatml.intel\n"
        "sequence_len: 1024\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: true\n{extra}"
    )
    orpo = _w(tmp_path, base.format(rl="orpo", adapter="", extra=""), "orpo.yml")
    assert (orpo.sequences_per_example, orpo.reference_forward, orpo.reference_copy) == (2, False, False)
    lora = _w(tmp_path, base.format(rl="dpo", adapter="adapter: lora\nlora_r: 16\n", extra=""), "lora.yml")
    assert (lora.sequences_per_example, lora.reference_forward, lora.reference_copy) == (2, True, False)
    forced = _w(tmp_path, base.format(rl="dpo", adapter="adapter: lora\nlora_r: 16\n", extra="rl_adapter_ref_model: true\n"), "forced.yml")
    assert forced.reference_copy and forced.reference_forward
    # Axolotl loads the reference and passes it to TRL, which keeps it although log-probs are precomputed
    pre = _w(tmp_path, base.format(rl="dpo", adapter="", extra="precompute_ref_log_probs: true\n"), "pre.yml")
    assert (pre.reference_forward, pre.reference_copy) == (False, True)
    kto = _w(tmp_path, base.format(rl="kto", adapter="", extra=""), "kto.yml")
    assert (kto.sequences_per_example, kto.reference_forward, kto.reference_copy) == (1, True, True)


def test_llamafactory_stage_dpo(tmp_path: Path) -> None:
    base = (
        "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: {stage}\ndo_train: true\nfinetuning_type: {ft}\n"
        "{extra}dataset: dpo_en_demo\ntemplate: llama3\ncutoff_len: 1024\nper_device_train_batch_size: 1\n"
        "gradient_accumulation_steps: 8\nbf16: true\n"
    )
    lora = _w(tmp_path, base.format(stage="dpo", ft="lora", extra="pref_beta: 0.1\n"), "lora.yaml")
    assert (lora.sequences_per_example, lora.reference_forward, lora.reference_copy) == (2, True, False)
    full = _w(tmp_path, base.format(stage="dpo", ft="full", extra=""), "full.yaml")
    assert (full.reference_forward, full.reference_copy) == (True, True)
    simpo = _w(tmp_path, base.format(stage="dpo", ft="full", extra="pref_loss: simpo\n"), "simpo.yaml")
    assert (simpo.sequences_per_example, simpo.reference_forward, simpo.reference_copy) == (2, False, False)


def test_sft_is_priced_as_before(tmp_path: Path) -> None:
    """Must-not: an SFT config reads one sequence and no reference, and its projection is unchanged."""
    w = _w(tmp_path, TRL.format(extra="").replace("beta: 0.1\n", "").replace("dpo.py", "sft.py"))
    assert (w.sequences_per_example, w.reference_forward, w.reference_copy) == (1, False, False)
    lf = _w(
        tmp_path,
        "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
        "dataset: identity\ntemplate: llama3\ncutoff_len: 1024\nper_device_train_batch_size: 1\nbf16: true\n",
        "lf.yaml",
    )
    assert (lf.sequences_per_example, lf.reference_forward, lf.reference_copy) == (1, False, False)
