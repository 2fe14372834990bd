"""Python scripts as they run (issue 23, review classes 5 and 6): model setup under `if`s decided by
the launcher's and the declared values, simple expressions of known values, argparse prefixes.
Nothing is executed."""

from __future__ import annotations

import ast
from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.pyeval import Evaluator

from .repo_files import write_file

# The shape of MiniCPM finetune/finetune.py: the quantization sits in a function under `if qlora:`,
# `qlora` a parameter passed from a dataclass field whose default is False.
GUARDED = """\
from dataclasses import dataclass, field
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, Trainer


@dataclass
class TrainingArguments(transformers.TrainingArguments):
    use_lora: bool = field(default=False)
    qlora: bool = field(default=False)


def load(model_path, use_lora=True, qlora=False):
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if qlora:
        quantization_config = BitsAndBytesConfig(load_in_4bit=True)
        model = AutoModelForCausalLM.from_pretrained(model_path, quantization_config=quantization_config)
    else:
        model = AutoModelForCausalLM.from_pretrained(model_path, torch_dtype=torch.bfloat16)
    if use_lora:
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=8))
    return model, tokenizer


if __name__ == "__main__":
    model_path = "/mnt/somewhere/else"
    parser = transformers.HfArgumentParser((TrainingArguments,))
    (training_args,) = parser.parse_args_into_dataclasses()
    model, tokenizer = load("Qwen/Qwen2.5-7B", use_lora=training_args.use_lora, qlora=training_args.qlora)
    Trainer(model=model, args=training_args).train()
"""


def test_quantization_under_a_false_guard_is_not_applied(tmp_path: Path) -> None:
    path = write_file(tmp_path, "finetune.py", GUARDED)
    write_file(tmp_path, "run.sh", "deepspeed finetune.py --use_lora --bf16 --output_dir o\n")
    w = load_config(path).workload
    assert (w.quantization, w.method) == ("none", "lora")  # `--qlora` not passed: its default False
    assert w.weight_dtype == "bf16"  # the `else` branch's from_pretrained is the model load
    assert w.model.name == "Qwen/Qwen2.5-7B"  # the call's argument, not the tokenizer's or a module name
    assert any(
        "`get_peft_model(...)` at line 22 runs as the script is launched: the `if` at line 20 is true (`--use_lora` is passed by run.sh line 1)" in n
        for n in w.notes
    )
    assert any(
        "`AutoModelForCausalLM.from_pretrained(...)` at line 19 runs as the script is launched: the `if` at line 15 is false (its value is written at line 10)"
        in n
        for n in w.notes
    )


def test_quantization_under_a_true_guard_is_applied(tmp_path: Path) -> None:
    path = write_file(tmp_path, "finetune.py", GUARDED)
    write_file(tmp_path, "run.sh", "deepspeed finetune.py --use_lora --qlora --bf16 --output_dir o\n")
    w = load_config(path).workload
    assert (w.quantization, w.method) == ("4bit", "qlora")


def test_a_guard_goblin_cannot_evaluate_applies_nothing_and_says_so(tmp_path: Path) -> None:
    text = GUARDED.replace("    if qlora:\n", "    if qlora and torch.cuda.is_available():\n")
    path = write_file(tmp_path, "finetune.py", text)
    write_file(tmp_path, "run.sh", "deepspeed finetune.py --use_lora --qlora --output_dir o\n")
    w = load_config(path).workload
    assert w.quantization == "none"  # never a finding on a guess
    assert any("`BitsAndBytesConfig(...)` at line 16 is under the `if` at line 15, which goblin cannot evaluate; not applied" in n for n in w.notes)


def test_an_unknown_guard_with_an_adapter_on_both_branches_still_adds_one(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "train.py",
        "from transformers import TrainingArguments, AutoModelForCausalLM\nfrom peft import LoraConfig, PeftModel, get_peft_model\n"
        "def build(model, ckpt):\n"
        "    if ckpt is not None:\n"
        "        model = PeftModel.from_pretrained(model, ckpt, is_trainable=True)\n"
        "    else:\n"
        "        model = get_peft_model(model, LoraConfig(r=8))\n"
        "    return model\n"
        "model = build(AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-7B'), find_checkpoint())\n"
        "a = TrainingArguments(output_dir='o')\n",
    )
    w = load_config(path).workload
    assert w.method == "lora"
    assert any(
        "`PeftModel.from_pretrained(...)` at line 5 runs as the script is launched: the `if` at line 4 is not known, but its other branch does the same" in n
        for n in w.notes
    )
    path.write_text(path.read_text().replace("model = get_peft_model(model, LoraConfig(r=8))", "pass"))
    w = load_config(path).workload
    assert w.method == "full" and any(
        "`PeftModel.from_pretrained(...)` at line 5 is under the `if` at line 4, which goblin cannot evaluate" in n for n in w.notes
    )


# artidoro/qlora qlora.py:173-175 and :314-327: the bits come from a dataclass default, merged into a Namespace.
QLORA = """\
import argparse
from dataclasses import dataclass, field
import torch
import transformers
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="huggyllama/llama-7b")
    bits: int = field(default=4)
    fp32: bool = field(default=False)
    mode: str = field(default="sft")


def get_model(args):
    model = AutoModelForCausalLM.from_pretrained(
        args.model_name_or_path,
        load_in_4bit=args.bits == 4,
        load_in_8bit=args.bits == 8,
        quantization_config=BitsAndBytesConfig(load_in_4bit=args.bits == 4, load_in_8bit=args.bits == 8),
        torch_dtype=(torch.float32 if args.fp32 else torch.bfloat16),
    )
    if args.mode in ("sft", "dpo") and not args.fp32:
        model.gradient_checkpointing_enable()
    return model


def train():
    parser = transformers.HfArgumentParser((ModelArguments, transformers.TrainingArguments))
    model_args, training_args = parser.parse_args_into_dataclasses()
    args = argparse.Namespace(**vars(model_args), **vars(training_args))
    Trainer(model=get_model(args), args=training_args).train()
"""


def test_simple_expressions_of_known_values(tmp_path: Path) -> None:
    path = write_file(tmp_path, "qlora.py", QLORA)
    write_file(tmp_path, "run.sh", "python qlora.py --output_dir o\n")
    loaded = load_config(path)
    w = loaded.workload
    assert (w.quantization, w.weight_dtype, w.gradient_checkpointing) == ("4bit", "bf16", True)
    assert w.sources["gradient_checkpointing"].line == 25
    write_file(tmp_path, "run.sh", "python qlora.py --bits 8 --fp32 True --mode ppo --output_dir o\n")
    w = load_config(path).workload
    assert (w.quantization, w.weight_dtype, w.gradient_checkpointing) == ("8bit", "fp32", False)


def test_the_evaluator_reads_only_its_subset() -> None:
    tree = ast.parse("x = 3\ny = (x > 2 and 'a' or 'b', x in [1, 2], not x, 1 < x <= 3, f(x), x if g() else 1, __name__ == '__main__')\n")
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}

    def leaf(node: ast.expr) -> tuple[bool, object]:
        if isinstance(node, ast.Name) and node.id == "x":
            return True, 3
        try:
            return True, ast.literal_eval(node)
        except ValueError:
            return False, None

    ev = Evaluator(tree, parents, leaf)
    items = tree.body[1].value.elts  # type: ignore[attr-defined]
    got = [ev.value(e) for e in items]
    assert got == [(True, "a"), (True, False), (True, False), (True, True), (False, None), (False, None), (True, True)]


def test_argparse_reads_a_unique_prefix_of_an_option(tmp_path: Path) -> None:
    script = (
        "import argparse\nfrom transformers import TrainingArguments\n"
        "p = argparse.ArgumentParser({extra})\n"
        "p.add_argument('--batch_size', type=int, default=1)\np.add_argument('--batch_norm', action='store_true')\n"
        "p.add_argument('--grad_accum', type=int, default=1)\n"
        "args = p.parse_args()\n"
        "TrainingArguments(output_dir='o', per_device_train_batch_size=args.batch_size, gradient_accumulation_steps=args.grad_accum)\n"
    )
    path = write_file(tmp_path, "train.py", script.format(extra=""))
    write_file(tmp_path, "run.sh", "python train.py --grad 8 --batch 4\n")
    w = load_config(path).workload
    assert (w.gradient_accumulation, w.micro_batch_size) == (8, 1)  # `--batch` could be either option: argparse stops, not read
    assert any("`--grad` at run.sh line 1 is argparse's abbreviation of `--grad_accum`" in n for n in w.notes)
    assert w.sources["gradient_accumulation"].file.endswith("run.sh")
    path.write_text(script.format(extra="allow_abbrev=False"))
    assert load_config(path).workload.gradient_accumulation == 1


def test_hfargumentparser_reads_a_unique_prefix_of_a_field(tmp_path: Path) -> None:
    # YTohkaYang/LCKV run_sft.sh passes `--use_liger` for TrainingArguments.use_liger_kernel
    path = write_file(
        tmp_path,
        "sft.py",
        "from transformers import HfArgumentParser, TrainingArguments, AutoModelForCausalLM, Trainer\n"
        "parser = HfArgumentParser((TrainingArguments,))\n(training_args,) = parser.parse_args_into_dataclasses()\n"
        "Trainer(model=AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-7B'), args=training_args).train()\n",
    )
    write_file(tmp_path, "run.sh", "python sft.py --use_liger --output_dir o\n")
    w = load_config(path).workload
    assert w.fused_kernels is True and w.sources["fused_kernels"].file.endswith("run.sh")
    write_file(tmp_path, "run.sh", "python sft.py --use_liger_kernel False --use_liger --output_dir o\n")
    w = load_config(path).workload
    assert w.fused_kernels is False and not w.sources["fused_kernels"].explicit  # both set it (the later wins): neither is read
    assert any("`--use_liger` and `--use_liger_kernel` both set `--use_liger_kernel`" in n for n in w.notes)


def test_a_conditional_expression_guards_its_branches(tmp_path: Path) -> None:
    script = (
        "import argparse\nfrom transformers import TrainingArguments, AutoModelForCausalLM, BitsAndBytesConfig\n"
        "p = argparse.ArgumentParser()\np.add_argument('--q4', action='store_true')\nargs = p.parse_args()\n"
        "bnb = BitsAndBytesConfig(load_in_4bit=True) if args.q4 else None\n"
        "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-7B', quantization_config=bnb)\n"
        "TrainingArguments(output_dir='o')\n"
    )
    path = write_file(tmp_path, "train.py", script)
    write_file(tmp_path, "run.sh", "python train.py\n")
    assert load_config(path).workload.quantization == "none"
    write_file(tmp_path, "run.sh", "python train.py --q4\n")
    assert load_config(path).workload.quantization == "4bit"


def test_argument_classes_imported_from_the_repository_count_like_the_scripts_own(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(
        tmp_path,
        "src/configs.py",
        "from dataclasses import dataclass, field\nimport transformers\n\n\n@dataclass\nclass ScriptArguments:\n"
        "    use_lora: bool = field(default=True)\n    max_seq_length: int = field(default=4096)\n\n\n"
        "@dataclass\nclass Args(transformers.TrainingArguments):\n    gradient_checkpointing: bool = field(default=True)\n",
    )
    path = write_file(
        tmp_path,
        "src/sft.py",
        "from configs import Args, ScriptArguments\nfrom peft import LoraConfig, get_peft_model\n"
        "from transformers import HfArgumentParser, TrainingArguments, AutoModelForCausalLM, Trainer\n"
        "parser = HfArgumentParser((ScriptArguments, Args))\n"
        "script_args, training_args = parser.parse_args_into_dataclasses()\n"
        "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-7B')\n"
        "if script_args.use_lora:\n    model = get_peft_model(model, LoraConfig(r=8))\n"
        "Trainer(model=model, args=training_args).train()\n",
    )
    write_file(tmp_path, "run.sh", "python src/sft.py --output_dir o --bf16\n")
    loaded = load_config(path)
    w = loaded.workload
    assert (w.method, w.seq_len) == ("lora", 4096)
    assert w.sources["seq_len"].file is not None and w.sources["seq_len"].file.endswith("configs.py") and w.sources["seq_len"].line == 8
    assert w.gradient_checkpointing is True and w.sources["gradient_checkpointing"].line == 13
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, w, {"gradient_checkpointing": False})
    assert text == loaded.text  # the default lives in another file: never edited there, never written into the script
    assert skipped["gradient_checkpointing"].startswith(
        "`gradient_checkpointing` takes its default `True` at src/configs.py:13, which run.sh line 1 does not pass"
    )
    write_file(tmp_path, "run.sh", "python src/sft.py --output_dir o --use_lora false --max_seq_length 1024\n")
    w = load_config(path).workload
    assert (w.method, w.seq_len) == ("full", 1024)
