"""The model a training script picks by its first command-line word (blind review 13a #15: tprimat train/amd_tran.py,
`torchrun ... amd_tran.py llama` -> `if model == "llama": train_llama()` -> `train_model("meta-llama/Llama-3.1-8B", ...)`
-> `AutoConfig.from_pretrained(model_name)`). Small fixture repositories of the same shape under tmp_path; nothing is run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

DISPATCH_TRAIN = """\
import sys
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments


def train_model(model_name, short):
    config = AutoConfig.from_pretrained(model_name)
    model = AutoModelForCausalLM.from_config(config)
    tokenizer = AutoTokenizer.from_pretrained(model_name)
    args = TrainingArguments(output_dir=short, per_device_train_batch_size=2, bf16=True)
    Trainer(model=model, args=args).train()


def train_llama():
    train_model("meta-llama/Llama-3.1-8B", "llama")


def train_qwen():
    train_model("Qwen/Qwen2.5-7B", "qwen")


def main():
    if len(sys.argv) < 2:
        train_llama()
        train_qwen()
    else:
        model = sys.argv[1]
        if model == "llama":
            train_llama()
        elif model == "qwen":
            train_qwen()


if __name__ == "__main__":
    main()
"""
LAUNCH_QWEN = "#!/bin/bash\ncd train\ntorchrun --nproc_per_node=8 train.py qwen\n"
LAUNCH_LLAMA = "#!/bin/bash\ncd train\ntorchrun --nproc_per_node=8 train.py llama\n"


def test_the_launch_word_picks_the_function_and_its_model(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "q", {"train/train.py": DISPATCH_TRAIN, "train/run_qwen.sh": LAUNCH_QWEN})
    w = load_config(root / "train" / "train.py").workload
    assert w.model.name == "Qwen/Qwen2.5-7B"
    assert w.sources["model"].line == 18
    said = "`Qwen/Qwen2.5-7B` is the model train.py loads when its first command-line word is `qwen`: the launch line at"
    assert any(said in n and "line 29 picks the branch" in n and "to train_model(), which loads it at line 6" in n for n in w.notes)
    # the other word names the other model
    other = write_tree(tmp_path / "l", {"train/train.py": DISPATCH_TRAIN, "train/run_llama.sh": LAUNCH_LLAMA})
    assert load_config(other / "train" / "train.py").workload.model.name == "meta-llama/Llama-3.1-8B"
    # a dict of words to functions, indexed by sys.argv[1]
    table = (
        DISPATCH_TRAIN[: DISPATCH_TRAIN.index("def main")]
        + 'RUNS = {"llama": train_llama, "qwen": train_qwen}\n\nif __name__ == "__main__":\n    RUNS[sys.argv[1]]()\n'
    )
    d = write_tree(tmp_path / "d", {"train/train.py": table, "train/run_qwen.sh": LAUNCH_QWEN})
    assert load_config(d / "train" / "train.py").workload.model.name == "Qwen/Qwen2.5-7B"


def test_both_launch_words_are_said_where_two_lines_run_two_models(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"train/train.py": DISPATCH_TRAIN, "train/a_llama.sh": LAUNCH_LLAMA, "train/b_qwen.sh": LAUNCH_QWEN})
    w = load_config(root / "train" / "train.py").workload
    assert w.model.name == "meta-llama/Llama-3.1-8B"
    said = "1 other launch line(s) run it with another model ("
    assert any(said in n and "b_qwen.sh line 3 passes `qwen` (`Qwen/Qwen2.5-7B`)): goblin reads the first found" in n for n in w.notes)


def test_a_choice_goblin_cannot_read_names_no_model(tmp_path: Path) -> None:
    # must not fire: the branch compares with a value that is not a literal
    text = DISPATCH_TRAIN.replace('if model == "llama":', "if model == DEFAULT_WORD:").replace("def main():", 'DEFAULT_WORD = "llama"\n\n\ndef main():')
    a = write_tree(tmp_path / "a", {"train/train.py": text, "train/run_qwen.sh": LAUNCH_QWEN})
    wa = load_config(a / "train" / "train.py").workload
    assert wa.model.name not in ("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B")
    assert any("compares sys.argv[1] with `DEFAULT_WORD`, a value goblin cannot read; goblin names no model" in n for n in wa.notes)
    # must not fire: the launch line passes a variable
    b = write_tree(tmp_path / "b", {"train/train.py": DISPATCH_TRAIN, "train/run.sh": LAUNCH_QWEN.replace(" qwen", ' "$MODEL"')})
    wb = load_config(b / "train" / "train.py").workload
    assert wb.model.name not in ("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B")
    assert any("which goblin cannot read; goblin names no model" in n for n in wb.notes)
    # must not fire: no launch line runs the script
    c = write_tree(tmp_path / "c", {"train/train.py": DISPATCH_TRAIN})
    wc = load_config(c / "train" / "train.py").workload
    assert wc.model.name not in ("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B")
    assert any("no launch line runs train.py, so goblin names no model" in n for n in wc.notes)
    # must not fire: a word no branch names
    d = write_tree(tmp_path / "d", {"train/train.py": DISPATCH_TRAIN, "train/run.sh": LAUNCH_QWEN.replace(" qwen", " mistral")})
    wd = load_config(d / "train" / "train.py").workload
    assert wd.model.name not in ("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B")
    assert any("passes `mistral`, which no choice of sys.argv[1] (line 27) names" in n for n in wd.notes)


def test_one_model_passed_down_needs_no_launch_word(tmp_path: Path) -> None:
    # must not fire: one literal reaches the load (pyeval's reading names it), no dispatch said
    text = DISPATCH_TRAIN.replace('"Qwen/Qwen2.5-7B"', '"meta-llama/Llama-3.1-8B"')
    root = write_tree(tmp_path, {"train/train.py": text})
    w = load_config(root / "train" / "train.py").workload
    assert w.model.name == "meta-llama/Llama-3.1-8B"
    assert not any("first command-line word" in n for n in w.notes)
