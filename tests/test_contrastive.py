"""A contrastive loss over in-batch negatives, read from the training code (review11b #30 llm2vec HardNegativeNLLLoss,
#36 gritlm DistributedContrastiveLoss): the rules that trade micro-batch for accumulation, and packing, are not offered."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config

from .repo_files import write_tree
from .test_kb import _case

LOSS = (
    "import torch\nfrom torch import nn\n\n\nclass HardNegativeNLLLoss:\n    def __init__(self, scale=20.0):\n"
    "        self.scale = scale\n        self.cross_entropy_loss = nn.CrossEntropyLoss()\n\n"
    "    def __call__(self, q_reps, d_reps):\n        scores = q_reps @ d_reps.T * self.scale\n"
    "        labels = torch.tensor(range(len(scores)), dtype=torch.long, device=scores.device)\n"
    "        return self.cross_entropy_loss(scores, labels)\n"
)
# a causal language model's loss: cross-entropy against the labels, no arange target
LM_LOSS = (
    "import torch\n\n\nclass LMLoss:\n    def __call__(self, logits, labels):\n"
    "        return torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1))\n"
)

SCRIPT = (
    "from transformers import HfArgumentParser, TrainingArguments, Trainer\nfrom mylib.loss.utils import load_loss\n\n\n"
    "def main():\n    parser = HfArgumentParser((TrainingArguments,))\n    (args,) = parser.parse_json_file('x')\n"
    "    loss = load_loss()\n    Trainer(model=None, args=args).train()\n"
)

CONFIG = (
    '{"model_name_or_path": "meta-llama/Meta-Llama-3-8B", "per_device_train_batch_size": 16, "gradient_accumulation_steps": 1,'
    ' "gradient_checkpointing": true, "bf16": true, "output_dir": "out", "max_seq_length": 512}\n'
)


def _load(tmp_path: Path, loss: str) -> Path:
    name = "HardNegativeNLLLoss" if "HardNegative" in loss else "LMLoss"
    root = write_tree(
        tmp_path / "repo",
        {
            "mylib/__init__.py": "",
            "mylib/loss/__init__.py": "",
            "mylib/loss/losses.py": loss,
            "mylib/loss/utils.py": f"from .losses import {name}\n\n\ndef load_loss():\n    return {name}()\n",
            "experiments/run_supervised.py": SCRIPT,
            "README.md": "```bash\ntorchrun --nproc_per_node=8 experiments/run_supervised.py train_configs/supervised/Llama.json\n```\n",
            "train_configs/supervised/Llama.json": CONFIG,
        },
        git=True,
    )
    return root / "train_configs/supervised/Llama.json"


def test_an_in_batch_negative_loss_is_read_through_the_scripts_imports(tmp_path: Path) -> None:
    w = load_config(_load(tmp_path, LOSS)).workload
    assert w.in_batch_negatives is not None and "mylib/loss/losses.py:13" in w.in_batch_negatives
    assert "reached from experiments/run_supervised.py through its imports" in w.in_batch_negatives
    assert w.packing_blocked is not None and "packing several sequences into one row is not offered" in w.packing_blocked


def test_a_language_model_loss_is_not_in_batch_negatives(tmp_path: Path) -> None:
    w = load_config(_load(tmp_path, LM_LOSS)).workload
    assert w.in_batch_negatives is None


def test_rules_that_trade_micro_batch_for_accumulation_do_not_apply_to_in_batch_negatives() -> None:
    hw = hardware.get_hardware("mi300x")
    for rule_id, case in (
        ("memory.checkpointing_off_at_smaller_micro_batch", {"gradient_checkpointing": True, "micro_batch_size": 16}),
        ("batch.raise_micro_batch", {"micro_batch_size": 1, "gradient_accumulation": 8}),
    ):
        w, _target, _host = _case(case)
        assert rule_id in {r.id for r in kb.applicable(w, hw, kb.cached_rules())}
        w = w.model_copy(update={"in_batch_negatives": "a cross-entropy against arange targets at loss.py:9"})
        assert rule_id not in {r.id for r in kb.applicable(w, hw, kb.cached_rules())}


def test_checkpointing_off_is_weighed_only_at_the_configs_micro_batch_with_in_batch_negatives() -> None:
    w, _target, _host = _case({"gradient_checkpointing": True, "micro_batch_size": 16})
    assert list(kb._traded_micro_batches(w)) == list(range(16, 0, -1))
    w = w.model_copy(update={"in_batch_negatives": "a cross-entropy against arange targets at loss.py:9"})
    assert list(kb._traded_micro_batches(w)) == [16]
