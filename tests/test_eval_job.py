"""The job around the step: evaluation, read from the config's own eval settings.

Defaults come from the frameworks' tables and source (transformers TrainingArguments eval_strategy
"no", per_device_eval_batch_size 8, eval_steps falling back to logging_steps; TRL's logging_steps
10; Axolotl evaluates only with a validation split and evaluates at the micro-batch; LLaMA-Factory's
val_size above 1 is a count). The eval term is projected only where the config states the eval set's
size; elsewhere the report says it is not projected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import costmodel, hardware
from pytest_goblin.formats import load_config
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

TRL_SFT = """\
# trl sft --config {name}
model_name_or_path: meta-llama/Llama-3.1-8B
dataset_name: trl-lib/Capybara
bf16: true
use_peft: true
per_device_train_batch_size: 8
gradient_accumulation_steps: 1
learning_rate: 1.0e-4
max_length: 2048
{evals}
"""

AXOLOTL = """\
base_model: meta-llama/Llama-3.1-8B
datasets:
  - path: tatsu-lab/alpaca
    type: alpaca
adapter: lora
lora_r: 16
sequence_len: 2048
micro_batch_size: 8
gradient_accumulation_steps: 1
num_epochs: 1
bf16: true
{evals}
"""

LLAMAFACTORY = """\
model_name_or_path: meta-llama/Llama-3.1-8B
stage: sft
do_train: true
finetuning_type: lora
dataset: alpaca_en_demo
template: llama3
cutoff_len: 2048
per_device_train_batch_size: 8
gradient_accumulation_steps: 1
bf16: true
{evals}
"""


def _write(tmp_path: Path, template: str, evals: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(template.replace("{name}", name).format(evals=evals))
    return path


def _report(path: Path):  # type: ignore[no-untyped-def]
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def test_hf_style_eval_settings_with_their_framework_defaults(tmp_path: Path) -> None:
    off = load_config(_write(tmp_path, TRL_SFT, "")).workload
    assert not off.eval_runs and off.eval_interval is None  # eval_strategy defaults to "no"
    w = load_config(_write(tmp_path, TRL_SFT, "eval_strategy: steps")).workload
    assert w.eval_runs and w.eval_batch_size == 8  # per_device_eval_batch_size's default
    # eval_steps unset: TrainingArguments takes logging_steps, which TRL's configs set to 10
    assert w.eval_interval == 10 and not w.sources["eval_interval"].explicit
    assert "training_args.py:1574-1578" in (w.sources["eval_interval"].note or "")
    logged = load_config(_write(tmp_path, TRL_SFT, "eval_strategy: steps\nlogging_steps: 25")).workload
    assert logged.eval_interval == 25 and logged.sources["eval_interval"].key == "logging_steps"
    old = load_config(_write(tmp_path, TRL_SFT, "evaluation_strategy: steps\neval_steps: 40\nper_device_eval_batch_size: 2")).workload
    assert old.eval_interval == 40 and old.eval_batch_size == 2 and old.sources["eval_batch_size"].explicit
    share = load_config(_write(tmp_path, TRL_SFT, "eval_strategy: steps\neval_steps: 0.1")).workload
    assert share.eval_runs and share.eval_interval is None and any("share of the run's total steps" in n for n in share.notes)
    epoch = load_config(_write(tmp_path, TRL_SFT, "eval_strategy: epoch")).workload
    assert epoch.eval_runs and epoch.eval_interval is None
    assert w.eval_examples is None  # the eval set is whatever the script loads
    assert any("evaluation every 10 optimizer steps at batch 8: the eval set's size is not in the config" in n for n in w.notes)


def test_axolotl_evaluates_only_with_a_validation_split(tmp_path: Path) -> None:
    assert not load_config(_write(tmp_path, AXOLOTL, "eval_steps: 10")).workload.eval_runs  # val_set_size 0: no eval
    frac = load_config(_write(tmp_path, AXOLOTL, "val_set_size: 0.05\neval_steps: 10")).workload
    assert frac.eval_runs and frac.eval_interval == 10 and frac.eval_examples is None  # a fraction of an unknown dataset
    assert frac.eval_batch_size == 8 and "utils/config/__init__.py:208-209" in (frac.sources["eval_batch_size"].note or "")
    count = load_config(_write(tmp_path, AXOLOTL, "val_set_size: 500\neval_steps: 10\neval_batch_size: 1")).workload
    assert count.eval_examples == 500 and count.eval_batch_size == 1
    longer = load_config(_write(tmp_path, AXOLOTL, "val_set_size: 500\neval_steps: 10\neval_batch_size: 2\neval_sequence_len: 8192")).workload
    assert longer.eval_seq_len == 8192  # two eval rows of 8192 hold as many tokens as eight training rows of 2048
    from pytest_goblin import rules

    facts = rules.facts(longer, hardware.get_hardware("mi300x"))
    assert facts["derived.eval_batch_shortfall"] == pytest.approx(1.0)
    per_epoch = load_config(_write(tmp_path, AXOLOTL, "val_set_size: 0.05\nevals_per_epoch: 4")).workload
    assert per_epoch.eval_runs and per_epoch.eval_interval is None  # a share of the data, 4 times per epoch: projected per epoch
    assert per_epoch.eval_fraction == 0.05 and per_epoch.evals_per_epoch == 4 and not any("not projected" in n for n in per_epoch.notes)
    capped = load_config(_write(tmp_path, AXOLOTL, "val_set_size: 0.05\nevals_per_epoch: 4\nmax_steps: 100")).workload
    assert capped.evals_per_epoch is None and any("not projected" in n for n in capped.notes)  # a run of max_steps: epochs unknown


def test_llamafactory_val_size_count_and_eval_keys(tmp_path: Path) -> None:
    w = load_config(_write(tmp_path, LLAMAFACTORY, "val_size: 200\neval_strategy: steps\neval_steps: 10\nper_device_eval_batch_size: 1")).workload
    assert w.eval_runs and w.eval_examples == 200 and w.eval_interval == 10 and w.eval_batch_size == 1
    frac = load_config(_write(tmp_path, LLAMAFACTORY, "val_size: 0.1\neval_strategy: steps\neval_steps: 10")).workload
    assert frac.eval_examples is None
    assert not load_config(_write(tmp_path, LLAMAFACTORY, "val_size: 200")).workload.eval_runs  # eval_strategy "no"


def test_eval_seconds_counts_forward_passes_over_the_ranks_share() -> None:
    hw = hardware.get_hardware("mi300x")
    w = load_config_free(eval_examples=640, eval_batch_size=8)
    one = costmodel.eval_seconds(w, hw)
    assert one is not None and one > 0
    assert costmodel.eval_seconds(w.model_copy(update={"eval_examples": 1280}), hw) == pytest.approx(2 * one)
    # batch 1 runs eight times as many forwards at a lower GEMM efficiency: slower for the same examples
    small = costmodel.eval_seconds(w.model_copy(update={"eval_batch_size": 1}), hw)
    assert small is not None and small > one
    # eight data-parallel ranks each evaluate an eighth
    ddp = costmodel.eval_seconds(w.model_copy(update={"strategy": "ddp", "world_size": 8}), hw)
    assert ddp == pytest.approx(one / 8)
    assert costmodel.eval_seconds(w.model_copy(update={"eval_examples": None}), hw) is None
    # a forward is about a third of a full fine-tune's forward + backward (2N vs 6N FLOPs per token)
    step = costmodel.step(w.model_copy(update={"micro_batch_size": 8, "gradient_checkpointing": False}), hw)
    assert step.step_s / 4 < step.forward_s < step.step_s / 2.5
    job = costmodel.job_step(w, hw)
    assert job.eval_s == pytest.approx(one / 10) and job.checkpoint_s is None and job.total_s == pytest.approx(job.step_s + one / 10)


def load_config_free(**update):  # type: ignore[no-untyped-def]
    """A full fine-tune of Llama-3.1-8B that evaluates every 10 steps on one GPU."""
    from pytest_goblin.modelzoo import lookup_model
    from pytest_goblin.schemas import WorkloadConfig

    return WorkloadConfig(
        path="case.yaml",
        format="hf-trainer",
        model=lookup_model("meta-llama/Llama-3.1-8B"),
        method="full",
        micro_batch_size=8,
        seq_len=2048,
        eval_runs=True,
        eval_interval=10,
        **update,
    )


def test_frequent_eval_is_found_with_the_job_time(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        LLAMAFACTORY,
        "val_size: 4000\neval_strategy: steps\neval_steps: 5\nsave_steps: 500\nper_device_eval_batch_size: 8",
    )
    report = _report(path)
    finding = next((f for f in report.findings if f.rule_id == "job.frequent_eval"), None)
    assert finding is not None and finding.key == "eval_steps"
    assert "eval interval 5 (`eval_steps`, line 13)" in finding.message
    assert "4,000 eval examples at batch 8 every 5 optimizer steps" in finding.message
    assert "job time per optimizer step" in finding.message and "s evaluation" in finding.message and "checkpoint writes" in finding.message
    assert "None" not in finding.message
    # a footgun: shown, never patched
    diff = report.patch.diff if report.patch is not None else ""
    assert not any(line[:1] in "+-" and "eval_steps" in line for line in (diff or "").splitlines())


def test_eval_batch_far_below_the_micro_batch_is_found(tmp_path: Path) -> None:
    path = _write(tmp_path, TRL_SFT, "eval_strategy: steps\neval_steps: 50\nper_device_eval_batch_size: 1")
    report = _report(path)
    finding = next((f for f in report.findings if f.rule_id == "job.eval_batch_below_micro_batch"), None)
    assert finding is not None
    assert "eval batch 1 (`per_device_eval_batch_size`, line 12)" in finding.message and "micro-batch 8" in finding.message
    assert "no activations saved for backward" in finding.message and "None" not in finding.message
    quiet = _report(_write(tmp_path, TRL_SFT, "eval_strategy: steps\neval_steps: 50\nper_device_eval_batch_size: 8", name="b.yaml"))
    assert not any(f.rule_id == "job.eval_batch_below_micro_batch" for f in quiet.findings)


def test_unprojected_evaluation_is_said_not_hidden(tmp_path: Path) -> None:
    report = _report(_write(tmp_path, TRL_SFT, "eval_strategy: steps\neval_steps: 5"))
    assert not any(f.rule_id == "job.frequent_eval" for f in report.findings)  # nothing to weigh: no finding
    w = load_config(_write(tmp_path, TRL_SFT, "eval_strategy: steps\neval_steps: 5", name="c.yaml")).workload
    from pytest_goblin.rules import job_phrase

    phrase = job_phrase(w, hardware.get_hardware("mi300x"))
    assert "not projected: checkpoint writes" not in phrase or "evaluation (eval set size not in the config)" in phrase
    assert "evaluation (eval set size not in the config)" in phrase


def test_checkpoint_finding_states_the_job_time_and_what_it_leaves_out(tmp_path: Path) -> None:
    full = TRL_SFT.replace("use_peft: true\n", "").replace("per_device_train_batch_size: 8", "per_device_train_batch_size: 1")
    report = _report(_write(tmp_path, full, "save_steps: 20\neval_strategy: steps\neval_steps: 20"))
    finding = next((f for f in report.findings if f.rule_id == "job.frequent_full_checkpoints"), None)
    assert finding is not None
    assert "job time per optimizer step" in finding.message and "s checkpoint writes (at 11 GB/s, the fast end)" in finding.message
    assert "not projected: evaluation (eval set size not in the config)" in finding.message
    assert "None" not in finding.message


def test_eval_over_a_share_of_the_data_is_weighed_per_epoch(tmp_path: Path) -> None:
    """review5 #3 (Medilora train/medilora_medqa.yml): val_set_size 0.05 and eval_steps 0.01 over one epoch,
    100 evaluations of a 5% split: forward passes over 5x the examples the epoch trains on."""
    path = _write(tmp_path, AXOLOTL, "val_set_size: 0.05\neval_steps: 0.01\nnum_epochs: 1")
    w = load_config(path).workload
    assert w.eval_fraction == 0.05 and w.evals_per_epoch == 100 and w.eval_interval is None
    share = costmodel.eval_share(w, hardware.get_hardware("mi300x"))
    assert share is not None and share > 0.5
    report = _report(path)
    finding = next((f for f in report.findings if f.rule_id == "job.frequent_eval_per_epoch"), None)
    assert finding is not None
    assert "evaluates 100 times per epoch (eval_steps 0.01 of a run of 1 epoch(s)) over 5% of the data at batch 8" in finding.message
    assert "5.3 times the 95% it trains on" in finding.message and f"a projected {share:.0%} of the job's time" in finding.message
    assert "evaluations per epoch 100 (`eval_steps`, line 13)" in finding.message and "s evaluation (per epoch, spread over its steps)" in finding.message
    assert "eval split 0.05 (`val_set_size`, line 12)" in finding.message and "None" not in finding.message
    assert not any(f.rule_id == "job.frequent_eval" for f in report.findings)
    # two epochs: eval_steps 0.01 is 50 evaluations per epoch (ceil(max_steps x 0.01) steps apart)
    assert load_config(_write(tmp_path, AXOLOTL, "val_set_size: 0.05\neval_steps: 0.01\nnum_epochs: 2", name="b.yaml")).workload.evals_per_epoch == 50


def test_eval_once_per_epoch_over_a_share_is_not_a_finding(tmp_path: Path) -> None:
    once = _report(_write(tmp_path, AXOLOTL, "val_set_size: 0.05\nevals_per_epoch: 1\nnum_epochs: 2"))
    assert not any(f.rule_id.startswith("job.frequent_eval") for f in once.findings)
    # a count-sized eval set still goes the per-step way
    count = load_config(_write(tmp_path, AXOLOTL, "val_set_size: 500\neval_steps: 10", name="b.yaml")).workload
    assert count.eval_examples == 500 and count.eval_interval == 10 and count.eval_fraction is None and count.evals_per_epoch is None


def test_llamafactory_val_size_share_with_an_eval_steps_share(tmp_path: Path) -> None:
    w = load_config(_write(tmp_path, LLAMAFACTORY, "val_size: 0.1\neval_strategy: steps\neval_steps: 0.05\nnum_train_epochs: 2")).workload
    assert w.eval_fraction == 0.1 and w.evals_per_epoch == 10 and w.eval_batch_size == 8
    epoch = load_config(_write(tmp_path, LLAMAFACTORY, "val_size: 0.1\neval_strategy: epoch", name="b.yaml")).workload
    assert epoch.evals_per_epoch == 1
    steps = load_config(_write(tmp_path, LLAMAFACTORY, "val_size: 0.1\neval_strategy: steps\neval_steps: 10", name="c.yaml")).workload
    assert steps.eval_interval == 10 and steps.evals_per_epoch is None  # steps apart, but an epoch's steps need the dataset's size


# evaltask: SFT/DPO evaluation every few steps over an eval set of unstated size (review7b #25/#36 form): one eval batch per
# GPU per evaluation is the least it costs (costmodel.eval_floor); job.frequent_eval_floor at 10% of the job, else a note.
FULL_SFT = TRL_SFT.replace("use_peft: true\n", "").replace("per_device_train_batch_size: 8", "per_device_train_batch_size: 2")


def test_eval_every_step_of_unstated_size_is_found_at_its_floor(tmp_path: Path) -> None:
    # eval_steps unset: logging_steps 1 (transformers training_args.py:1574-1578@5.24.0); eval batch unset: 8
    # (per_device_eval_batch_size default 8, training_args.py:693-694@4.36.2, :1128@5.25.0)
    path = _write(tmp_path, FULL_SFT, "eval_strategy: steps\nlogging_steps: 1\nsave_steps: 500")
    w = load_config(path).workload
    assert w.eval_interval == 1 and w.eval_batch_size == 8 and w.eval_examples is None
    floor = costmodel.eval_floor(w, hardware.get_hardware("mi300x"))
    assert floor is not None and floor[1] >= costmodel.EVAL_FLOOR_SHARE
    report = _report(path)
    finding = next((f for f in report.findings if f.rule_id == "job.frequent_eval_floor"), None)
    assert finding is not None and not any(f.rule_id == "job.frequent_eval" for f in report.findings)
    assert "evaluates every 1 optimizer step" in finding.message and "per-device eval batch 8" in finding.message
    assert "the least an evaluation can cost: one eval batch per GPU" in finding.message
    assert f"{floor[1]:.0%} of the job's time (projected, a floor" in finding.message and "None" not in finding.message
    assert not any(n.startswith("evaluation: ") for n in report.notes)


@pytest.mark.parametrize(
    "evals",
    [
        "eval_strategy: steps\neval_steps: 500\nsave_steps: 500",  # every 500 steps: a note, no finding
        "eval_strategy: epoch",  # per epoch: not every N steps
        "eval_strategy: 'no'\neval_steps: 1",  # no evaluation
    ],
)
def test_eval_floor_stays_silent_where_it_is_small_or_not_per_step(tmp_path: Path, evals: str) -> None:
    report = _report(_write(tmp_path, FULL_SFT, evals))
    assert not any(f.rule_id.startswith("job.frequent_eval") for f in report.findings)
    notes = [n for n in report.notes if n.startswith("evaluation: ")]
    if "eval_steps: 500" in evals:
        assert len(notes) == 1 and "every 500 optimizer steps" in notes[0] and "under goblin's 10% bar, so no finding" in notes[0]
        assert "None" not in notes[0]
    else:
        assert notes == []


def test_dpo_eval_every_step_is_priced_at_one_sequence_per_pair_and_says_so(tmp_path: Path) -> None:
    """DPO evaluation runs chosen and rejected and the reference model: the floor counts one sequence and no reference
    forward (less than runs, still a floor) and says so; the training step is DPO's (pairs, reference)."""
    dpo = FULL_SFT.replace("# trl sft", "# trl dpo").replace("trl-lib/Capybara", "trl-lib/ultrafeedback_binarized") + "beta: 0.1\n"
    path = _write(tmp_path, dpo, "eval_strategy: steps\neval_steps: 1")
    w = load_config(path).workload
    assert w.sequences_per_example == 2 and w.eval_interval == 1
    report = _report(path)
    said = [f.message for f in report.findings if f.rule_id == "job.frequent_eval_floor"] + [n for n in report.notes if n.startswith("evaluation: ")]
    assert len(said) == 1 and "one sequence per chosen/rejected pair and no reference-model forward" in said[0] and "None" not in said[0]
