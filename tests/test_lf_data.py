"""LLaMA-Factory's local data found as LLaMA-Factory finds it (formats/datasets.py `_llamafactory`).

LLaMA-Factory v0.9.5 opens `dataset_dir` (default "data", hparams/data_args.py:38-41) from the process's working
directory (data/parser.py:106), splits `dataset` at commas (data_args.py:148-153), looks each name up in
dataset_info.json (parser.py:125-144), loads every file of a `file_name` folder (data/loader.py:74-89), and merges a
launch line's `key=value` words over the YAML (hparams/parser.py:90-97). Each fixture is a small repository under
tmp_path."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pytest_goblin.formats import datasets, load_config

from .repo_files import write_file, write_tree

LF = (
    "model_name_or_path: meta-llama/Llama-3.1-8B\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
    "cutoff_len: 2048\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\n"
)


def _repo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", {}, git=True)


def _write(path: Path, text: str) -> Path:
    return write_file(path.parent, path.name, text)


def _alpaca(path: Path, chars: int, n: int = 20) -> Path:
    return _write(path, json.dumps([{"instruction": "q" * chars, "input": "", "output": "a" * chars} for _ in range(n)]))


def _tokens(chars: int) -> int:
    """What goblin's estimate gives an alpaca row of `chars`-long instruction and output (fields joined by newlines)."""
    return math.ceil((2 * chars + 2) / datasets.CHARS_PER_TOKEN)


def _info(folder: Path, info: dict[str, Any]) -> None:
    _write(folder / "dataset_info.json", json.dumps(info))


def _lengths(cfg: Path) -> tuple[list[int] | None, str]:
    w = load_config(cfg).workload
    return w.token_quantiles, w.sources["token_lengths"].note or ""


# (1) dataset_dir set in the config: resolved from where the launch line runs, not the config's folder
def test_dataset_dir_is_read_from_the_launch_lines_folder_not_the_configs(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "configs" / "sft.yaml", LF + "dataset: mine\ndataset_dir: my_data\n")
    _write(repo / "run.sh", "#!/bin/bash\nllamafactory-cli train configs/sft.yaml\n")
    _info(repo / "my_data", {"mine": {"file_name": "mine.json"}})
    _alpaca(repo / "my_data" / "mine.json", 190)
    # a folder of the same name beside the config, which LLaMA-Factory run from the root never opens
    _info(repo / "configs" / "my_data", {"mine": {"file_name": "mine.json"}})
    _alpaca(repo / "configs" / "my_data" / "mine.json", 3000)
    q, note = _lengths(cfg)
    assert q == [_tokens(190)] * datasets.QUANTILES
    assert "20 rows sampled from ../my_data/mine.json" in note
    assert "dataset_dir `my_data` read from the repository root, where run.sh line 2 runs llamafactory-cli" in note


def test_dataset_dir_only_beside_the_config_is_not_where_the_launch_runs(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "configs" / "sft.yaml", LF + "dataset: mine\ndataset_dir: my_data\n")
    _write(repo / "run.sh", "llamafactory-cli train configs/sft.yaml\n")
    _info(repo / "configs" / "my_data", {"mine": {"file_name": "mine.json"}})
    _alpaca(repo / "configs" / "my_data" / "mine.json", 190)
    q, note = _lengths(cfg)
    assert q is None
    assert "dataset_dir `my_data` holds no dataset_info.json goblin found from the repository root, where run.sh line 1 runs llamafactory-cli" in note
    assert "every sample assumed 2048 tokens" in note and "None" not in note


# (2) the default dataset_dir "data", next to where the launcher runs (after its `cd`)
def test_default_data_folder_after_the_launchers_cd(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "configs" / "sft.yaml", LF + "dataset: mine\n")
    _write(repo / "scripts" / "train.sh", "#!/bin/bash\ncd ../LLaMA-Factory\nllamafactory-cli train ../configs/sft.yaml\n")
    _info(repo / "LLaMA-Factory" / "data", {"mine": {"file_name": "mine.jsonl"}})
    _write(
        repo / "LLaMA-Factory" / "data" / "mine.jsonl",
        "".join(json.dumps({"instruction": "q" * 95, "input": "", "output": "a" * 95}) + "\n" for _ in range(12)),
    )
    q, note = _lengths(cfg)
    assert q == [_tokens(95)] * datasets.QUANTILES
    assert "12 rows sampled from ../LLaMA-Factory/data/mine.jsonl" in note
    assert "LLaMA-Factory's default" in note and "LLaMA-Factory, where scripts/train.sh line 3 runs llamafactory-cli" in note


def test_default_data_folder_without_a_launcher_is_looked_for_above_the_config(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "examples" / "sft.yaml", LF + "dataset: mine\n")
    _info(repo / "data", {"mine": {"file_name": "mine.json"}})
    _alpaca(repo / "data" / "mine.json", 50)
    q, note = _lengths(cfg)
    assert q == [_tokens(50)] * datasets.QUANTILES
    assert "as the working directory is assumed (no launch line names the config)" in note


def test_no_data_folder_anywhere_is_a_stated_assumption(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "sft.yaml", LF + "dataset: mine\n")
    q, note = _lengths(cfg)
    assert q is None and "dataset_dir `data` (LLaMA-Factory's default" in note and "every sample assumed 2048 tokens" in note


# (3) several names, a folder `file_name`, sharegpt columns, remote and absent names
def test_several_names_each_looked_up_with_their_columns_and_a_folder(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "sft.yaml", LF + "dataset: short, chat\n")
    info = {
        "short": {"file_name": "short.json"},
        "chat": {"file_name": "chat_parts", "formatting": "sharegpt", "columns": {"messages": "messages"}},
    }
    _info(repo / "data", info)
    _alpaca(repo / "data" / "short.json", 38, n=10)
    turn = {"from": "human", "value": "x" * 380}
    for part in ("a.jsonl", "b.jsonl"):
        _write(repo / "data" / "chat_parts" / part, "".join(json.dumps({"messages": [turn], "ignored": "z" * 9000}) + "\n" for _ in range(5)))
    q, note = _lengths(cfg)
    assert q is not None and q[0] == _tokens(38)
    # the `messages` column only (its role and text joined), never the 9000-character one
    assert q[-1] == math.ceil(len("human\n" + "x" * 380) / datasets.CHARS_PER_TOKEN)
    assert "10 rows sampled from data/short.json, 5 rows sampled from data/chat_parts/a.jsonl, 5 rows sampled from data/chat_parts/b.jsonl" in note


def test_a_folder_of_mixed_file_types_is_not_measured(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "sft.yaml", LF + "dataset: parts\n")
    _info(repo / "data", {"parts": {"file_name": "parts"}})
    _alpaca(repo / "data" / "parts" / "a.json", 38)
    _write(repo / "data" / "parts" / "README.md", "notes\n")
    q, note = _lengths(cfg)
    assert q is None and "a folder whose files are not all of one type LLaMA-Factory reads" in note


def test_a_hub_dataset_among_local_ones_is_said_remote(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "sft.yaml", LF + "dataset: mine,alpaca_en\n")
    _info(repo / "data", {"mine": {"file_name": "mine.json"}, "alpaca_en": {"hf_hub_url": "llamafactory/alpaca_en"}})
    _alpaca(repo / "data" / "mine.json", 38)
    q, note = _lengths(cfg)
    assert q is None
    assert "dataset `alpaca_en` is a remote dataset (`hf_hub_url: llamafactory/alpaca_en` in data/dataset_info.json), not read" in note


def test_a_name_absent_from_dataset_info_is_a_stated_assumption(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "sft.yaml", LF + "dataset: mine, missing_one\n")
    _info(repo / "data", {"mine": {"file_name": "mine.json"}})
    _alpaca(repo / "data" / "mine.json", 38)
    q, note = _lengths(cfg)
    assert q is None
    assert "dataset `missing_one` is not in data/dataset_info.json" in note and "every sample assumed 2048 tokens" in note


def test_a_broken_dataset_info_is_a_stated_assumption(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "sft.yaml", LF + "dataset: mine\n")
    _write(repo / "data" / "dataset_info.json", "{not json")
    q, note = _lengths(cfg)
    assert q is None and "data/dataset_info.json is not valid JSON" in note


# (4) data named on the launch line
def test_dataset_and_dataset_dir_from_the_launch_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "configs" / "sft.yaml", LF + "dataset: alpaca_en\n")
    _write(repo / "run.sh", "llamafactory-cli train configs/sft.yaml dataset=foo dataset_dir=bar\n")
    _info(repo / "bar", {"foo": {"file_name": "foo.json"}})
    _alpaca(repo / "bar" / "foo.json", 76)
    q, note = _lengths(cfg)
    assert q == [_tokens(76)] * datasets.QUANTILES
    assert "dataset_dir `bar` (`dataset_dir=bar` on run.sh line 1)" in note and "dataset from `dataset=foo` on run.sh line 1" in note


def test_a_launch_line_dataset_set_at_run_time_is_not_guessed(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "configs" / "sft.yaml", LF + "dataset: mine\n")
    _write(repo / "run.sh", "llamafactory-cli train configs/sft.yaml dataset=$DS\n")
    _info(repo / "data", {"mine": {"file_name": "mine.json"}})
    _alpaca(repo / "data" / "mine.json", 38)
    q, note = _lengths(cfg)
    assert q is None
    assert "`dataset=$DS` on run.sh line 1: the value is set at run time, so the `dataset` it trains on is not known" in note


def test_online_dataset_dir_loads_every_name_from_the_hub(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "sft.yaml", LF + "dataset: org/data\ndataset_dir: ONLINE\n")
    _info(repo / "data", {"org/data": {"file_name": "mine.json"}})
    _alpaca(repo / "data" / "mine.json", 38)
    q, note = _lengths(cfg)
    assert q is None and "dataset_dir `ONLINE`: dataset `org/data` is loaded from the Hub" in note


def test_a_file_name_not_in_the_folder_is_said_missing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cfg = _write(repo / "sft.yaml", LF + "dataset: mine\n")
    _info(repo / "data", {"mine": {"file_name": "gone.json"}})
    q, note = _lengths(cfg)
    assert q is None and "dataset `mine`: `gone.json` is not in data (LLaMA-Factory stops: data/loader.py:82@v0.9.5)" in note


def test_a_file_name_folder_outside_the_tree_is_not_listed(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    outside = tmp_path / "elsewhere"
    _alpaca(outside / "a.json", 38)
    cfg = _write(repo / "sft.yaml", LF + "dataset: mine\n")
    _info(repo / "data", {"mine": {"file_name": str(outside)}})
    q, note = _lengths(cfg)
    assert q is None and "elsewhere is outside the audited tree" in note and "a.json" not in note


def test_launch_line_words_are_not_merged_at_a_release_before_0_9_3(tmp_path: Path) -> None:
    """Must not apply: llamafactory 0.9.2 reads the YAML only when it is the one argument (hparams/parser.py:64-65@v0.9.2)."""
    repo = _repo(tmp_path)
    cfg = _write(repo / "configs" / "sft.yaml", LF + "dataset: mine\n")
    _write(repo / "requirements.txt", "llamafactory==0.9.2\n")
    _write(repo / "run.sh", "llamafactory-cli train configs/sft.yaml dataset=foo dataset_dir=bar\n")
    _info(repo / "data", {"mine": {"file_name": "mine.json"}})
    _alpaca(repo / "data" / "mine.json", 38)
    _info(repo / "bar", {"foo": {"file_name": "foo.json"}})
    _alpaca(repo / "bar" / "foo.json", 760)
    q, note = _lengths(cfg)
    assert q == [_tokens(38)] * datasets.QUANTILES
    assert "`dataset=foo` on run.sh line 1, `dataset_dir=bar` on run.sh line 1: not applied, llamafactory 0.9.2 (pinned)" in note
