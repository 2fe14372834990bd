"""The model a training script loads where the repository names it indirectly (blind review 13b, class 1: rows 22, 25):
a positional argparse argument its launch line fills, and a module constant a repository helper the script calls
loads. Small fixture repositories of the same shape under tmp_path; nothing is run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

# review13b #22 (spyysalo/instruction-finetune train.py:46,245; README.md:73)
POSITIONAL_TRAIN = """\
import sys
from argparse import ArgumentParser
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments


def argparser():
    ap = ArgumentParser()
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('model')
    ap.add_argument('train_data')
    return ap


def main(argv):
    args = argparser().parse_args(argv[1:])
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model)
    targs = TrainingArguments(output_dir="o", per_device_train_batch_size=args.batch_size)
    Trainer(model=model, args=targs).train()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
"""
POSITIONAL_README = "# Fine-tune\n\n```\npython3 train.py Qwen/Qwen2.5-7B \\\n    --batch-size 2 \\\n    train.jsonl\n```\n"


def test_a_positional_model_argument_the_launch_line_fills_is_the_model(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"train.py": POSITIONAL_TRAIN, "README.md": POSITIONAL_README})
    w = load_config(root / "train.py").workload
    assert w.model.name == "Qwen/Qwen2.5-7B"
    src = w.sources["model"]
    assert src.file == str(root / "README.md") and src.line == 4
    assert any("`Qwen/Qwen2.5-7B` is the model argument the launch line at README.md line 4 passes to train.py (argparse positional" in n for n in w.notes)
    assert w.micro_batch_size == 2


def test_a_positional_argument_no_load_reads_or_loads_that_disagree_name_no_model(tmp_path: Path) -> None:
    # must not fire: the model comes from an option, the positional word is the data
    train = POSITIONAL_TRAIN.replace("ap.add_argument('model')", "ap.add_argument('--model', default='meta-llama/Llama-3.1-8B')")
    readme = "```\npython3 train.py train.jsonl --batch-size 2\n```\n"
    a = write_tree(tmp_path / "a", {"train.py": train, "README.md": readme})
    wa = load_config(a / "train.py").workload
    assert wa.model.name == "meta-llama/Llama-3.1-8B" and not any("argparse positional" in n for n in wa.notes)
    # must not fire: a second model load of a literal: two models, none named, said
    train = POSITIONAL_TRAIN.replace("    targs =", "    teacher = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-3.1-70B')\n    targs =")
    b = write_tree(tmp_path / "b", {"train.py": train, "README.md": POSITIONAL_README})
    wb = load_config(b / "train.py").workload
    assert wb.model.name not in ("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-70B") and not any("argparse positional" in n for n in wb.notes)
    assert any("the model loads take different values" in n and "goblin names no model" in n for n in wb.notes)
    # must not fire: no launch line passes the argument
    c = write_tree(tmp_path / "c", {"train.py": POSITIONAL_TRAIN})
    wc = load_config(c / "train.py").workload
    assert wc.model.name != "Qwen/Qwen2.5-7B" and not any("argparse positional" in n for n in wc.notes)


# review13b #25 (matheusIACreator/finance-phi3-qlora src/train.py:23,78; src/model.py:19,89-90)
CONSTANT_TRAIN = """\
from trl import SFTConfig, SFTTrainer

from model import load_model


def main():
    model = load_model(lora=True)
    config = SFTConfig(output_dir="o", per_device_train_batch_size=4)
    trainer = SFTTrainer(model=model, args=config)
    trainer.train()


if __name__ == "__main__":
    main()
"""
CONSTANT_MODEL = """\
from transformers import AutoModelForCausalLM

MODEL_ID = "Qwen/Qwen2.5-7B"


def load_model(lora: bool = True):
    model = AutoModelForCausalLM.from_pretrained(
        MODEL_ID,
        device_map="auto",
    )
    return model
"""


def test_the_model_a_helper_loads_from_its_modules_constant(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"src/train.py": CONSTANT_TRAIN, "src/model.py": CONSTANT_MODEL})
    w = load_config(root / "src" / "train.py").workload
    assert w.model.name == "Qwen/Qwen2.5-7B"
    assert w.sources["model"].file == str(root / "src" / "model.py") and w.sources["model"].line == 3
    said = "the model is loaded by load_model() (model.py:7, from_pretrained(MODEL_ID)), which the script calls at line 7: Qwen/Qwen2.5-7B, set at model.py:3"
    assert any(said in n for n in w.notes)  # relative to src/, the tree a folder outside git is read from


def test_a_rebound_constant_an_untrained_load_or_two_helpers_name_no_model(tmp_path: Path) -> None:
    # must not fire: the constant is bound twice (a later assignment may change it)
    model = CONSTANT_MODEL + 'MODEL_ID = "meta-llama/Llama-3.1-8B"\n'
    a = write_tree(tmp_path / "a", {"src/train.py": CONSTANT_TRAIN, "src/model.py": model})
    wa = load_config(a / "src" / "train.py").workload
    assert wa.model.name not in ("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B") and not any("the model is loaded by" in n for n in wa.notes)
    # must not fire: the helper's model is not what the trainer trains
    train = CONSTANT_TRAIN.replace("model = load_model(lora=True)", "teacher = load_model(lora=True)\n    model = None")
    b = write_tree(tmp_path / "b", {"src/train.py": train, "src/model.py": CONSTANT_MODEL})
    wb = load_config(b / "src" / "train.py").workload
    assert wb.model.name != "Qwen/Qwen2.5-7B" and not any("the model is loaded by" in n for n in wb.notes)
    # two helpers that load two models: none named, said
    other = CONSTANT_MODEL.replace("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B").replace("def load_model", "def load_other")
    train = CONSTANT_TRAIN.replace("from model import load_model", "from model import load_model\nfrom other import load_other").replace(
        "    model = load_model(lora=True)", "    model = load_model(lora=True)\n    if config_flag():\n        model = load_other()"
    )
    c = write_tree(tmp_path / "c", {"src/train.py": train, "src/model.py": CONSTANT_MODEL, "src/other.py": other})
    wc = load_config(c / "src" / "train.py").workload
    assert wc.model.name not in ("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B")
    assert any(
        "the helpers the script calls load different models (`Qwen/Qwen2.5-7B`, `meta-llama/Llama-3.1-8B`); goblin names no model" in n for n in wc.notes
    )
