"""OmegaConf interpolations in torchtune configs are read as the file's own values (review5 #7).

torchtune resolves them before building a component (torchtune/config/_instantiate.py:104 @v0.2.1,
`OmegaConf.resolve(config)`); goblin resolves `${key}` / `${a.b}` / `${.a}` against the same file as data,
and leaves a resolver call (`${oc.env:X}`) or a missing key unknown, said in a note, never an item error.
"""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.interpolation import resolve

HEAD = "model:\n  _component_: torchtune.models.llama3.llama3_8b\noptimizer:\n  _component_: torch.optim.AdamW\n"


def _load(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + body)
    return load_config(path).workload


def test_top_level_key_interpolation_is_read_as_its_value(tmp_path: Path) -> None:
    # tradutor configs/fft/llama3.yaml: `packed: False` at the top, `packed: ${packed}` under dataset
    body = "packed: True\nbatch_size: ${bs}\nbs: 4\ndataset:\n  _component_: torchtune.datasets.alpaca_dataset\n  packed: ${packed}\n  max_seq_len: ${tokenizer.max_seq_len}\ntokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  max_seq_len: 2048\n"
    w = _load(tmp_path, body)  # on 8f667be: ConfigError "expected true or false, got '${packed}'"
    assert w.sample_packing is True and w.micro_batch_size == 4 and w.seq_len == 2048
    assert w.sources["micro_batch_size"].key == "batch_size" and w.sources["micro_batch_size"].line == 6


def test_a_resolver_call_is_unknown_not_an_error(tmp_path: Path) -> None:
    body = "batch_size: ${oc.env:BATCH}\ndataset:\n  _component_: torchtune.datasets.alpaca_dataset\n  packed: ${nowhere}\n"
    w = _load(tmp_path, body)
    assert w.sources["micro_batch_size"].explicit is False  # read as not set: the recipe's default
    said = " ".join(w.notes)
    assert "`batch_size: ${oc.env:BATCH}` is an OmegaConf interpolation goblin does not resolve" in said
    assert "`dataset.packed: ${nowhere}`" in said and "None" not in said


def test_resolve_grammar_forms() -> None:
    data = {"a": {"b": 3, "c": "${.b}", "d": "${..top}", "e": "run_${a.b}_${top}"}, "top": "x", "f": "${a}", "g": "${h}", "h": "${g}"}
    out, unknown = resolve(data)
    assert out["a"]["c"] == 3 and out["a"]["d"] == "x" and out["a"]["e"] == "run_3_x"
    assert out["f"] is None and out["g"] is None and out["h"] is None  # a whole node; a cycle
    assert len(unknown) == 3 and data["a"]["c"] == "${.b}"  # the input is not changed


def test_plain_values_are_untouched() -> None:
    data = {"a": 1, "b": "no interpolation", "c": [1, "two"], "d": "\\${escaped}"}
    out, unknown = resolve(data)
    assert out == data and unknown == []


# `${oc.env:VAR,default}` (omegaconf/resolvers/oc/__init__.py:22-38@v2.3.0): the launcher's export of VAR, else the default,
# as text; torchtune resolves it with the rest (torchtune/config/_instantiate.py:110@v0.6.1)
TUNE_LINE = "tune run lora_finetune_single_device --config c.yaml\n"


def test_oc_env_takes_its_default_where_the_launcher_does_not_set_the_variable(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "run.sh").write_text("#!/bin/bash\n" + TUNE_LINE)
    w = _load(tmp_path, "dtype: ${oc.env:DTYPE,fp32}\noutput_dir: ${oc.env:OUT_DIR, '/scratch/out'}\nlog_dir: ${output_dir}/logs\n")
    assert w.precision == "fp32" and w.sources["precision"].explicit and w.sources["precision"].line == 5
    said = " ".join(w.notes)
    assert "`dtype: ${oc.env:DTYPE,fp32}` read as 'fp32': oc.env's default, as the launcher goblin read does not set DTYPE" in said
    assert "None" not in said
    out, _ = resolve({"output_dir": "${oc.env:OUT_DIR, '/scratch/out'}", "log_dir": "${output_dir}/logs"}, {})
    assert out == {"output_dir": "/scratch/out", "log_dir": "/scratch/out/logs"}


def test_oc_env_takes_the_value_the_launcher_exports(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "run.sh").write_text("#!/bin/bash\nexport DTYPE=bf16\n" + TUNE_LINE)
    w = _load(tmp_path, "dtype: ${oc.env:DTYPE,fp32}\n")
    assert w.precision == "bf16"
    assert not any("oc.env's default" in n for n in w.notes)


def test_oc_env_unknown_where_the_launcher_sets_it_at_run_time(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "run.sh").write_text("#!/bin/bash\nexport DTYPE=$(cat dtype.txt)\n" + TUNE_LINE)
    w = _load(tmp_path, "dtype: ${oc.env:DTYPE,fp32}\n")
    assert w.sources["precision"].explicit is False
    assert any("(the launcher sets DTYPE to a value goblin cannot read)" in n for n in w.notes)


def test_oc_env_number_is_text_so_it_stays_unknown(tmp_path: Path) -> None:
    # OmegaConf returns str(default): `${oc.env:BS,8}` hands the recipe the text "8", not the number
    w = _load(tmp_path, "batch_size: ${oc.env:BS,8}\n")
    assert w.sources["micro_batch_size"].explicit is False
    assert any("oc.env hands its default 8 over as the text '8', not a number or boolean" in n for n in w.notes)
    out, notes = resolve({"a": "${oc.env:BS}", "b": "${oc.env:N,null}", "c": "${oc.decode:${oc.env:BS,8}}", "d": "${oc.env:BS}"}, {"BS": "16", "D": None})
    assert out == {"a": None, "b": None, "c": None, "d": None}
    assert any("an interpolation nested in another" in n for n in notes)
    assert any("oc.env gives the text '16', not a number or boolean" in n for n in notes)


def test_oc_env_of_a_secret_is_not_carried_into_the_config() -> None:
    out, notes = resolve({"key": "${oc.env:WANDB_API_KEY}"}, {"WANDB_API_KEY": "abc123"})
    assert out == {"key": None} and "abc123" not in " ".join(notes)


def test_a_plain_yaml_config_keeps_an_interpolation_as_text(tmp_path: Path) -> None:
    """An HF TrainingArguments YAML is read by HfArgumentParser with yaml.safe_load, not OmegaConf: `${ga}` is text there."""
    import pytest

    from pytest_goblin.errors import ConfigError

    path = tmp_path / "sft.yaml"
    path.write_text(
        "model_name_or_path: Qwen/Qwen2-7B-Instruct\nper_device_train_batch_size: 2\ngradient_accumulation_steps: ${ga}\nga: 4\nbf16: true\noutput_dir: out\n"
    )
    with pytest.raises(ConfigError, match="expected an integer, got '\\$\\{ga\\}'"):
        load_config(path)


def test_a_launch_word_an_interpolation_refers_to_is_merged_before_it_resolves(tmp_path: Path) -> None:
    """torchtune merges the `tune run` line's words over the YAML, then resolves (torchtune/config/_utils.py:193,
    config/_instantiate.py:110@v0.6.1): `batch=8` makes `batch_size: ${batch}` 8, which the cost model then prices."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "run.sh").write_text("#!/bin/bash\ntune run lora_finetune_single_device --config c.yaml batch=8 seq=None\n")
    w = _load(
        tmp_path, "batch: 4\nbatch_size: ${batch}\nseq: 1024\ntokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  max_seq_len: ${seq}\n"
    )
    assert w.micro_batch_size == 8 and w.sources["micro_batch_size"].line == 6
    said = " ".join(w.notes)
    assert "`batch=8` on run.sh line 2 is merged over the file before torchtune resolves its interpolations" in said and "`${batch}` reads 8" in said
    assert "`${seq}` reads null" in said and "None" not in said.replace("`seq=None`", "")  # the word as written is the config's own


def test_a_launch_word_set_at_run_time_leaves_what_refers_to_it_unknown(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "run.sh").write_text("#!/bin/bash\ntune run lora_finetune_single_device --config c.yaml batch=$1\n")
    w = _load(tmp_path, "batch: 4\nbatch_size: ${batch}\n")
    assert w.sources["micro_batch_size"].explicit is False
    assert any("`batch_size: ${batch}`" in n and "it refers to a key whose value goblin does not know" in n for n in w.notes)


def test_a_launch_word_no_interpolation_refers_to_leaves_the_file_alone(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "run.sh").write_text("#!/bin/bash\ntune run lora_finetune_single_device --config c.yaml epochs=3\n")
    w = _load(tmp_path, "batch: 4\nbatch_size: ${batch}\n")
    assert w.micro_batch_size == 4 and not any("is merged over the file before torchtune resolves" in n for n in w.notes)
