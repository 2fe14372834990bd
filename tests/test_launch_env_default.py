"""A training script's settings read from its environment (`MBS = int(os.environ.get("MBS", 1))`) as the launch
script goblin found for it sets them: its own exports and those of a file it sources (`set -a; source config.env`,
under `if [ -f ... ]` over a file of the repository), else the read's default, said as an assumption (review13a #15
DmitriiNikolaevAtAmd/tprimat train/amd_tran.py:39-49 under train/amd_tran_llama.sh, config.env)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

SCRIPT = """\
import os

from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

MBS = int(os.environ.get("MBS", {mbs}))
PRECISION = os.environ.get("PRECISION", "bf16")


def train_model(name):
    model = AutoModelForCausalLM.from_pretrained("EleutherAI/gpt-neo-1.3B")
    ta = TrainingArguments(output_dir="o", per_device_train_batch_size=MBS, bf16=PRECISION == "bf16", fp16=PRECISION == "fp16")
    Trainer(model=model, args=ta, train_dataset=None).train()


train_model("x")
"""

LAUNCH = """\
#!/bin/bash
SCRIPT_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
if [ -f "$ROOT_DIR/config.env" ]; then
    set -a
    source "$ROOT_DIR/config.env"
    set +a
fi
cd "$SCRIPT_DIR"
torchrun --nproc_per_node=8 --nnodes=1 train.py llama
"""


def _load(tmp_path: Path, files: dict[str, str]) -> WorkloadConfig:
    root = repo(tmp_path, files)
    return load_config(root / "train" / "train.py").workload


def test_a_sourced_config_env_gives_the_value(tmp_path: Path) -> None:
    w = _load(tmp_path, {"train/train.py": SCRIPT.format(mbs=1), "train/run.sh": LAUNCH, "config.env": "MBS=4\nPRECISION=fp16\n"})
    assert w.micro_batch_size == 4
    assert w.precision == "fp16"
    assert w.sources["env.MBS"].line == 1 and w.sources["env.MBS"].file is not None and w.sources["env.MBS"].file.endswith("config.env")
    assert not any("read as its default" in n for n in w.notes)


def test_a_variable_no_launcher_sets_takes_the_default_said(tmp_path: Path) -> None:
    w = _load(tmp_path, {"train/train.py": SCRIPT.format(mbs=2), "train/run.sh": "torchrun --nproc_per_node=8 train.py\n"})
    assert w.micro_batch_size == 2
    assert w.precision == "bf16"
    said = [n for n in w.notes if "read as its default" in n]
    assert any(n.startswith("MBS is read as its default") and "a shell that exports MBS" in n for n in said)
    assert all("None" not in n for n in said)


def test_a_source_goblin_cannot_read_leaves_it_unknown(tmp_path: Path) -> None:
    # the file is not in the repository: `-f` stays undecided and the source unread, so MBS may be set there
    w = _load(tmp_path, {"train/train.py": SCRIPT.format(mbs=2), "train/run.sh": LAUNCH})
    assert w.micro_batch_size == 8  # TrainingArguments' default, said as assumed
    assert "computed at run time" in (w.sources["micro_batch_size"].note or "")
    assert not any("read as its default" in n for n in w.notes)


def test_a_variable_the_launcher_sets_itself_is_never_its_default(tmp_path: Path) -> None:
    script = SCRIPT.format(mbs=2).replace('os.environ.get("MBS", 2)', 'os.environ.get("LOCAL_RANK", 2)')
    w = _load(tmp_path, {"train/train.py": script, "train/run.sh": "torchrun --nproc_per_node=8 train.py\n"})
    assert w.micro_batch_size == 8
    assert not any("LOCAL_RANK" in n for n in w.notes)


def test_an_unread_export_is_unknown(tmp_path: Path) -> None:
    w = _load(tmp_path, {"train/train.py": SCRIPT.format(mbs=2), "train/run.sh": "export MBS=$1\ntorchrun --nproc_per_node=8 train.py\n"})
    assert w.micro_batch_size == 8


def test_an_export_of_its_own_default_is_the_default_said(tmp_path: Path) -> None:
    # review13a #6/#7 interpolation-of-experts-torchtune scripts/launch_mi250x_fsdp.sh:18
    launch = "export TORCH_DISTRIBUTED_DEBUG=${TORCH_DISTRIBUTED_DEBUG:-DETAIL}\ntorchrun --nproc_per_node=8 train.py\n"
    w = _load(tmp_path, {"train/train.py": SCRIPT.format(mbs=2), "train/run.sh": launch})
    assert w.env["TORCH_DISTRIBUTED_DEBUG"] == "DETAIL"
    note = w.sources["env.TORCH_DISTRIBUTED_DEBUG"].note or ""
    assert "DETAIL unless the caller's environment sets TORCH_DISTRIBUTED_DEBUG" in note and "line 1" in note


def test_an_export_of_another_variables_default_stays_unknown(tmp_path: Path) -> None:
    launch = "export TORCH_DISTRIBUTED_DEBUG=${DEBUG_LEVEL:-DETAIL}\ntorchrun --nproc_per_node=8 train.py\n"
    w = _load(tmp_path, {"train/train.py": SCRIPT.format(mbs=2), "train/run.sh": launch})
    assert "TORCH_DISTRIBUTED_DEBUG" not in w.env
    assert w.sources["env.TORCH_DISTRIBUTED_DEBUG"].unread


def test_distributed_debug_detail_from_the_launcher_is_a_debug_mode(tmp_path: Path) -> None:
    launch = "export TORCH_DISTRIBUTED_DEBUG=${TORCH_DISTRIBUTED_DEBUG:-DETAIL}\ntorchrun --nproc_per_node=8 train.py\n"
    w = _load(tmp_path, {"train/train.py": SCRIPT.format(mbs=2), "train/run.sh": launch})
    assert len(w.debug_modes) == 1 and w.debug_modes[0].startswith("TORCH_DISTRIBUTED_DEBUG=DETAIL (train/run.sh line 1, its default")
    assert "DETAIL unless the caller's environment sets TORCH_DISTRIBUTED_DEBUG" in w.debug_modes[0]
    assert "debug.mode_left_on" in {r.id for r in kb.applicable(w, hardware.get_hardware("mi300x"), list(kb.cached_rules()))}


def test_distributed_debug_info_or_one_process_is_no_debug_mode(tmp_path: Path) -> None:
    info = "export TORCH_DISTRIBUTED_DEBUG=INFO\ntorchrun --nproc_per_node=8 train.py\n"
    one = "export TORCH_DISTRIBUTED_DEBUG=DETAIL\npython train.py\n"
    for i, launch in enumerate((info, one)):
        w = _load(tmp_path / str(i), {"train/train.py": SCRIPT.format(mbs=2), "train/run.sh": launch})
        assert not w.debug_modes
