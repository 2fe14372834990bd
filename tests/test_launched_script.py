"""A YAML recipe read through the script its repository's launch line runs on it (issue 23, review
classes 5 and 6): the repository's own argument classes' defaults and the trainer the script builds.
Nothing is executed."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.launched import launched_script
from pytest_goblin.options import build_settings
from pytest_goblin.service import audit_file

from .repo_files import write_file

RECIPE = """\
model_name_or_path: mistralai/Mistral-7B-Instruct-v0.2
bf16: true
gradient_checkpointing: true
per_device_train_batch_size: 2
gradient_accumulation_steps: 16
learning_rate: 5.0e-7
max_length: 2048
output_dir: out
"""
PREFERENCE = RECIPE + "beta: 2.5\ngamma_beta_ratio: 0.1\nmax_prompt_length: 1800\n"


def test_the_repositorys_own_config_class_defaults_fill_the_keys_the_file_leaves_out(tmp_path: Path) -> None:
    # project-numina/aimo-progress-prize: training/aimo/configs/sft_config.py:51-53 `packing: bool = True`
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "training/aimo/__init__.py", "")
    write_file(tmp_path, "training/aimo/configs/__init__.py", "from .sft_config import SFTConfig\n")
    write_file(
        tmp_path,
        "training/aimo/configs/sft_config.py",
        "from dataclasses import dataclass, field\nimport transformers\n\n\n@dataclass\nclass SFTConfig(transformers.TrainingArguments):\n"
        "    optim: str = field(default='adamw_torch')\n    packing: bool = field(default=True)\n",
    )
    write_file(
        tmp_path,
        "training/sft.py",
        "from aimo.configs import SFTConfig\nfrom transformers import HfArgumentParser\nfrom trl import SFTTrainer\n"
        "parser = HfArgumentParser((SFTConfig,))\n(args,) = parser.parse_yaml_file('x')\nSFTTrainer(args=args).train()\n",
    )
    config = write_file(tmp_path, "training/configs/stage-2.yaml", RECIPE)
    write_file(tmp_path, "README.md", "```shell\naccelerate launch training/sft.py training/configs/stage-2.yaml\n```\n")
    w = load_config(config).workload
    assert w.sample_packing is True and w.optimizer == "adamw_torch"
    note = w.sources["sample_packing"].note or ""
    assert not w.sources["sample_packing"].explicit
    assert (
        "the default of the repository's SFTConfig (training/aimo/configs/sft_config.py:8), which training/sft.py parses this file into (README.md line 2)"
        in note
    )
    write_file(tmp_path, "training/configs/stage-2.yaml", RECIPE + "packing: false\n")
    assert load_config(config).workload.sample_packing is False  # the file's own key wins
    (tmp_path / "README.md").unlink()
    assert load_config(config).workload.sample_packing is False  # no launch line: TRL's default


SIMPO_TRAINER = """\
from transformers import Trainer


class SimPOTrainer(Trainer):
    def concatenated_forward(self, model, batch):
        return model(batch["concatenated_input_ids"])
"""


def test_a_preference_trainer_is_read_from_the_launched_script(tmp_path: Path) -> None:
    # princeton-nlp/SimPO: README.md:192 runs scripts/run_simpo.py on the recipe; simpo_trainer.py:597 concatenated_forward
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "scripts/simpo_trainer.py", SIMPO_TRAINER)
    write_file(
        tmp_path,
        "scripts/run_simpo.py",
        "from simpo_trainer import SimPOTrainer\nfrom transformers import HfArgumentParser, TrainingArguments\n"
        "parser = HfArgumentParser((TrainingArguments,))\n(args,) = parser.parse()\nSimPOTrainer(args=args).train()\n",
    )
    config = write_file(tmp_path, "training_configs/simpo.yaml", PREFERENCE)
    write_file(tmp_path, "README.md", "```shell\naccelerate launch --num_processes 4 scripts/run_simpo.py training_configs/simpo.yaml\n```\n")
    w = load_config(config).workload
    assert (w.sequences_per_example, w.reference_forward, w.reference_copy) == (2, False, False)
    assert any("SimPOTrainer (scripts/simpo_trainer.py:4) runs chosen and rejected through the model together" in n for n in w.notes)
    # a repository trainer that keeps a reference model goblin cannot size: not resolved
    write_file(tmp_path, "scripts/simpo_trainer.py", SIMPO_TRAINER + "    def ref(self):\n        return self.ref_model\n")
    assert load_config(config).workload.sequences_per_example == 1


def test_trls_dpo_trainer_in_the_launched_script(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(
        tmp_path,
        "run_dpo.py",
        "from trl import DPOTrainer, DPOConfig\nfrom transformers import HfArgumentParser\n"
        "parser = HfArgumentParser((DPOConfig,))\n(args,) = parser.parse()\nDPOTrainer(model='m', args=args).train()\n",
    )
    config = write_file(tmp_path, "recipes/dpo_run.yaml", PREFERENCE.replace("gamma_beta_ratio: 0.1\n", ""))
    write_file(tmp_path, "train.sh", "python run_dpo.py recipes/dpo_run.yaml\n")
    launched = launched_script(config)
    assert launched is not None and launched.preference is not None and launched.preference[0] == "dpo"
    w = load_config(config).workload
    assert (w.sequences_per_example, w.reference_forward, w.reference_copy) == (2, True, True)


def test_an_unresolved_preference_file_is_inconclusive_never_pass(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = write_file(tmp_path, "configs/mistral-7b-instruct.yaml", PREFERENCE)
    r = audit_file(config, build_settings({}), shown_as="configs/mistral-7b-instruct.yaml").report
    assert r is not None and r.verdict != "pass"
    assert r.inconclusive is not None and "a preference trainer's keys (beta, gamma_beta_ratio, max_prompt_length)" in r.inconclusive
    plain = write_file(tmp_path, "configs/mistral-7b-sft.yaml", RECIPE)
    r = audit_file(plain, build_settings({}), shown_as="configs/mistral-7b-sft.yaml").report
    assert r is not None and (r.inconclusive is None or "preference trainer" not in r.inconclusive)


def test_a_file_with_generation_keys_is_online_rl_named_from_its_keys(tmp_path: Path) -> None:
    """review2 #9 (minwukim/VRL): no trainer named; num_generations, use_vllm and vllm_max_model_len (GRPOConfig only,
    trl 0.15-0.17) say GRPO: the online-RL reason, not "chosen and rejected sequences"."""
    from pytest_goblin.frameworks.history import online_trainer_from_keys

    (tmp_path / ".git").mkdir()
    grpo = (
        PREFERENCE.replace("gamma_beta_ratio: 0.1\n", "")
        + "num_generations: 8\nmax_completion_length: 2048\nuse_vllm: true\nvllm_max_model_len: 5000\nscale_rewards: false\n"
    )
    config = write_file(tmp_path, "math_vanilla.yaml", "model_name: Qwen/Qwen2.5-3B-Instruct\n" + grpo)
    got = online_trainer_from_keys(["num_generations", "use_vllm", "vllm_max_model_len", "scale_rewards", "beta", "max_prompt_length"])
    assert got is not None and got.classes == ("GRPOConfig",) and got.releases == "trl 0.16.1-0.17.0"
    w = load_config(config).workload
    assert w.framework is not None and w.framework.endswith("(GRPOConfig)")
    assert any("named from the file's keys" in n and "trl 0.16.1-0.17.0" in n for n in w.notes), w.notes
    # review10b #22: one class note, never "named from the keys" beside "the file names no trainer; keys fit N classes"
    said = [n for n in w.notes if n.startswith("TRL config class:")]
    assert len(said) == 1 and "GRPOConfig, named from the file's keys" in said[0], said
    assert "the file names no trainer, so edits are offered only where every class its keys fit accepts them (" in said[0]
    plain = write_file(tmp_path, "math_other.yaml", "model_name: Qwen/Qwen2.5-3B-Instruct\n" + RECIPE + "beta: 0.1\nmax_prompt_length: 512\n")
    other = [n for n in load_config(plain).workload.notes if n.startswith("TRL config class:")]
    assert len(other) == 1 and "named from the file's keys" not in other[0] and "the file names no trainer" in other[0], other
    r = audit_file(config, build_settings({}), shown_as="math_vanilla.yaml").report
    assert r is not None and r.verdict != "pass" and r.inconclusive is not None
    assert "online RL (grpo)" in r.inconclusive and "chosen and rejected" not in r.inconclusive
    # must not: without a generation key the preference keys still say "preference trainer not resolved"
    assert online_trainer_from_keys(["beta", "max_prompt_length", "max_completion_length"]) is None
    assert online_trainer_from_keys(["num_generations", "no_such_trl_key_anywhere"]) is not None  # a key no class has is another dataclass's


def test_an_unpinned_trl_recipe_is_read_at_the_release_its_keys_say(tmp_path: Path) -> None:
    """review2 #9 again: with no pin, the one reading (sources["framework"], `goblin parse --json`'s
    framework_version, the rollout's defaults) is the newest release with the file's keys, trl 0.17.0, not the
    newest goblin read; a pin, or a file without generation keys, keeps the pin's / the tables' release."""
    from pytest_goblin.formats.record import parse_record
    from pytest_goblin.frameworks.history import reading

    (tmp_path / ".git").mkdir()
    grpo = PREFERENCE.replace("gamma_beta_ratio: 0.1\n", "") + "num_generations: 8\nuse_vllm: true\nvllm_max_model_len: 5000\nscale_rewards: false\n"
    config = write_file(tmp_path, "math_vanilla.yaml", "model_name: Qwen/Qwen2.5-3B-Instruct\n" + grpo)
    w = load_config(config).workload
    got = reading(w.framework, str(config))
    assert got is not None and got.version == "0.17.0" and got.assumed and "the file's keys (trl 0.16.1-0.17.0)" in got.source
    assert "trl 0.17.0 assumed" in w.sources["framework"].note
    record, ok = parse_record(config)
    assert ok and record["framework_version"]["version"] == "0.17.0"
    r = audit_file(config, build_settings({}), shown_as="math_vanilla.yaml").report
    assert r is not None and r.rollout is None  # GRPO at trl 0.17.0, before 0.18: not modelled, as the rollout read it before
    # must not: a pin names the release; a file with no generation key is read at goblin's tables
    write_file(tmp_path / "pinned", "requirements.txt", "trl==0.15.2\n")
    pinned = reading(w.framework, str(write_file(tmp_path / "pinned", "math_vanilla.yaml", config.read_text())))
    assert pinned is not None and pinned.version == "0.15.2" and not pinned.assumed
    plain = write_file(tmp_path / "other", "sft.yaml", "model_name: Qwen/Qwen2.5-3B-Instruct\n" + RECIPE)
    tables = reading(w.framework, str(plain))
    assert tables is not None and tables.version == tables.tables and "file's keys" not in tables.source


def test_a_repository_subclass_of_a_trl_preference_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "alignment/__init__.py", "from .configs import DPOConfig\n")
    write_file(
        tmp_path,
        "alignment/configs.py",
        "import trl\nfrom dataclasses import dataclass\n\n\n@dataclass\nclass DPOConfig(trl.DPOConfig):\n    hub_model_revision: str = 'main'\n",
    )
    write_file(
        tmp_path,
        "scripts/run_pref.py",
        "from alignment import DPOConfig\nfrom transformers import HfArgumentParser\nfrom my_trainers import PrefTrainer\n"
        "parser = HfArgumentParser((DPOConfig,))\n(args,) = parser.parse()\nPrefTrainer(args=args).train()\n",
    )
    config = write_file(tmp_path, "recipes/zephyr.yaml", PREFERENCE.replace("gamma_beta_ratio: 0.1\n", ""))
    write_file(tmp_path, "run.sh", "accelerate launch scripts/run_pref.py recipes/zephyr.yaml\n")
    launched = launched_script(config)
    assert launched is not None and launched.preference == (
        "dpo",
        "the script parses the file into DPOConfig (alignment/configs.py:6), a subclass of TRL's DPOConfig",
    )
    assert load_config(config).workload.sequences_per_example == 2
