"""A collator the script passes its trainer inside a `**` dict a repository function returns is the repository's own,
so the default collator's padding premise is not asserted and no packing is proposed (review13a #17: 2U1/Qwen2-VL-Finetune
src/train/train_sft.py:229-234 `QwenSFTTrainer(..., **data_module)`, src/dataset/sft_dataset.py:278-282)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

DATA = """\
{imports}


class SupervisedDataset:
    pass


{collator}

def make_supervised_data_module(tokenizer, data_args):
    train = SupervisedDataset()
    data_collator = {make}
    return dict(train_dataset=train, eval_dataset=None, data_collator=data_collator)
"""

OWN = "class DataCollatorForSupervisedDataset(object):\n    def __call__(self, batch):\n        return batch\n"

SCRIPT = """\
from transformers import AutoModelForCausalLM, AutoTokenizer, HfArgumentParser, Trainer, TrainingArguments
from src.dataset import make_supervised_data_module


def train():
    parser = HfArgumentParser((TrainingArguments,))
    (training_args,) = parser.parse_args_into_dataclasses()
    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B", attn_implementation="flash_attention_2")
    tokenizer = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-7B")
    data_module = make_supervised_data_module(tokenizer=tokenizer, data_args=None)
    trainer = Trainer(model=model, args=training_args, **data_module)
    trainer.train()


if __name__ == "__main__":
    train()
"""

RUN = "deepspeed src/train/train_sft.py --output_dir out --bf16 True --per_device_train_batch_size 4 --gradient_accumulation_steps 4\n"


def _script(tmp_path: Path, imports: str, collator: str, make: str) -> Path:
    files = {
        "src/__init__.py": "",
        "src/dataset/__init__.py": "from .sft_dataset import make_supervised_data_module\n",
        "src/dataset/sft_dataset.py": DATA.format(imports=imports, collator=collator, make=make),
        "src/train/train_sft.py": SCRIPT,
        "scripts/finetune.sh": RUN,
    }
    return write_tree(tmp_path / "repo", files, git=True) / "src/train/train_sft.py"


def test_a_repository_collator_in_a_spread_dict_blocks_packing(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, "import copy", OWN, "DataCollatorForSupervisedDataset()")).workload
    said = w.packing_blocked or ""
    assert "train_sft.py line 11 passes Trainer `**data_module` from make_supervised_data_module() (src/dataset/sft_dataset.py:13)" in said
    assert "`DataCollatorForSupervisedDataset(...)`, line 15" in said
    assert "its default collator pads each batch" not in (w.sources["sample_packing"].note or "")


def test_a_framework_collator_in_a_spread_dict_is_not_the_repositorys(tmp_path: Path) -> None:
    w = load_config(_script(tmp_path, "from transformers import DataCollatorWithPadding", "", "DataCollatorWithPadding(tokenizer)")).workload
    assert w.packing_blocked is None


def test_a_collator_the_function_is_given_is_not_read_as_the_repositorys(tmp_path: Path) -> None:
    make = "tokenizer.collator"
    w = load_config(_script(tmp_path, "import copy", "", make)).workload
    assert w.packing_blocked is None
