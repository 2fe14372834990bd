"""A script that swaps the model's attention for its own under a flag (review 3 class 7, modelled on
LongLoRA fine-tune.py: `replace_llama_attn(training_args.use_flash_attn, ...)`, the launch line passing
`--use_flash_attn True`) is not read as eager attention: rules on the attention value are not judged."""

from __future__ import annotations

from pathlib import Path

from .findings import audit
from .repo_files import write_tree

SCRIPT = """\
from dataclasses import dataclass, field
import transformers
from my_attn import swap_attention_patch


@dataclass
class TrainingArguments(transformers.TrainingArguments):
    use_flash_attn: bool = field(default=False)


def main():
    parser = transformers.HfArgumentParser((TrainingArguments,))
    (training_args,) = parser.parse_args_into_dataclasses()
{call}    model = transformers.AutoModelForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf")
    transformers.Trainer(model=model, args=training_args).train()


if __name__ == "__main__":
    main()
"""


def _tree(tmp_path: Path, call: str) -> Path:
    files = {
        "train.py": SCRIPT.format(call=call),
        "requirements.txt": "transformers==4.34.0\n",  # before SDPA became the default: eager
        "run.sh": "torchrun --nproc_per_node 8 train.py --use_flash_attn True --bf16 True --output_dir o\n",
    }
    return write_tree(tmp_path, files, git=True) / "train.py"


def test_an_attention_patch_under_a_launch_flag_is_not_judged(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config

    path = _tree(tmp_path, "    swap_attention_patch(training_args.use_flash_attn)\n")
    w = load_config(path).workload
    assert w.attention_patched is not None and "`swap_attention_patch(...)` at line 14" in w.attention_patched
    assert "use_flash_attn = True" in w.attention_patched
    assert w.sources["attention"].line == 14
    shown, patch, text = audit(path)
    assert not {r for r in shown if r.startswith("attention.")}
    assert not [r for r in patch.rule_ids if r.startswith("attention.")] and "attn_implementation" not in text


def test_an_attention_patch_under_a_false_if_leaves_attention_judged(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config

    path = _tree(tmp_path, "    if False:\n        swap_attention_patch(training_args.use_flash_attn)\n")
    assert load_config(path).workload.attention_patched is None
    shown, _, _ = audit(path)
    assert "attention.sdpa_over_eager" in shown


def test_without_an_attention_patch_eager_is_judged(tmp_path: Path) -> None:
    path = _tree(tmp_path, "")
    shown, _, text = audit(path)
    # judged, but not written: transformers 4.34.0 (the pin) has no attn_implementation keyword (it came in 4.36)
    assert "attention.sdpa_over_eager" in shown and "attn_implementation" not in text
