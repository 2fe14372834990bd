"""A YAML recipe whose launched script parses it into the repository's own dataclasses and trains in its own loop
(review15a #15/#17: open-instruct finetune.py's FlatArguments and accelerate loop; review15b #22: potential-doodle
sft.py): the keys are read through that dataclass's defaults and what the script does with them, never through TRL's
SFTConfig defaults; a TRL script keeps TRL's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .repo_files import write_tree

UTILS = """\
from transformers import HfArgumentParser


class ArgumentParserPlus(HfArgumentParser):
    def parse(self):
        return self.parse_yaml_file(sys.argv[1])[0]
"""

OWN = """\
from dataclasses import dataclass, field
from typing import Optional

import torch
from accelerate import Accelerator
from transformers import AutoModelForCausalLM

from utils import ArgumentParserPlus


@dataclass
class FlatArguments:
    model_name_or_path: Optional[str] = field(default=None)
    use_flash_attn: bool = field(default=True)
    max_seq_length: Optional[int] = field(default=None)
    per_device_train_batch_size: int = field(default=8)
    gradient_accumulation_steps: int = field(default=1)
    gradient_checkpointing: bool = field(default=False)
    learning_rate: float = field(default=2e-5)


def main(args):
    accelerator = Accelerator(gradient_accumulation_steps=args.gradient_accumulation_steps)
    model = AutoModelForCausalLM.from_pretrained(
        args.model_name_or_path,
        torch_dtype=torch.bfloat16,
        attn_implementation="flash_attention_2" if args.use_flash_attn else "eager",
    )
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    for batch in []:
        loss = model(**batch).loss
        accelerator.backward(loss)
        optimizer.step()


if __name__ == "__main__":
    parser = ArgumentParserPlus((FlatArguments))
    args = parser.parse()
    main(args)
"""

TRL = """\
from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser


def main(script_args, training_args, model_args):
    trainer = SFTTrainer(model=model_args.model_name_or_path, args=training_args)
    trainer.train()


if __name__ == "__main__":
    parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))
    main(*parser.parse_args_and_config())
"""

RECIPE = """\
model_name_or_path: meta-llama/Llama-3.1-8B
use_flash_attn: {flash}
max_seq_length: 4096
per_device_train_batch_size: 1
gradient_accumulation_steps: 2
learning_rate: 5.0e-06
"""

TRL_RECIPE = """\
model_name_or_path: meta-llama/Llama-3.1-8B
max_length: 4096
per_device_train_batch_size: 1
gradient_accumulation_steps: 2
"""


def _tree(tmp_path: Path, script: str = OWN, recipe: str | None = None, flash: str = "true") -> Path:
    files = {
        "open_instruct/finetune.py": script,
        "open_instruct/utils.py": UTILS,
        "configs/sft.yaml": recipe if recipe is not None else RECIPE.format(flash=flash),
        "README.md": "```bash\naccelerate launch --mixed_precision bf16 --num_processes 8 open_instruct/finetune.py configs/sft.yaml\n```\n",
    }
    return write_tree(tmp_path, files, git=True) / "configs" / "sft.yaml"


def test_argument_parser_plus_names_the_scripts_own_dataclass_and_its_own_loop(tmp_path: Path) -> None:
    from pytest_goblin.formats.launched import launched_script

    launched = launched_script(_tree(tmp_path))
    assert launched is not None and launched.parser_classes == ("FlatArguments",)
    assert launched.own_loop == "open_instruct/finetune.py:34"
    assert {"use_flash_attn", "gradient_checkpointing", "max_seq_length"} <= launched.own_fields
    assert launched.defaults["gradient_checkpointing"][0] is False


def test_own_loop_recipe_reads_the_scripts_defaults_not_trls(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config

    loaded: Any = load_config(_tree(tmp_path))
    w = loaded.workload
    assert w.framework.startswith("transformers ") and "in its own loop (`backward` at open_instruct/finetune.py:34" in w.framework
    assert "trl" not in w.framework.lower()
    # FlatArguments.gradient_checkpointing=False, not TRL's base_config.py:62 True
    assert w.gradient_checkpointing is False
    assert "FlatArguments (open_instruct/finetune.py:18)" in (w.sources["gradient_checkpointing"].note or "")
    # use_flash_attn: true selects flash_attention_2 in the script's own from_pretrained
    assert w.attention == "flash" and w.sources["attention"].line == 27
    # no packing option in its classes: no TRL SFTConfig.packing proposal
    assert w.sample_packing is False and w.packing_blocked and "has no packing option" in w.packing_blocked
    # TrainingArguments' optimizer/dataloader defaults are not its loop's: kept, not judged
    assert w.sources["optimizer"].unread and w.sources["dataloader_workers"].unread
    assert "SFTConfig" not in str(w.sources["sample_packing"].note)


def test_own_loop_flag_off_reads_eager(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config

    w = load_config(_tree(tmp_path, flash="false")).workload
    assert w.attention == "eager"


def test_own_loop_edit_of_a_key_its_dataclass_lacks_is_refused(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config
    from pytest_goblin.patching import _own_loop_foreign

    loaded = load_config(_tree(tmp_path))
    why = _own_loop_foreign(loaded, {"optim": "adamw_torch_fused"})
    assert why is not None and "`optim` is a field of none of FlatArguments" in why
    assert _own_loop_foreign(loaded, {"gradient_checkpointing": True, "per_device_train_batch_size": 2}) is None


def test_trl_script_keeps_trl_defaults(tmp_path: Path) -> None:
    from pytest_goblin.formats import load_config
    from pytest_goblin.formats.launched import launched_script
    from pytest_goblin.patching import _own_loop_foreign

    config = _tree(tmp_path, script=TRL, recipe=TRL_RECIPE)
    launched = launched_script(config)
    assert launched is not None and launched.own_loop == "" and launched.trl_args == "SFTConfig"
    loaded = load_config(config)
    w = loaded.workload
    assert w.framework.startswith("trl ")
    assert w.gradient_checkpointing is True  # TRL configs turn it on (trl 1.16.0 base_config.py:62)
    assert w.packing_blocked is None
    assert _own_loop_foreign(loaded, {"optim": "adamw_torch_fused"}) is None


GRPO = """\
from dataclasses import dataclass, field

from peft import LoraConfig
from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser


@dataclass
class RunArguments:
    big_model: bool = field(default=False)


def main(run_args, training_args, model_args):
    peft_config = LoraConfig(r=64, lora_alpha=16)
    if run_args.big_model:
        trainer = GRPOTrainer(model=model_args.model_name_or_path, args=training_args, peft_config=peft_config)
    else:
        trainer = GRPOTrainer(model=model_args.model_name_or_path, args=training_args)
    trainer.train()


if __name__ == "__main__":
    parser = TrlParser((RunArguments, GRPOConfig, ModelConfig))
    main(*parser.parse_args_and_config())
"""


def test_lora_config_counts_where_a_trainer_call_passes_it(tmp_path: Path) -> None:
    """review15b #25 (FedGRPO GRPO.py:319, :336-357): the LoraConfig is built on every run, but only the trainer under
    `if '14B' in ...` is given it; the adapter runs where that call runs, not where the config is built."""
    from pytest_goblin.formats.launched import launched_script

    launched = launched_script(_tree(tmp_path, script=GRPO, recipe=TRL_RECIPE))
    assert launched is not None
    runs, why = launched.adapter({"big_model": True})
    assert runs is True and "`LoraConfig(...)` at open_instruct/finetune.py:13" in why and "the `if` at line 14 is true" in why
    # the else branch's trainer passes no peft_config: a full fine-tune
    runs, why = launched.adapter({"big_model": False})
    assert runs is False and "does not run: the `if` at line 14 is false" in why
