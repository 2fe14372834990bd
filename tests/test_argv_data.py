"""Local data a script names through a command-line option, and the model rows review 14 met (data38).

review14a #10 (kprsnt2/BrandLLM training/scripts/finetune_mi300x.py): `--train_file` defaults to a JSONL file of the
repository that `load_dataset("json", data_files=...)` opens through a local function; goblin said "no local dataset"
and left the padding unpriced. review14a #13 (vdaita/diff-model lora.yml): deepseek-coder-6.7b-instruct was not in the
shape table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.formats import datasets, load_config
from pytest_goblin.formats.argv_data import option_data
from pytest_goblin.modelzoo import NAME_SIZE_FACTOR, lookup_model, shape_assumption

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)

# the BrandLLM form: the option's value joined to a folder in main(), passed to the script's own function, which
# opens it with datasets' load_dataset
SCRIPT = """\
import argparse
from pathlib import Path
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments


def load_dataset(train_file: Path):
    from datasets import load_dataset
    dataset = load_dataset("json", data_files=str(train_file))
    return dataset


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=str, default="meta-llama/Llama-3.1-8B")
    parser.add_argument("--train_file", type=str, default="{default}")
    parser.add_argument("--batch_size", type=int, default=2)
    args = parser.parse_args()
    base_dir = Path(__file__).parent.parent
    train_file = base_dir / args.train_file
    dataset = load_dataset(train_file)
    model = AutoModelForCausalLM.from_pretrained(args.model)
    training_args = TrainingArguments(output_dir="out", per_device_train_batch_size=args.batch_size, bf16=True)
    Trainer(model=model, args=training_args, train_dataset=dataset["train"]).train()


if __name__ == "__main__":
    main()
"""


def _rows(path: Path, n: int, chars: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"instruction": "q" * chars, "output": "a"}) + "\n" for _ in range(n)))


def _script(tmp_path: Path, default: str = "data/train.jsonl", body: str = SCRIPT) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    script = tmp_path / "scripts" / "finetune.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(body.replace("{default}", default))
    return script


def test_an_argparse_default_read_by_load_dataset_is_measured(tmp_path: Path) -> None:
    _rows(tmp_path / "data" / "train.jsonl", 30, 190)
    w = load_config(_script(tmp_path)).workload
    assert w.token_quantiles is not None and w.mean_tokens is not None and w.mean_tokens < 100
    note = w.sources["token_lengths"].note or ""
    assert "30 rows sampled" in note and "`--train_file` default `data/train.jsonl` (finetune.py line 15)" in note
    assert "read by load_dataset(data_files=...) at line 8" in note and "None" not in note
    assert w.sources["token_lengths"].key == "--train_file" and w.sources["token_lengths"].line == 15


def test_the_launch_lines_value_wins_over_the_default(tmp_path: Path) -> None:
    _rows(tmp_path / "data" / "train.jsonl", 30, 190)
    _rows(tmp_path / "data" / "big.jsonl", 12, 3800)
    script = _script(tmp_path)
    (tmp_path / "run.sh").write_text("#!/bin/bash\npython scripts/finetune.py --train_file data/big.jsonl --batch_size 2\n")
    w = load_config(script).workload
    note = w.sources["token_lengths"].note or ""
    assert "12 rows sampled" in note and "`--train_file data/big.jsonl` passed by run.sh line 2" in note
    assert w.mean_tokens is not None and w.mean_tokens > 900


def test_a_default_path_not_in_the_tree_is_said_with_its_path(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, "training/output/train.jsonl")).workload
    assert w.token_quantiles is None
    note = w.sources["token_lengths"].note or ""
    assert "training/output/train.jsonl is not in the repository" in note and "`--train_file` default" in note
    assert "None" not in note


def test_open_and_pandas_reads_count_for_a_data_option(tmp_path: Path) -> None:
    _rows(tmp_path / "data" / "sft.jsonl", 20, 190)
    body = SCRIPT.replace(
        'dataset = load_dataset("json", data_files=str(train_file))',
        "with open(train_file) as f:\n        dataset = [json.loads(x) for x in f]",
    ).replace("import argparse\n", "import argparse\nimport json\n")
    w = load_config(_script(tmp_path, "data/sft.jsonl", body)).workload
    assert w.token_quantiles is not None and "read by open() at line" in (w.sources["token_lengths"].note or "")
    body = SCRIPT.replace('dataset = load_dataset("json", data_files=str(train_file))', "dataset = pd.read_json(train_file, lines=True)")
    script = _script(tmp_path, "data/sft.jsonl", body)
    got = option_data(script, script.read_text())
    assert [(o.flag, o.value) for o in got] == [("--train_file", "data/sft.jsonl")] and "read_json()" in got[0].via


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # the option is declared but the data the script trains on is a Hub dataset: the default is never opened
        ('dataset = load_dataset("json", data_files=str(train_file))', 'dataset = __import__("datasets").load_dataset("org/name")'),
        # the file is opened for writing (an output), not read
        ('dataset = load_dataset("json", data_files=str(train_file))', 'dataset = open(train_file, "w")'),
    ],
)
def test_a_default_path_not_opened_for_training_is_not_read(tmp_path: Path, old: str, new: str) -> None:
    _rows(tmp_path / "data" / "train.jsonl", 30, 190)
    w = load_config(_script(tmp_path, body=SCRIPT.replace(old, new))).workload
    assert w.token_quantiles is None and "train.jsonl" not in (w.sources["token_lengths"].note or "")


def test_an_evaluation_option_and_a_settings_file_are_not_the_training_data(tmp_path: Path) -> None:
    _rows(tmp_path / "data" / "train.jsonl", 30, 190)
    eval_body = SCRIPT.replace('"--train_file"', '"--eval_file"').replace("args.train_file", "args.eval_file")
    w = load_config(_script(tmp_path, body=eval_body)).workload
    assert w.token_quantiles is None
    conf_body = SCRIPT.replace('"--train_file"', '"--config"').replace("args.train_file", "args.config")
    conf_body = conf_body.replace('dataset = load_dataset("json", data_files=str(train_file))', "dataset = open(train_file).read()")
    script = _script(tmp_path, body=conf_body)
    assert option_data(script, script.read_text()) == []


def test_the_brandllm_form_prices_the_padding_it_pads_to(tmp_path: Path) -> None:
    """review14a #10: padding="max_length" with a local dataset named by the option: the padding's share is priced."""
    _rows(tmp_path / "data" / "train.jsonl", 40, 150)
    body = SCRIPT.replace(
        "    dataset = load_dataset(train_file)\n",
        '    dataset = load_dataset(train_file)\n    tok = AutoTokenizer.from_pretrained(args.model)\n    tok("x", padding="max_length", max_length=512)\n',
    )
    w = load_config(_script(tmp_path, body=body)).workload
    assert w.pad_to_max and w.token_quantiles is not None
    note = w.sources["token_lengths"].note or ""
    assert "unpadded, 40 rows sampled" in note and "not priced" not in note


# -------------------------------------------------------------- shapes (review14a #13)
@pytest.mark.parametrize("name", ["deepseek-ai/deepseek-coder-6.7b-instruct", "deepseek-ai/deepseek-coder-6.7b-base"])
def test_deepseek_coder_6_7b_has_its_cited_shape(name: str) -> None:
    m = lookup_model(name)
    assert m.known and m.family == "llama" and m.inferred is None and shape_assumption(m) is None
    assert (m.n_layers, m.hidden, m.n_heads, m.n_kv_heads, m.intermediate, m.vocab) == (32, 4096, 32, 32, 11008, 32256)
    assert m.params_b == pytest.approx(6.74, abs=0.01)


@pytest.mark.parametrize(
    "name", ["deepseek-ai/deepseek-coder-1.3b-instruct", "deepseek-ai/deepseek-coder-33b-instruct", "deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct"]
)
def test_other_deepseek_coder_sizes_stay_unknown(name: str) -> None:
    m = lookup_model(name)
    assert not m.known and m.family != "llama"
    said = shape_assumption(m)
    assert said is not None and ("not in the shape table" in said or "size unknown" in said)


def test_the_new_row_leaves_the_span_factor_as_it_was() -> None:
    assert NAME_SIZE_FACTOR == pytest.approx(1.305)


def test_an_axolotl_config_naming_deepseek_coder_is_sized(tmp_path: Path) -> None:
    """review14a #13: vdaita/diff-model lora.yml, 8-bit LoRA of deepseek-coder-6.7b-instruct."""
    cfg = tmp_path / "lora.yml"
    cfg.write_text(
        "base_model: deepseek-ai/deepseek-coder-6.7b-instruct\nmodel_type: LlamaForCausalLM\nload_in_8bit: true\n"
        "adapter: lora\nlora_r: 32\nsequence_len: 4096\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: auto\n"
        "datasets:\n  - path: org/data\n    type: oasst\n"
    )
    m = load_config(cfg).workload.model
    assert m.known and m.params_b == pytest.approx(6.74, abs=0.01) and m.vocab == 32256


def test_a_local_model_folder_config_json_is_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "models" / "coder"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["LlamaForCausalLM"],
                "model_type": "llama",
                "hidden_size": 2048,
                "intermediate_size": 5504,
                "num_hidden_layers": 24,
                "num_attention_heads": 16,
                "num_key_value_heads": 16,
                "vocab_size": 32256,
                "max_position_embeddings": 16384,
                "tie_word_embeddings": False,
            }
        )
    )
    cfg = tmp_path / "lora.yml"
    cfg.write_text(
        "base_model: ./models/coder\nadapter: lora\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 1\n"
        "bf16: true\ndatasets:\n  - path: org/data\n    type: alpaca\n"
    )
    m = load_config(cfg).workload.model
    assert m.known and (m.n_layers, m.hidden, m.intermediate, m.vocab) == (24, 2048, 5504, 32256)


def test_quantiles_count_is_unchanged() -> None:
    assert datasets.QUANTILES == 21
