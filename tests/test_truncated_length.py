"""A script that truncates every sample itself sets the sequence length through its own option (topo10, review6b #33
ise-uiuc/magicoder src/magicoder/train.py:63-71: `input_id[: args.max_training_seq_length]`, an HfArgumentParser
dataclass field the README's launch line sets). Read with ast; nothing is run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import repo

TRAIN = """from dataclasses import dataclass, field
from transformers import HfArgumentParser, Trainer, TrainingArguments, AutoModelForCausalLM


@dataclass
class Args:
    max_training_seq_length: int = field(default=1216)
    num_rows: int = field(default=100)


def build(args, rows):
    return [ids[: args.max_training_seq_length] for ids in rows]


def main():
    training_args, args = HfArgumentParser((TrainingArguments, Args)).parse_args_into_dataclasses()
    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B")
    Trainer(model=model, args=training_args, train_dataset=build(args, [])).train()
"""
RUN = "accelerate launch --num_processes 2 -m pkg.train --output_dir out --bf16 True --max_training_seq_length 900\n"


def test_a_slice_by_a_length_option_sets_seq_len_at_the_launch_lines_word(tmp_path: Path) -> None:
    root = repo(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/train.py": TRAIN, "scripts/run.sh": RUN})
    w = load_config(root / "src/pkg/train.py").workload
    assert w.seq_len == 900
    src = w.sources["seq_len"]
    assert src.explicit and src.file.endswith("scripts/run.sh") and src.line == 1
    assert any("truncates every sample to at most 900 tokens (line 12)" in n for n in w.notes)


def test_a_slice_that_selects_rows_or_a_literal_cap_leaves_the_length_assumed(tmp_path: Path) -> None:
    # must-not-fire: `rows[: args.num_rows]` picks rows (not a length option); `ids[:512]` is no option
    for n, cut in enumerate(("rows[: args.num_rows]", "ids[:512]")):
        train = TRAIN.replace("ids[: args.max_training_seq_length] for ids in rows", f"x for x in {cut}" if "rows" in cut else cut)
        root = repo(tmp_path / str(n), {"src/pkg/__init__.py": "", "src/pkg/train.py": train, "scripts/run.sh": RUN})
        w = load_config(root / "src/pkg/train.py").workload
        assert not w.sources["seq_len"].explicit and not any("truncates every sample" in x for x in w.notes), cut
    # two caps that disagree: the length is assumed, said
    train = TRAIN.replace("return [", "other = [x[: args.max_len] for x in rows]\n    return [").replace(
        "    num_rows: int", "    max_len: int = field(default=256)\n    num_rows: int"
    )
    root = repo(tmp_path / "d", {"src/pkg/__init__.py": "", "src/pkg/train.py": train, "scripts/run.sh": RUN})
    w = load_config(root / "src/pkg/train.py").workload
    assert not w.sources["seq_len"].explicit and any("truncates samples to different lengths (256, 900)" in x for x in w.notes)
