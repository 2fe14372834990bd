"""Python 3.12 f-strings (PEP 701) read on an older Python (pysource.py; blind review 14b #28: `f"{data["question"][i]}"`
made the whole script an ERROR item on Python 3.11)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.pysource import PLACEHOLDER, parse

from .repo_files import fresh_root, write_tree

older = pytest.mark.skipif(sys.version_info >= (3, 12), reason="Python 3.12 parses PEP 701 f-strings itself")


@older
@pytest.mark.parametrize(
    "source",
    [
        'x = f"{d["k"]}"\ny = 1\n',
        'x = f"{f"{a}"}" + "ok"\ny = 1\n',
        'm = f"{x["a"]}" if c else f"{v}"\ny = 1\n',
        'x = f"{ {"a": 1}["a"] }"\ny = 1\n',
        'x = (\n    f"{d["k"]}"\n    "tail"\n)\ny = 1\n',
    ],
)
def test_a_pep701_f_string_is_read_as_computed_and_later_lines_keep_their_numbers(source: str) -> None:
    with pytest.raises(SyntaxError):
        ast.parse(source)
    tree = parse(source)
    assert PLACEHOLDER in ast.unparse(tree)
    last = tree.body[-1]
    assert isinstance(last, ast.Assign) and last.lineno == source.count("\n")  # `y = 1` stays on its own line
    assert not any(isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.strip() == "" and n.value for n in ast.walk(tree))


def test_accepted_f_strings_are_left_alone() -> None:
    source = "a = f'{d[\"k\"]}'\nb = f'{w!r:>{n}}'\nc = 'plain'\n"
    assert ast.dump(parse(source)) == ast.dump(ast.parse(source))


@pytest.mark.parametrize("source", ['x = f"{"\n', "x = (\n", 'x = f"{d["k"]}" +\n'])
def test_a_broken_file_still_raises_its_first_error(source: str) -> None:
    with pytest.raises(SyntaxError) as got:
        parse(source)
    assert got.value.lineno == 1


@older
def test_a_script_with_a_pep701_f_string_is_audited(tmp_path: Path) -> None:
    script = (
        "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
        "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-0.5B')\n"
        "def fmt(d):\n"
        '    return f"{d["question"]}\\n{d["answer"]}"\n'
        "args = TrainingArguments(output_dir='out', per_device_train_batch_size=2, gradient_checkpointing=True)\n"
        "Trainer(model=model, args=args, train_dataset=ds).train()\n"
    )
    path = write_tree(fresh_root(tmp_path, "pep701"), {"train.py": script}, git=True) / "train.py"
    loaded = load_config(path)
    assert loaded.workload.micro_batch_size == 2 and loaded.workload.gradient_checkpointing is True
    assert loaded.workload.sources["gradient_checkpointing"].line == 5
