"""A `llamafactory-cli train x.yaml key=value` line's words over the YAML's values (formats/llamafactory._launch_overrides):
LLaMA-Factory merges them over the file from 0.9.3 (hparams/parser.py:63-66@v0.9.3, :90-97@v0.9.5); 0.9.2 reads the YAML
only when it is the one argument (hparams/parser.py:64-65@v0.9.2)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import write_tree

LF = (
    "model_name_or_path: meta-llama/Llama-3.1-8B\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
    "cutoff_len: 2048\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\n"
)


def _workload(tmp_path: Path, yaml: str, line: str, pin: str = "") -> WorkloadConfig:
    files = {"configs/sft.yaml": yaml, "run.sh": line + "\n"}
    if pin:
        files["requirements.txt"] = pin + "\n"
    return load_config(write_tree(tmp_path / "repo", files, git=True) / "configs" / "sft.yaml").workload


def test_launch_words_set_the_batch_precision_and_checkpointing(tmp_path: Path) -> None:
    w = _workload(
        tmp_path, LF, "llamafactory-cli train configs/sft.yaml per_device_train_batch_size=2 bf16=true disable_gradient_checkpointing=true cutoff_len=4096"
    )
    assert (w.micro_batch_size, w.precision, w.gradient_checkpointing, w.seq_len) == (2, "bf16", False, 4096)
    src = w.sources["micro_batch_size"]
    assert src.file.endswith("run.sh") and src.line == 1 and not src.unread
    assert "`per_device_train_batch_size=2` on run.sh line 1: LLaMA-Factory merges it over the YAML" in (src.note or "")
    assert "the YAML's own per_device_train_batch_size (line 6) is overridden" in (src.note or "")
    assert w.sources["precision"].file.endswith("run.sh") and "`bf16=true` on run.sh line 1" in (w.sources["precision"].note or "")
    assert w.gradient_accumulation == 4 and w.sources["gradient_accumulation"].file.endswith("sft.yaml")


def test_no_launch_words_keep_the_yamls_values(tmp_path: Path) -> None:
    """Must not fire: the line passes nothing over the file."""
    w = _workload(tmp_path, LF + "bf16: true\n", "llamafactory-cli train configs/sft.yaml")
    assert (w.micro_batch_size, w.seq_len, w.precision) == (4, 2048, "bf16")
    assert all(w.sources[f].file.endswith("sft.yaml") and not w.sources[f].unread for f in ("micro_batch_size", "seq_len", "precision"))


def test_words_are_not_applied_before_0_9_3(tmp_path: Path) -> None:
    """Must not fire: llamafactory 0.9.2 merges no key=value words over the YAML."""
    w = _workload(tmp_path, LF, "llamafactory-cli train configs/sft.yaml per_device_train_batch_size=2", pin="llamafactory==0.9.2")
    assert w.micro_batch_size == 4 and w.sources["micro_batch_size"].file.endswith("sft.yaml")
    assert any("`per_device_train_batch_size=2` on run.sh line 1: not applied, llamafactory 0.9.2 (pinned)" in n for n in w.notes)


def test_words_are_applied_from_0_9_3(tmp_path: Path) -> None:
    w = _workload(tmp_path, LF, "llamafactory-cli train configs/sft.yaml per_device_train_batch_size=2", pin="llamafactory==0.9.3")
    assert w.micro_batch_size == 2 and w.sources["micro_batch_size"].file.endswith("run.sh")


def test_a_word_set_at_run_time_leaves_the_field_unjudged(tmp_path: Path) -> None:
    w = _workload(tmp_path, LF, "llamafactory-cli train configs/sft.yaml cutoff_len=$LEN")
    src = w.sources["seq_len"]
    assert w.seq_len == 2048 and src.unread and "`cutoff_len=$LEN` on run.sh line 1: the value is set at run time" in (src.note or "")


def test_a_precision_word_beside_another_half_precision_is_not_applied(tmp_path: Path) -> None:
    """Must not fire: bf16=true over the YAML's fp16: true leaves both on; goblin does not pick one."""
    w = _workload(tmp_path, LF + "fp16: true\n", "llamafactory-cli train configs/sft.yaml bf16=true")
    assert w.precision == "fp16" and w.sources["precision"].unread
    assert "`bf16=true` on run.sh line 1 is merged over the YAML" in (w.sources["precision"].note or "")


def test_a_false_precision_word_unsets_the_yamls_precision_unjudged(tmp_path: Path) -> None:
    w = _workload(tmp_path, LF + "bf16: true\n", "llamafactory-cli train configs/sft.yaml bf16=false")
    assert w.sources["precision"].unread and "`bf16=false` on run.sh line 1" in (w.sources["precision"].note or "")


def test_a_deepspeed_word_leaves_the_strategy_unjudged_and_is_named(tmp_path: Path) -> None:
    w = _workload(tmp_path, LF, "llamafactory-cli train configs/sft.yaml deepspeed=ds_z3.json learning_rate=1e-5")
    assert w.sources["strategy"].unread and "`deepspeed=ds_z3.json` on run.sh line 1" in (w.sources["strategy"].note or "")
    assert any("the launch line also sets `deepspeed=ds_z3.json` on run.sh line 1; `learning_rate=1e-5` on run.sh line 1" in n for n in w.notes)


def test_a_word_goblin_cannot_read_keeps_the_yamls_value(tmp_path: Path) -> None:
    w = _workload(tmp_path, LF, "llamafactory-cli train configs/sft.yaml per_device_train_batch_size=many")
    assert w.micro_batch_size == 4 and w.sources["micro_batch_size"].file.endswith("sft.yaml")
    assert any("`many` is not a value goblin reads for per_device_train_batch_size; the YAML's own value is kept" in n for n in w.notes)


def test_dataset_words_are_left_to_the_data_reader(tmp_path: Path) -> None:
    """Must not fire: dataset/dataset_dir words are formats/datasets.py's, not named as unread here."""
    w = _workload(tmp_path, LF + "dataset: mine\n", "llamafactory-cli train configs/sft.yaml dataset=foo")
    assert not any("also sets" in n for n in w.notes)
