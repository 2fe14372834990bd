"""A launch line that selects another code path of the script than its training run (blind review 15b #21, proofrl
scripts/dft_preprocess_qwen3_8b.sh `main.py train --preprocess`, main.py:666-668 returning before the GRPO training):
a `store_true` option whose `if args.X:` branch returns before the `.train()` call, or a subcommand word whose handler
calls no `.train()`, loses to a line that trains, said in a note. Small synthetic trees, read with ast."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launch_mode import script_modes

from .repo_files import write_tree

SCRIPT = """\
import argparse
import sys
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments


def prepare(args):
    pass


def train(args):
    if args.preprocess:
        prepare(args)
        return
    model = AutoModelForCausalLM.from_pretrained(args.model)
    targs = TrainingArguments(output_dir="o", per_device_train_batch_size=args.batch)
    trainer = Trainer(model=model, args=targs)
    trainer.train()


def evaluate(args):
    print(args.model)


def main():
    parser = argparse.ArgumentParser()
    subs = parser.add_subparsers(dest="command", required=True)
    p_train = subs.add_parser("train")
    p_train.add_argument("--model", default="Qwen/Qwen2.5-0.5B")
    p_train.add_argument("--batch", type=int, default=1)
    p_train.add_argument("--preprocess", action="store_true", default=False)
    p_train.add_argument("--verbose", action="store_true")
    p_train.set_defaults(handler=train)
    p_eval = subs.add_parser("eval")
    p_eval.add_argument("--model", default="Qwen/Qwen2.5-0.5B")
    p_eval.set_defaults(handler=evaluate)
    ns = parser.parse_args()
    ns.handler(ns)


if __name__ == "__main__":
    main()
"""

PREPROCESS = "torchrun --nproc_per_node 2 main.py train --preprocess --batch 1\n"
EVAL = "python main.py eval --model Qwen/Qwen2.5-7B\n"
TRAIN = "torchrun --nproc_per_node 4 main.py train --batch 8 --verbose\n"


def test_the_script_modes_are_read_with_ast(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"main.py": SCRIPT}) / "main.py"
    modes = script_modes(path)
    assert modes.flags == {"--preprocess": ("args.preprocess", 11, 17)}  # `--verbose` branches nowhere
    assert modes.words == {"eval": "evaluate"}


def test_a_preprocess_and_an_eval_line_lose_to_the_training_line(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"main.py": SCRIPT, "scripts/a_prep.sh": PREPROCESS, "scripts/b_eval.sh": EVAL, "scripts/c_train.sh": TRAIN}, git=True)
    w = load_config(root / "main.py").workload
    assert w.world_size == 4 and w.micro_batch_size == 8
    assert "c_train.sh" in (w.sources["world_size"].file or "")
    notes = " ".join(w.notes)
    assert (
        "scripts/a_prep.sh line 1 also launches it but passes `--preprocess`, which takes main.py's `if args.preprocess:` branch "
        "(line 11) that returns before the `.train()` call at line 17 (read with ast): another code path than the training run" in notes
    )
    assert "None" not in notes
    # the eval subcommand's line alone beside the training line: its handler trains nothing
    other = write_tree(tmp_path / "e", {"main.py": SCRIPT, "scripts/b_eval.sh": EVAL, "scripts/c_train.sh": TRAIN}, git=True)
    w = load_config(other / "main.py").workload
    assert w.world_size == 4 and w.micro_batch_size == 8
    assert any("b_eval.sh line 1 also launches it but runs main.py `eval`, whose handler evaluate() calls no `.train()`" in n for n in w.notes)


def test_a_mode_line_alone_or_a_branch_that_trains_on_is_still_read(tmp_path: Path) -> None:
    # must not fire: the preprocess line is the only one, so it is read
    alone = write_tree(tmp_path / "a", {"main.py": SCRIPT, "scripts/a_prep.sh": PREPROCESS}, git=True)
    w = load_config(alone / "main.py").workload
    assert w.world_size == 2 and not any("another code path" in n for n in w.notes)
    # must not fire: a branch that falls through to the training (no return) selects no other path
    falls = SCRIPT.replace("        prepare(args)\n        return\n", "        prepare(args)\n")
    root = write_tree(tmp_path / "b", {"main.py": falls, "scripts/a_prep.sh": PREPROCESS, "scripts/c_train.sh": TRAIN}, git=True)
    w = load_config(root / "main.py").workload
    assert w.world_size == 2 and "a_prep.sh" in (w.sources["world_size"].file or "")
    assert not any("another code path" in n for n in w.notes)
    assert script_modes(root / "main.py").flags == {}
