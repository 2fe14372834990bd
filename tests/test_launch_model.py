"""A placeholder model path resolved from the launch script that runs the config (issue 23, formats/launch_model.py).

`model_name_or_path: /path/to/model` names no model; the shell or slurm script whose launch line runs the config and
passes one (`--model_name_or_path X`, LLaMA-Factory's `model_name_or_path=X` word, `$MODEL` set before the line) says
which, labelled with the launcher's file:line. A launcher of another config, a config that names its model, or two
launchers naming different models take none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launch_model import launch_models

from .test_model_shapes import _empty_hf_cache  # noqa: F401  (autouse: no HF cache answers for a name)

_PLACEHOLDER_NOTE = "model /path/to/model: the config names a placeholder, not a model: the model is unknown; the projection assumes 7B parameters"


def _repo(tmp_path: Path, model: str = "/path/to/model") -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "configs").mkdir(exist_ok=True)
    config = tmp_path / "configs" / "sft.yaml"
    config.write_text(f"model_name_or_path: '{model}'\nper_device_train_batch_size: 2\nlearning_rate: 2.0e-5\nbf16: true\noutput_dir: out\n")
    return config


def _lf_repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "configs").mkdir(exist_ok=True)
    config = tmp_path / "configs" / "sft.yaml"
    config.write_text(
        "model_name_or_path: /path/to/model\nstage: sft\ndo_train: true\nfinetuning_type: lora\ndataset: alpaca_en_demo\n"
        "template: qwen\ncutoff_len: 1024\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nbf16: true\noutput_dir: out\n"
    )
    return config


_SHELL = "#!/bin/bash\ntorchrun --nproc_per_node 8 train.py {config} \\\n  --model_name_or_path {model}\n"
_SLURM = "#!/bin/bash\n#SBATCH --nodes=1\n#SBATCH --gres=gpu:8\n\nsrun llamafactory-cli train configs/sft.yaml model_name_or_path=Qwen/Qwen2-7B-Instruct\n"


def test_a_placeholder_takes_the_model_a_shell_launcher_passes(tmp_path: Path) -> None:
    config = _repo(tmp_path)
    (tmp_path / "train.sh").write_text(_SHELL.format(config="configs/sft.yaml", model="Qwen/Qwen2-7B-Instruct"))
    w = load_config(config).workload
    assert w.model.known and w.model.family == "qwen2" and w.model.n_layers == 28
    said = "shape of Qwen/Qwen2-7B-Instruct (the model train.sh:2 launches this config with; the config names the placeholder /path/to/model)"
    assert w.model.inferred == said and any(n.startswith(f"model /path/to/model: {said}") for n in w.notes)
    assert _PLACEHOLDER_NOTE not in w.notes


def test_a_placeholder_takes_the_model_a_slurm_script_merges_over_a_llamafactory_config(tmp_path: Path) -> None:
    config = _lf_repo(tmp_path)
    (tmp_path / "job.slurm").write_text(_SLURM)
    w = load_config(config).workload
    assert w.format == "llamafactory" and w.model.family == "qwen2" and w.model.n_layers == 28
    assert w.model.inferred is not None and "(the model job.slurm:5 launches this config with;" in w.model.inferred
    # the word is read: not also said as a word goblin does not read
    assert not any("model_name_or_path=Qwen/Qwen2-7B-Instruct" in n and "not read by goblin" in n for n in w.notes)


def test_a_llamafactory_release_before_the_cli_merge_keeps_the_placeholder(tmp_path: Path) -> None:
    """llamafactory 0.9.2 merges no key=value word over the YAML (formats/datasets.before_cli_merge): the run loads the
    placeholder, so no model is taken from the word."""
    config = _lf_repo(tmp_path)
    (tmp_path / "job.slurm").write_text(_SLURM)
    (tmp_path / "requirements.txt").write_text("llamafactory==0.9.2\n")
    w = load_config(config).workload
    assert not w.model.known and w.model.inferred is None and _PLACEHOLDER_NOTE in w.notes


@pytest.mark.parametrize("word", ["$MODEL", '"${MODEL}"'])
def test_a_placeholder_takes_the_model_a_launcher_variable_holds(tmp_path: Path, word: str) -> None:
    config = _repo(tmp_path)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "run.sh").write_text(
        "#!/bin/bash\nMODEL=meta-llama/Llama-2-13b-hf\n" + _SHELL.format(config="configs/sft.yaml", model=word).split("\n", 1)[1]
    )
    w = load_config(config).workload
    assert w.model.family == "llama2" and w.model.n_layers == 40
    assert w.model.inferred is not None
    assert "(the model scripts/run.sh:3 launches this config with, MODEL=meta-llama/Llama-2-13b-hf set at scripts/run.sh line 2;" in w.model.inferred


@pytest.mark.parametrize(
    "launchers",
    [
        {"train.sh": _SHELL.format(config="configs/other.yaml", model="Qwen/Qwen2-7B-Instruct")},  # another config's launcher
        # a variable set only in a branch: not set for certain before the line
        {
            "train.sh": '#!/bin/bash\nif [ -n "$BIG" ]; then\n  MODEL=meta-llama/Llama-2-13b-hf\nfi\n'
            + _SHELL.format(config="configs/sft.yaml", model="$MODEL").split("\n", 1)[1]
        },
        {"train.sh": _SHELL.format(config="configs/sft.yaml", model="$MODEL_PATH")},  # set at run time
        {"train.sh": _SHELL.format(config="configs/sft.yaml", model="/path/to/your/model")},  # a placeholder again
    ],
)
def test_a_launcher_naming_no_model_for_the_config_leaves_the_placeholder(tmp_path: Path, launchers: dict[str, str]) -> None:
    config = _repo(tmp_path)
    (tmp_path / "configs" / "other.yaml").write_text(config.read_text())
    for name, text in launchers.items():
        (tmp_path / name).write_text(text)
    w = load_config(config).workload
    assert not w.model.known and w.model.inferred is None and _PLACEHOLDER_NOTE in w.notes


def test_two_launchers_naming_different_models_take_none(tmp_path: Path) -> None:
    config = _repo(tmp_path)
    (tmp_path / "train_7b.sh").write_text(_SHELL.format(config="configs/sft.yaml", model="Qwen/Qwen2-7B-Instruct"))
    (tmp_path / "train_13b.sh").write_text(_SHELL.format(config="configs/sft.yaml", model="meta-llama/Llama-2-13b-hf"))
    w = load_config(config).workload
    assert not w.model.known and w.model.inferred is None and _PLACEHOLDER_NOTE in w.notes
    said = next(n for n in w.notes if "different models" in n)
    assert said.startswith("model /path/to/model: what launches this config passes 2 different models, ")
    assert "Qwen/Qwen2-7B-Instruct (train_7b.sh:2)" in said and "meta-llama/Llama-2-13b-hf (train_13b.sh:2)" in said
    assert said.endswith(": none is taken as the one it runs")


def test_two_launchers_naming_one_model_take_it(tmp_path: Path) -> None:
    config = _repo(tmp_path)
    for name in ("train.sh", "train_again.sh"):
        (tmp_path / name).write_text(_SHELL.format(config="configs/sft.yaml", model="Qwen/Qwen2-7B-Instruct"))
    assert [p.model for p in launch_models(config)] == ["Qwen/Qwen2-7B-Instruct"]
    assert load_config(config).workload.model.family == "qwen2"


def test_a_model_the_config_names_is_not_replaced_by_the_launcher(tmp_path: Path) -> None:
    config = _repo(tmp_path, "meta-llama/Llama-2-13b-hf")
    (tmp_path / "train.sh").write_text(_SHELL.format(config="configs/sft.yaml", model="Qwen/Qwen2-7B-Instruct"))
    w = load_config(config).workload
    assert w.model.family == "llama2" and w.model.n_layers == 40 and w.model.inferred is None
    assert not any("launches this config with" in n for n in w.notes)


def test_the_model_word_pattern_stays_linear_on_large_launchers(tmp_path: Path) -> None:
    config = _repo(tmp_path)
    (tmp_path / "train.sh").write_text("torchrun train.py configs/sft.yaml " + "--model" + "-" * 200_000 + "_path x\n")
    w = load_config(config).workload
    assert not w.model.known


def test_an_axolotl_placeholder_takes_the_base_model_its_launch_line_writes_over_the_yaml(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = tmp_path / "lora.yml"
    config.write_text(
        "base_model: /path/to/model\nadapter: lora\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: true\n"
        "datasets:\n  - path: tatsu-lab/alpaca\n    type: alpaca\noutput_dir: out\n"
    )
    (tmp_path / "run.sh").write_text("#!/bin/bash\naccelerate launch -m axolotl.cli.train lora.yml --base_model NousResearch/Llama-2-7b-hf\n")
    w = load_config(config).workload
    assert w.format == "axolotl" and w.model.family == "llama2" and w.model.n_layers == 32
    assert w.model.inferred is not None and "(the model run.sh:2 launches this config with;" in w.model.inferred
    assert not any("not read by goblin" in n and "--base_model" in n for n in w.notes)


# The model the launch line writes over a config that names its own (LLaMA-Factory's `model_name_or_path=X` word,
# launch_line.LLAMAFACTORY_CLI_AT; Axolotl's `--base_model X`, AXOLOTL_CLI_AT; torchtune's `model._component_=B`,
# torchtune/config/_utils.py:193@v0.6.1): that model runs, so it is sized, sourced at the line and said.
def _lf_named(tmp_path: Path, launcher: str) -> Path:
    config = _lf_repo(tmp_path)
    config.write_text(config.read_text().replace("/path/to/model", "Qwen/Qwen2-7B-Instruct"))
    (tmp_path / "train.sh").write_text(launcher)
    return config


def test_a_llamafactory_model_word_over_the_yaml_sizes_the_run(tmp_path: Path) -> None:
    config = _lf_named(tmp_path, "#!/bin/bash\nllamafactory-cli train configs/sft.yaml model_name_or_path=meta-llama/Llama-2-13b-hf\n")
    w = load_config(config).workload
    assert w.model.family == "llama2" and w.model.n_layers == 40
    src = w.sources["model"]
    assert src.file == str(tmp_path / "train.sh") and src.line == 2 and src.key == "model_name_or_path"
    said = [n for n in w.notes if n.startswith("model from train.sh:2: `model_name_or_path=meta-llama/Llama-2-13b-hf` on train.sh line 2")]
    assert said and "the config's own `model_name_or_path: Qwen/Qwen2-7B-Instruct` (line 1) is overridden" in said[0]
    assert not any("not read by goblin" in n for n in w.notes)


def test_a_llamafactory_model_word_before_the_cli_merge_leaves_the_yaml_model(tmp_path: Path) -> None:
    config = _lf_named(tmp_path, "#!/bin/bash\nllamafactory-cli train configs/sft.yaml model_name_or_path=meta-llama/Llama-2-13b-hf\n")
    (tmp_path / "requirements.txt").write_text("llamafactory==0.9.2\n")
    w = load_config(config).workload
    assert w.model.family == "qwen2" and w.sources["model"].file == str(config)
    assert not any(n.startswith("model from") for n in w.notes)


def _axolotl(tmp_path: Path, launcher: str) -> Path:
    (tmp_path / ".git").mkdir()
    config = tmp_path / "lora.yml"
    config.write_text(
        "base_model: NousResearch/Llama-2-7b-hf\nadapter: lora\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: true\n"
        "datasets:\n  - path: tatsu-lab/alpaca\n    type: alpaca\noutput_dir: out\n"
    )
    (tmp_path / "run.sh").write_text(launcher)
    return config


@pytest.mark.parametrize(
    "line",
    ["axolotl train lora.yml --base_model meta-llama/Llama-2-13b-hf", "accelerate launch -m axolotl.cli.train lora.yml --base_model=meta-llama/Llama-2-13b-hf"],
)
def test_an_axolotl_base_model_flag_over_the_yaml_sizes_the_run(tmp_path: Path, line: str) -> None:
    w = load_config(_axolotl(tmp_path, f"#!/bin/bash\n{line}\n")).workload
    assert w.model.family == "llama2" and w.model.n_layers == 40
    assert w.sources["model"].file == str(tmp_path / "run.sh") and w.sources["model"].line == 2
    assert any(n.startswith("model from run.sh:2: `--base_model meta-llama/Llama-2-13b-hf`") for n in w.notes)
    assert not any("not read by goblin" in n and "base_model" in n for n in w.notes)


def test_an_axolotl_line_without_a_model_flag_keeps_the_yaml_model(tmp_path: Path) -> None:
    w = load_config(_axolotl(tmp_path, "#!/bin/bash\naxolotl train lora.yml --micro_batch_size 4\n")).workload
    assert w.model.family == "llama2" and w.model.n_layers == 32 and w.micro_batch_size == 4
    assert not any(n.startswith("model from") for n in w.notes)


_TUNE = (
    "model:\n  _component_: torchtune.models.llama3_1.lora_llama3_1_8b\n  lora_attn_modules: ['q_proj', 'v_proj']\n  lora_rank: 8\n"
    "optimizer:\n  _component_: torch.optim.AdamW\n  lr: 3e-4\nbatch_size: 2\ndtype: bf16\nenable_activation_checkpointing: True\n"
)


@pytest.mark.parametrize(
    "config_word, taken, word", [("lora.yaml", True, "model._component_"), ("lora.yaml", True, "model"), ("other.yaml", False, "model._component_")]
)
def test_a_torchtune_builder_word_over_the_yaml_sizes_the_run(tmp_path: Path, config_word: str, taken: bool, word: str) -> None:
    # `model=B` is read as `model._component_=B` (torchtune/config/_utils.py:174-175@v0.6.1)
    (tmp_path / ".git").mkdir()
    config = tmp_path / "lora.yaml"
    config.write_text(_TUNE)
    (tmp_path / "run.sh").write_text(
        f"#!/bin/bash\ntune run lora_finetune_single_device --config {config_word} {word}=torchtune.models.llama3_1.qlora_llama3_1_70b\n"
    )
    w = load_config(config).workload
    if not taken:  # the line runs another config: the file's own builder
        assert w.model.name.endswith("lora_llama3_1_8b") and w.method == "lora" and not any(n.startswith("model from") for n in w.notes)
        return
    assert w.model.name == "torchtune.models.llama3_1.qlora_llama3_1_70b" and w.model.params_b is not None and w.model.params_b > 60
    assert w.method == "qlora" and w.quantization == "4bit"
    for field in ("model", "method"):
        assert w.sources[field].file == str(tmp_path / "run.sh") and w.sources[field].line == 2
    said = [n for n in w.notes if n.startswith(f"model from run.sh:2: `{word}=torchtune.models.llama3_1.qlora_llama3_1_70b`")]
    assert said and "the config's own `model._component_: torchtune.models.llama3_1.lora_llama3_1_8b` (line 2) is overridden" in said[0]


_TRL_SCRIPT = (
    "from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser\n"
    "parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))\n"
    "script_args, training_args, model_args = parser.parse_args_and_config()\n"
    "SFTTrainer(model=model_args.model_name_or_path, args=training_args).train()\n"
)
_ARGPARSE_SCRIPT = (
    "import argparse\nimport yaml\nfrom transformers import Trainer, TrainingArguments\n"
    "p = argparse.ArgumentParser()\np.add_argument('--config')\np.add_argument('--model_name_or_path')\nargs = p.parse_args()\n"
    "cfg = yaml.safe_load(open(args.config))\nTrainer(args=TrainingArguments(**cfg)).train()\n"
)


@pytest.mark.parametrize("script, taken", [(_TRL_SCRIPT, True), (_ARGPARSE_SCRIPT, False)])
def test_a_trl_model_flag_over_the_recipe_sizes_the_run(tmp_path: Path, script: str, taken: bool) -> None:
    """TrlParser sets `--model_name_or_path X` over the `--config` file (launch_line.SCRIPT_FLAGS_AT); a script of its own
    whose parser does not merge the words over the file leaves the file's model."""
    config = _repo(tmp_path, "Qwen/Qwen2-7B-Instruct")
    (tmp_path / "sft.py").write_text(script)
    (tmp_path / "run.sh").write_text("#!/bin/bash\naccelerate launch sft.py --config configs/sft.yaml --model_name_or_path meta-llama/Llama-2-13b-hf\n")
    w = load_config(config).workload
    if not taken:
        assert w.model.family == "qwen2" and not any(n.startswith("model from") for n in w.notes)
        return
    assert w.model.family == "llama2" and w.model.n_layers == 40
    assert w.sources["model"].file == str(tmp_path / "run.sh") and w.sources["model"].line == 2
    assert any(
        n.startswith("model from run.sh:2: `--model_name_or_path meta-llama/Llama-2-13b-hf` on run.sh line 2: sft.py sets it over the file") for n in w.notes
    )
