"""A framework config embedded in a deployment file (issue 23; review10a rows 11-12).

A Helm values/overrides file whose key (any name) holds a LLaMA-Factory or Axolotl config, as a mapping or as a
literal block string, is collected as that config: its keys' lines are the outer file's, edits are written back
into the block, and the keys the chart's template writes beside the block (`model_name_or_path: "{{ .Values.modelName
}}"`) are read from the values. A values file holding no config, or a string that is not one, is not collected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import ConfigError, NotATrainingConfig
from pytest_goblin.formats import load_config, parse_text
from pytest_goblin.formats.embedded import literal_block

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)

_TEMPLATE = """apiVersion: v1
kind: ConfigMap
data:
  train_config.yaml: |
    {{- if .Values.modelRemote }}
    model_name_or_path: /workdir/basemodel
    {{- else }}
    model_name_or_path: "{{ .Values.modelName }}"
    {{- end }}
    dataset: {{ .Values.dataset }}
    output_dir: /workdir/checkpoints
    {{- if ne (int $.Values.nodes) 1 }}
    ray_num_workers: {{ .Values.nodes }}
    {{- end }}
{{ toYaml .Values.trainerSettings | indent 4 }}
  entrypoint.sh: |
    llamafactory-cli train train_config.yaml
"""

_BLOCK = """trainerSettings:
  stage: sft
  do_train: true
  finetuning_type: lora
  lora_target: all
  template: llama3
  cutoff_len: 2048
  per_device_train_batch_size: 1
  gradient_accumulation_steps: 8
  bf16: true
"""

_STRING = """trainerSettings: |
  ### method
  stage: sft
  do_train: true
  finetuning_type: lora
  lora_target: all

  template: llama3
  cutoff_len: 2048
  per_device_train_batch_size: 1
  gradient_accumulation_steps: 8
  bf16: true
nodes: 1
"""


def _chart(tmp_path: Path, overrides: str, defaults: str = 'modelName: ""\nmodelRemote: ""\nnodes: 1\ntrainerSettings:\n  stage: sft\n') -> Path:
    (tmp_path / ".git").mkdir()
    chart = tmp_path / "helm"
    (chart / "templates").mkdir(parents=True)
    (chart / "overrides").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: finetune\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(defaults)
    (chart / "templates" / "configmap.yaml").write_text(_TEMPLATE)
    path = chart / "overrides" / "lora.yaml"
    path.write_text(overrides)
    return path


def _line(text: str, start: str) -> int:
    return next(i for i, row in enumerate(text.split("\n"), 1) if row.lstrip().startswith(start))


def test_a_values_key_holding_a_config_mapping_is_collected_with_the_files_lines(tmp_path: Path) -> None:
    path = _chart(tmp_path, "modelName: meta-llama/Llama-3.1-8B-Instruct\ndataset: alpaca_en_demo\n\n" + _BLOCK)
    loaded = load_config(path)
    w = loaded.workload
    assert w.format == "llamafactory" and w.micro_batch_size == 1 and w.gradient_accumulation == 8
    source = w.sources["micro_batch_size"]
    assert source.key == "trainerSettings.per_device_train_batch_size" and source.line == _line(loaded.text, "per_device_train_batch_size")
    # the model the chart's template writes beside the block, from the overrides file
    assert w.model.known and w.model.family == "llama3" and w.model.n_layers == 32
    model = w.sources["model"]
    assert model.key == "modelName" and model.line == 1 and model.file == str(path)
    assert any(n.startswith("`model_name_or_path` is written by the chart's templates/configmap.yaml line 8 from `modelName:") for n in w.notes)
    assert not any("ray_num_workers" in n for n in w.notes)  # under `ne (int .Values.nodes) 1`, nodes is 1
    text, skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, w, {"micro_batch_size": 4})
    assert not skipped and "  per_device_train_batch_size: 4\n" in text and text.count("per_device_train_batch_size") == 1
    data, adapter = parse_text(path, text)
    assert adapter.parse(path, data, text).micro_batch_size == 4


def test_a_literal_block_string_config_is_read_on_the_files_lines_and_edited_in_place(tmp_path: Path) -> None:
    path = _chart(tmp_path, "modelName: Qwen/Qwen2.5-7B\n" + _STRING)
    loaded = load_config(path)
    w = loaded.workload
    assert w.format == "llamafactory" and w.gradient_accumulation == 8 and w.model.family == "qwen2"
    source = w.sources["gradient_accumulation"]
    assert source.key == "gradient_accumulation_steps" and source.line == _line(loaded.text, "gradient_accumulation_steps")
    assert any("the literal block string of `trainerSettings:`" in n for n in w.notes)
    text, skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, w, {"micro_batch_size": 4})
    assert not skipped
    assert text == loaded.text.replace("  per_device_train_batch_size: 1\n", "  per_device_train_batch_size: 4\n")
    data, adapter = parse_text(path, text)
    assert adapter.parse(path, data, text).micro_batch_size == 4
    # a key the string lacks is added inside the string, at its indentation, before the next top-level key
    added, _ = loaded.adapter.apply_keys(loaded.text, loaded.data, {"gradient_checkpointing": True})
    assert "  bf16: true\n  gradient_checkpointing: true\nnodes: 1\n" in added


def test_a_condition_that_does_not_hold_takes_no_key(tmp_path: Path) -> None:
    """`modelRemote` set: the template writes /workdir/basemodel, not modelName; nodes 2 writes ray_num_workers."""
    path = _chart(tmp_path, "modelName: meta-llama/Llama-3.1-8B-Instruct\nmodelRemote: bucket/llama\nnodes: 2\n" + _BLOCK)
    w = load_config(path).workload
    assert not w.model.known
    assert any(n.startswith("`ray_num_workers` is written by the chart's templates/configmap.yaml line 13 from `nodes: 2`") for n in w.notes)


def test_a_values_file_with_no_config_is_not_collected(tmp_path: Path) -> None:
    path = _chart(tmp_path, "modelName: meta-llama/Llama-3.1-8B-Instruct\nnodes: 2\nresources:\n  cpu: 4\n  memory: 16Gi\n")
    with pytest.raises(NotATrainingConfig, match="no known config format"):
        load_config(path)


def test_a_block_string_that_is_not_a_config_is_not_collected(tmp_path: Path) -> None:
    script = "modelName: meta-llama/Llama-3.1-8B-Instruct\nentrypoint: |\n  #!/bin/bash\n  stage: sft\n  llamafactory-cli train x.yaml\n"
    with pytest.raises(NotATrainingConfig, match="no known config format"):
        load_config(_chart(tmp_path, script))
    other = tmp_path / "other.yaml"  # YAML in the string, but no LLaMA-Factory or Axolotl config
    other.write_text("settings: |\n  replicas: 2\n  image: rocm/pytorch\n  port: 8080\n")
    with pytest.raises(NotATrainingConfig, match="no known config format"):
        load_config(other)


def test_two_keys_holding_configs_name_none(tmp_path: Path) -> None:
    path = _chart(tmp_path, _BLOCK + _BLOCK.replace("trainerSettings:", "secondRun:"))
    with pytest.raises(NotATrainingConfig, match="no known config format"):
        load_config(path)


def test_a_folded_string_config_is_an_error_naming_its_line(tmp_path: Path) -> None:
    folded = "modelName: x\ntrainerSettings: >\n" + "".join(f"  {row}\n\n" for row in _BLOCK.split("\n")[1:] if row.strip())
    path = _chart(tmp_path, folded)
    with pytest.raises(ConfigError, match="not a literal block") as err:
        load_config(path)
    assert err.value.line == 2


def test_literal_block_checks_every_line() -> None:
    text = "a: |\n  x: 1\n  y: 2\nb: 1\n"
    assert literal_block(text, 1, "x: 1\ny: 2\n") == (2, "  ")
    assert literal_block(text, 1, "x: 1\ny: 3\n") is None
    assert literal_block("a: >\n  x: 1\n", 1, "x: 1\n") is None


def test_the_wrapper_files_own_keys_are_not_judged_as_framework_keys(tmp_path: Path) -> None:
    """`modelName`, `checkpointsRemote` are the chart's values, not LLaMA-Factory keys; a key inside the block that no
    release has is still judged, on its own line (both the mapping and the string)."""
    from pytest_goblin import blockers
    from pytest_goblin.hardware import get_hardware

    wrapper = "modelName: meta-llama/Llama-3.1-8B-Instruct\ncheckpointsRemote: bucket/run\n"
    for name, body in (("mapping", _BLOCK), ("string", _STRING)):
        (tmp_path / name).mkdir()
        path = _chart(tmp_path / name, wrapper + body.replace("  bf16: true\n", "  bf16: true\n  no_such_key_anywhere: 3\n"))
        loaded = load_config(path)
        keyed = [f for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id == "blocker.keys_unknown_at_version"]
        said = " ".join(f.message for f in keyed)
        assert "no_such_key_anywhere" in said and "modelName" not in said and "checkpointsRemote" not in said
        assert {f.line for f in keyed} == {_line(loaded.text, "no_such_key_anywhere")}


def test_an_axolotl_config_under_any_key_is_collected_outside_a_chart(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "deploy.yaml"
    path.write_text("replicas: 1\nfinetune:\n  base_model: Qwen/Qwen2.5-7B\n  adapter: lora\n  micro_batch_size: 2\n  sequence_len: 2048\n")
    w = load_config(path).workload
    assert w.format == "axolotl" and w.micro_batch_size == 2 and w.model.family == "qwen2"
    assert w.sources["micro_batch_size"].key == "finetune.micro_batch_size" and w.sources["micro_batch_size"].line == 5
