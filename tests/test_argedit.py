"""Edits to a value a script's argparse option sets are offered only as the option can take them
(formats/argedit.py, CPython 3.11.7 Lib/argparse.py): the launch line's word, named by file and line, the
`add_argument` default, or no edit (review 8a #18: `action="store_true", default=True`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_goblin import hardware
from pytest_goblin.formats import load_config
from pytest_goblin.patching import build_patch

from .repo_files import write_tree
from .test_patching import workers_rule

HEAD = "import argparse\nfrom transformers import TrainingArguments\np = argparse.ArgumentParser()\n"


def _script(tmp_path: Path, option: str, keyword: str, launch: str | None = None) -> Path:
    """train.py with one option (line 4) read by one TrainingArguments keyword; run.sh line 1 runs it with `launch`."""
    files = {"train.py": f"{HEAD}p.add_argument({option})\nargs = p.parse_args()\nta = TrainingArguments(output_dir='o', {keyword})\n"}
    if launch is not None:
        files["run.sh"] = f"torchrun --nproc_per_node 8 train.py {launch}\n"
    return write_tree(tmp_path, files) / "train.py"


def _apply(path: Path, fields: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    loaded = load_config(path)
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, loaded.workload, fields)
    return loaded.text, text, skipped


def test_store_true_defaulting_true_is_edited_in_the_script_not_the_launch_line(tmp_path: Path) -> None:
    path = _script(tmp_path, '"--gradient_checkpointing", action="store_true", default=True', "gradient_checkpointing=args.gradient_checkpointing")
    assert load_config(path).workload.gradient_checkpointing is True
    before, text, skipped = _apply(path, {"gradient_checkpointing": False})
    said = skipped["gradient_checkpointing"]
    assert text == before
    assert said.startswith("no command-line word sets `gradient_checkpointing` to False: `--gradient_checkpointing` is a store_true option")
    assert "CPython 3.11.7 Lib/argparse.py:959-1013" in said and "edit the `add_argument` call at train.py:4 by hand (`default=False`" in said
    assert "in the launch line" not in said and "None" not in said


def test_store_true_passed_and_defaulting_true_names_both_places(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        '"--gradient_checkpointing", action="store_true", default=True',
        "gradient_checkpointing=args.gradient_checkpointing",
        "--gradient_checkpointing",
    )
    _before, _text, skipped = _apply(path, {"gradient_checkpointing": False})
    said = skipped["gradient_checkpointing"]
    assert "edit the `add_argument` call at train.py:4 by hand" in said
    assert said.endswith("and remove `--gradient_checkpointing` in the launch line (run.sh line 1)")


def test_store_true_defaulting_false_is_turned_on_by_the_launch_word(tmp_path: Path) -> None:
    # the premise does not hold: the flag itself gives the value, so the launch line is the place
    path = _script(tmp_path, '"--gradient_checkpointing", action="store_true"', "gradient_checkpointing=args.gradient_checkpointing", "--bf16")
    _before, _text, skipped = _apply(path, {"gradient_checkpointing": True})
    assert (
        skipped["gradient_checkpointing"]
        == "`--gradient_checkpointing` is a store_true option (line 4): add `--gradient_checkpointing` in the launch line (run.sh line 1)"
    )
    # passed, and the default is the value wanted: the word is removed
    path = _script(
        tmp_path, '"--gradient_checkpointing", action="store_true"', "gradient_checkpointing=args.gradient_checkpointing", "--gradient_checkpointing"
    )
    _before, _text, skipped = _apply(path, {"gradient_checkpointing": False})
    assert skipped["gradient_checkpointing"] == (
        "`--gradient_checkpointing` is a store_true option (line 4): remove `--gradient_checkpointing` in the launch line (run.sh line 1);"
        " without it the default False applies"
    )


def test_store_false(tmp_path: Path) -> None:
    path = _script(tmp_path, '"--no_gc", dest="gc", action="store_false"', "gradient_checkpointing=args.gc", "--no_gc")
    assert load_config(path).workload.gradient_checkpointing is False
    _before, _text, skipped = _apply(path, {"gradient_checkpointing": True})
    assert (
        skipped["gradient_checkpointing"]
        == "`--no_gc` is a store_false option (line 4): remove `--no_gc` in the launch line (run.sh line 1); without it the default True applies"
    )
    (tmp_path / "run.sh").unlink()
    _before, _text, skipped = _apply(path, {"gradient_checkpointing": False})
    assert skipped["gradient_checkpointing"] == "`--no_gc` is a store_false option (line 4): pass `--no_gc` where the script is launched"


def test_boolean_optional_action_is_read_and_turned_off_with_its_no_flag(tmp_path: Path) -> None:
    option = '"--gradient_checkpointing", action=argparse.BooleanOptionalAction, default=False'
    path = _script(tmp_path, option, "gradient_checkpointing=args.gradient_checkpointing", "--gradient_checkpointing")
    w = load_config(path).workload
    assert w.gradient_checkpointing is True and w.sources["gradient_checkpointing"].file == str(tmp_path / "run.sh")
    before, text, skipped = _apply(path, {"gradient_checkpointing": False})
    assert text == before
    assert skipped["gradient_checkpointing"].endswith(
        "`--gradient_checkpointing` is passed by run.sh line 1: change it in the launch line to `--no-gradient_checkpointing`"
    )
    assert "Lib/argparse.py:885-918" in skipped["gradient_checkpointing"]
    path = _script(tmp_path, option.replace("False", "True"), "gradient_checkpointing=args.gradient_checkpointing", "--bf16")
    _before, _text, skipped = _apply(path, {"gradient_checkpointing": False})
    assert skipped["gradient_checkpointing"].endswith(": add `--no-gradient_checkpointing` in the launch line (run.sh line 1)")


def test_type_bool_is_not_turned_off_by_a_false_word(tmp_path: Path) -> None:
    path = _script(tmp_path, '"--gc", type=bool, default=False', "gradient_checkpointing=args.gc", "--gc True")
    assert load_config(path).workload.gradient_checkpointing is True
    before, text, skipped = _apply(path, {"gradient_checkpointing": False})
    said = skipped["gradient_checkpointing"]
    assert text == before and "--gc False" not in said
    assert said.startswith(
        "`--gc True` is passed by run.sh line 1, and `--gc` is `type=bool`, Python's bool(): every non-empty word, `False` included, is True"
    )
    assert said.endswith("remove `--gc True` in the launch line; without it the default `False` (train.py:4) applies")
    path = _script(tmp_path, '"--gc", type=bool, default=True', "gradient_checkpointing=args.gc", "--gc True")
    _before, _text, skipped = _apply(path, {"gradient_checkpointing": False})
    assert skipped["gradient_checkpointing"].endswith("and set the default of `--gc` (train.py:4) to False by hand")


def test_type_bool_default_not_passed_is_written_in_the_script(tmp_path: Path) -> None:
    path = _script(tmp_path, '"--gc", type=bool, default=True', "gradient_checkpointing=args.gc")
    _before, text, skipped = _apply(path, {"gradient_checkpointing": False})
    assert "gradient_checkpointing" not in skipped and 'p.add_argument("--gc", type=bool, default=False)' in text


def test_a_value_outside_the_choices_is_not_offered(tmp_path: Path) -> None:
    path = _script(tmp_path, '"--optim", choices=["adamw_torch", "sgd"], default="adamw_torch"', "optim=args.optim")
    before, text, skipped = _apply(path, {"optimizer": "adamw_torch_fused"})
    assert text == before
    assert skipped["optimizer"] == (
        "`--optim` (train.py:4) accepts only the choices 'adamw_torch', 'sgd', and adamw_torch_fused is not one of them"
        " (CPython 3.11.7 Lib/argparse.py:2547-2553): no edit offered; change the script by hand"
    )
    _before, text, skipped = _apply(path, {"optimizer": "sgd"})  # one of the choices: the default is written
    assert "optimizer" not in skipped and 'choices=["adamw_torch", "sgd"], default="sgd"' in text


def test_a_float_for_an_int_option_is_not_offered(tmp_path: Path) -> None:
    path = _script(tmp_path, '"--workers", type=int, default=2', "dataloader_num_workers=args.workers", "--workers 2")
    before, text, skipped = _apply(path, {"dataloader_workers": 2.5})
    assert text == before and skipped["dataloader_workers"].startswith("`--workers` (train.py:4) is `type=int`, and 2.5 is not an int")
    assert "no edit offered" in skipped["dataloader_workers"] and "run.sh" not in skipped["dataloader_workers"]


def test_a_launch_word_is_changed_in_its_file_and_line(tmp_path: Path) -> None:
    path = _script(tmp_path, '"--workers", type=int, default=2', "dataloader_num_workers=args.workers", "--workers 3")
    before, text, skipped = _apply(path, {"dataloader_workers": 4})
    assert text == before
    assert skipped["dataloader_workers"] == "`--workers 3` is passed by run.sh line 1: change it in the launch line to `--workers 4`"


def test_goblin_fix_writes_no_edit_the_option_cannot_take(tmp_path: Path) -> None:
    path = _script(tmp_path, '"--workers", type=int, choices=[0, 1, 2], default=2', "dataloader_num_workers=args.workers")
    patch = build_patch(load_config(path), [workers_rule()], hardware.get_hardware("mi300x"), "p1")
    assert patch.edits == [] and patch.diff == ""
    assert "accepts only the choices 0, 1, 2, and 4 is not one of them" in patch.skipped["data.workers_for_test"]
    path = _script(tmp_path, '"--workers", type=int, choices=[0, 2, 4], default=2', "dataloader_num_workers=args.workers")
    patch = build_patch(load_config(path), [workers_rule()], hardware.get_hardware("mi300x"), "p1")
    assert [e.new for e in patch.edits] == [4] and "default=4)" in patch.diff


def test_an_hfargumentparser_bool_field_takes_a_false_word(tmp_path: Path) -> None:
    # unlike argparse's type=bool, HfArgumentParser reads a bool field through string_to_bool (pyargs.HF_ARGPARSER_AT)
    path = tmp_path / "train.py"
    path.write_text(
        "from dataclasses import dataclass, field\nfrom transformers import HfArgumentParser, TrainingArguments\n\n\n@dataclass\n"
        "class ScriptArguments:\n    use_gc: bool = field(default=True)\n\n\nparser = HfArgumentParser((ScriptArguments,))\n"
        "(script_args,) = parser.parse_args_into_dataclasses()\nta = TrainingArguments(output_dir='o', gradient_checkpointing=script_args.use_gc)\n"
    )
    (tmp_path / "run.sh").write_text("torchrun --nproc_per_node 8 train.py --use_gc\n")
    before, text, skipped = _apply(path, {"gradient_checkpointing": False})
    assert text == before and skipped["gradient_checkpointing"] == "`--use_gc` is passed by run.sh line 1: change it in the launch line to `--use_gc False`"
    (tmp_path / "run.sh").write_text("torchrun --nproc_per_node 8 train.py --no_use_gc\n")
    _before, _text, skipped = _apply(path, {"gradient_checkpointing": True})
    assert skipped["gradient_checkpointing"] == "`--no_use_gc` is passed by run.sh line 1: change it in the launch line to `--use_gc True`"
