"""KTO priced as KTO runs it: one completion per row, and the KL term's forwards (formats/hfstyle.PREFERENCE,
costmodel.no_grad_forwards). TRL 1.16.0 trl/trainer/kto_trainer.py: the policy's no-grad forward over mismatched
(prompt, completion) pairs (:1337-1368, called at :1379), the reference's forward of the batch and of those pairs
(:1424-1435), both off for the reference with precompute_ref_log_probs (:1417-1423), the KL term off for
loss_type apo_zero_unpaired (:815). LLaMA-Factory 0.9.5 src/llamafactory/train/kto/trainer.py: the same (:184-198,
:202-219), with no option that turns the KL pass off."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.costmodel import memory_gb, no_grad_forwards, step
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import WorkloadConfig

HW = get_hardware("mi300x")

TRL = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\ndataset_name: trl-lib/kto-mix-14k\n"
    "per_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nmax_length: 1024\nbeta: 0.1\nbf16: true\n"
    "{extra}# accelerate launch trl/scripts/{script} --config this.yaml\n"
)
KTO_KEYS = "desirable_weight: 1.0\nundesirable_weight: 1.0\n"

LF = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: {stage}\ndo_train: true\nfinetuning_type: {ft}\n"
    "{extra}dataset: kto_en_demo\ntemplate: llama3\ncutoff_len: 1024\nper_device_train_batch_size: 4\n"
    "gradient_accumulation_steps: 4\nbf16: true\n"
)


def _w(tmp_path: Path, text: str, name: str = "cfg.yaml") -> WorkloadConfig:
    path = tmp_path / name
    path.write_text(text)
    return load_config(path).workload


def _kl_seconds(w: WorkloadConfig) -> float:
    """What the KL forwards add to a step: the step less the same workload without them."""
    return step(w, HW).parts["compute"] - step(w.model_copy(update={"kl_forward": False}), HW).parts["compute"]


def test_trl_kto_prices_one_sequence_and_the_kl_forwards(tmp_path: Path) -> None:
    w = _w(tmp_path, TRL.format(extra=KTO_KEYS, script="kto.py"))
    assert (w.sequences_per_example, w.reference_forward, w.reference_copy, w.kl_forward) == (1, True, True, True)
    assert no_grad_forwards(w) == 3  # the reference of the batch; the policy and the reference of the KL pairs
    s = step(w, HW)
    # two more forwards of a micro-batch's worth of pairs, every micro-batch
    assert _kl_seconds(w) == pytest.approx(2 * s.forward_s * w.gradient_accumulation, rel=1e-9)
    # no_grad: the KL forwards keep no activations, so memory is the one-sequence run's
    assert memory_gb(w) == memory_gb(w.model_copy(update={"kl_forward": False}))
    note = next(n for n in w.notes if n.startswith("preference training (kto)"))
    assert "1 sequence per example" in note and "KL term" in note and "reference's forward of those pairs" in note
    assert "None" not in note
    # a DPO run of the same batch holds two sequences per example: more activations and logits than KTO's one
    dpo = _w(tmp_path, TRL.format(extra="", script="dpo.py"), "dpo.yaml")
    assert dpo.sequences_per_example == 2 and memory_gb(dpo) > memory_gb(w) + 1


def test_trl_kto_apo_zero_unpaired_prices_no_kl_pass(tmp_path: Path) -> None:
    """Must-not: loss_type apo_zero_unpaired sets calculate_kl False (trl 1.16.0 kto_trainer.py:815): one reference
    forward of the batch, no KL forward."""
    w = _w(tmp_path, TRL.format(extra=KTO_KEYS + "loss_type: apo_zero_unpaired\n", script="kto.py"))
    assert (w.sequences_per_example, w.reference_forward, w.kl_forward) == (1, True, False)
    assert no_grad_forwards(w) == 1
    assert _kl_seconds(w) == 0.0
    note = next(n for n in w.notes if n.startswith("preference training (kto)"))
    assert "no KL term (loss_type: apo_zero_unpaired, line" in note
    # any other loss_type keeps the KL term
    bco = _w(tmp_path, TRL.format(extra=KTO_KEYS + "loss_type: kto\n", script="kto.py"), "kto2.yaml")
    assert bco.kl_forward is True


def test_trl_kto_precomputed_reference_keeps_the_policy_kl_forward(tmp_path: Path) -> None:
    """precompute_ref_log_probs reads the reference's log-probs (KL ones too) from the batch (kto_trainer.py:1417-1423),
    while the policy's KL forward still runs (:1379)."""
    w = _w(tmp_path, TRL.format(extra=KTO_KEYS + "precompute_ref_log_probs: true\n", script="kto.py"))
    assert (w.reference_forward, w.reference_copy, w.kl_forward) == (False, False, True)
    assert no_grad_forwards(w) == 1
    assert _kl_seconds(w) == pytest.approx(step(w, HW).forward_s * w.gradient_accumulation, rel=1e-9)


def test_llamafactory_stage_kto_runs_the_kl_forwards(tmp_path: Path) -> None:
    """llamafactory 0.9.5 train/kto/trainer.py:188-189 (the policy's no-grad KL forward) and :213-216 (the reference
    over both, the adapter-disabled base for LoRA); pref_ftx adds an SFT loss on the same log-probs (:249-251)."""
    lora = _w(tmp_path, LF.format(stage="kto", ft="lora", extra="pref_beta: 0.1\npref_ftx: 0.5\n"), "lora.yaml")
    assert (lora.sequences_per_example, lora.reference_forward, lora.reference_copy, lora.kl_forward) == (1, True, False, True)
    assert no_grad_forwards(lora) == 3
    assert _kl_seconds(lora) == pytest.approx(2 * step(lora, HW).forward_s * lora.gradient_accumulation, rel=1e-9)
    assert any("stage kto" in n and "KL term" in n for n in lora.notes)
    full = _w(tmp_path, LF.format(stage="kto", ft="full", extra=""), "full.yaml")
    assert (full.reference_copy, full.kl_forward) == (True, True)


def test_axolotl_rl_kto_runs_the_kl_forwards(tmp_path: Path) -> None:
    """Axolotl 0.18.0 builds TRL's KTOConfig with no loss_type (src/axolotl/core/builders/rl.py:149-159): the default
    "kto" (trl 1.16.0 kto_config.py:198), which computes the KL term."""
    text = (
        "base_model: meta-llama/Meta-Llama-3-8B\nrl: kto\ndatasets:\n  - path: foo/bar\n    type: llama3.ultra\n"
        "sequence_len: 1024\nmicro_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\n"
    )
    w = _w(tmp_path, text, "kto.yml")
    assert (w.sequences_per_example, w.reference_forward, w.kl_forward) == (1, True, True)


def test_dpo_prices_one_reference_forward_and_no_kl(tmp_path: Path) -> None:
    """Must-not: DPO (TRL and LLaMA-Factory) has no KL term; its no-grad work is one reference forward of the batch."""
    dpo = _w(tmp_path, TRL.format(extra="", script="dpo.py"))
    assert (dpo.sequences_per_example, dpo.reference_forward, dpo.kl_forward) == (2, True, False)
    assert no_grad_forwards(dpo) == 1
    no_ref = dpo.model_copy(update={"reference_forward": False})
    extra = step(dpo, HW).parts["compute"] - step(no_ref, HW).parts["compute"]
    assert extra == pytest.approx(step(dpo, HW).forward_s * dpo.gradient_accumulation, rel=1e-9)
    lf = _w(tmp_path, LF.format(stage="dpo", ft="lora", extra=""), "lf.yaml")
    assert (lf.sequences_per_example, lf.kl_forward) == (2, False)
    assert not any("KL term" in n for n in dpo.notes + lf.notes)


def test_python_kto_trainer_reads_loss_type(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    head = (
        "from transformers import AutoModelForCausalLM\nfrom trl import KTOConfig, KTOTrainer\n"
        'model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")\n'
    )
    on = tmp_path / "train.py"
    on.write_text(head + 'args = KTOConfig(output_dir="out", per_device_train_batch_size=4, bf16=True)\nKTOTrainer(model, args=args).train()\n')
    w = load_config(on).workload
    assert (w.sequences_per_example, w.kl_forward) == (1, True)
    off = tmp_path / "train_apo.py"
    off.write_text(
        head + 'args = KTOConfig(output_dir="out", per_device_train_batch_size=4, bf16=True, loss_type="apo_zero_unpaired")\n'
        "KTOTrainer(model, args=args).train()\n"
    )
    w = load_config(off).workload
    assert (w.sequences_per_example, w.kl_forward) == (1, False)
