"""A shell or slurm launcher named on the command line is audited as the run it launches (shellitem37, blind review 14
class 1: 12 of 33 rows were `.sh`/`.slurm` launchers, `pytest --goblin run.sh` said "not a config format"). The item is
the launcher's; the config or script it runs is read with this launcher's line. Small fixture repositories; nothing is
executed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.cli import main
from pytest_goblin.service import check_config, config_files

from .repo_files import repo


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


SCRIPT = """import argparse

import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

p = argparse.ArgumentParser()
p.add_argument("--batch_size", type=int, default=1)
args = p.parse_args()
model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B", torch_dtype=torch.bfloat16)
ds = load_dataset("json", data_files="data.json")["train"]
ta = TrainingArguments(output_dir="out", per_device_train_batch_size=args.batch_size, gradient_accumulation_steps=4, bf16=True)
Trainer(model=model, args=ta, train_dataset=ds).train()
"""
RUN4 = "#!/bin/bash\ntorchrun --nproc_per_node 4 train.py --batch_size 2\n"
RUN8 = "#!/bin/bash\n#SBATCH --nodes=1\nset -e\ntorchrun --nproc_per_node 8 train.py \\\n  --batch_size 8\n"


def _tree(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    return repo(tmp_path, {"train.py": SCRIPT, "scripts/run4.sh": RUN4, "scripts/run8.slurm": RUN8, **(extra or {})})


@pytest.mark.parametrize(("launcher", "gpus", "batch"), [("scripts/run4.sh", 4, 2), ("scripts/run8.slurm", 8, 8)])
def test_a_named_launcher_is_audited_as_the_run_it_launches_with_its_own_line(tmp_path: Path, launcher: str, gpus: int, batch: int) -> None:
    root = _tree(tmp_path)
    checked = check_config(root / launcher)
    assert checked.skip is None and checked.error is None and checked.loaded is not None
    assert checked.target == (root / "train.py").resolve() and checked.launcher == (root / launcher).resolve()
    w = checked.loaded.workload
    assert (w.gpus_per_node, w.micro_batch_size) == (gpus, batch)  # this launcher's line, not the other one's
    assert any(n.startswith(f"{launcher} line") and "launches train.py" in n for n in w.notes)
    assert launcher in (w.sources["micro_batch_size"].file or "")


def test_the_script_alone_still_reads_the_first_launch_line(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    w = check_config(root / "train.py").loaded
    assert w is not None and w.workload.gpus_per_node == 4  # scripts/run4.sh, the first found: unchanged by the other audits


def test_the_pytest_item_is_the_launchers(tmp_path: Path) -> None:
    _tree(tmp_path)
    out = tmp_path / "r.json"
    main(["audit", "repo/scripts/run8.slurm", "--runner", "projection", "--json", str(out)])
    items = json.loads(out.read_text())["items"]
    assert [i["path"] for i in items] == ["repo/scripts/run8.slurm"] and items[0]["verdict"] != "error"
    assert items[0]["nodeid"] == "repo/scripts/run8.slurm::audit"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("#!/bin/bash\necho start\nmkdir -p out\n", "has no launch line"),  # no launch line at all
        ("#!/bin/bash\ntorchrun --nproc_per_node 8 eval.py --batch_size 8\n", "eval.py, which goblin does not read"),
    ],
)
def test_a_launcher_whose_run_goblin_does_not_read_is_not_collected_naming_why(tmp_path: Path, text: str, said: str) -> None:
    root = _tree(tmp_path, {"scripts/other.sh": text, "eval.py": "import sys\nprint(sys.argv)\n"})
    checked = check_config(root / "scripts/other.sh")
    assert checked.loaded is None and checked.skip is not None and said in checked.skip
    assert checked.skip.startswith("scripts/other.sh")


def test_a_folder_walk_does_not_collect_a_launcher(tmp_path: Path) -> None:
    """`pytest --goblin .` audits train.py once, as itself: the plain `torchrun train.py` launcher is not a second item."""
    root = _tree(tmp_path, {"scripts/acc.sh": "#!/bin/bash\naccelerate launch --num_processes 2 train.py --batch_size 4\n"})
    found = {p.relative_to(root).as_posix() for p in config_files([root])}
    assert "train.py" in found and not any(f.endswith((".sh", ".slurm")) for f in found)


def test_goblin_parse_of_a_named_launcher_says_what_it_launches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tree(tmp_path)
    assert main(["parse", "repo/scripts/run4.sh"]) == 0
    out = capsys.readouterr().out
    assert "repo/scripts/run4.sh: launches repo/train.py" in out and "gpus_per_node = 4" in out


def test_pytest_goblin_collects_a_named_launcher_as_its_own_item(pytester: pytest.Pytester) -> None:
    from .repo_files import write_tree

    write_tree(pytester.path, {"train.py": SCRIPT, "scripts/run8.slurm": RUN8}, git=True)
    result = pytester.runpytest("--goblin", "scripts/run8.slurm", "--goblin-runner", "projection", "--goblin-json", "r.json", "-p", "no:cacheprovider")
    items = json.loads((pytester.path / "r.json").read_text())["items"]
    assert [i["nodeid"] for i in items] == ["scripts/run8.slurm::audit"] and items[0]["verdict"] != "error"
    assert result.ret in (0, 1)


def test_a_llamafactory_run_on_flags_alone_is_read_as_its_config(tmp_path: Path) -> None:
    line = "#!/bin/bash\nllamafactory-cli train --stage sft --model_name_or_path Qwen/Qwen2.5-7B --per_device_train_batch_size 2\n"
    root = _tree(tmp_path, {"scripts/lf.sh": line})
    checked = check_config(root / "scripts/lf.sh")
    assert checked.loaded is not None and checked.loaded.workload.micro_batch_size == 2  # lfflags38 (tests/test_lf_flags.py)


def test_a_launcher_of_a_script_outside_the_repository_names_it(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"scripts/far.sh": "#!/bin/bash\ntorchrun --nproc_per_node 8 ../../src/train_bash.py --stage sft\n"})
    checked = check_config(root / "scripts/far.sh")
    assert checked.loaded is None and "runs `../../src/train_bash.py`, which is not a file of the repository" in (checked.skip or "")
