"""A script's own values that reach its training calls indirectly (issue 23, class 4; blind review 10 rows 16, 17, 36):
the parsed namespace handed on as the parse call itself, an option set again after parsing, the model a repository
helper loads from its argument, and python-fire parameters read by a nested function. Small fixture repositories of
the same shape under tmp_path; nothing is run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

# review10a #17 (LazarusNLP run_sft_instruct_qlora.py): `main(parse_args())`, and `args` rebound to TrainingArguments
PARSE_IN_PLACE = """\
from argparse import ArgumentParser
from transformers import AutoModelForCausalLM, TrainingArguments
from trl import SFTTrainer


def parse_args():
    parser = ArgumentParser()
    parser.add_argument("--model_checkpoint", type=str, default="meta-llama/Llama-3.1-8B")
    parser.add_argument("--max_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--gradient_checkpointing", action="store_true")
    return parser.parse_args()


def main(args):
    model = AutoModelForCausalLM.from_pretrained(args.model_checkpoint)
    max_seq_length = args.max_length
    args = TrainingArguments(
        output_dir="out",
        per_device_train_batch_size=args.batch_size,
        gradient_checkpointing=args.gradient_checkpointing,
        dataloader_num_workers=args.workers,
        bf16=True,
    )
    SFTTrainer(model=model, args=args, max_seq_length=max_seq_length).train()


if __name__ == "__main__":
    main(parse_args())
"""
LAUNCH_17 = 'accelerate launch train.py \\\n    --model_checkpoint "Qwen/Qwen2.5-7B" \\\n    --max_length 256 \\\n    --batch_size 32 \\\n    --gradient_checkpointing\n'


def test_the_parse_call_passed_in_place_is_the_command_line(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"train.py": PARSE_IN_PLACE, "run.sh": LAUNCH_17})
    w = load_config(root / "train.py").workload
    run = str(root / "run.sh")
    assert w.model.name == "Qwen/Qwen2.5-7B" and w.sources["model"].file == run
    assert (w.micro_batch_size, w.seq_len, w.gradient_checkpointing) == (32, 256, True)
    assert w.sources["micro_batch_size"].file == run and w.sources["seq_len"].line == 3
    # an option no launch line sets keeps its declared default, sourced at its add_argument line in the script
    assert w.dataloader_workers == 3 and w.sources["dataloader_workers"].line == 11 and w.sources["dataloader_workers"].file == str(root / "train.py")
    assert not any("computed at run time" in n for n in w.notes if "per_device_train_batch_size" in n)
    # the SFTTrainer length note names the launch line's file for a value it passes
    assert any("max_seq_length from SFTTrainer(...), its value at run.sh line 3" in n for n in w.notes)


def test_an_option_set_again_after_parsing_is_not_the_launch_lines(tmp_path: Path) -> None:
    text = PARSE_IN_PLACE.replace("    model = AutoModelForCausalLM", "    args.batch_size = args.batch_size // 4\n    model = AutoModelForCausalLM")
    text = text.replace("    main(parse_args())", '    ns = parse_args()\n    setattr(ns, "max_length", 64)\n    main(ns)')
    root = write_tree(tmp_path, {"train.py": text, "run.sh": LAUNCH_17})
    w = load_config(root / "train.py").workload
    # must not fire: neither 32 nor 256 from the launch line; the trainer's defaults stand, said as assumed
    assert w.micro_batch_size == 8 and not w.sources["micro_batch_size"].explicit
    assert w.seq_len != 256 and not w.sources["seq_len"].explicit
    assert any("`args.batch_size` is set again at line 17 after the command line is parsed" in n for n in w.notes)
    assert any("`args.max_length` is set again at line 32" in n for n in w.notes)
    assert w.model.name == "Qwen/Qwen2.5-7B"  # an option nothing sets again is still the launch line's
    assert not any("None" in n for n in w.notes if "set again" in n)


# review10a #16 (moreh-dev/moai-examples finetuning_codes): the model is loaded in utils.load_model(args)
HELPER_TRAIN = """\
import argparse
from transformers import Trainer, TrainingArguments
from utils import *


def arg_parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-name-or-path", type=str, default="/root/models/Meta-Llama-3-70B")
    parser.add_argument("--train-batch-size", type=int, default=32)
    return parser.parse_args()


def main(args):
    model, tokenizer = load_model(args)
    config = TrainingArguments(output_dir="o", per_device_train_batch_size=args.train_batch_size)
    Trainer(model, args=config).train()


if __name__ == "__main__":
    args = arg_parse()
    main(args)
"""
HELPER_UTILS = """\
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer


def load_model(args):
    configs = AutoConfig.from_pretrained(args.model_name_or_path)
    if "gemma2" in configs.architectures[0].lower():
        model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, use_cache=False)
    else:
        model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(args.model_name_or_path)
    return model, tokenizer


def save_model(args, model):
    model.save_pretrained(args.save_path)
    return AutoModelForCausalLM.from_pretrained(args.save_path)
"""
LAUNCH_16 = "MODEL=meta-llama/Llama-2-13b-hf\naccelerate launch train.py \\\n  --model-name-or-path $MODEL \\\n  --train-batch-size 8\n"


def test_the_model_a_repository_helper_loads_from_its_argument(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"train.py": HELPER_TRAIN, "utils.py": HELPER_UTILS, "scripts/run.sh": LAUNCH_16})
    w = load_config(root / "train.py").workload
    assert w.model.name == "meta-llama/Llama-2-13b-hf" and w.sources["model"].file == str(root / "scripts" / "run.sh")
    assert any("the model is loaded by load_model() (utils.py:7, from_pretrained(args.model_name_or_path))" in n for n in w.notes)
    assert w.micro_batch_size == 8


def test_a_helper_whose_loads_disagree_or_whose_model_is_not_trained_gives_no_model(tmp_path: Path) -> None:
    # must not fire: the branches load different parameters' values
    utils = HELPER_UTILS.replace(
        "model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, use_cache=False)",
        "model = AutoModelForCausalLM.from_pretrained(args.teacher_path)",
    )
    a = write_tree(tmp_path / "a", {"train.py": HELPER_TRAIN, "utils.py": utils, "scripts/run.sh": LAUNCH_16})
    wa = load_config(a / "train.py").workload
    assert wa.model.name != "meta-llama/Llama-2-13b-hf" and not any("the model is loaded by" in n for n in wa.notes)
    # must not fire: the helper's model is not what the trainer trains
    train = HELPER_TRAIN.replace("model, tokenizer = load_model(args)", "teacher, tokenizer = load_model(args)")
    b = write_tree(tmp_path / "b", {"train.py": train, "utils.py": HELPER_UTILS, "scripts/run.sh": LAUNCH_16})
    wb = load_config(b / "train.py").workload
    assert wb.model.name != "meta-llama/Llama-2-13b-hf" and not any("the model is loaded by" in n for n in wb.notes)


# review10b #36 (tloen/alpaca-lora finetune.py): fire.Fire(train), cutoff_len read by a nested tokenize()
FIRE_SCRIPT = """\
import fire
import transformers
from datasets import load_dataset
from transformers import LlamaForCausalLM, LlamaTokenizer


def train(
    base_model: str = "",
    micro_batch_size: int = 4,
    cutoff_len: int = 256,
):
    model = LlamaForCausalLM.from_pretrained(base_model, load_in_8bit=True)
    tokenizer = LlamaTokenizer.from_pretrained(base_model)

    def tokenize(prompt):
        return tokenizer(prompt, truncation=True, max_length=cutoff_len, padding=False)

    def generate_and_tokenize_prompt(point):
        return tokenize(point["text"])

    data = load_dataset("json", data_files="alpaca.json")
    train_data = data["train"].shuffle().map(generate_and_tokenize_prompt)
    trainer = transformers.Trainer(
        model=model,
        args=transformers.TrainingArguments(per_device_train_batch_size=micro_batch_size, fp16=True, output_dir="o"),
    )
    trainer.train()


if __name__ == "__main__":
    fire.Fire(train)
"""


def _readme(words: str) -> str:
    return f"```bash\npython finetune.py \\\n    --base_model 'meta-llama/Llama-2-7b-hf' {words}\n```\n"


def test_fire_defaults_reach_a_nested_tokenizer_and_launch_words_override_them(tmp_path: Path) -> None:
    a = write_tree(tmp_path / "a", {"finetune.py": FIRE_SCRIPT, "README.md": _readme("")})
    w = load_config(a / "finetune.py").workload
    assert w.model.name == "meta-llama/Llama-2-7b-hf"
    # the signature's defaults are the run's values (python-fire 0.7.1 core.py:790-808)
    assert (w.seq_len, w.micro_batch_size) == (256, 4) and w.sources["seq_len"].line == 10
    assert any(
        "seq_len 256: `generate_and_tokenize_prompt`, which the script maps over its dataset, truncates every sample to max_length=256 (line 16)" in n
        for n in w.notes
    )
    for words in ("--cutoff_len=512", "--cutoff_len 512", "--cutoff-len 512"):  # core.py:867-870, 876-877, 914-916
        b = write_tree(tmp_path / words.replace(" ", "_").replace("=", "_"), {"finetune.py": FIRE_SCRIPT, "README.md": _readme(words)})
        wb = load_config(b / "finetune.py").workload
        assert wb.seq_len == 512 and wb.sources["seq_len"].file == str(b / "README.md"), words


def test_a_nested_functions_own_name_and_disagreeing_cuts_leave_the_length_assumed(tmp_path: Path) -> None:
    # must not fire: tokenize() has its own cutoff_len, given a value goblin does not read
    own = FIRE_SCRIPT.replace("def tokenize(prompt):", "def tokenize(prompt, cutoff_len):").replace(
        'tokenize(point["text"])', 'tokenize(point["text"], len(point))'
    )
    w = load_config(write_tree(tmp_path / "a", {"finetune.py": own, "README.md": _readme("")}) / "finetune.py").workload
    assert w.seq_len == 1024 and not w.sources["seq_len"].explicit
    # must not fire: two calls cut to different lengths
    two = FIRE_SCRIPT.replace(
        '        return tokenize(point["text"])', '        tokenizer(point["q"], truncation=True, max_length=64)\n        return tokenize(point["text"])'
    )
    w2 = load_config(write_tree(tmp_path / "b", {"finetune.py": two, "README.md": _readme("")}) / "finetune.py").workload
    assert w2.seq_len == 1024 and any("truncate at different max_length values (" in n for n in w2.notes)
