"""The job around the step: checkpoint writes, read from the config's own save settings.

Every default comes from the framework's table (transformers TrainingArguments save_strategy
"steps", save_steps 500, save_only_model False; Axolotl leaves them unset), and the finding rests on
the realistic end of the storage bandwidth (a plain synchronous torch.save), with the range in the message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import costmodel, hardware
from pytest_goblin.formats import load_config
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

TRL_FULL = """\
# torchrun --nproc_per_node 8 -m trl.scripts.sft --config {name}
model_name_or_path: meta-llama/Llama-3.1-8B
dataset_name: trl-lib/Capybara
bf16: true
per_device_train_batch_size: 4
gradient_accumulation_steps: 1
learning_rate: 1.0e-5
max_length: 2048
{saves}
"""


def _config(tmp_path: Path, saves: str, name: str = "sft.yaml") -> Path:
    path = tmp_path / name
    path.write_text(TRL_FULL.format(name=name, saves=saves))
    return path


def _job_finding(path: Path):  # type: ignore[no-untyped-def]
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    report = result.report
    assert report is not None, result.error
    return next((f for f in report.findings if f.rule_id == "job.frequent_full_checkpoints"), None)


def test_saves_every_few_steps_are_found_in_the_configs_own_terms(tmp_path: Path) -> None:
    finding = _job_finding(_config(tmp_path, "save_steps: 20"))
    assert finding is not None and finding.line == 9 and finding.key == "save_steps"
    assert "save interval 20 (`save_steps`, line 9)" in finding.message
    assert (
        "every 20 optimizer steps" in finding.message and "at 1.3 GB/s (a plain synchronous torch.save" in finding.message and "(projected)" in finding.message
    )
    assert (
        "about 96 GB every 20 optimizer steps (32 GB of the model's weights in fp32 and 64 GB of optimizer state)" in finding.message
    )  # 8.03B x (fp32 weights 4 + AdamW moments 8) bytes: no fp32 master copy is priced, so none is named


@pytest.mark.parametrize(
    "saves",
    [
        "save_steps: 500",  # the Trainer's default interval: a few percent at most
        "",  # the default (500 steps, transformers' save_steps)
        "save_steps: 200\nsave_only_model: true",  # the optimizer state is left out and the model saved rarely
        "save_steps: 20\nsave_strategy: epoch",  # not every N steps
        "save_steps: 0.05",  # a share of the run's steps: the config does not fix it
    ],
)
def test_no_finding_where_saves_are_rare_small_or_not_per_step(tmp_path: Path, saves: str) -> None:
    assert _job_finding(_config(tmp_path, saves)) is None


def test_save_settings_are_read_with_their_sources(tmp_path: Path) -> None:
    w = load_config(_config(tmp_path, "")).workload
    assert w.save_interval == 500 and not w.sources["save_interval"].explicit
    assert "training_args.py" in (w.sources["save_interval"].note or "")
    ratio = load_config(_config(tmp_path, "save_steps: 0.05", "ratio.yaml")).workload
    assert ratio.save_interval is None and any("share of the run's total steps" in n for n in ratio.notes)
    axolotl = tmp_path / "ax.yml"
    axolotl.write_text("base_model: meta-llama/Llama-3.1-8B\nsequence_len: 2048\nmicro_batch_size: 1\ndatasets:\n  - path: x\n    type: alpaca\n")
    assert load_config(axolotl).workload.save_interval is None  # Axolotl: unset means not every N steps
    axolotl.write_text(axolotl.read_text() + "save_steps: 25\n")
    assert load_config(axolotl).workload.save_interval == 25


def test_checkpoint_size_and_time_follow_what_is_saved_and_who_writes(tmp_path: Path) -> None:
    w = load_config(_config(tmp_path, "save_steps: 20")).workload
    full = costmodel.checkpoint_gb(w)
    assert full == pytest.approx(8.03 * 12, rel=0.02)
    assert costmodel.checkpoint_gb(w.model_copy(update={"save_only_model": True})) == pytest.approx(8.03 * 4, rel=0.02)
    ddp = w.model_copy(update={"world_size": 16, "nodes": 2, "gpus_per_node": 8, "strategy": "ddp"})
    zero = w.model_copy(update={"world_size": 16, "nodes": 2, "gpus_per_node": 8, "strategy": "deepspeed", "zero_stage": 2})
    # rank 0 writes the model file; sharded optimizer state is written by both nodes at once
    model, optimizer = costmodel.checkpoint_parts(w)
    assert costmodel.checkpoint_seconds(ddp, 10.0) == pytest.approx((model + optimizer) / 10.0)
    assert costmodel.checkpoint_seconds(zero, 10.0) == pytest.approx(model / 10.0 + optimizer / 20.0)
    hw = hardware.get_hardware("mi300x")
    fast, slow = (costmodel.checkpoint_share(w, hw, bw) for bw in reversed(costmodel.STORAGE_GB_S))
    assert fast is not None and slow is not None and 0 < fast < slow < 1
