"""Which launch line, and which node count, a config's run is read from (launchpick26, blind review 11b class 1):
a launch script's node count set by the script of the repository that runs it (row 37 InstellaVL), and of two lines of
one launcher that name the config, the one whose script trains (row 22 LionAlignment dpo.sh:12 precompute, :20 train).
Small fixture repositories; nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launched import launched_script
from pytest_goblin.formats.launcher_text import parse_launcher

from .repo_files import repo


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


AXOLOTL = "base_model: meta-llama/Llama-3.1-8B\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nsequence_len: 2048\nbf16: true\n"
LAUNCH = "#!/bin/bash\ntorchrun --nproc_per_node=8 --nnodes=$NNODES -m axolotl.cli.train configs/c.yaml\n"


def _tree(tmp_path: Path, callers: dict[str, str], launch: str = LAUNCH) -> Path:
    return repo(tmp_path, {"configs/c.yaml": AXOLOTL, "scripts/train.sh": launch, **callers})


@pytest.mark.parametrize(
    ("caller", "line", "how"),
    [
        ("#!/bin/bash\n#SBATCH --nodes=4\nexport NNODES=$SLURM_NNODES\nsrun -l bash scripts/train.sh\n", 3, "exported from $SLURM_NNODES"),
        ("#!/bin/bash\nNNODES=4 bash scripts/train.sh\n", 2, "set on the command"),
        ("#!/bin/bash\nexport NNODES=4\n./scripts/train.sh\n", 2, "exported"),
        ("#!/bin/bash\nNNODES=4\nsource scripts/train.sh\n", 2, "set in the same shell"),
        ("#!/bin/bash\nset -a\nNNODES=4\nset +a\nsh scripts/train.sh\n", 3, "exported"),
    ],
)
def test_the_script_that_runs_the_launcher_gives_its_node_count(tmp_path: Path, caller: str, line: int, how: str) -> None:
    w = load_config(_tree(tmp_path, {"job.sh": caller}) / "configs/c.yaml").workload
    assert (w.nodes, w.gpus_per_node, w.world_size) == (4, 8, 32)
    src = w.sources["nodes"]
    assert src.file.endswith("job.sh") and src.line == line and src.explicit
    assert w.sources["world_size"].explicit
    note = " ".join(w.notes)
    assert "node count `$NNODES` is 4: job.sh line" in note and f"runs `train.sh` with NNODES {how}" in note
    assert "1 node assumed" not in (w.sources["world_size"].note or "")


def test_slurms_own_node_count_reaches_a_script_srun_runs(tmp_path: Path) -> None:
    launch = LAUNCH.replace("$NNODES", "$SLURM_NNODES")
    w = load_config(_tree(tmp_path, {"job.slurm": "#!/bin/bash\n#SBATCH -N 4\nsrun scripts/train.sh\n"}, launch) / "configs/c.yaml").workload
    assert (w.nodes, w.world_size) == (4, 32) and w.sources["nodes"].file.endswith("job.slurm") and w.sources["nodes"].line == 2


@pytest.mark.parametrize(
    ("callers", "launch"),
    [
        ({"job.sh": "#!/bin/bash\nNNODES=4\nbash scripts/train.sh\n"}, LAUNCH),  # set, not exported: a child shell does not see it
        ({"job.sh": "#!/bin/bash\nNNODES=4 bash scripts/train.sh\n"}, LAUNCH.replace("torchrun", "NNODES=$1\ntorchrun")),  # its own argument decides
        ({"job.sh": "#!/bin/bash\nNNODES=4 bash other/train.sh\n", "other/train.sh": LAUNCH}, LAUNCH),  # another script of that name
        ({"job.sh": "#!/bin/bash\nNNODES=4 python scripts/train.sh\n"}, LAUNCH),  # not run by a shell
        ({}, LAUNCH),  # nothing runs it
    ],
)
def test_a_caller_whose_value_does_not_reach_the_launcher_leaves_the_count_unknown(tmp_path: Path, callers: dict[str, str], launch: str) -> None:
    w = load_config(_tree(tmp_path, callers, launch) / "configs/c.yaml").workload
    assert w.nodes == 1 and not w.sources["nodes"].explicit and w.sources["nodes"].file.endswith("scripts/train.sh")
    assert "is a variable the file never sets" in (w.sources["world_size"].note or "")
    assert "node count `$NNODES` is 4" not in " ".join(w.notes)


def test_callers_that_disagree_are_both_said_and_the_count_stays_unknown(tmp_path: Path) -> None:
    callers = {"a.sh": "#!/bin/bash\nNNODES=2 bash scripts/train.sh\n", "b.sh": "#!/bin/bash\nNNODES=4 bash scripts/train.sh\n"}
    w = load_config(_tree(tmp_path, callers) / "configs/c.yaml").workload
    assert w.nodes == 1 and not w.sources["nodes"].explicit
    note = " ".join(w.notes)
    assert "do not agree, it stays unknown" in note and "a.sh line 2: NNODES=2" in note and "b.sh line 2: NNODES=4" in note


def test_a_script_run_is_recorded_with_what_reaches_it() -> None:
    text = "#!/bin/bash\n#SBATCH --nodes=4\nA=3\nexport B=5\nNNODES=2 bash scripts/train.sh\necho done\n"
    runs = parse_launcher(Path("/nowhere/run.sh"), text).runs
    assert [(r.line, r.word, r.how) for r in runs] == [(5, "scripts/train.sh", "bash")]
    seen = {name: (value, line) for name, value, _file, line, _how in runs[0].values}
    assert seen["NNODES"] == ("2", 5) and seen["B"] == ("5", 4) and seen["SLURM_NNODES"] == ("4", 2) and "A" not in seen


# ------------------------------------------------------------------ two lines of one launcher: the one that trains
PRECOMPUTE = "accelerate launch --multi_gpu --num_processes 2 scripts/precompute_dpo_logprobs.py configs/c.yaml\n"
TRAIN_DPO = "accelerate launch --num_processes 4 scripts/run_dpo.py configs/c.yaml\n"
PREP_CODE = "import torch\n\ndef main():\n    logps = torch.zeros(3)\n    torch.save(logps, 'x.pt')\n\nmain()\n"
TRAIN_CODE = "from trl import DPOTrainer\n\ntrainer = DPOTrainer(model=None, args=None)\ntrainer.train()\n"
LF_DPO = "model_name_or_path: Qwen/Qwen2-7B\nstage: dpo\ndo_train: true\nfinetuning_type: full\nbf16: true\nper_device_train_batch_size: 1\n"


def _dpo_tree(tmp_path: Path, script: str, prep: str = PREP_CODE, train: str | None = TRAIN_CODE) -> Path:
    files = {"configs/c.yaml": LF_DPO, "run.sh": "#!/bin/bash\n" + script, "scripts/precompute_dpo_logprobs.py": prep}
    return repo(tmp_path, files | ({"scripts/run_dpo.py": train} if train is not None else {}))


def test_the_line_whose_script_trains_wins_over_a_preparation_script_named_as_training(tmp_path: Path) -> None:
    root = _dpo_tree(tmp_path, PRECOMPUTE + TRAIN_DPO)
    w = load_config(root / "configs/c.yaml").workload
    assert w.world_size == 4 and w.sources["world_size"].line == 3
    assert (
        "run.sh line 3 (run_dpo.py) is read as the launch that trains c.yaml; line 2 (precompute_dpo_logprobs.py) of run.sh also names it"
        " but runs a script that builds no trainer and calls no `.train()` (read with ast), and is not read"
    ) in " ".join(w.notes)
    found = launched_script(root / "configs/c.yaml")
    assert found is not None and found.script == "scripts/run_dpo.py" and found.where == "run.sh line 3"


@pytest.mark.parametrize(
    ("prep", "train"),
    [
        (TRAIN_CODE, TRAIN_CODE),  # the first script trains too
        ("import torch\nmodel = torch.nn.Linear(2, 2)\nmodel.train()\n", TRAIN_CODE),  # a loop of its own may train: not known
        (PREP_CODE, None),  # the later script cannot be read
        (PREP_CODE, "def main(:\n"),  # nor parsed
        (PREP_CODE, PREP_CODE),  # the later script does not train either
    ],
)
def test_the_first_line_stays_where_goblin_cannot_tell_the_later_one_trains_and_it_does_not(tmp_path: Path, prep: str, train: str | None) -> None:
    w = load_config(_dpo_tree(tmp_path, PRECOMPUTE + TRAIN_DPO, prep, train) / "configs/c.yaml").workload
    assert w.world_size == 2 and w.sources["world_size"].line == 2
    assert "read with ast" not in " ".join(w.notes)


def test_a_training_line_of_another_launcher_does_not_displace_the_first_one(tmp_path: Path) -> None:
    root = _dpo_tree(tmp_path, PRECOMPUTE)
    (root / "train.sh").write_text("#!/bin/bash\n" + TRAIN_DPO, encoding="utf-8")
    w = load_config(root / "configs/c.yaml").workload
    assert w.world_size == 2 and w.sources["world_size"].file.endswith("run.sh")
