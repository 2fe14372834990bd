"""Packing and padding as the repository's own code does them: a TrainingArguments subclass of the repository with its own
`packing` field and length (read from its defaults), a collator of the repository's own (the Trainer's default-collator
premise does not hold), and a tokenizer call padding to max_length inside a function the script imports from its
repository (transformers 5.25.0 PaddingStrategy.MAX_LENGTH)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.rules import applicable, cached_rules
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import write_tree

PT_CONFIG = """from dataclasses import dataclass, field
from typing import Optional

from transformers import TrainingArguments


@dataclass
class PTConfig(TrainingArguments):
    packing: bool = field(default={packing}, metadata={{"help": "pack the rows"}})
    max_length: Optional[int] = field(default=2048)
"""
PT_SCRIPT = """from transformers import AutoModelForCausalLM, Trainer
from trl import ModelConfig, ScriptArguments, TrlParser

from pkg.data import mix_pt_datasets
from pkg.utils import PTConfig

if __name__ == "__main__":
    parser = TrlParser((ScriptArguments, PTConfig, ModelConfig))
    script_args, training_args, model_args = parser.parse_args_and_config()
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
    ds = mix_pt_datasets(max_length=training_args.max_length, packing=training_args.packing)
    Trainer(model=model, args=training_args, train_dataset=ds).train()
"""
RECIPE = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\ndataset_name: foo\nper_device_train_batch_size: 4\nbf16: true\noutput_dir: out\nlearning_rate: 1.0e-5\n"
)


def _rules(w: WorkloadConfig) -> set[str]:
    return {r.id for r in applicable(w, get_hardware("mi300x"), cached_rules())}


def _pt_repo(tmp_path: Path, packing: str, recipe: str = RECIPE) -> WorkloadConfig:
    files = {
        "src/pkg/__init__.py": "",
        "src/pkg/utils/args_configs.py": PT_CONFIG.format(packing=packing),
        "src/pkg/utils/__init__.py": "from .args_configs import PTConfig\n",
        "src/pkg/data.py": "def mix_pt_datasets(max_length, packing):\n    return []\n",
        "src/pkg/pt.py": PT_SCRIPT,
        "recipes/pt.yaml": recipe,
        "README.md": "```bash\naccelerate launch src/pkg/pt.py --config recipes/pt.yaml\n```\n",
    }
    return load_config(write_tree(tmp_path, files, git=True) / "recipes" / "pt.yaml").workload


def test_the_repository_class_packing_default_is_read(tmp_path: Path) -> None:
    w = _pt_repo(tmp_path, "True")
    assert w.sample_packing is True and w.seq_len == 2048
    assert "the default of the repository's PTConfig (src/pkg/utils/args_configs.py:9)" in (w.sources["sample_packing"].note or "")
    assert "packing.sample_packing" not in _rules(w)


def test_the_repository_class_packing_off_is_read_off(tmp_path: Path) -> None:
    """Must not read SFTConfig's packing: the class's own default False, or the recipe's `packing: false`."""
    for packing, recipe in (("False", RECIPE), ("True", RECIPE + "packing: false\n")):
        w = _pt_repo(tmp_path / packing / str(len(recipe)), packing, recipe)
        assert w.sample_packing is False and w.seq_len == 2048


COLLATE_SCRIPT = """from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments
{imports}

if __name__ == "__main__":
    (training_args,) = HfArgumentParser((TrainingArguments,)).parse_yaml_file("configs/train.yaml")
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
    Trainer(model=model, args=training_args, data_collator={collator}).train()
"""


def _collate_repo(tmp_path: Path, imports: str, collator: str, batch: int) -> WorkloadConfig:
    files = {
        "collate.py": "class PackedCollator:\n    pass\n",
        "train.py": COLLATE_SCRIPT.format(imports=imports, collator=collator),
        "configs/train.yaml": (
            f"model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: {batch}\nbf16: true\noutput_dir: out\nlearning_rate: 1.0e-5\n"
        ),
        "README.md": "```bash\npython train.py configs/train.yaml\n```\n",
    }
    return load_config(write_tree(tmp_path, files, git=True) / "configs" / "train.yaml").workload


def test_a_repository_collator_is_not_the_default_collators_padding(tmp_path: Path) -> None:
    w = _collate_repo(tmp_path, "from collate import PackedCollator", "PackedCollator(2048)", 1)
    note = w.sources["sample_packing"].note or ""
    assert "passes Trainer a collator of the repository's own (`PackedCollator(2048)`" in note
    assert "its default collator pads each batch" not in note
    assert w.packing_blocked is not None and "packing.sample_packing" not in _rules(w)


def test_a_transformers_collator_keeps_the_padding_premise(tmp_path: Path) -> None:
    """Must not fire: DataCollatorWithPadding is transformers' own; the padded batches are the run's."""
    w = _collate_repo(tmp_path, "from transformers import DataCollatorWithPadding", "DataCollatorWithPadding(None)", 4)
    assert w.packing_blocked is None
    assert "packing.sample_packing" in _rules(w)


PREPARE = """def prepare_dataset(dataset, tokenizer):
    def tok(batch):
        return tokenizer(batch["text"], truncation=True, {padding}, max_length=8192)

    return dataset.map(tok, batched=True)
"""
FINETUNE = """from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

from train_llama_from_scratch import prepare_dataset

tokenizer = AutoTokenizer.from_pretrained("meta-llama/Meta-Llama-3-8B")
model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B")
train = {train}
args = TrainingArguments(output_dir="out", per_device_train_batch_size=4, bf16=True)
Trainer(model=model, args=args, train_dataset=train).train()
"""
CALLED = 'prepare_dataset(load_dataset("json", data_files="data.json")["train"], tokenizer)'


def _pad_repo(tmp_path: Path, padding: str, train: str = CALLED) -> WorkloadConfig:
    files = {"train_llama_from_scratch.py": PREPARE.format(padding=padding), "finetune.py": FINETUNE.format(train=train)}
    return load_config(write_tree(tmp_path, files, git=True) / "finetune.py").workload


def test_padding_in_an_imported_repository_function_is_followed(tmp_path: Path) -> None:
    w = _pad_repo(tmp_path, 'padding="max_length"')
    assert w.pad_to_max is True and w.seq_len == 8192
    assert w.sources["seq_len"].line == 3 and (w.sources["seq_len"].file or "").endswith("train_llama_from_scratch.py")
    assert "the script calls prepare_dataset (line 8), imported from train_llama_from_scratch.py" in (w.sources["token_lengths"].note or "")
    assert "packing.pad_to_sequence_len" in _rules(w)


def test_an_imported_function_that_pads_to_the_longest_does_not_fire(tmp_path: Path) -> None:
    """Must not fire: padding=True pads to the batch's longest; and a padding function the script never calls pads nothing."""
    w = _pad_repo(tmp_path, "padding=True")
    assert w.pad_to_max is False and "packing.pad_to_sequence_len" not in _rules(w)
    w = _pad_repo(tmp_path / "uncalled", 'padding="max_length"', 'load_dataset("json", data_files="data.json")["train"]')
    assert w.pad_to_max is False and w.seq_len != 8192
