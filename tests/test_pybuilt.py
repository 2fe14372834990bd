"""A script that trains through a repository class wrapping or subclassing a TRL/transformers trainer
(formats/pybuilt.py; issue 23/24, sotopia-rl scripts/train_grpo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import blockers
from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware

from .repo_files import write_tree

# the shape of sotopia-rl@2ebb14e sotopia_rl/grpo_trainer.py: the class keeps the script's namespace and builds
# GRPOConfig from it, then TRL's GRPOTrainer
WRAPPER = """from trl import GRPOConfig, GRPOTrainer
from transformers import AutoModelForCausalLM


class MyGRPOTrainer:
    def __init__(self, args, accelerator):
        self.args = args
        self.policy = AutoModelForCausalLM.from_pretrained(self.args.model_name)
        config = GRPOConfig(
            max_prompt_length=512,
            per_device_train_batch_size=self.args.per_device_train_batch_size,
            gradient_accumulation_steps=self.args.gradient_accumulation_steps,
            num_generations=self.args.num_generations,
            output_dir="out",
        )
        self.trainer = GRPOTrainer(args=config, model=self.policy, reward_funcs=len)

    def train(self):
        return self.trainer.train()
"""

SUBCLASS = """import trl


class MyGRPOTrainer(trl.GRPOTrainer):
    def __init__(self, args, accelerator):
        config = trl.GRPOConfig(
            per_device_train_batch_size=args.per_device_train_batch_size,
            gradient_accumulation_steps=args.gradient_accumulation_steps,
            num_generations=args.num_generations,
            output_dir="out",
        )
        super().__init__(model=args.model_name, args=config, reward_funcs=len)
"""

SCRIPT = """import argparse

from accelerate import Accelerator

from myrl import MyGRPOTrainer

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_name", type=str, default="Qwen/Qwen2.5-0.5B-Instruct")
    parser.add_argument("--per_device_train_batch_size", type=int, default=1)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1)
    parser.add_argument("--num_generations", type=int, default=4)
    args = parser.parse_args()
    trainer = MyGRPOTrainer(args, Accelerator())
    trainer.{call}()
"""

LAUNCH = (
    "accelerate launch --config_file ./accelerate_config.yaml ./train_grpo.py --model_name Qwen/Qwen2.5-0.5B-Instruct"
    " --per_device_train_batch_size {batch} --gradient_accumulation_steps 8 --num_generations 16\n"
)


def _tree(tmp: Path, *, module: str = WRAPPER, call: str = "train", batch: int = 4, package: str = "myrl") -> Path:
    files = {
        "pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.10"\ntrl = "0.16.1"\n',
        f"{package}/__init__.py": "from .grpo_trainer import MyGRPOTrainer\n",
        f"{package}/grpo_trainer.py": module,
        "scripts/accelerate_config.yaml": "distributed_type: MULTI_GPU\nmixed_precision: bf16\nnum_machines: 1\nnum_processes: 6\n",
        "scripts/train_grpo.sh": LAUNCH.format(batch=batch),
        "scripts/train_grpo.py": SCRIPT.format(call=call),
    }
    return write_tree(tmp, files, git=True) / "scripts" / "train_grpo.py"


def _grpo(path: Path) -> list[str]:
    return [f.message for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.grpo_generation_batch_indivisible"]


@pytest.mark.parametrize("module", [WRAPPER, SUBCLASS], ids=["wraps", "subclasses"])
def test_a_script_training_through_a_repository_trainer_class_is_read_through_it(tmp_path: Path, module: str) -> None:
    path = _tree(tmp_path, module=module)
    w = load_config(path).workload
    assert (w.micro_batch_size, w.gradient_accumulation, w.world_size) == (4, 8, 6)
    assert any("read through the MyGRPOTrainer class (myrl/grpo_trainer.py:" in n and "TRL's GRPOTrainer" in n for n in w.notes), w.notes
    assert w.sources["method"].unread  # the class sets up any adapter in code goblin does not run
    # TRL 0.16.1 grpo_trainer.py:424-433: per_device_train_batch_size x num_processes (4 x 6 = 24) must be divisible by 16
    (msg,) = _grpo(path)
    assert "4 x 6 process(es) = 24, which is not divisible by num_generations 16" in msg and "None" not in msg


def test_a_grpo_batch_that_holds_whole_groups_does_not_fire(tmp_path: Path) -> None:
    path = _tree(tmp_path, batch=8)  # 8 x 6 = 48 = 3 x 16
    assert load_config(path).workload.micro_batch_size == 8
    assert _grpo(path) == []


def test_a_script_that_only_evaluates_through_the_class_is_not_collected(tmp_path: Path) -> None:
    path = _tree(tmp_path, call="evaluate")
    with pytest.raises(NotATrainingConfig):
        load_config(path)


def test_a_class_of_a_package_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    """A trainer subclassing a class of an unknown package (not trl/transformers, not in the repository) is not one."""
    path = _tree(tmp_path, module=SUBCLASS.replace("import trl", "import otherlib as trl").replace("trl.", "otherlib."))
    with pytest.raises(NotATrainingConfig):
        load_config(path)


def test_no_edit_is_written_into_the_script_for_a_config_the_class_builds(tmp_path: Path) -> None:
    from pytest_goblin.formats.python import PythonAdapter, read_script

    path = _tree(tmp_path)
    text = path.read_text()
    loaded = load_config(path)
    out, skipped = PythonAdapter().apply(path, text, read_script(path, text), loaded.workload, {"gradient_checkpointing": True})
    assert out == text and "change it there" in skipped["gradient_checkpointing"]


def test_a_class_with_two_config_calls_is_not_guessed(tmp_path: Path) -> None:
    """An SFT and a GRPO branch in the class: which config runs is not guessed (the script stays not collected)."""
    two = WRAPPER.replace("        self.trainer = GRPOTrainer(", "        other = SFTConfig(output_dir='o')\n        self.trainer = GRPOTrainer(")
    path = _tree(tmp_path, module=two.replace("from trl import GRPOConfig", "from trl import SFTConfig, GRPOConfig"))
    with pytest.raises(NotATrainingConfig):
        load_config(path)


def test_the_accelerate_launchs_mixed_precision_stands_where_the_class_sets_neither(tmp_path: Path) -> None:
    """transformers 4.46.3 training_args.py:1834-1841 (5.25.0 :1612-1618): with neither fp16 nor bf16, the Trainer keeps
    ACCELERATE_MIXED_PRECISION, which `accelerate launch` exports from its config (sotopia-rl accelerate_config_rm.yaml)."""
    path = _tree(tmp_path)
    w = load_config(path).workload
    assert w.precision == "bf16" and w.sources["precision"].file.endswith("accelerate_config.yaml"), w.sources["precision"]
    other = _tree(tmp_path / "b")
    (other.parent / "accelerate_config.yaml").write_text("distributed_type: MULTI_GPU\nnum_machines: 1\nnum_processes: 6\n")
    src = load_config(other).workload.sources["precision"]  # no mixed precision in the launch: not read from it
    assert not (src.file or "").endswith("accelerate_config.yaml"), src


RM = """from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments


class MyGRPOTrainer(Trainer):
    def __init__(self, args, accelerator):
        model = AutoModelForSequenceClassification.from_pretrained(args.model_name, num_labels=1)
        training_args = TrainingArguments(output_dir="o", per_device_train_batch_size=args.per_device_train_batch_size)
        super().__init__(model=model, args=training_args)

    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        return model(**inputs).logits.mean()
"""


def test_a_trainer_class_over_a_sequence_classification_model_is_labelled_a_reward_model(tmp_path: Path) -> None:
    """sotopia-rl rm_trainer.py:25-57: a Trainer subclass over AutoModelForSequenceClassification (num_labels=1) with its own
    compute_loss: not priced as a causal LM; the label names it, so rules.unmodelled_trainer leaves its memory unjudged."""
    from pytest_goblin.rules import unmodelled_trainer

    w = load_config(_tree(tmp_path, module=RM)).workload
    assert w.micro_batch_size == 4 and "a reward or classification model: AutoModelForSequenceClassification.from_pretrained(...)" in (w.framework or "")
    assert unmodelled_trainer(w) is not None
    assert unmodelled_trainer(load_config(_tree(tmp_path / "b")).workload) is None  # the GRPO wrapper: not labelled
