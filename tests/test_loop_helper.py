"""An own training loop whose backward pass is in a function the script imports from its repository (wrapper38, blind
review 14b #30: UFResearchComputing/Llama2_on_HPG@4ed161f, llama-recipes src/llama_recipes/finetuning.py calls `train()`
of utils/train_utils.py): one level of import is followed, through safepath, nothing imported or run; a helper outside
the repository is not. A launched `fire.Fire(main)` wrapper names the module it runs. Small fixture repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.service import check_config

from .repo_files import repo, write_tree


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


LOOP = """\
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import AutoModelForCausalLM, AutoTokenizer
from helpers.loop import run_epoch

accelerator = Accelerator(gradient_accumulation_steps=2, mixed_precision="bf16")
tok = AutoTokenizer.from_pretrained("meta-llama/Llama-3.1-8B")
model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B", torch_dtype=torch.bfloat16)
rows = [tok(t, max_length=2048, truncation=True) for t in texts]
train_loader = DataLoader(rows, batch_size={batch})
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
run_epoch(model, train_loader, optimizer, accelerator)
"""
HELPER = """\
def run_epoch(model, loader, optimizer, accelerator):
    for batch in loader:
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()
"""


def test_a_loop_whose_backward_is_in_an_imported_helper_is_read(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": LOOP.format(batch=4), "helpers/__init__.py": "", "helpers/loop.py": HELPER})
    w = load_config(root / "train.py").workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.seq_len) == (4, 2, 2048)
    assert any("its backward pass is in `run_epoch()` of helpers.loop (helpers/loop.py:1), called at line 14" in n for n in w.notes)


def test_a_helper_outside_the_repository_is_not_followed(tmp_path: Path) -> None:
    # must not fire: the same helper one folder above the repository root (not a file of the repository)
    write_tree(tmp_path, {"helpers/__init__.py": "", "helpers/loop.py": HELPER})
    root = repo(tmp_path, {"train.py": LOOP.format(batch=4)})
    with pytest.raises(NotATrainingConfig, match="has no backward pass"):
        load_config(root / "train.py")


def test_a_dataloader_given_spread_keywords_leaves_the_micro_batch_unread(tmp_path: Path) -> None:
    text = LOOP.format(batch=4).replace("DataLoader(rows, batch_size=4)", "DataLoader(rows, **loader_kwargs)")
    root = repo(tmp_path, {"train.py": text, "helpers/__init__.py": "", "helpers/loop.py": HELPER})
    with pytest.raises(NotATrainingConfig, match=r"the micro-batch \(DataLoader\(\.\.\.\) at line 11 takes `\*\*loader_kwargs`"):
        load_config(root / "train.py")


def test_a_fire_wrapper_names_the_module_it_runs(tmp_path: Path) -> None:
    # llama-recipes' finetuning.py: `fire.Fire(main)` of llama_recipes.finetuning, a src-layout package beside it
    main = LOOP.format(batch=4).replace("run_epoch(model", "def main(**kwargs):\n    pass\n\n\nrun_epoch(model")
    root = repo(
        tmp_path,
        {
            "finetuning.py": "import fire\nfrom recipes.finetuning import main\n\nif __name__ == '__main__':\n    fire.Fire(main)\n",
            "src/recipes/__init__.py": "",
            "src/recipes/finetuning.py": main,
            "run.sh": "torchrun --nproc_per_node 4 finetuning.py --enable_fsdp\n",
        },
    )
    with pytest.raises(
        NotATrainingConfig, match=r"it runs `main` of recipes\.finetuning \(src/recipes/finetuning\.py\) through `fire\.Fire\(\.\.\.\)` at line 5"
    ):
        load_config(root / "finetuning.py")
    checked = check_config(root / "run.sh")
    assert checked.skip is not None and "src/recipes/finetuning.py is not read either: it sets up accelerate's Accelerator" in checked.skip
