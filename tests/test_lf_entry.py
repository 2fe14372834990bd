"""LLaMA-Factory's own entry script run on a config (formats/launch_lfentry.py): `python src/train.py x.yaml k=v`,
`torchrun ... src/train.py x.yaml`, `deepspeed --no_local_rank ... src/train.py x.yaml` read as `llamafactory-cli train`
is, the `key=value` words merged over the YAML (src/train.py:15-19 and hparams/parser.py:90-97@v0.9.5); a deepspeed line
without --no_local_rank puts `--local_rank=N` before the YAML (DeepSpeed v0.16.5 launcher/launch.py:243-247). And
`global_batch_size` arithmetic done with the micro-batch and accumulation after those words."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launchers import find_launch
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import write_tree

LF = (
    "model_name_or_path: meta-llama/Llama-3.1-8B\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
    "cutoff_len: 2048\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\n"
)
ENTRY = "from llamafactory.train.tuner import run_exp\n\n\ndef main():\n    run_exp()\n\n\nif __name__ == '__main__':\n    main()\n"


def _repo(tmp_path: Path, line: str, yaml: str = LF, entry: str | None = ENTRY, pin: str = "") -> Path:
    files = {"configs/sft.yaml": yaml, "run.sh": "#!/bin/bash\n" + line + "\n"}
    if entry is not None:
        files["LLaMA-Factory/src/train.py"] = entry
    if pin:
        files["requirements.txt"] = pin + "\n"
    return write_tree(tmp_path / "repo", files, git=True) / "configs" / "sft.yaml"


def _workload(cfg: Path) -> WorkloadConfig:
    return load_config(cfg).workload


def _said(cfg: Path) -> tuple[int, int, dict[str, str]]:
    launch = find_launch(cfg)
    assert launch is not None
    return launch.nodes, launch.per_node, {k: v for k, v, _f, _l, _h in launch.overrides}


def test_python_entry_script_is_one_process_with_the_words_merged(tmp_path: Path) -> None:
    cfg = _repo(tmp_path, "cd LLaMA-Factory && python src/train.py ../configs/sft.yaml per_device_train_batch_size=2")
    assert _said(cfg) == (1, 1, {"per_device_train_batch_size": "2"})
    w = _workload(cfg)
    assert (w.world_size, w.micro_batch_size) == (1, 2)
    assert w.sources["micro_batch_size"].file.endswith("run.sh") and "LLaMA-Factory merges it over the YAML" in (w.sources["micro_batch_size"].note or "")


def test_torchrun_entry_script_reads_as_force_torchrun_cli(tmp_path: Path) -> None:
    """The same topology and words as `FORCE_TORCHRUN=1 NPROC_PER_NODE=4 llamafactory-cli train` (v0.9.5 launcher.py:60-66)."""
    torchrun = _repo(tmp_path / "a", "torchrun --nproc_per_node 4 LLaMA-Factory/src/train.py configs/sft.yaml per_device_train_batch_size=2 cutoff_len=4096")
    cli = _repo(tmp_path / "b", "FORCE_TORCHRUN=1 NPROC_PER_NODE=4 llamafactory-cli train configs/sft.yaml per_device_train_batch_size=2 cutoff_len=4096")
    assert _said(torchrun) == _said(cli) == (1, 4, {"per_device_train_batch_size": "2", "cutoff_len": "4096"})
    a, b = _workload(torchrun), _workload(cli)
    assert (a.world_size, a.micro_batch_size, a.seq_len) == (b.world_size, b.micro_batch_size, b.seq_len) == (4, 2, 4096)


def test_a_clone_made_at_run_time_is_read_by_its_folder_name(tmp_path: Path) -> None:
    line = "git clone https://github.com/hiyouga/LLaMA-Factory.git\ntorchrun --nproc_per_node 2 LLaMA-Factory/src/train.py configs/sft.yaml gradient_accumulation_steps=8"
    cfg = _repo(tmp_path, line, entry=None)
    assert _said(cfg) == (1, 2, {"gradient_accumulation_steps": "8"})
    assert _workload(cfg).gradient_accumulation == 8


def test_deepspeed_with_no_local_rank_reads_the_words(tmp_path: Path) -> None:
    cfg = _repo(tmp_path, "deepspeed --num_gpus 8 --no_local_rank LLaMA-Factory/src/train.py configs/sft.yaml per_device_train_batch_size=2")
    assert _said(cfg) == (1, 8, {"per_device_train_batch_size": "2"})
    assert _workload(cfg).micro_batch_size == 2


def test_deepspeed_without_no_local_rank_does_not_take_the_yaml(tmp_path: Path) -> None:
    """Must not fire: `--local_rank=N` is the script's first word, so LLaMA-Factory does not read the YAML; nothing is merged."""
    cfg = _repo(tmp_path, "deepspeed --num_gpus 8 LLaMA-Factory/src/train.py configs/sft.yaml per_device_train_batch_size=2")
    launch = find_launch(cfg)
    assert launch is not None and launch.overrides == [] and launch.flag_form == ""
    assert any("without --no_local_rank" in n and "the run stops at start-up" in n for n in launch.notes)
    assert _workload(cfg).micro_batch_size == 4


def test_a_repositorys_own_train_script_is_not_llamafactorys(tmp_path: Path) -> None:
    """Must not fire: a src/train.py that does not call LLaMA-Factory's run_exp() is not its entry script."""
    own = "import argparse\n\nparser = argparse.ArgumentParser()\nparser.add_argument('config')\nargs = parser.parse_args()\n"
    cfg = _repo(tmp_path, "torchrun --nproc_per_node 4 LLaMA-Factory/src/train.py configs/sft.yaml per_device_train_batch_size=2", entry=own)
    assert _said(cfg) == (1, 4, {})
    assert _workload(cfg).micro_batch_size == 4


def test_the_yaml_must_be_the_entry_scripts_first_word(tmp_path: Path) -> None:
    """Must not fire: LLaMA-Factory reads sys.argv[1] as its config (hparams/parser.py:90@v0.9.5)."""
    cfg = _repo(tmp_path, "torchrun --nproc_per_node 4 LLaMA-Factory/src/train.py --do_train configs/sft.yaml per_device_train_batch_size=2")
    assert _said(cfg)[2] == {}


GBS = LF + "global_batch_size: 64\n"


def test_global_batch_arithmetic_uses_the_launch_words(tmp_path: Path) -> None:
    cfg = _repo(tmp_path, "llamafactory-cli train configs/sft.yaml per_device_train_batch_size=2", yaml=GBS)
    w = _workload(cfg)
    assert (w.micro_batch_size, w.world_size) == (2, 8)
    note = w.sources["world_size"].note or ""
    assert "global_batch_size 64 / (per_device_train_batch_size 2 x gradient_accumulation_steps 4) = 8 GPUs" in note
    assert "`per_device_train_batch_size=2` on run.sh line 2" in note


def test_global_batch_arithmetic_without_words_uses_the_yaml(tmp_path: Path) -> None:
    """Must not fire: no word over the YAML, or a release (0.9.2) that merges none: the file's own values."""
    plain = _workload(_repo(tmp_path / "a", "llamafactory-cli train configs/sft.yaml", yaml=GBS))
    old = _workload(_repo(tmp_path / "b", "llamafactory-cli train configs/sft.yaml per_device_train_batch_size=2", yaml=GBS, pin="llamafactory==0.9.2"))
    for w in (plain, old):
        assert (w.micro_batch_size, w.world_size) == (4, 4)
        assert "global_batch_size 64 / (per_device_train_batch_size 4 x gradient_accumulation_steps 4) = 4 GPUs" in (w.sources["world_size"].note or "")


def test_global_batch_arithmetic_with_a_word_set_at_run_time_is_unknown(tmp_path: Path) -> None:
    """Must not fire: `per_device_train_batch_size=$BS` leaves the micro-batch unknown, so no GPU count is derived."""
    w = _workload(_repo(tmp_path, "NPROC_PER_NODE=2 llamafactory-cli train configs/sft.yaml per_device_train_batch_size=$BS", yaml=GBS))
    assert "global_batch_size" not in (w.sources["world_size"].note or "") and w.world_size == 2


def test_a_launch_line_that_states_a_count_wins_over_the_arithmetic(tmp_path: Path) -> None:
    """Must not fire: NPROC_PER_NODE=2 states the count; the file's arithmetic is not used."""
    w = _workload(_repo(tmp_path, "NPROC_PER_NODE=2 llamafactory-cli train configs/sft.yaml per_device_train_batch_size=2", yaml=GBS))
    assert w.world_size == 2 and "global_batch_size" not in (w.sources["world_size"].note or "")
