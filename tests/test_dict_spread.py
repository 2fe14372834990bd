"""A training script that hands a section of the YAML it loads to its trainer's config with `**`
(`TrainingArguments(**cfg["training"])`, `from_pretrained(name, **cfg["model_kwargs"])`) or reads it through
`.get(k, {})` chains (formats/dictcfg.py: DictConfigs.spread, call_keywords): every key of that section is a
keyword of the call, sourced at its line in the YAML, as `goblin parse --json` shows. Issue 23 class 4, the
shape of blind review 9 row 32 (an MI300X GRPO script whose values live in configs/*.yaml). Small synthetic
trees; nothing run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_goblin.cli import main

from .repo_files import write_tree

YAML = """\
model:
  name: Qwen/Qwen2.5-7B
model_kwargs:
  torch_dtype: bfloat16
  attn_implementation: eager
training:
  per_device_train_batch_size: 3
  gradient_accumulation_steps: 4
  bf16: true
  gradient_checkpointing: true
"""

SCRIPT = """\
import os
import yaml
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer

with open({path}) as f:
    cfg = yaml.safe_load(f)
train_cfg = cfg.get("training", {{}})
{mutation}
model = AutoModelForCausalLM.from_pretrained(cfg["model"]["name"], **cfg["model_kwargs"])
args = SFTConfig({call})
SFTTrainer(model=model, args=args).train()
"""


def _parse(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    call: str = 'output_dir="out", **train_cfg',
    mutation: str = "",
    path: str = '"configs/run.yaml"',
    yaml_text: str = YAML,
    script: str | None = None,
) -> dict:
    text = script if script is not None else SCRIPT.format(path=path, call=call, mutation=mutation)
    write_tree(tmp_path, {"configs/run.yaml": yaml_text, "train.py": text}, git=True)
    capsys.readouterr()
    assert main(["parse", "--json", str(tmp_path / "train.py")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out, dict)
    return out


def _from_yaml(out: dict, field: str, line: int) -> bool:
    src = out["sources"][field]
    return bool(src["file"].endswith("configs/run.yaml") and src["line"] == line and not src["unread"])


# ------------------------------------------------------------------ fires
def test_a_config_given_a_yaml_section_by_double_star_takes_every_key_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path, capsys)
    assert out["micro_batch_size"] == 3 and _from_yaml(out, "micro_batch_size", 7)
    assert out["gradient_accumulation_steps"] == 4 and _from_yaml(out, "gradient_accumulation_steps", 8)
    assert out["precision"] == "bf16" and _from_yaml(out, "precision", 9)
    assert out["gradient_checkpointing"] is True and _from_yaml(out, "gradient_checkpointing", 10)
    assert "training.per_device_train_batch_size" in out["sources"]["micro_batch_size"]["note"]


def test_from_pretrained_given_model_kwargs_by_double_star_reads_dtype_and_attention(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path, capsys)
    assert out["model"] == "Qwen/Qwen2.5-7B" and _from_yaml(out, "model", 2)
    assert out["weight_dtype"] == "bf16" and _from_yaml(out, "weight_dtype", 4)
    assert out["attention"] == "eager" and _from_yaml(out, "attention", 5)


def test_the_whole_file_and_a_section_given_by_double_star_with_the_call_written_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path, capsys, call='**cfg["training"], output_dir="out"')
    assert out["micro_batch_size"] == 3 and _from_yaml(out, "micro_batch_size", 7)


def test_get_chains_read_the_files_value_and_the_default_only_where_the_key_is_absent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call = (
        'output_dir="out", per_device_train_batch_size=cfg.get("training", {}).get("per_device_train_batch_size", 1),'
        ' bf16=cfg["training"].get("bf16", False), gradient_accumulation_steps=train_cfg.get("gradient_accumulation_steps", 16),'
        ' max_length=cfg.get("training", {}).get("max_length", 2048)'
    )
    out = _parse(tmp_path, capsys, call=call)
    assert out["micro_batch_size"] == 3 and _from_yaml(out, "micro_batch_size", 7)
    assert out["precision"] == "bf16" and _from_yaml(out, "precision", 9)
    assert out["gradient_accumulation_steps"] == 4 and _from_yaml(out, "gradient_accumulation_steps", 8)
    assert out["seq_len"] == 2048 and out["sources"]["seq_len"]["file"].endswith("train.py")  # the `.get` default: the file has no max_length


def test_an_omegaconf_section_given_by_double_star_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = SCRIPT.format(path='"configs/run.yaml"', call='output_dir="out", **cfg.training', mutation="").replace(
        'with open("configs/run.yaml") as f:\n    cfg = yaml.safe_load(f)\n', 'from omegaconf import OmegaConf\ncfg = OmegaConf.load("configs/run.yaml")\n'
    )
    out = _parse(tmp_path, capsys, script=script)
    assert out["micro_batch_size"] == 3 and _from_yaml(out, "micro_batch_size", 7)


# ------------------------------------------------------------------ must not fire
def test_a_key_written_after_the_load_is_not_read_but_its_neighbours_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path, capsys, mutation='train_cfg["per_device_train_batch_size"] = 1')
    assert not _from_yaml(out, "micro_batch_size", 7) and out["sources"]["micro_batch_size"]["unread"]
    assert any("changed by the script at line 9" in n for n in out["notes"])
    assert out["gradient_accumulation_steps"] == 4 and _from_yaml(out, "gradient_accumulation_steps", 8)


def test_a_section_popped_or_replaced_after_the_load_passes_nothing_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path, capsys, mutation='lr = train_cfg.pop("learning_rate", None)')
    assert not _from_yaml(out, "micro_batch_size", 7) and not _from_yaml(out, "precision", 9)
    assert any("changed by the script at line 9" in n and "the keys of `train_cfg` are not read" in n for n in out["notes"])


def test_a_keyword_passed_twice_leaves_the_calls_values_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path, capsys, call='output_dir="out", per_device_train_batch_size=2, **train_cfg')
    assert out["sources"]["micro_batch_size"]["unread"] and out["sources"]["precision"]["unread"]
    assert any("`per_device_train_batch_size` twice" in n and "TypeError" in n for n in out["notes"])


def test_a_settings_path_computed_at_run_time_passes_nothing_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path, capsys, path='os.environ["CFG"]')
    assert not _from_yaml(out, "micro_batch_size", 7) and out["model"] != "Qwen/Qwen2.5-7B"
    assert any("set at run time" in n for n in out["notes"])
    assert any("`train_cfg` holds settings of a loaded file that goblin does not read" in n for n in out["notes"])


def test_a_get_chain_through_a_section_the_file_lacks_reads_the_later_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """dict.get gives its default where the key is missing (CPython 3.11.7): `cfg.get("train", {})` is `{}`, so the
    chain's last `.get` default is the value; `**cfg.get("train", {})` passes nothing."""
    call = 'output_dir="out", per_device_train_batch_size=cfg.get("train", {}).get("per_device_train_batch_size", 5), **cfg.get("extra", {})'
    out = _parse(tmp_path, capsys, call=call)
    assert out["micro_batch_size"] == 5 and not out["sources"]["micro_batch_size"]["unread"]
    assert out["sources"]["micro_batch_size"]["file"].endswith("train.py") and out["sources"]["micro_batch_size"]["line"] == 11
    assert any("has no `extra`" in n and "passes no keyword" in n for n in out["notes"])
    assert not _from_yaml(out, "gradient_accumulation_steps", 8)  # nothing else passed: the training section is not this call's


def test_a_get_chain_through_a_missing_section_that_ends_in_a_subscript_or_has_no_default_is_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `{}["k"]` is a KeyError; `.get("train")` without a default is None, whose `.get` is an AttributeError
    out = _parse(tmp_path / "a", capsys, call='output_dir="out", per_device_train_batch_size=cfg.get("train", {})["per_device_train_batch_size"]')
    assert out["sources"]["micro_batch_size"]["unread"]
    assert any("has no `train`" in n and "KeyError" in n for n in out["notes"])
    out = _parse(tmp_path / "b", capsys, call='output_dir="out", per_device_train_batch_size=cfg.get("train").get("per_device_train_batch_size", 5)')
    assert out["sources"]["micro_batch_size"]["unread"]
    out = _parse(tmp_path / "c", capsys, call='output_dir="out", **cfg.get("train")')
    assert any("has no `train`" in n and "are not read" in n for n in out["notes"])


def test_a_section_yaml_1_1_keys_differently_or_that_is_no_mapping_passes_nothing_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path, capsys, yaml_text=YAML + "  on: 1\n")  # PyYAML reads the key `on` as True: `**` raises TypeError
    assert not _from_yaml(out, "micro_batch_size", 7)
    assert any("YAML 1.1" in n for n in out["notes"])
    out = _parse(tmp_path / "b", capsys, call='output_dir="out", **cfg["model"]["name"]')
    assert any("is not a mapping" in n for n in out["notes"])


PARSE_DICT = """\
import os
import yaml
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments

with open({path}) as f:
    cfg = yaml.safe_load(f)
{mutation}
parser = HfArgumentParser(TrainingArguments)
(training_args,) = parser.parse_dict(cfg["training"])
model = AutoModelForCausalLM.from_pretrained(cfg["model"]["name"])
Trainer(model=model, args=training_args).train()
"""


def _parse_dict(tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str = '"configs/run.yaml"', mutation: str = "") -> dict:
    return _parse(
        tmp_path, capsys, yaml_text=YAML.replace("training:\n", "training:\n  output_dir: out\n"), script=PARSE_DICT.format(path=path, mutation=mutation)
    )


def test_hf_argument_parser_parse_dict_of_a_yaml_section_reads_its_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse_dict(tmp_path, capsys)
    assert out["micro_batch_size"] == 3 and _from_yaml(out, "micro_batch_size", 8)
    assert out["precision"] == "bf16" and _from_yaml(out, "precision", 10)
    assert any("parse_dict (line 9)" in n and "hf_argparser.py:358-384" in n for n in out["notes"])


def test_parse_dict_of_a_section_written_after_the_load_leaves_that_key_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse_dict(tmp_path, capsys, mutation='cfg["training"]["per_device_train_batch_size"] = 1')
    assert out["sources"]["micro_batch_size"]["unread"] and out["precision"] == "bf16"


def test_parse_dict_of_a_file_named_at_run_time_is_not_collected_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse_dict(tmp_path, capsys, path='os.environ["CFG"]')
    assert out["micro_batch_size"] is None
    assert "parse_dict(cfg['training'])" in out["reason"] and "does not read" in out["reason"]


def test_parse_yaml_file_of_a_literal_path_names_that_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = PARSE_DICT.format(path='"configs/run.yaml"', mutation="").replace(
        'parser.parse_dict(cfg["training"])', 'parser.parse_yaml_file("configs/train.yaml")'
    )
    out = _parse(tmp_path, capsys, script=script)
    assert "from configs/train.yaml" in out["reason"] and "named at run time" not in out["reason"]


def test_a_lora_config_given_a_yaml_section_by_double_star_trains_an_adapter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lora = YAML + "lora:\n  r: 16\n  lora_alpha: 32\n"
    script = SCRIPT.format(path='"configs/run.yaml"', call='output_dir="out", **train_cfg', mutation="").replace(
        "SFTTrainer(model=model, args=args)", 'SFTTrainer(model=model, args=args, peft_config=LoraConfig(**cfg["lora"]))'
    )
    script = "from peft import LoraConfig\n" + script
    out = _parse(tmp_path, capsys, yaml_text=lora, script=script)
    assert out["method"] == "lora" and out["micro_batch_size"] == 3
    # must not: the same LoraConfig bound to a name nothing reads applies nothing
    unused = script.replace('peft_config=LoraConfig(**cfg["lora"])', "").replace("SFTTrainer(", 'unused = LoraConfig(**cfg["lora"])\nSFTTrainer(')
    out = _parse(tmp_path / "b", capsys, yaml_text=lora, script=unused)
    assert out["method"] != "lora"


def _apply(tmp_path: Path, call: str, yaml_text: str = YAML) -> tuple[str, str, dict[str, str]]:
    from pytest_goblin.formats import load_config

    files = {"configs/run.yaml": yaml_text, "train.py": SCRIPT.format(path='"configs/run.yaml"', call=call, mutation="kwargs = make()")}
    path = write_tree(tmp_path, files, git=True) / "train.py"
    loaded = load_config(path)
    text, skipped = loaded.adapter.apply(path, loaded.text, loaded.data, loaded.workload, {"gradient_checkpointing": False})
    return loaded.text, text, skipped


def test_an_edit_adds_a_keyword_beside_a_read_section_that_lacks_it(tmp_path: Path) -> None:
    before, after, skipped = _apply(tmp_path, 'output_dir="out", **train_cfg', YAML.replace("  gradient_checkpointing: true\n", ""))
    assert "gradient_checkpointing=False" in after and after != before and not skipped


def test_no_keyword_is_added_where_an_unread_double_star_may_pass_it_already(tmp_path: Path) -> None:
    before, after, skipped = _apply(tmp_path, 'output_dir="out", **kwargs', YAML)
    assert after == before and "`**` arguments goblin does not read" in skipped["gradient_checkpointing"]
    # a keyword the call passes twice is unknown: never written a third time
    before, after, skipped = _apply(tmp_path / "b", 'output_dir="out", gradient_checkpointing=True, **train_cfg', YAML)
    assert after == before and "computed in the script" in skipped["gradient_checkpointing"]


# ------------------------------------------------------------------ keys a pinned release lacks, reaching the class through `**`
SPREAD_ARGS = """\
import yaml
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

cfg = yaml.safe_load(open("configs/run.yaml"))
model = AutoModelForCausalLM.from_pretrained(cfg["model"]["name"])
args = TrainingArguments(output_dir="out", {spread})
Trainer(model=model, args=args).train()
"""


def _key_findings(tmp_path: Path, pin: str, spread: str = '**cfg["training"]', yaml_text: str | None = None) -> list:
    from pytest_goblin import blockers
    from pytest_goblin.formats import load_config
    from pytest_goblin.hardware import get_hardware

    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "requirements.txt").write_text(pin)
    (tmp_path / "configs/run.yaml").write_text(yaml_text if yaml_text is not None else YAML + "  evaluation_strategy: steps\n")
    path = tmp_path / "train.py"
    path.write_text(SPREAD_ARGS.format(spread=spread))
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_a_yaml_key_the_pinned_transformers_removed_stops_the_run_through_double_star(tmp_path: Path) -> None:
    """transformers 4.53.3 training_args.py: TrainingArguments has eval_strategy (:839) and no evaluation_strategy field
    (4.46.3 :1395 still has it), so `TrainingArguments(**cfg["training"])` raises TypeError on the YAML's key."""
    (f,) = _key_findings(tmp_path, "transformers==4.53.3\n")
    assert f.blocker and f.rule_id == "blocker.keys_rejected_at_version" and f.key == "evaluation_strategy" and f.line == 6
    assert "`evaluation_strategy` (configs/run.yaml line 11)" in f.message and "`**` at line 6 of the script" in f.message
    assert "TypeError" in f.message and "transformers==4.53.3" in f.message and "`eval_strategy`" in f.message
    assert "None" not in f.message and f.fix is None
    # unpinned: the newest release, assumed: a requirement
    (unpinned,) = _key_findings(tmp_path / "b", "accelerate==1.0.0\n")
    assert not unpinned.blocker and unpinned.rule_id == "blocker.keys_unknown_at_version" and "assumed" in unpinned.message


def test_a_yaml_key_the_pinned_release_accepts_or_an_unread_double_star_is_not_flagged(tmp_path: Path) -> None:
    assert _key_findings(tmp_path / "a", "transformers==4.46.3\n") == []  # 4.46.3 training_args.py:1395 has the field
    assert _key_findings(tmp_path / "b", "transformers==4.53.3\n", spread="**kwargs") == []  # a `**` goblin does not read
    # a section written after the load: its keys are not read, so none is judged
    mutated = SPREAD_ARGS.replace("model = ", 'cfg["training"].pop("evaluation_strategy", None)\nmodel = ')
    path = tmp_path / "c"
    _key_findings(path, "transformers==4.53.3\n")  # builds the tree
    (path / "train.py").write_text(mutated.format(spread='**cfg["training"]'))
    from pytest_goblin import blockers
    from pytest_goblin.formats import load_config
    from pytest_goblin.hardware import get_hardware

    found = blockers.findings(load_config(path / "train.py"), get_hardware("mi300x"))
    assert not [f for f in found if f.rule_id.startswith("blocker.keys_")]


GRPO_SCRIPT = """\
import yaml
from trl import GRPOConfig, GRPOTrainer

cfg = yaml.safe_load(open("configs/run.yaml"))
args = GRPOConfig(output_dir="out", {spread})
GRPOTrainer(model="Qwen/Qwen2.5-1.5B", reward_funcs=[], args=args).train()
"""
GRPO_YAML = "training:\n  per_device_train_batch_size: 2\n  gradient_accumulation_steps: 1\n  num_generations: 8\n  bf16: true\n"


def _grpo_findings(tmp_path: Path, spread: str, yaml_text: str = GRPO_YAML, call: str = "args = GRPOConfig(") -> list:
    from pytest_goblin import blockers
    from pytest_goblin.formats import load_config
    from pytest_goblin.hardware import get_hardware

    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "requirements.txt").write_text("trl==0.16.0\n")
    (tmp_path / "configs/run.yaml").write_text(yaml_text)
    (tmp_path / "train.py").write_text(GRPO_SCRIPT.format(spread=spread).replace("args = GRPOConfig(", call))
    return [f for f in blockers.findings(load_config(tmp_path / "train.py"), get_hardware("mi300x")) if f.rule_id.startswith("blocker.grpo_")]


def test_values_a_read_double_star_passes_are_judged_and_an_unread_one_leaves_them_unknown(tmp_path: Path) -> None:
    """blockers._computed_in_code: a `**` goblin reads passes the file's values (GRPO 2 x 1 GPU, groups of 8 at trl
    0.16.0); a `**kwargs` it cannot read may pass any of them, so nothing is judged."""
    (f,) = _grpo_findings(tmp_path / "a", '**cfg["training"]')
    assert f.rule_id == "blocker.grpo_generation_batch_unchecked" and "num_generations 8 (set in configs/run.yaml line 4)" in f.message
    assert "None" not in f.message
    assert _grpo_findings(tmp_path / "b", "**kwargs") == []
    # a key the file lacks, written into the section before the call: passed too, so the section's keys are not all known
    written = 'cfg["training"]["num_generations"] = 2\nargs = GRPOConfig('
    assert _grpo_findings(tmp_path / "c", '**cfg["training"]', GRPO_YAML.replace("  num_generations: 8\n", ""), written) == []


def test_a_key_written_into_a_section_the_file_lacks_leaves_its_double_star_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _parse(tmp_path / "a", capsys, mutation='train_cfg["max_length"] = 512')
    assert not _from_yaml(out, "micro_batch_size", 7) and not _from_yaml(out, "precision", 9)
    assert any("writes `max_length`" in n and "the keys of `train_cfg` are not read" in n for n in out["notes"])
    # into an empty section `.get(k, {})` gave: the same
    out = _parse(tmp_path / "b", capsys, yaml_text=YAML.replace("training:", "train:"), mutation='train_cfg["per_device_train_batch_size"] = 2')
    assert any("writes `per_device_train_batch_size`" in n for n in out["notes"])


def test_a_yaml_key_the_pinned_trl_dropped_stops_sft_config_through_double_star(tmp_path: Path) -> None:
    """SFTConfig has no max_seq_length from trl 0.20.0 (last in 0.19.1 sft_config.py:244, key_history.json)."""
    from pytest_goblin import blockers
    from pytest_goblin.formats import load_config
    from pytest_goblin.hardware import get_hardware

    def found(where: Path, pin: str) -> list:
        where.mkdir(parents=True)
        (where / ".git").mkdir()
        (where / "configs").mkdir()
        (where / "requirements.txt").write_text(pin)
        (where / "configs/run.yaml").write_text("training:\n  max_seq_length: 2048\n  bf16: true\n")
        script = GRPO_SCRIPT.replace("GRPO", "SFT").replace(", reward_funcs=[]", "").format(spread='**cfg["training"]')
        (where / "train.py").write_text(script)
        return [f for f in blockers.findings(load_config(where / "train.py"), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]

    (f,) = found(tmp_path / "a", "trl==0.20.0\n")
    assert f.blocker and f.key == "max_seq_length" and "(configs/run.yaml line 2)" in f.message and "`max_length`" in f.message
    assert found(tmp_path / "b", "trl==0.19.1\n") == []
