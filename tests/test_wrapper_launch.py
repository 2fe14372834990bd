"""A launcher named on the command line whose target is a thin wrapper (LLaVA-style `train_mem.py`: it imports `train`
from the module that holds the TrainingArguments and calls it) is audited as that module with this launcher's line
(wrapper38, blind review 14a #16, EvolvingLMMs-Lab/LongVA@f4c8781 longva/scripts/finetune.sh -> train_mem.py). What else
the wrapper runs (a monkey patch) is named as not modelled. Small fixture repositories; nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.service import check_config

from .repo_files import repo


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


WRAPPED = """\
from dataclasses import dataclass, field
import transformers


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="facebook/opt-125m")


def train():
    parser = transformers.HfArgumentParser((ModelArguments, transformers.TrainingArguments))
    model_args, training_args = parser.parse_args_into_dataclasses()
    transformers.Trainer(model=None, args=training_args)
"""
THIN = "from pkg.train.train import train\n\nif __name__ == '__main__':\n    train()\n"
PATCHED = (
    "from pkg.train.flash_patch import replace_llama_attn_with_flash_attn\n"
    "replace_llama_attn_with_flash_attn()\n"
    "from pkg.train.train import train\n\nif __name__ == '__main__':\n    train()\n"
)
RUN = (
    "#!/bin/bash\ntorchrun --nproc_per_node 4 pkg/train/train_mem.py \\\n"
    "  --model_name_or_path Qwen/Qwen2.5-7B --output_dir out --per_device_train_batch_size 2 --bf16 True\n"
)
OTHER = "#!/bin/bash\ntorchrun --nproc_per_node 8 pkg/train/train_mem.py --model_name_or_path Qwen/Qwen2.5-7B --output_dir o --per_device_train_batch_size 8\n"


def _tree(tmp_path: Path, wrapper: str) -> Path:
    return repo(
        tmp_path,
        {
            "pkg/train/train.py": WRAPPED,
            "pkg/train/train_mem.py": wrapper,
            "pkg/train/flash_patch.py": "def replace_llama_attn_with_flash_attn():\n    pass\n",
            "scripts/a_other.sh": OTHER,
            "scripts/run.sh": RUN,
        },
    )


def test_a_launched_wrapper_is_audited_as_the_module_it_calls_with_this_line(tmp_path: Path) -> None:
    root = _tree(tmp_path, THIN)
    checked = check_config(root / "scripts/run.sh")
    assert checked.skip is None and checked.loaded is not None, checked.skip
    assert checked.target == (root / "pkg/train/train.py").resolve() and checked.launcher == (root / "scripts/run.sh").resolve()
    w = checked.loaded.workload
    assert (w.gpus_per_node, w.micro_batch_size, w.model.name) == (4, 2, "Qwen/Qwen2.5-7B")  # this launcher's line, not a_other.sh's
    said = next(n for n in w.notes if n.startswith("pkg/train/train_mem.py is a wrapper"))
    assert "`train()` of pkg.train.train (pkg/train/train.py)" in said and "does not model" not in said
    # the module found by a folder walk reads the first launcher of the wrapper: the two items agree on their own lines
    walked = check_config(root / "pkg/train/train.py").loaded
    assert walked is not None and (walked.workload.micro_batch_size, walked.workload.gpus_per_node) == (8, 8)


def test_what_else_a_wrapper_runs_is_named_as_not_modelled(tmp_path: Path) -> None:
    root = _tree(tmp_path, PATCHED)
    w = check_config(root / "scripts/run.sh").loaded
    assert w is not None
    said = next(n for n in w.workload.notes if n.startswith("pkg/train/train_mem.py is a wrapper"))
    assert "`replace_llama_attn_with_flash_attn()` (line 2)" in said and "goblin does not model" in said


def test_a_wrapper_that_parses_its_own_command_line_is_not_read_through(tmp_path: Path) -> None:
    # must not fire: its words are not the module's; the launcher stays not collected, saying why
    own = "import argparse\nfrom pkg.train.train import train\nargparse.ArgumentParser().parse_args()\ntrain()\n"
    root = _tree(tmp_path, own)
    checked = check_config(root / "scripts/run.sh")
    assert checked.loaded is None and checked.skip is not None
    assert "a wrapper without a TrainingArguments call of its own" in checked.skip and "pkg/train/train.py is not read either" in checked.skip


def test_a_script_calling_no_module_of_the_repository_stays_not_collected(tmp_path: Path) -> None:
    root = _tree(tmp_path, "from somewhere_else import train\ntrain()\n")
    checked = check_config(root / "scripts/run.sh")
    assert checked.loaded is None and checked.skip is not None and "without a TrainingArguments or TRL config call" in checked.skip
