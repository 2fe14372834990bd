"""What the training script's own code does to lengths and packing (issue 23, review 10b class 2): a trainer keyword
`packing=True` over a YAML recipe that says nothing (review10a #15), a `group_texts` map that concatenates and chunks
(review10b #32), a map function's tokenizer call that truncates at a literal max_length (review10b #33), and a
repository helper reached through `from utils import *` that pads every sample to max_length (review10a #16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import applicable, cached_rules
from pytest_goblin.schemas import WorkloadConfig

SFT = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 8\ngradient_accumulation_steps: 2\n"
    "bf16: true\nmax_seq_length: 2048\nattn_implementation: sdpa\n"
)
KD_TRAINER = """from trl import SFTTrainer


class KDTrainer(SFTTrainer):
    pass
"""
KD_SCRIPT = """import sys

sys.path.append("./")
from transformers import AutoModelForCausalLM
from alignment import H4ArgumentParser, SFTConfig
from trainer.kd_trainer import KDTrainer


def main():
    parser = H4ArgumentParser((SFTConfig,))
    (training_args,) = parser.parse()
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
    trainer = KDTrainer(model=model, args=training_args, dataset_text_field="text", {packing})
    trainer.train()


if __name__ == "__main__":
    main()
"""


def _proposes_packing(w: WorkloadConfig) -> bool:
    return "packing.sample_packing" in {r.id for r in applicable(w, get_hardware("mi300x"), cached_rules())}


def _kd_repo(tmp_path: Path, packing: str, recipe: str = SFT, path_line: bool = True) -> WorkloadConfig:
    (tmp_path / ".git").mkdir(parents=True)
    root = tmp_path / "Zebra"
    (root / "configs").mkdir(parents=True)
    (root / "train_hybrid").mkdir()
    (root / "trainer").mkdir()
    (root / "trainer" / "kd_trainer.py").write_text(KD_TRAINER)
    script = KD_SCRIPT.format(packing=packing)
    (root / "train_hybrid" / "train_distill.py").write_text(script if path_line else script.replace('sys.path.append("./")\n', ""))
    (root / "configs" / "sft.yaml").write_text(recipe)
    (root / "README.md").write_text("```bash\naccelerate launch train_hybrid/train_distill.py configs/sft.yaml\n```\n")
    return load_config(root / "configs" / "sft.yaml").workload


def test_a_trainer_keyword_packing_true_packs_where_the_recipe_says_nothing(tmp_path: Path) -> None:
    w = _kd_repo(tmp_path, "packing=True")
    assert w.sample_packing is True
    src = w.sources["sample_packing"]
    assert src.explicit and src.line == 13 and src.file is not None and src.file.endswith("train_distill.py")
    assert "`KDTrainer(..., packing=True)` at Zebra/train_hybrid/train_distill.py:13 passes packing=True to the trainer" in (src.note or "")
    assert "sft_trainer.py:142@0.8.6" in (src.note or "")
    assert not _proposes_packing(w)


def test_the_trainer_keyword_wins_over_the_recipes_packing_false(tmp_path: Path) -> None:
    w = _kd_repo(tmp_path, "packing=True", SFT + "packing: false\n")
    assert w.sample_packing is True and not _proposes_packing(w)


def test_no_packing_keyword_leaves_the_recipes_default(tmp_path: Path) -> None:
    """Must not fire: the trainer call passes no packing (or a false one, which sets nothing over the config from trl 0.9)."""
    for packing in ("max_seq_length=2048", "packing=False"):
        w = _kd_repo(tmp_path / packing.split("=")[0], packing)
        assert w.sample_packing is False and _proposes_packing(w)


def test_a_trainer_class_that_cannot_be_found_is_not_read_as_sft(tmp_path: Path) -> None:
    """Must not fire: without the script's `sys.path.append("./")` the repository's trainer module is not on the import
    path from the script's folder, so KDTrainer is not known to be an SFTTrainer."""
    w = _kd_repo(tmp_path, "packing=True", path_line=False)
    assert w.sample_packing is False


TRUNCATING = """from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments


def main():
    tokenizer = AutoTokenizer.from_pretrained("meta-llama/Meta-Llama-3-8B")
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
    training_args = TrainingArguments(output_dir="out", per_device_train_batch_size=8, bf16=True)
    max_length = 256

    def tokenize(x):
        return tokenizer(x["text"], max_length={size}, truncation=True, return_overflowing_tokens=True)

    def prompt_ids(prompt):
        return tokenizer(prompt, max_length=64, truncation=True)

    train = load_dataset("imdb")["train"].{mapping}
    Trainer(model=model, args=training_args, train_dataset=train).train()


if __name__ == "__main__":
    main()
"""


def _script(tmp_path: Path, text: str, launcher: str | None = None) -> WorkloadConfig:
    (tmp_path / ".git").mkdir(parents=True)
    (tmp_path / "train.py").write_text(text)
    if launcher is not None:
        (tmp_path / "run.sh").write_text(launcher)
    return load_config(tmp_path / "train.py").workload


def test_a_mapped_tokenize_call_truncating_at_a_literal_bounds_the_length(tmp_path: Path) -> None:
    w = _script(tmp_path, TRUNCATING.format(size="max_length", mapping="map(tokenize, batched=True)"))
    assert w.seq_len == 256
    assert w.sources["seq_len"].line == 9 and w.sources["seq_len"].explicit
    assert "seq_len 256: `tokenize`, which the script maps over its dataset, truncates every sample to max_length=256 (line 12)" in w.notes


def test_a_max_length_computed_at_run_time_stays_unknown(tmp_path: Path) -> None:
    """Must not fire: the tokenizer's own model_max_length is known only when the script runs."""
    w = _script(tmp_path, TRUNCATING.format(size="tokenizer.model_max_length // 2", mapping="map(tokenize, batched=True)"))
    assert w.seq_len == 1024 and not w.sources["seq_len"].explicit
    assert any("`tokenize`, which the script maps over its dataset, truncates at max_length=`tokenizer.model_max_length // 2`" in n for n in w.notes)


def test_a_truncating_call_outside_a_mapped_function_is_not_the_training_length(tmp_path: Path) -> None:
    """Must not fire: `prompt_ids` (max_length=64) is never mapped over the data; with no map the length stays assumed."""
    w = _script(tmp_path, TRUNCATING.format(size="max_length", mapping="shuffle()"))
    assert w.seq_len == 1024 and not w.sources["seq_len"].explicit


@pytest.mark.parametrize("mapping", ["map(lambda x: tokenize(x), batched=True)", "map(functools.partial(tokenize))"])
def test_a_mapped_lambda_or_partial_over_a_truncating_function_bounds_the_length(tmp_path: Path, mapping: str) -> None:
    """review12a #16 (MedQA train.py:112-113): `formatted.map(lambda x: tokenize(x, tokenizer))` runs `tokenize`."""
    w = _script(tmp_path, "import functools\n" + TRUNCATING.format(size="max_length", mapping=mapping))
    assert w.seq_len == 256 and w.sources["seq_len"].explicit
    assert "seq_len 256: `tokenize`, which the script maps over its dataset, truncates every sample to max_length=256 (line 13)" in w.notes


@pytest.mark.parametrize("mapping", ['map(lambda x: tokenize(x["text"][0:1]))', 'map(lambda x: prompt_ids("q") and x)', "map(functools.partial(tokenize, 1))"])
def test_a_lambda_or_partial_that_does_not_hand_the_row_to_the_function_is_not_read(tmp_path: Path, mapping: str) -> None:
    """Must not fire: the lambda does not hand the whole row to the function as its first argument, or partial binds a
    positional argument that comes before the row; goblin does not read what then reaches the tokenizer call."""
    w = _script(tmp_path, "import functools\n" + TRUNCATING.format(size="max_length", mapping=mapping))
    assert w.seq_len == 1024 and not w.sources["seq_len"].explicit


GROUPING = """from dataclasses import dataclass, field
from itertools import chain
from typing import Optional

from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class DataTrainingArguments:
    block_size: Optional[int] = field(default=None)


def main():
    parser = HfArgumentParser((DataTrainingArguments, TrainingArguments))
    data_args, training_args = parser.parse_args_into_dataclasses()
    tokenizer = AutoTokenizer.from_pretrained("meta-llama/Meta-Llama-3-8B")
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
    if data_args.block_size is None:
        block_size = tokenizer.model_max_length
    else:
        block_size = min(data_args.block_size, tokenizer.model_max_length)

    def group_texts(examples):
        {joined}
        total_length = len(concatenated[list(examples.keys())[0]])
        total_length = (total_length // block_size) * block_size
        return {{k: [t[i : i + {size}] for i in range(0, total_length, {size})] for k, t in concatenated.items()}}

    tokenized = load_dataset("text", data_files="corpus.txt")["train"].map(lambda x: tokenizer(x["text"]), batched=True)
    lm = tokenized.map(group_texts, {batched})
    Trainer(model=model, args=training_args, train_dataset=lm).train()


if __name__ == "__main__":
    main()
"""
JOIN = "concatenated = {k: list(chain(*examples[k])) for k in examples.keys()}"
LAUNCH = "python train.py --output_dir out --per_device_train_batch_size 4 --bf16 --block_size 512\n"


def test_a_batched_map_that_joins_every_column_and_chunks_it_packs_to_the_block_size(tmp_path: Path) -> None:
    w = _script(tmp_path, GROUPING.format(joined=JOIN, size="block_size", batched="batched=True"), LAUNCH)
    assert w.sample_packing is True and w.seq_len == 512
    assert w.sources["seq_len"].file is not None and w.sources["seq_len"].file.endswith("run.sh")
    assert any(
        n.startswith("seq_len 512: `group_texts` (line 24), which the script maps over its dataset in batches (line 31), joins every column") for n in w.notes
    )
    assert not _proposes_packing(w)


def test_a_literal_chunk_size_and_sum_joins_pack_too(tmp_path: Path) -> None:
    joined = "concatenated = {k: sum(examples[k], []) for k in examples}"
    w = _script(tmp_path, GROUPING.format(joined=joined, size="2048", batched="batched=True"), LAUNCH)
    assert w.sample_packing is True and w.seq_len == 2048


def test_an_unread_block_size_packs_at_an_assumed_length(tmp_path: Path) -> None:
    """Packed, but the length of run_clm's `block_size is None` branch is the tokenizer's: assumed, said."""
    w = _script(tmp_path, GROUPING.format(joined=JOIN, size="block_size", batched="batched=True"), LAUNCH.replace(" --block_size 512", ""))
    assert w.sample_packing is True and w.seq_len == 1024 and not w.sources["seq_len"].explicit
    assert any("goblin cannot read that size, so the length is assumed" in n for n in w.notes)


def test_a_map_function_that_does_not_concatenate_does_not_pack(tmp_path: Path) -> None:
    """Must not fire: each row cut on its own (`{k: examples[k] ...}`: no join of the batch's rows), or a map that is
    not batched (one row at a time: nothing joined across rows)."""
    own_rows = "concatenated = {k: examples[k] for k in examples.keys()}"
    w = _script(tmp_path, GROUPING.format(joined=own_rows, size="block_size", batched="batched=True"), LAUNCH)
    assert w.sample_packing is False and _proposes_packing(w)
    w = _script(tmp_path / "one", GROUPING.format(joined=JOIN, size="block_size", batched="num_proc=4"), LAUNCH)
    assert w.sample_packing is False


STAR_SCRIPT = """import argparse

from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments
from utils import *


def arg_parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--block-size", type=int, default=512)
    parser.add_argument("--train-batch-size", type=int, default=4)
    return parser.parse_args()


def main(args):
    tokenizer = AutoTokenizer.from_pretrained("meta-llama/Meta-Llama-3-8B")
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
    dataset = {loader}(args)
    dataset = {helper}(args, dataset, tokenizer)
    config = TrainingArguments(output_dir="out", per_device_train_batch_size=args.train_batch_size, bf16=True)
    Trainer(model, args=config, train_dataset=dataset["train"]).train()


if __name__ == "__main__":
    args = arg_parse()
    main(args)
"""
STAR_UTILS = """from datasets import load_dataset


def load_custom_dataset(args):
    return load_dataset("bitext/customer-support")


def {helper}(args, dataset, tokenizer):
    def preprocess(prompt):
        return tokenizer(prompt["instruction"], truncation=True, max_length=args.block_size, padding={padding})

    return dataset.map(preprocess)
"""


def _star_repo(tmp_path: Path, helper: str = "preprocess_dataset", padding: str = '"max_length"') -> WorkloadConfig:
    (tmp_path / ".git").mkdir(parents=True)
    (tmp_path / "utils.py").write_text(STAR_UTILS.format(helper=helper, padding=padding))
    (tmp_path / "train.py").write_text(STAR_SCRIPT.format(loader="load_custom_dataset", helper=helper))
    return load_config(tmp_path / "train.py").workload


def test_a_star_imported_helper_that_pads_to_max_length_pads_every_sample_to_the_scripts_option(tmp_path: Path) -> None:
    w = _star_repo(tmp_path)
    assert w.pad_to_max is True and w.seq_len == 512 and w.sources["seq_len"].explicit
    assert "the script calls preprocess_dataset (line 18), imported from utils.py, whose tokenizer call at line 10 pads" in (
        w.sources["token_lengths"].note or ""
    )
    assert any(n.startswith("seq_len 512: the script calls preprocess_dataset") and "max_length=`args.block_size` of the script (512)" in n for n in w.notes)


def test_a_star_imported_helper_padding_to_the_batchs_longest_does_not_pad_to_max(tmp_path: Path) -> None:
    """Must not fire: `padding=True` pads to the batch's longest sample; no length is read from it either."""
    w = _star_repo(tmp_path, padding="True")
    assert w.pad_to_max is False and w.seq_len == 1024 and not w.sources["seq_len"].explicit


def test_a_private_name_is_not_bound_by_a_star_import(tmp_path: Path) -> None:
    """Must not fire: `from utils import *` binds no `_name`, so `_preprocess(...)` is not that module's function."""
    w = _star_repo(tmp_path, helper="_preprocess")
    assert w.pad_to_max is False


SFT_SCRIPT = """from datasets import load_dataset
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer

model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
config = SFTConfig(output_dir="out", per_device_train_batch_size=8, bf16=True, max_seq_length=2048, packing={config})
trainer = SFTTrainer(model=model, args=config, train_dataset=load_dataset("imdb")["train"], packing={trainer})
trainer.train()
"""


def test_a_true_trainer_packing_keyword_is_set_over_the_configs_false(tmp_path: Path) -> None:
    w = _script(tmp_path, SFT_SCRIPT.format(config="False", trainer="True"))
    assert w.sample_packing is True and w.sources["sample_packing"].line == 7
    assert any(n.startswith("packing: SFTTrainer(..., packing=True) at line 7 is set over the config's packing=False (line 6)") for n in w.notes)


def test_a_false_trainer_packing_keyword_leaves_the_configs_true(tmp_path: Path) -> None:
    """Must not fire: from trl 0.9 a false keyword sets nothing over the config (`if packing:`)."""
    w = _script(tmp_path, SFT_SCRIPT.format(config="True", trainer="False"))
    assert w.sample_packing is True and w.sources["sample_packing"].line == 6
    assert not any("is set over the config's" in n for n in w.notes)
