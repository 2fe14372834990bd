"""review5 #25-#27: a file goblin is pointed at gets a record or a reason, never silence; and
TrainingArguments JSON files (`HfArgumentParser.parse_json_file`) are read as hf-trainer YAML is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_goblin.cli import main
from pytest_goblin.formats import candidate_suffixes

from .repo_files import write_tree

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _parse(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["parse", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("suffix", sorted(candidate_suffixes() | {".json", ".txt", ".md", ".jsonl", ""}))
@pytest.mark.parametrize("content", ["", "[]\n", "{}\n", "just text\n"])
def test_parse_never_prints_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], suffix: str, content: str) -> None:
    monkeypatch.chdir(tmp_path)
    name = f"config{suffix}"
    (tmp_path / name).write_text(content)
    for argv in ([name], ["--json", name]):
        _rc, out, err = _parse(capsys, *argv)
        assert (out + err).strip(), f"goblin parse {' '.join(argv)} printed nothing for {content!r}"
        assert name in out + err


def test_named_file_of_unread_suffix_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("per_device_train_batch_size: 4\n")
    rc, out, _ = _parse(capsys, "notes.txt")
    assert rc == 0
    assert "notes.txt: not collected: .txt suffix is not a config format goblin reads" in out
    rc, out, _ = _parse(capsys, "--json", "notes.txt")
    assert json.loads(out)["reason"].startswith(".txt suffix is not a config format goblin reads")


def test_named_goblin_copy_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".train.goblin-after-1a2b.yaml").write_text("per_device_train_batch_size: 4\n")
    _rc, out, _ = _parse(capsys, ".train.goblin-after-1a2b.yaml")
    assert "not collected: a patched copy goblin writes" in out


def test_folder_walk_stays_quiet_about_other_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Must not fire: files met while walking a folder that no format reads are passed over (a README, a dataset)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "README.md").write_text("# notes\n")
    (tmp_path / "cfg" / "data.jsonl").write_text('{"text": "a"}\n')
    _rc, out, err = _parse(capsys, "cfg")
    assert "README.md" not in out + err and "data.jsonl" not in out + err


# ------------------------------------------------------------------ TrainingArguments JSON (parse_json_file)

TA_JSON = """{
    "output_dir": "output/run",
    "model_name_or_path": "meta-llama/Llama-2-7b-hf",
    "num_train_epochs": 1,
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 8,
    "learning_rate": 1e-5,

    "gradient_checkpointing": true,
    "warmup_steps": 100,
    "fp16": true,
    "dataloader_num_workers": 0,
    "remove_unused_columns": false
}
"""


def _load(tmp_path: Path, name: str, text: str) -> object:
    from pytest_goblin.formats import load_config

    path = tmp_path / name
    path.write_text(text)
    return load_config(path)


def test_trainingarguments_json_is_read_with_its_lines(tmp_path: Path) -> None:
    loaded: Any = _load(tmp_path, "sft.json", TA_JSON)
    w = loaded.workload
    assert loaded.adapter.name == "hf-trainer"
    assert (w.micro_batch_size, w.gradient_accumulation, w.precision, w.gradient_checkpointing) == (2, 8, "fp16", True)
    assert (w.sources["micro_batch_size"].line, w.sources["precision"].line, w.sources["dataloader_workers"].line) == (5, 11, 12)


def test_json_edits_keep_the_text_and_read_back(tmp_path: Path) -> None:
    loaded: Any = _load(tmp_path, "sft.json", TA_JSON)
    text, skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, loaded.workload, {"precision": "bf16", "dataloader_workers": 4})
    assert skipped == {}
    assert json.loads(text) == {**json.loads(TA_JSON), "fp16": False, "bf16": True, "dataloader_num_workers": 4}
    changed = [(a, b) for a, b in zip(TA_JSON.split("\n"), text.split("\n"), strict=False) if a != b]
    assert ('    "fp16": true,', '    "fp16": false,') in changed
    assert '    "dataloader_num_workers": 4,' in text.split("\n")
    assert '\n\n    "gradient_checkpointing": true,' in text  # the blank line and layout kept
    renamed, left = loaded.adapter.apply_keys(loaded.text, loaded.data, {"warmup_steps": {"rename_to": "warmup_ratio"}})
    assert left == [] and '    "warmup_ratio": 100,' in renamed and json.loads(renamed)["warmup_ratio"] == 100


def test_json_edit_that_cannot_land_in_place_is_skipped_with_where(tmp_path: Path) -> None:
    one_line = '{"model_name_or_path": "meta-llama/Llama-2-7b-hf", "per_device_train_batch_size": 2, "gradient_accumulation_steps": 8, "fp16": true}\n'
    loaded: Any = _load(tmp_path, "flat.json", one_line)
    text, skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, loaded.workload, {"precision": "bf16"})
    assert text == one_line
    assert "set `bf16` to true, `fp16` to false (line 1) there" in skipped["precision"]


def test_json_repeated_key_reads_the_last(tmp_path: Path) -> None:
    text = TA_JSON.replace('"fp16": true,', '"fp16": true,\n    "per_device_train_batch_size": 4,')
    loaded: Any = _load(tmp_path, "twice.json", text)
    assert loaded.workload.micro_batch_size == 4
    assert any("`per_device_train_batch_size` is written twice (lines 5 and 12)" in n for n in loaded.workload.notes)


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("ds_z3.json", '{"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": "auto"}', "DeepSpeed config"),
        ("train.json", '[{"instruction": "a", "output": "b"}]', "not an object of settings"),
        ("data.json", '{"text": "a"}\n{"text": "b"}\n', "JSON Lines"),
        ("config.json", '{"architectures": ["LlamaForCausalLM"], "hidden_size": 4096}', "no known config format"),
        ("broken.json", '{"text": "a",', "not valid JSON"),
        ("ax.json", '{"base_model": "meta-llama/Llama-2-7b-hf", "micro_batch_size": 2, "datasets": [{"path": "x"}], "sequence_len": 2048}', "YAML only"),
    ],
)
def test_json_that_is_not_a_trainingarguments_file_says_why(tmp_path: Path, name: str, text: str, why: str) -> None:
    """Must not fire: data, model and DeepSpeed JSON beside a recipe are not configs, and another format's keys are
    not misread as TrainingArguments."""
    from pytest_goblin.errors import NotATrainingConfig

    with pytest.raises(NotATrainingConfig) as exc:
        _load(tmp_path, name, text)
    assert why in exc.value.reason


def test_json_not_valid_but_naming_settings_is_an_error_at_its_line(tmp_path: Path) -> None:
    from pytest_goblin.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, "bad.json", TA_JSON.replace('"fp16": true,', '"fp16": true,,'))
    assert exc.value.line == 11 and "not valid JSON" in str(exc.value)


def test_large_json_is_data(tmp_path: Path) -> None:
    from pytest_goblin.errors import NotATrainingConfig
    from pytest_goblin.yamlio import MAX_CONFIG_BYTES

    with pytest.raises(NotATrainingConfig) as exc:
        _load(tmp_path, "big.json", '{"text": "' + "a" * MAX_CONFIG_BYTES + '"}')
    assert "larger than any training config" in exc.value.reason


def test_folder_walk_collects_json_recipes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train_args").mkdir()
    (tmp_path / "train_args" / "sft.json").write_text(TA_JSON)
    (tmp_path / "train_args" / "ds_z3.json").write_text('{"zero_optimization": {"stage": 3}}')
    _rc, out, _err = _parse(capsys, "train_args")
    assert "train_args/sft.json: hf-trainer" in out
    assert "train_args/ds_z3.json: not collected: a DeepSpeed config" in out


def test_parse_never_prints_none_for_a_value_read_from_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """review5 #25: `reference_copy = True (... named by the path's `x-dpo-full.json`: None)`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "qwen-dpo-full.json").write_text(TA_JSON)
    _rc, out, _err = _parse(capsys, "qwen-dpo-full.json")
    assert "reference_copy = True" in out
    assert ": None)" not in out and "None" not in out.replace("compile_mode = None", "")


# ------------------------------------------------------------------ the script a JSON recipe is run with

FIREFLY_TRAIN = """\
import argparse
from dataclasses import dataclass, field
from transformers import HfArgumentParser, TrainingArguments, AutoModelForCausalLM
import torch


@dataclass
class CustomizedArguments:
    model_name_or_path: str = field(metadata={"help": "model"})
    train_mode: str = field(default="qlora")
    max_seq_length: int = field(default=512)
    template_name: str = field(default="default")


def setup():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train_args_file", type=str, default="train_args/sft/qlora/qwen-7b-sft-qlora.json")
    args = parser.parse_args()
    parser = HfArgumentParser((CustomizedArguments, TrainingArguments))
    args, training_args = parser.parse_json_file(json_file=args.train_args_file)
    torch_dtype = torch.float16 if training_args.fp16 else torch.bfloat16
    return AutoModelForCausalLM.from_pretrained(args.model_name_or_path, torch_dtype=torch_dtype)
"""


def _firefly(tmp_path: Path, readme_names: str) -> Path:
    files = {
        "train.py": FIREFLY_TRAIN,
        "train_args/sft/full/bloom-1b1-sft-full.json": TA_JSON,
        "train_args/sft/full/qwen-7b-sft-full.json": TA_JSON.replace('"num_train_epochs": 1,', '"template_name": "qwen",\n    "num_train_epochs": 1,'),
        "README.md": f"```bash\ndeepspeed --num_gpus=8 train.py --train_args_file {readme_names}\n```\n",
    }
    return write_tree(tmp_path, files, git=True) / "train_args" / "sft" / "full" / "qwen-7b-sft-full.json"


def test_json_recipe_is_read_through_the_script_its_folders_launch_line_runs(tmp_path: Path) -> None:
    from pytest_goblin.formats.launched import launched_script

    config = _firefly(tmp_path, "train_args/sft/full/bloom-1b1-sft-full.json")
    launched = launched_script(config)
    assert launched is not None and launched.script == "train.py"
    assert launched.parser_classes == ("CustomizedArguments", "TrainingArguments")
    assert launched.where == "README.md line 2, which runs bloom-1b1-sft-full.json of this file's folder with it (no launch line names this file)"
    loaded: Any = _load(config.parent, config.name, config.read_text())
    w = loaded.workload
    assert w.seq_len == 512 and "CustomizedArguments" in (w.sources["seq_len"].note or "")  # the script's class default
    # the method is chosen in train.py's code, not by a ModelConfig key; its one model load passes no quantization and
    # nothing in it quantizes, so quantization is read as none (launched.Launched.unquantized), and judged
    assert w.sources["method"].unread and "not TRL's ModelConfig" in (w.sources["method"].note or "")
    assert w.quantization == "none" and not w.sources["quantization"].unread
    assert "train.py:22 pass no quantization" in (w.sources["quantization"].note or "")
    # review10b #28: the dtype train.py's from_pretrained passes, which follows the file's `fp16: true`
    src = w.sources["weight_dtype"]
    assert w.weight_dtype == "fp16" and not src.unread and src.line == 22 and "train.py:22 loads the weights in torch.float16" in (src.note or "")


def test_json_recipe_whose_folder_no_launch_line_runs_is_read_alone(tmp_path: Path) -> None:
    """Must not fire: a launch line for a JSON file of another folder stands for no file here where the file sets no key
    of the script's own argument classes (only TrainingArguments keys, which any script may read)."""
    from pytest_goblin.formats.launched import launched_script

    config = _firefly(tmp_path, "train_args/pretrain/full/bloom-1b1-pretrain-full.json")
    (tmp_path / "train_args" / "pretrain" / "full").mkdir(parents=True)
    (tmp_path / "train_args" / "pretrain" / "full" / "bloom-1b1-pretrain-full.json").write_text(TA_JSON)
    config.write_text(TA_JSON)
    assert launched_script(config) is None
    loaded: Any = _load(config.parent, config.name, config.read_text())
    assert not any(src.unread for src in loaded.workload.sources.values())


def test_every_model_field_read_from_the_script_leaves_nothing_assumed(tmp_path: Path) -> None:
    """review10b #30/#31 (yangjianxin1/LongQLoRA train.py:135-140,179): the script's load_in_4bit, LoraConfig and
    torch_dtype all run on the file: nothing is left to say assumed (no reader error where the list is empty)."""
    script = FIREFLY_TRAIN.replace(
        "torch_dtype=torch_dtype)", "torch_dtype=torch.float16, load_in_4bit=True)\n\n\nfrom peft import LoraConfig\nLoraConfig(r=8)\n"
    )
    config = _firefly(tmp_path, "train_args/sft/full/qwen-7b-sft-full.json")
    (tmp_path / "train.py").write_text(script)
    w: Any = _load(config.parent, config.name, config.read_text())
    w = w.workload
    assert (w.method, w.quantization, w.weight_dtype) == ("qlora", "4bit", "fp16")
    assert not any(src.unread for src in w.sources.values())


def test_json_recipe_of_another_folder_setting_the_scripts_own_keys_is_read_through_it(tmp_path: Path) -> None:
    """review10b #28 (Firefly train_args/dpo/full/, which no README line names): a launch line of a recipe under the
    same folder above (train_args/) stands for this one where it sets a key of the script's own class (template_name)."""
    from pytest_goblin.formats.launched import launched_script

    config = _firefly(tmp_path, "train_args/pretrain/full/bloom-1b1-pretrain-full.json")
    (tmp_path / "train_args" / "pretrain" / "full").mkdir(parents=True)
    (tmp_path / "train_args" / "pretrain" / "full" / "bloom-1b1-pretrain-full.json").write_text(TA_JSON)
    launched = launched_script(config)
    assert launched is not None and launched.script == "train.py"
    assert launched.where.startswith("README.md line 2, which runs train_args/pretrain/full/bloom-1b1-pretrain-full.json under train_args/")
    # the repository root is never the folder above: a README line of a recipe elsewhere in the tree stands for none
    other = write_tree(
        tmp_path / "r2", {"train.py": FIREFLY_TRAIN, "a/x.json": TA_JSON, "README.md": "```\npython train.py --train_args_file a/x.json\n```\n"}, git=True
    )
    (other / "b").mkdir()
    (other / "b" / "y.json").write_text(TA_JSON.replace('"num_train_epochs": 1,', '"template_name": "qwen",\n    "num_train_epochs": 1,'))
    assert launched_script(other / "b" / "y.json") is None


def test_large_json_object_naming_no_setting_is_not_parsed(tmp_path: Path) -> None:
    """A vocabulary or a weight index beside a recipe: not collected, said; a large recipe is still read."""
    from pytest_goblin.errors import NotATrainingConfig

    vocab = "{" + ", ".join(f'"tok{i}": {i}' for i in range(30_000)) + "}"
    with pytest.raises(NotATrainingConfig) as exc:
        _load(tmp_path, "vocab.json", vocab)
    assert "naming no training setting" in exc.value.reason
    big = TA_JSON.replace('"remove_unused_columns": false', '"remove_unused_columns": false,\n    "run_name": "' + "x" * 250_000 + '"')
    loaded: Any = _load(tmp_path, "big-recipe.json", big)
    assert loaded.workload.micro_batch_size == 2


def test_pytest_names_why_a_file_named_on_its_command_line_is_not_collected(pytester: pytest.Pytester) -> None:
    """pytest itself ends such a run with "ERROR: not found" and no reason; goblin's summary gives the reason without -v
    for a file named on the command line, and keeps files met in a folder walk to a count."""
    pytester.makefile(".txt", notes="per_device_train_batch_size: 4\n")
    (pytester.path / "sub").mkdir()
    (pytester.path / "sub" / "accelerate-fsdp.yaml").write_text((EXAMPLES / "accelerate-fsdp.yaml").read_text())
    result = pytester.runpytest("--goblin", "notes.txt", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*notes.txt: .txt suffix is not a config format goblin reads*"])
    walked = pytester.runpytest("--goblin", "sub", "-p", "no:cacheprovider")
    walked.stdout.fnmatch_lines(["not collected: 1 files*"])
    assert "accelerate-fsdp.yaml:" not in walked.stdout.str()
    verbose = pytester.runpytest("--goblin", "sub", "-v", "-p", "no:cacheprovider")
    verbose.stdout.fnmatch_lines(["*accelerate-fsdp.yaml: an accelerate launch config*"])
