"""An HF Trainer / TRL run whose TrainingArguments end with neither bf16 nor fp16 runs in the mixed precision its
`accelerate launch` sets: transformers 4.46.3 training_args.py:1834-1841 (5.25.0 :1612-1618) keeps
ACCELERATE_MIXED_PRECISION, which accelerate exports from its --mixed_precision flag, else its config file's key
(accelerate 1.16.0 commands/launch.py:1337-1341, utils/launch.py:157). goblin read such runs as fp32 and
proposed "train in bf16" of a run already in bf16."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

BF16_RULE = "precision.bf16_amp_over_fp32"

# a TRL SFT recipe (a TRL-only key: dataset_text_field) that sets neither bf16 nor fp16
TRL_RECIPE = """model_name_or_path: Qwen/Qwen2.5-0.5B
dataset_text_field: text
per_device_train_batch_size: 4
gradient_accumulation_steps: 2
max_length: 1024
{extra}"""

# transformers' own TrainingArguments, no TRL key
PLAIN_RECIPE = """model_name_or_path: Qwen/Qwen2.5-0.5B
per_device_train_batch_size: 4
gradient_accumulation_steps: 2
learning_rate: 2.0e-5
num_train_epochs: 1
{extra}"""

ACCEL = "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nmixed_precision: {mp}\nnum_machines: 1\nnum_processes: 8\n"
LAUNCH = "#!/bin/bash\naccelerate launch --config_file configs/accel.yaml {flags}train.py {recipe}\n"
OLD_TRL = 'trl = "0.16.1"\n'


def _tree(tmp: Path, recipe: str, *, mp: str = "bf16", launch: str = LAUNCH, flags: str = "", pyproject: str = "", plain: bool = False) -> Path:
    name = "recipes/args.yaml" if plain else "recipes/sft.yaml"
    files = {
        name: recipe,
        "configs/accel.yaml": ACCEL.format(mp=mp),
        "scripts/run.sh": launch.format(flags=flags, recipe=name),
        "train.py": "from transformers import Trainer\n" if plain else "from trl import SFTTrainer\n",
    }
    if pyproject:
        files["pyproject.toml"] = f'[tool.poetry.dependencies]\npython = "^3.10"\n{pyproject}'
    return repo(tmp, files) / name


def _load(path: Path) -> WorkloadConfig:
    return load_config(path).workload


def _fired(w: WorkloadConfig) -> set[str]:
    return {r.id for r in kb.applicable(w, hardware.get_hardware("mi300x"), list(kb.cached_rules()))}


def test_a_trl_recipe_on_a_release_that_leaves_bf16_off_runs_in_the_accelerate_configs_bf16(tmp_path: Path) -> None:
    """trl 0.16.1 SFTConfig has no bf16 of its own (TRL's `bf16 = not fp16` arrived in 0.19.0, sft_config.py:111,252):
    TrainingArguments' False holds, so the accelerate config's `mixed_precision: bf16` (line 3) is the run's."""
    w = _load(_tree(tmp_path, TRL_RECIPE.format(extra=""), pyproject=OLD_TRL))
    src = w.sources["precision"]
    assert w.precision == "bf16" and src.explicit and src.file.endswith("configs/accel.yaml") and src.line == 3, src
    assert "bf16 from accelerate launch's mixed_precision: `mixed_precision: bf16` in accelerate config configs/accel.yaml:3" in (src.note or "")
    assert "TrainingArguments sets neither bf16 nor fp16 (trl 0.16.1 (trl = '0.16.1', pyproject.toml:3): its config class has no bf16" in (src.note or "")
    assert BF16_RULE not in _fired(w)


def test_without_the_accelerate_launch_that_trl_release_runs_in_fp32(tmp_path: Path) -> None:
    """Must not fire: the same recipe launched with torchrun (no ACCELERATE_MIXED_PRECISION): fp32, said from TRL's pin."""
    torchrun = "#!/bin/bash\ntorchrun --nproc_per_node 8 {flags}train.py {recipe}\n"
    w = _load(_tree(tmp_path, TRL_RECIPE.format(extra=""), launch=torchrun, pyproject=OLD_TRL))
    src = w.sources["precision"]
    assert w.precision == "fp32" and not src.explicit and "at trl 0.16.1" in (src.note or "") and "arrived in 0.19.0" in (src.note or ""), src
    assert BF16_RULE in _fired(w)


def test_an_explicit_bf16_false_is_the_same_as_unset(tmp_path: Path) -> None:
    """bf16 defaults to False (transformers training_args.py:891-903@4.36.2, :874-885@5.25.0): `bf16: false` leaves
    the accelerate launch's precision standing, and the message says so."""
    w = _load(_tree(tmp_path, TRL_RECIPE.format(extra="bf16: false\n")))
    src = w.sources["precision"]
    assert w.precision == "bf16" and src.file.endswith("configs/accel.yaml"), src
    assert "TrainingArguments sets neither bf16 nor fp16 (`bf16: false` (line 6) is TrainingArguments' default, the same as unset" in (src.note or "")
    assert BF16_RULE not in _fired(w)


def test_a_plain_trainingarguments_recipe_takes_the_flag_over_the_config_file(tmp_path: Path) -> None:
    """accelerate 1.16.0 commands/launch.py:1337-1341: the config file's value only where no --mixed_precision flag."""
    w = _load(_tree(tmp_path, PLAIN_RECIPE.format(extra=""), plain=True, flags="--mixed_precision fp16 "))
    src = w.sources["precision"]
    assert (w.framework or "").startswith("transformers") and w.precision == "fp16" and src.file.endswith("scripts/run.sh") and src.line == 2, src
    assert "`--mixed_precision fp16` at scripts/run.sh line 2" in (src.note or "")
    assert BF16_RULE not in _fired(w)


def test_accelerate_no_keeps_fp32_and_the_finding(tmp_path: Path) -> None:
    """Must not fire: `mixed_precision: 'no'` exports no mixed precision: fp32, and "train in bf16" stands."""
    w = _load(_tree(tmp_path, PLAIN_RECIPE.format(extra=""), plain=True, mp="'no'"))
    assert w.precision == "fp32" and not w.sources["precision"].explicit
    assert any("`mixed_precision: no` in accelerate config configs/accel.yaml" in n for n in w.notes), w.notes
    assert BF16_RULE in _fired(w)


def test_the_configs_own_fp16_overrides_the_accelerate_bf16(tmp_path: Path) -> None:
    """Must not fire: TrainingArguments fp16 true overrides the launch (training_args.py:1837-1838@4.46.3)."""
    w = _load(_tree(tmp_path, PLAIN_RECIPE.format(extra="fp16: true\n"), plain=True))
    src = w.sources["precision"]
    assert w.precision == "fp16" and src.file.endswith("recipes/args.yaml") and src.key == "fp16", src


def test_a_deepspeed_file_passed_to_trainingarguments_is_not_overridden(tmp_path: Path) -> None:
    """Must not fire: with TrainingArguments' own `deepspeed`, its `bf16.enabled: auto` is filled from args.bf16
    (transformers 4.46.3 integrations/deepspeed.py:199), not from the launch."""
    w = _load(_tree(tmp_path, PLAIN_RECIPE.format(extra="deepspeed: configs/ds.json\n"), plain=True))
    assert not (w.sources["precision"].file or "").endswith("accel.yaml")


def test_an_accelerate_config_not_in_the_repository_leaves_the_precision_unread(tmp_path: Path) -> None:
    """The launch passes an accelerate config goblin cannot read: the precision it sets is unknown, so fp32 is only
    assumed and "train in bf16" is not said."""
    missing = "#!/bin/bash\naccelerate launch --config_file configs/elsewhere.yaml {flags}train.py {recipe}\n"
    w = _load(_tree(tmp_path, PLAIN_RECIPE.format(extra=""), plain=True, launch=missing))
    src = w.sources["precision"]
    assert w.precision == "fp32" and src.unread and "so the mixed precision it sets is not known" in (src.note or ""), src
    assert BF16_RULE not in _fired(w)


SCRIPT = """from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B")
args = TrainingArguments(output_dir="o", per_device_train_batch_size=4)
Trainer(model=model, args=args).train()
"""


def test_a_script_launched_by_accelerate_runs_in_its_configs_precision(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": SCRIPT, "accel.yaml": ACCEL.format(mp="bf16"), "run.sh": "accelerate launch --config_file accel.yaml train.py\n"})
    w = _load(root / "train.py")
    assert w.precision == "bf16" and w.sources["precision"].file.endswith("accel.yaml"), w.sources["precision"]
    assert BF16_RULE not in _fired(w)
    plain = repo(tmp_path / "b", {"train.py": SCRIPT, "run.sh": "python train.py\n"})
    assert _load(plain / "train.py").precision == "fp32"  # must not fire: no accelerate launch


def test_an_accelerate_launch_with_neither_flag_nor_config_says_the_machines_default_config_decides(tmp_path: Path) -> None:
    """accelerate 1.16.0 commands/launch.py:1268,1377-1379: no --config_file and no default config on the machine: "no"."""
    root = repo(tmp_path, {"train.py": SCRIPT, "run.sh": "accelerate launch --num_processes 4 train.py\n"})
    w = _load(root / "train.py")
    assert w.precision == "fp32" and "passes neither --mixed_precision nor --config_file" in (w.sources["precision"].note or "")
    assert BF16_RULE in _fired(w)  # fp32 is what the repository says; the finding stands


def test_a_trl_release_that_turns_bf16_on_wins_over_the_launchs_fp16(tmp_path: Path) -> None:
    """Must not fire: from trl 0.19.0 an unset bf16 becomes `not fp16` (True), and TrainingArguments' bf16 overrides
    ACCELERATE_MIXED_PRECISION (training_args.py:1839-1840@4.46.3): the accelerate config's fp16 does not stand."""
    w = _load(_tree(tmp_path, TRL_RECIPE.format(extra=""), mp="fp16"))
    src = w.sources["precision"]
    assert w.precision == "bf16" and not src.explicit and "bf16 = not fp16" in (src.note or ""), src


def test_a_scripts_literal_bf16_false_under_accelerate_bf16_is_said_as_a_keyword(tmp_path: Path) -> None:
    text = SCRIPT.replace("per_device_train_batch_size=4)", "per_device_train_batch_size=4, bf16=False)")
    root = repo(tmp_path, {"train.py": text, "accel.yaml": ACCEL.format(mp="bf16"), "run.sh": "accelerate launch --config_file accel.yaml train.py\n"})
    src = _load(root / "train.py").sources["precision"]
    assert src.file.endswith("accel.yaml") and "(`bf16=False` (line 4) is TrainingArguments' default, the same as unset" in (src.note or ""), src


def test_a_mixed_precision_flag_after_the_script_is_the_scripts_own(tmp_path: Path) -> None:
    """accelerate 1.16.0 commands/launch.py:878,982: the words after the script are its own arguments, so
    `train.py --mixed_precision fp16` leaves the accelerate config's bf16 standing."""
    run = "accelerate launch --config_file accel.yaml train.py --mixed_precision fp16\n"
    root = repo(tmp_path, {"train.py": SCRIPT, "accel.yaml": ACCEL.format(mp="bf16"), "run.sh": run})
    w = _load(root / "train.py")
    assert w.precision == "bf16" and w.sources["precision"].file.endswith("accel.yaml"), w.sources["precision"]
    before = "accelerate launch --mixed_precision fp16 --config_file accel.yaml train.py\n"
    other = repo(tmp_path / "b", {"train.py": SCRIPT, "accel.yaml": ACCEL.format(mp="bf16"), "run.sh": before})
    assert _load(other / "train.py").precision == "fp16"  # before the script: accelerate's, over the file's


def test_a_commented_out_accelerate_line_sets_no_precision(tmp_path: Path) -> None:
    run = "# accelerate launch --config_file accel.yaml train.py\n"
    root = repo(tmp_path, {"train.py": SCRIPT, "accel.yaml": ACCEL.format(mp="bf16"), "run.sh": run})
    w = _load(root / "train.py")
    assert w.precision == "fp32" and not w.sources["precision"].explicit, w.sources["precision"]


def test_a_json_recipe_takes_the_launchs_precision(tmp_path: Path) -> None:
    """HfArgumentParser.parse_json_file recipes are read as YAML ones (formats/jsontext.py)."""
    keys = '"gradient_accumulation_steps": 2, "learning_rate": 2e-5, "num_train_epochs": 1, "output_dir": "out", "logging_steps": 10'
    text = '{\n  "model_name_or_path": "Qwen/Qwen2.5-0.5B",\n  "per_device_train_batch_size": 4,\n  "bf16": false,\n  ' + keys + "\n}\n"
    run = "accelerate launch --config_file accel.yaml train.py args.json\n"
    root = repo(tmp_path, {"args.json": text, "train.py": "from transformers import Trainer\n", "accel.yaml": ACCEL.format(mp="bf16"), "run.sh": run})
    w = _load(root / "args.json")
    src = w.sources["precision"]
    assert w.precision == "bf16" and src.file.endswith("accel.yaml") and "(`bf16: false` (line 4) is TrainingArguments' default" in (src.note or ""), src


def test_an_accelerate_config_handing_deepspeed_its_own_file_is_not_read_for_precision(tmp_path: Path) -> None:
    """Must not fire: with `deepspeed_config_file` the DeepSpeed JSON decides (accelerate 1.16.0
    utils/dataclasses.py:1386-1411 refuses a mixed_precision from the accelerate config beside it)."""
    accel = (
        "compute_environment: LOCAL_MACHINE\ndistributed_type: DEEPSPEED\ndeepspeed_config:\n  deepspeed_config_file: ds.json\n"
        "  zero3_init_flag: true\nmixed_precision: bf16\nnum_machines: 1\nnum_processes: 8\n"
    )
    ds = '{"zero_optimization": {"stage": 3}, "bf16": {"enabled": "auto"}}\n'
    run = "accelerate launch --config_file accel.yaml train.py\n"
    root = repo(tmp_path, {"train.py": SCRIPT, "accel.yaml": accel, "ds.json": ds, "run.sh": run})
    w = _load(root / "train.py")
    assert w.zero_stage == 3 and not (w.sources["precision"].file or "").endswith("accel.yaml"), w.sources["precision"]
