"""The shipped key history (frameworks/key_history.json, scripts/gen_key_history.py): its shape, facts
read from the wheels, the release a recipe runs on, and the keys-at-version finding with its rename fix."""

from __future__ import annotations

from pathlib import Path

from packaging.version import Version

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import history as h
from pytest_goblin.frameworks.pins import Pin, pins
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import Finding

from .repo_files import fresh_root, write_tree

TF_WANTED = ["4.36.2", "4.40.2", "4.44.2", "4.46.3", "4.50.3", "4.53.3", "4.56.2", "4.57.6", "5.25.0"]
TRL_WANTED = ["0.7.11", "0.8.6", "0.9.6", "0.11.4", "0.12.2", "0.14.0", "0.16.1", "0.19.1", "0.21.0", "0.24.0", "1.16.0"]
HF = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\n"


def test_the_table_covers_the_releases_users_are_on() -> None:
    data = h.history()
    for dist, wanted in (("transformers", TF_WANTED), ("trl", TRL_WANTED)):
        versions = data[dist]["versions"]
        assert versions == sorted(versions, key=Version)
        assert set(wanted) <= set(versions), set(wanted) - set(versions)
        assert set(data[dist]["wheels"]) == set(versions)
        assert all(w.startswith(f"{dist}-{v}-") and ".whl sha256:" in w for v, w in data[dist]["wheels"].items())
        # every minor release in between is read, so a removal is placed in one release
        minors = sorted({(Version(v).major, Version(v).minor) for v in versions})
        assert len(minors) == len(versions)
    assert "TrainingArguments" in data["transformers"]["classes"]
    for cls in ("SFTConfig", "DPOConfig", "GRPOConfig", "KTOConfig", "ORPOConfig", "RewardConfig", "ModelConfig", "ScriptArguments"):
        entry = data["trl"]["classes"][cls]
        assert entry["present"] and entry["keys"], cls
        for key, k in entry["keys"].items():
            assert k["in"] and all(a in data["trl"]["versions"] and b in data["trl"]["versions"] for a, b in k["in"]), (cls, key)
            assert k["at"].split(" ", 1)[0] in data["trl"]["versions"] and ".py:" in k["at"], (cls, key)


def test_facts_read_from_the_wheels() -> None:
    # transformers 4.50.3 training_args.py:1430 (field) and :1610-1615 (deprecated, copied to eval_strategy); gone in 4.51.3
    assert h.present("transformers", "TrainingArguments", "evaluation_strategy", "4.40.2") is True
    assert h.present("transformers", "TrainingArguments", "evaluation_strategy", "4.50.3") is True
    assert h.present("transformers", "TrainingArguments", "evaluation_strategy", "4.51.3") is False
    assert h.present("transformers", "TrainingArguments", "evaluation_strategy", h.newest("transformers")) is False
    assert h.present("transformers", "TrainingArguments", "eval_strategy", "4.36.2") is False
    assert h.present("transformers", "TrainingArguments", "eval_strategy", "4.41.2") is True
    # transformers 5.14.1 training_args.py:1443 has warmup_ratio; 5.15.1 has none; 4.57.6 :839 overwrite_output_dir, gone in 5.0.0
    assert h.present("transformers", "TrainingArguments", "warmup_ratio", "5.14.1") is True
    assert h.present("transformers", "TrainingArguments", "warmup_ratio", "5.15.1") is False
    assert h.present("transformers", "TrainingArguments", "overwrite_output_dir", "5.0.0") is False
    # trl 0.19.1 sft_config.py:244 max_seq_length (deprecated :256-261), gone in 0.20.0; ModelConfig.torch_dtype gone in 0.27
    assert h.present("trl", "SFTConfig", "max_seq_length", "0.19.1") is True
    assert h.present("trl", "SFTConfig", "max_seq_length", "0.20.0") is False
    assert h.present("trl", "ModelConfig", "torch_dtype", "0.26.2") is True
    assert h.present("trl", "ModelConfig", "torch_dtype", "0.27.2") is False
    assert h.present("trl", "DPOConfig", "max_prompt_length", "0.28.0") is True
    assert h.present("trl", "DPOConfig", "max_prompt_length", "0.29.1") is False
    assert h.class_present("trl", "SFTConfig", "0.8.6") is False  # SFTConfig arrived in 0.9
    assert "dropped it in transformers 4.51" in h.change("transformers", "TrainingArguments", "evaluation_strategy", "5.25.0")
    assert "only from transformers 4.41" in h.change("transformers", "TrainingArguments", "eval_strategy", "4.36.2")


def test_which_trl_commands_stop_on_an_unknown_key() -> None:
    assert h.cli_rejects("sft", "0.11.4") is True  # cli_utils.py: "not used by the TrlParser" ValueError
    assert h.cli_rejects("sft", "0.13.0") is False  # config leftovers dropped
    assert h.cli_rejects("dpo", "0.19.1") is True  # fail_with_unknown_args=True by default
    assert h.cli_rejects("sft", "1.16.0") is False  # sft.py:144 passes fail_with_unknown_args=False
    assert h.cli_rejects("no_such_command", "1.16.0") is None


def test_the_release_a_recipe_runs_on() -> None:
    none = h.run_version("transformers", None)
    assert none is not None and none.assumed and none.version == h.newest("transformers") and "assumed" in none.how
    ranged = h.run_version("transformers", Pin("transformers", "4.40", "transformers>=4.40", "setup.py:3", ">=4.40,<4.46"))
    assert ranged is not None and ranged.version == "4.45.2" and not ranged.assumed
    exact = h.run_version("trl", Pin("trl", "0.8.6", "trl==0.8.6", "requirements.txt:1", "==0.8.6"))
    assert exact is not None and exact.version == "0.8.6"
    # a patch release not read stands for its minor's read release
    assert h.present("transformers", "TrainingArguments", "eval_strategy", "4.41.0") is True


def test_a_pin_keeps_its_upper_bound(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("transformers>=4.40, <4.46\n")
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(HF)
    got = pins(str(cfg), HF)["transformers"]
    assert got.constraint == ">=4.40,<4.46" and got.version == "4.40"


def _findings(tmp: Path, text: str, extra: dict[str, str] | None = None) -> list[Finding]:
    # a folder per case: pins are read once per folder
    path = write_tree(fresh_root(tmp, "case"), {**(extra or {}), "sft.yaml": text}) / "sft.yaml"
    _findings.last = path  # type: ignore[attr-defined]
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_a_rejected_key_names_its_line_release_and_replacement(tmp_path: Path) -> None:
    text = "# trl sft --config sft.yaml\n# pip install trl==0.12.2 transformers==4.53.3\n" + HF + "evaluation_strategy: steps  # every eval_steps\n"
    (f,) = _findings(tmp_path, text)
    assert f.blocker and f.rule_id == "blocker.keys_rejected_at_version" and f.key == "evaluation_strategy" and f.line == 7
    assert "dropped it in transformers 4.51" in f.message and "`eval_strategy` takes the same value" in f.message
    assert "trl==0.12.2" in f.message and "None" not in f.message
    assert f.fix == {"evaluation_strategy": {"rename_to": "eval_strategy"}}
    loaded = load_config(_findings.last)  # type: ignore[attr-defined]
    new, missed = loaded.adapter.apply_keys(loaded.text, loaded.data, f.fix)
    assert not missed and "eval_strategy: steps  # every eval_steps\n" in new and "evaluation_strategy" not in new


def test_without_a_pin_the_release_is_assumed_and_it_is_a_requirement(tmp_path: Path) -> None:
    (f,) = _findings(tmp_path, "# SFTTrainer arguments\n" + HF + "max_seq_length: 2048\n")
    assert not f.blocker and f.footgun and f.fix is None
    assert "dropped it in trl 0.20" in f.message and "assumed trl 1.16.0, the newest goblin knows" in f.message
    assert "`max_length` takes the same value" in f.message


def test_a_commit_pin_is_not_judged_against_the_newest_release(tmp_path: Path) -> None:
    """review3 (X-R1): a commit goblin's history does not place (frameworks/commit_releases.json) is a development build
    between two tags it cannot name offline, so its keys are not judged against the newest release; said as a commit,
    not "no pin" (a placed commit: tests/test_commit_releases.py)."""
    text = "# SFTTrainer arguments\n" + HF + "max_seq_length: 2048\n"
    commit = {"requirements.txt": "trl @ git+https://github.com/huggingface/trl.git@0123456789ab\n"}
    assert _findings(tmp_path, text, commit) == []
    got = pins(str(_findings.last), "")  # type: ignore[attr-defined]
    assert got["trl"].kind == "commit" and got["trl"].version == "" and "commit 0123456789ab" in got["trl"].spec
    # must not: a tag is a release (judged at it), and no pin at all is still checked at the newest, assumed
    (tagged,) = _findings(tmp_path, text, {"requirements.txt": "trl @ git+https://github.com/huggingface/trl.git@v0.20.0\n"})
    assert "trl==0.20.0" in tagged.message
    (unpinned,) = _findings(tmp_path, text)
    assert "assumed trl 1.16.0" in unpinned.message


def test_a_pinned_old_release_lacks_a_newer_key(tmp_path: Path) -> None:
    (f,) = _findings(tmp_path, HF + "eval_strategy: steps\n", {"requirements.txt": "transformers==4.36.2\n"})
    assert f.key == "eval_strategy" and "only from transformers 4.41" in f.message and "transformers==4.36.2" in f.message


def test_keys_that_must_not_be_flagged(tmp_path: Path) -> None:
    # accepted at the run's release; a key of the script's own dataclass (unknown to the history)
    assert _findings(tmp_path, "# SFTTrainer arguments\n" + HF + "max_length: 2048\ndataset_mixer: {a: 1}\nuse_flash_attention_2: true\n") == []
    # within the pin's range the key exists
    assert _findings(tmp_path, HF + "evaluation_strategy: steps\n", {"requirements.txt": "transformers>=4.40,<4.46\n"}) == []
    # ModelConfig / ScriptArguments keys of a TRL recipe count as accepted
    assert _findings(tmp_path, "# SFTTrainer arguments\n" + HF + "dtype: bfloat16\nuse_peft: true\ndataset_name: x/y\n") == []


def test_a_key_the_repository_declares_itself_is_not_judged(tmp_path: Path) -> None:
    code = "from dataclasses import dataclass\nimport transformers\n\n@dataclass\nclass SFTConfig(transformers.TrainingArguments):\n    max_seq_length: int = 2048\n"
    text = "# SFTTrainer arguments\n" + HF + "max_seq_length: 2048\n"
    assert _findings(tmp_path, text, {".git/HEAD": "ref: refs/heads/main\n", "src/configs.py": code}) == []
    assert len(_findings(tmp_path, text, {".git/HEAD": "ref: refs/heads/main\n"})) == 1


def test_a_rename_that_changes_the_value_is_not_offered(tmp_path: Path) -> None:
    # warmup_steps below 1 is a ratio (transformers 5.25.0 training_args.py:2158-2159): 2 would mean two steps
    text = "# trl sft --config sft.yaml\n# pip install trl==0.12.2 transformers==5.25.0\n" + HF + "warmup_ratio: 2\n"
    got = _findings(tmp_path, text)
    assert got and all(f.fix is None for f in got)
    assert any("not with the same value" in f.message for f in got)


def test_goblin_fix_writes_the_rename(tmp_path: Path) -> None:
    from pytest_goblin.patching import fix_note

    text = "# trl sft --config sft.yaml\n# pip install trl==0.12.2 transformers==4.53.3\n" + HF + "evaluation_strategy: steps\n"
    (f,) = _findings(tmp_path, text)
    path = _findings.last  # type: ignore[attr-defined]
    note = fix_note(path, None, load_config(path), f.fix)
    assert note is not None and "`evaluation_strategy` renamed `eval_strategy`" in note
    assert "eval_strategy: steps\n" in path.read_text() and "evaluation_strategy" not in path.read_text()
    assert _findings(tmp_path, path.read_text()) == []


# ------------------------------------------------------------------ torchtune, LLaMA-Factory, Axolotl
TT_WANTED = ["0.2.1", "0.3.1", "0.4.0", "0.5.0", "0.6.1"]
LF_WANTED = ["0.8.3", "0.9.0", "0.9.1", "0.9.2", "0.9.3", "0.9.4", "0.9.5"]
AX_WANTED = [
    "0.4.0",
    "0.5.2",
    "0.6.0",
    "0.7.0",
    "0.8.1",
    "0.9.2",
    "0.10.0",
    "0.11.0",
    "0.12.2",
    "0.13.2",
    "0.14.0",
    "0.15.0",
    "0.16.1",
    "0.17.0",
    "0.18.0",
    "0.19.0",
]
TT_PIN = {"torchtune": Pin("torchtune", "0.2.1", "torchtune==0.2.1", "requirements.txt:1", "==0.2.1")}
LF_092 = {"llamafactory": Pin("llamafactory", "0.9.2", "llamafactory==0.9.2", "requirements.txt:1", "==0.9.2")}
TT_YAML = """model:
  _component_: torchtune.models.llama3.llama3_8b
dataset:
  _component_: torchtune.datasets.alpaca_dataset
  split: train
  packed: false
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
batch_size: 2
epochs: 1
device: cuda
dtype: bf16
enable_activation_checkpointing: true
"""
LF_YAML = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nstage: sft\ndo_train: true\nfinetuning_type: full\ntrain_mm_proj_only: false\n"
    "dataset: alpaca_en_demo\ntemplate: llama3\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nbf16: true\noutput_dir: out\n"
)


def test_the_new_tables_cover_their_releases() -> None:
    data = h.history()
    for dist, wanted in (("torchtune", TT_WANTED), ("llamafactory", LF_WANTED), ("axolotl", AX_WANTED)):
        assert data[dist]["versions"] == wanted, dist
        assert set(data[dist]["wheels"]) == set(wanted)
    assert data["axolotl"]["wheels"]["0.4.0"].startswith("git tag v0.4.0 commit ")  # not on PyPI
    # Axolotl 0.4.0 had no pydantic schema (v0.4.0 src/axolotl/utils/config.py:187 validate_config checks keys by hand): nothing is said for it
    assert h.class_present("axolotl", "AxolotlInputConfig", "0.4.0") is False
    assert h.class_present("axolotl", "AxolotlInputConfig", "0.5.2") is True
    for cls in ("ModelArguments", "DataArguments", "FinetuningArguments", "GeneratingArguments"):
        assert data["llamafactory"]["classes"][cls]["present"] == [["0.8.3", "0.9.5"]]
    for key in (
        "compile",
        "enable_activation_checkpointing",
        "enable_activation_offloading",
        "optimizer_in_bwd",
        "fsdp_cpu_offload",
        "custom_sharded_layers",
        "clip_grad_norm",
        "dtype",
    ):
        assert h.ever("torchtune", "recipe:full_finetune_distributed", key), key


def test_the_transformers_each_llamafactory_release_installs_with_is_read_from_its_metadata() -> None:
    """releases.lf_transformers comes from key_history.json (gen_key_history.py, each release's METADATA
    Requires-Dist for a Linux training environment), every release read, with the line it came from."""
    from pytest_goblin.frameworks.releases import lf_transformers

    reqs = h.history()["llamafactory"]["transformers_requirement"]
    assert set(reqs) == set(LF_WANTED)
    assert all(r["at"].startswith(f"llamafactory-{v}-py3-none-any.whl METADATA Requires-Dist: transformers") for v, r in reqs.items())
    assert lf_transformers("0.8.3") == ">=4.41.2"
    # 0.9.2 lists transformers twice: the python >= 3.10 line (!=4.48.0), not the older pythons' (!=4.48.*)
    assert lf_transformers("0.9.2") == ">=4.41.2,<=4.49.0,!=4.46.*,!=4.47.*,!=4.48.0" and 'python_version >= "3.10"' in reqs["0.9.2"]["at"]
    assert lf_transformers("0.9.3") == ">=4.45.0,<=4.52.4,!=4.46.*,!=4.47.*,!=4.48.0,!=4.52.0"  # not darwin's <=4.51.3
    assert lf_transformers("0.9.5") == ">=4.55.0,<=5.6.0,!=4.52.0,!=4.57.0"
    assert lf_transformers("0.7.0") is None  # a release goblin did not read says nothing


def test_torchtune_facts_read_from_the_wheels() -> None:
    # 0.2.1 recipes/full_finetune_distributed.py reads no `compile` (its FSDP is FULL_SHARD, :326); 0.3.1 does
    assert h.present("torchtune", "recipe:full_finetune_distributed", "compile", "0.2.1") is False
    assert h.present("torchtune", "recipe:full_finetune_distributed", "compile", "0.3.1") is True
    assert h.present("torchtune", "recipe:lora_finetune_single_device", "compile", "0.2.1") is True
    assert h.present("torchtune", "recipe:full_finetune_distributed", "enable_activation_offloading", "0.3.1") is False
    assert h.present("torchtune", "recipe:full_finetune_distributed", "enable_activation_offloading", "0.4.0") is True
    # alpaca_dataset: `split` only from 0.3 (0.6.1 torchtune/datasets/_alpaca.py:26), **kwargs only from 0.3
    assert h.present("torchtune", "torchtune.datasets.alpaca_dataset", "split", "0.2.1") is False
    assert h.present("torchtune", "torchtune.datasets.alpaca_dataset", "packed", "0.2.1") is True
    assert h.history()["torchtune"]["classes"]["torchtune.datasets.alpaca_dataset"]["takes_kwargs"] == [["0.3.1", "0.6.1"]]
    # a default that changed: enable_activation_checkpointing was read without one (cfg.enable_activation_checkpointing) until 0.3
    from pytest_goblin.frameworks.releases import default_at

    old = default_at("torchtune", "recipe:full_finetune_distributed", "enable_activation_checkpointing", "0.3.1")
    new = default_at("torchtune", "recipe:full_finetune_distributed", "enable_activation_checkpointing", "0.6.1")
    assert old is not None and old.value == {"required": True} and old.cite.endswith("@0.3.1")
    assert new is not None and new.value is False and new.cite == "recipes/full_finetune_distributed.py:199@0.6.1"
    assert default_at("torchtune", "recipe:full_finetune_distributed", "compile", "0.6.1") is None  # False in every release read


def test_llamafactory_and_axolotl_facts_read_from_the_wheels() -> None:
    from pytest_goblin.frameworks.releases import default_at

    assert h.present("llamafactory", "FinetuningArguments", "train_mm_proj_only", "0.9.1") is True
    assert h.present("llamafactory", "FinetuningArguments", "train_mm_proj_only", "0.9.2") is False
    assert h.present("llamafactory", "FinetuningArguments", "use_muon", "0.9.2") is False
    assert h.present("llamafactory", "FinetuningArguments", "use_muon", "0.9.3") is True
    # cutoff_len 1024 until 0.9.0, 2048 from 0.9.1 (data_args.py); flash_attn stays "auto" (0.9.2 turned it into AttentionFunction.AUTO)
    cut_old, cut_new = default_at("llamafactory", "DataArguments", "cutoff_len", "0.9.0"), default_at("llamafactory", "DataArguments", "cutoff_len", "0.9.5")
    assert cut_old is not None and cut_old.value == 1024 and cut_old.cite.startswith("llamafactory/hparams/data_args.py:")
    assert cut_new is not None and cut_new.value == 2048 and "1024 in llamafactory 0.8.3..0.9.0" in cut_new.changed
    assert default_at("llamafactory", "ModelArguments", "flash_attn", "0.8.3") is None
    assert h.history()["llamafactory"]["parser_rejects_unknown"]["rejects"] == [["0.8.3", "0.9.5"]]
    assert h.history()["llamafactory"]["parser_rejects_unknown"]["allow_extra_args_env"] == [["0.9.2", "0.9.5"]]
    ax = default_at("axolotl", "AxolotlInputConfig", "tf32", "0.16.1")
    assert ax is not None and ax.value == "auto" and default_at("axolotl", "AxolotlInputConfig", "tf32", "0.15.0") is not None


def test_trl_defaults_that_changed() -> None:
    from pytest_goblin.frameworks.releases import default_at

    # transformers: report_to unset (None, every installed integration in 4.x) became "none" in 5.0
    rep_old, rep_new = (
        default_at("transformers", "TrainingArguments", "report_to", "4.57.6"),
        default_at("transformers", "TrainingArguments", "report_to", "5.0.0"),
    )
    assert rep_old is not None and rep_old.value is None and rep_new is not None and rep_new.value == "none"
    assert rep_new.cite.startswith("transformers/training_args.py:") and rep_new.cite.endswith("@5.25.0")

    beta_old, beta_new = default_at("trl", "GRPOConfig", "beta", "0.18.2"), default_at("trl", "GRPOConfig", "beta", "1.16.0")
    assert beta_old is not None and beta_old.value == 0.04 and beta_new is not None and beta_new.value == 0.0
    mode_old, mode_new = default_at("trl", "GRPOConfig", "vllm_mode", "0.29.1"), default_at("trl", "GRPOConfig", "vllm_mode", "1.0.0")
    assert mode_old is not None and mode_old.value == "server" and mode_new is not None and mode_new.value == "colocate"
    seq = default_at("trl", "SFTConfig", "max_seq_length", "0.15.2")
    assert seq is not None and seq.value == 1024 and seq.cite == "trl/trainer/sft_config.py:98@0.15.2"


def _pinned_findings(tmp: Path, text: str, pinned: dict[str, Pin], monkeypatch: object, name: str = "cfg.yaml") -> list[Finding]:
    import pytest_goblin.frameworks.pins as pins_module

    monkeypatch.setattr(pins_module, "pins", lambda path, text=None: pinned)  # type: ignore[attr-defined]
    path = tmp / name
    path.write_text(text)
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_a_torchtune_builder_argument_the_pinned_release_lacks(tmp_path: Path, monkeypatch: object) -> None:
    (f,) = _pinned_findings(tmp_path, TT_YAML, TT_PIN, monkeypatch)
    assert f.blocker and f.key == "dataset.split" and f.line == 5
    assert "only from torchtune 0.3" in f.message and "torchtune==0.2.1" in f.message and "TypeError" in f.message
    assert "_instantiate.py:20" in f.message and "None" not in f.message


def test_torchtune_keys_that_must_not_be_flagged(tmp_path: Path, monkeypatch: object) -> None:
    newer = {"torchtune": Pin("torchtune", "0.3.1", "torchtune==0.3.1", "requirements.txt:1", "==0.3.1")}
    assert _pinned_findings(tmp_path, TT_YAML, newer, monkeypatch) == []  # 0.3.1 has `split`
    assert _pinned_findings(tmp_path, TT_YAML, {}, monkeypatch) == []  # no torchtune pin: nothing said
    # a top-level key the 0.2.1 recipe does not read is ignored by torchtune: no finding
    assert _pinned_findings(tmp_path, TT_YAML.replace("  split: train\n", "") + "compile: true\n", TT_PIN, monkeypatch) == []


def test_a_llamafactory_key_the_pinned_release_dropped(tmp_path: Path, monkeypatch: object) -> None:
    (f,) = _pinned_findings(tmp_path, LF_YAML, LF_092, monkeypatch)
    assert f.blocker and f.key == "train_mm_proj_only" and f.line == 5
    assert "dropped it in llamafactory 0.9.2" in f.message and "llamafactory==0.9.2" in f.message
    assert "parser.py:84" in f.message and "None" not in f.message


def test_llamafactory_keys_that_must_not_be_flagged(tmp_path: Path, monkeypatch: object) -> None:
    old = {"llamafactory": Pin("llamafactory", "0.9.1", "llamafactory==0.9.1", "requirements.txt:1", "==0.9.1")}
    assert _pinned_findings(tmp_path, LF_YAML, old, monkeypatch) == []  # 0.9.1 still has it
    # no LLaMA-Factory pin: the newest read (0.9.5), whose parser stops on the key, assumed and said so; a requirement,
    # since the repository may run an older release that has it (review12b C2/C3: a blocker on a pinned release only)
    (unpinned,) = _pinned_findings(tmp_path, LF_YAML, {}, monkeypatch)
    assert not unpinned.blocker and unpinned.rule_id == "blocker.keys_unknown_at_version" and "assumed llamafactory 0.9.5" in unpinned.message
    assert "So at that release the run would not start." in unpinned.message and "llamafactory 0.9.1 is the newest release goblin read" in unpinned.message
    assert _pinned_findings(tmp_path, "# ALLOW_EXTRA_ARGS=1 llamafactory-cli train cfg.yaml\n" + LF_YAML, LF_092, monkeypatch) == []
    # a TrainingArguments key: LLaMA-Factory 0.9.2 installs transformers <=4.49.0, which still has evaluation_strategy
    assert _pinned_findings(tmp_path, LF_YAML.replace("train_mm_proj_only: false", "evaluation_strategy: steps"), LF_092, monkeypatch) == []


def test_llamafactory_keys_no_release_has_stop_the_run(tmp_path: Path, monkeypatch: object) -> None:
    """review2 #13/#14 (open-thoughts): `global_batch_size` and dataset_info.json fields (`formatting`, `messages`,
    `role_tag`) at a classic LLaMA-Factory recipe's top level; every release's parser rejects them."""
    text = LF_YAML.replace("train_mm_proj_only: false\n", "") + "global_batch_size: 96\nformatting: sharegpt\nmessages: conversations\nrole_tag: from\n"
    got = {f.key: f for f in _pinned_findings(tmp_path, text, {}, monkeypatch)}
    assert set(got) == {"global_batch_size", "formatting", "messages", "role_tag"}
    assert all(f.fix is None and "None" not in f.message for f in got.values())
    assert all(got[k].blocker for k in ("formatting", "messages", "role_tag"))  # dataset_info.json fields at every release
    # any other key: the release is assumed, and a later one may have it (LLaMA-Factory's own HEAD examples do)
    unsure = got["global_batch_size"]
    assert not unsure.blocker and unsure.footgun and unsure.rule_id == "blocker.keys_unknown_at_version"
    assert "0.8.3-0.9.5" in unsure.message and "pin the release" in unsure.message and "dataset_info.json" not in unsure.message.split(". Versions")[0]
    assert "`columns` in dataset_info.json" in got["messages"].message and "`tags` in dataset_info.json" in got["role_tag"].message
    assert "data/README.md:7-44" in got["formatting"].message and "assumed llamafactory 0.9.5" in got["formatting"].message
    (pinned,) = [f for f in _pinned_findings(tmp_path, LF_YAML.replace("train_mm_proj_only: false", "global_batch_size: 96"), LF_092, monkeypatch)]
    assert pinned.blocker and "llamafactory==0.9.2" in pinned.message


def test_llamafactory_keys_no_release_has_that_must_not_be_flagged(tmp_path: Path, monkeypatch: object) -> None:
    text = LF_YAML.replace("train_mm_proj_only: false", "global_batch_size: 96")
    # a key of transformers' Seq2SeqTrainingArguments, which LLaMA-Factory's TrainingArguments extends
    assert _pinned_findings(tmp_path, LF_YAML.replace("train_mm_proj_only: false", "predict_with_generate: true"), {}, monkeypatch) == []
    # ALLOW_EXTRA_ARGS: the parser keeps going; USE_MCA: Megatron's argument classes read the recipe;
    # a release older than any read (0.7.1): not known; nothing said
    assert _pinned_findings(tmp_path, "# ALLOW_EXTRA_ARGS=1\n" + text, LF_092, monkeypatch) == []
    assert _pinned_findings(tmp_path, "# USE_MCA=1 llamafactory-cli train cfg.yaml\n" + text, LF_092, monkeypatch) == []
    old = {"llamafactory": Pin("llamafactory", "0.7.1", "llamafactory==0.7.1", "requirements.txt:1", "==0.7.1")}
    assert _pinned_findings(tmp_path, text, old, monkeypatch) == []
    # the repository's own dataclass has the field (a fork that adds it)
    import pytest_goblin.frameworks.history as hist

    monkeypatch.setattr(hist, "repository_fields", lambda path: frozenset({"global_batch_size"}))  # type: ignore[attr-defined]
    assert _pinned_findings(tmp_path, text, {}, monkeypatch) == []


def test_a_training_arguments_key_the_llamafactory_release_s_transformers_dropped(tmp_path: Path, monkeypatch: object) -> None:
    """review1 #2-#4 (OpenBMB/MiniCPM): `evaluation_strategy` in a LLaMA-Factory config; LLaMA-Factory 0.9.5
    installs transformers >=4.55.0 (pyproject.toml:43 at v0.9.5), whose TrainingArguments dropped it in 4.51."""
    text = LF_YAML.replace("train_mm_proj_only: false", "evaluation_strategy: steps")
    lf095 = {"llamafactory": Pin("llamafactory", "0.9.5", "llamafactory==0.9.5", "requirements.txt:1", "==0.9.5")}
    (f,) = _pinned_findings(tmp_path, text, lf095, monkeypatch)
    assert f.blocker and f.key == "evaluation_strategy" and "installs transformers >=4.55.0" in f.message
    assert f.fix == {"evaluation_strategy": {"rename_to": "eval_strategy"}}


def test_axolotl_drops_unknown_keys_so_nothing_is_flagged(tmp_path: Path, monkeypatch: object) -> None:
    text = "base_model: meta-llama/Meta-Llama-3-8B\ndatasets:\n  - path: tatsu-lab/alpaca\n    type: alpaca\nsequence_len: 2048\nmicro_batch_size: 1\ngradient_accumulation_steps: 4\nnum_epochs: 1\nlearning_rate: 0.0002\noptimizer: adamw_torch\nbf16: true\ntf32: auto\n"
    pin = {"axolotl": Pin("axolotl", "0.5.2", "axolotl==0.5.2", "requirements.txt:1", "==0.5.2")}
    assert _pinned_findings(tmp_path, text, pin, monkeypatch) == []


# ------------------------------------------------------------------ readers and edits follow the pinned release
TT_RECIPE = "# tune run --nproc_per_node 8 full_finetune_distributed --config cfg.yaml\n" + TT_YAML.replace("  split: train\n", "") + "compile: true\n"


def _pin_only(monkeypatch: object, pinned: dict[str, Pin]) -> None:
    import pytest_goblin.frameworks.pins as pins_module

    monkeypatch.setattr(pins_module, "pins", lambda path, text=None: pinned)  # type: ignore[attr-defined]


def test_torchtune_reads_compile_only_where_the_pinned_recipe_does(tmp_path: Path, monkeypatch: object) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(TT_RECIPE)
    _pin_only(monkeypatch, TT_PIN)
    w = load_config(path).workload
    src = w.sources["torch_compile"]
    assert w.torch_compile is False and not src.explicit and w.framework == "torchtune 0.2.1 (full_finetune_distributed)"
    assert src.note is not None and "(line 15) does nothing at torchtune 0.2.1" in src.note and "only from torchtune 0.3 on" in src.note
    assert w.gradient_checkpointing is True  # read by every release
    _pin_only(monkeypatch, {})
    w = load_config(path).workload
    assert w.torch_compile is True and w.sources["torch_compile"].explicit  # no torchtune pin: the file as written


def test_an_edit_the_pinned_release_does_not_read_is_not_offered(tmp_path: Path, monkeypatch: object) -> None:
    from pytest_goblin.frameworks import check_writes

    path = tmp_path / "cfg.yaml"
    path.write_text(TT_RECIPE.replace("compile: true\n", ""))
    loaded = load_config(path)
    _pin_only(monkeypatch, TT_PIN)
    bad = check_writes("torchtune", str(path), loaded.text, loaded.data, {"compile": True, "enable_activation_checkpointing": False})
    assert set(bad) == {"compile"} and "would do nothing" in bad["compile"] and "torchtune==0.2.1" in bad["compile"]
    _pin_only(monkeypatch, {"torchtune": Pin("torchtune", "0.3.1", "torchtune==0.3.1", "requirements.txt:1", "==0.3.1")})
    assert "compile" not in check_writes("torchtune", str(path), loaded.text, loaded.data, {"compile": True})
    # a builder argument the pinned builder lacks (no **kwargs at 0.2.1): TypeError at instantiate
    _pin_only(monkeypatch, TT_PIN)
    bad = check_writes("torchtune", str(path), loaded.text, loaded.data, {"dataset.split": "train", "dataset.packed": True})
    assert "dataset.split" in bad and "TypeError" in bad["dataset.split"] and "TypeError" not in bad.get("dataset.packed", "")
    lf = tmp_path / "lf.yaml"
    lf.write_text(LF_YAML.replace("train_mm_proj_only: false\n", ""))
    lf_loaded = load_config(lf)
    _pin_only(monkeypatch, LF_092)
    bad = check_writes("llamafactory", str(lf), lf_loaded.text, lf_loaded.data, {"use_muon": True})
    assert "use_muon" in bad and "only from llamafactory 0.9.3" in bad["use_muon"]


def test_llamafactory_cutoff_len_default_follows_the_pinned_release(tmp_path: Path, monkeypatch: object) -> None:
    path = tmp_path / "lf.yaml"
    path.write_text(LF_YAML.replace("train_mm_proj_only: false\n", ""))
    _pin_only(monkeypatch, {"llamafactory": Pin("llamafactory", "0.9.0", "llamafactory==0.9.0", "requirements.txt:1", "==0.9.0")})
    w = load_config(path).workload
    assert w.seq_len == 1024 and w.framework == "llamafactory 0.9.0 (stage sft)"
    assert w.sources["seq_len"].note is not None and "data_args.py:44@0.9.0" in w.sources["seq_len"].note
    _pin_only(monkeypatch, LF_092)
    assert load_config(path).workload.seq_len == 2048


def test_trl_gradient_checkpointing_default_follows_the_pin(tmp_path: Path) -> None:
    body = "# SFTTrainer arguments\n" + HF + "max_length: 2048\ndataset_name: trl-lib/Capybara\noutput_dir: out\n"
    old = _findings_dir(tmp_path, "old", body, "trl==0.18.2\n")
    new = _findings_dir(tmp_path, "new", body, "trl==0.22.2\n")
    w_old, w_new = load_config(old).workload, load_config(new).workload
    assert w_old.gradient_checkpointing is False and "off at trl 0.18.2" in (w_old.sources["gradient_checkpointing"].note or "")
    assert w_new.gradient_checkpointing is True


def _findings_dir(tmp: Path, name: str, body: str, requirements: str) -> Path:
    return write_tree(tmp / name, {"requirements.txt": requirements, "sft.yaml": body}) / "sft.yaml"


def test_transformers_before_436_runs_eager_attention_and_gets_no_attention_edit(tmp_path: Path) -> None:
    from pytest_goblin.frameworks import check_writes

    body = "# SFTTrainer arguments\n" + HF + "max_length: 2048\ndataset_name: trl-lib/Capybara\noutput_dir: out\n"
    old = _findings_dir(tmp_path, "old", body, "transformers==4.35.2\n")
    new = _findings_dir(tmp_path, "new", body, "transformers==4.36.2\n")
    loose = _findings_dir(tmp_path, "loose", body, "transformers>=4.30\n")
    w = load_config(old).workload
    assert w.attention == "eager" and "transformers==4.35.2" in (w.sources["attention"].note or "")
    assert load_config(new).workload.attention == "sdpa" and load_config(loose).workload.attention == "sdpa"
    loaded = load_config(old)
    bad = check_writes("hf-trainer", str(old), loaded.text, loaded.data, {"attn_implementation": "sdpa"})
    assert "attn_implementation" in bad and "before 4.36" in bad["attn_implementation"]
    loaded = load_config(new)
    assert "attn_implementation" not in check_writes("hf-trainer", str(new), loaded.text, loaded.data, {"attn_implementation": "sdpa"})


def test_axolotl_optimizer_default_follows_the_pinned_release(tmp_path: Path, monkeypatch: object) -> None:
    path = tmp_path / "ax.yaml"
    path.write_text(
        "base_model: meta-llama/Meta-Llama-3-8B\ndatasets:\n  - path: tatsu-lab/alpaca\n    type: alpaca\nsequence_len: 2048\n"
        "micro_batch_size: 1\ngradient_accumulation_steps: 4\nnum_epochs: 1\nlearning_rate: 0.0002\nbf16: true\noutput_dir: out\n"
    )
    _pin_only(monkeypatch, {"axolotl": Pin("axolotl", "0.6.0", "axolotl==0.6.0", "requirements.txt:1", "==0.6.0")})
    w = load_config(path).workload
    assert w.optimizer == "adamw_hf" and w.framework == "axolotl 0.6.0"
    assert "v0_4_1/__init__.py:439@0.6.0" in (w.sources["optimizer"].note or "")
    _pin_only(monkeypatch, {"axolotl": Pin("axolotl", "0.8.1", "axolotl==0.8.1", "requirements.txt:1", "==0.8.1")})
    assert load_config(path).workload.optimizer == "adamw_torch_fused"
    _pin_only(monkeypatch, {})
    w = load_config(path).workload
    assert w.optimizer == "adamw_torch_fused" and w.framework is not None and w.framework.startswith("axolotl 0.18.0")


def test_a_builder_argument_inside_a_dataset_list(tmp_path: Path, monkeypatch: object) -> None:
    text = TT_YAML.replace(
        "dataset:\n  _component_: torchtune.datasets.alpaca_dataset\n  split: train\n  packed: false\n",
        "dataset:\n  - _component_: torchtune.datasets.alpaca_dataset\n    split: train\n  - _component_: torchtune.datasets.slimorca_dataset\n    max_seq_len: 2048\n",
    )
    (f,) = _pinned_findings(tmp_path, text, TT_PIN, monkeypatch)
    assert f.key == "dataset.0.split" and f.line == 5 and "`dataset.0.split: train` (line 5)" in f.message and "None" not in f.message


SCRIPT = """from trl import SFTConfig, SFTTrainer

def main(model, data):
    args = SFTConfig(
        output_dir="out",
        max_seq_length=2048,
        per_device_train_batch_size=4,
        bf16=True,
    )
    SFTTrainer(model=model, args=args, train_dataset=data).train()
"""


def _script_findings(tmp: Path, requirements: str | None, script: str = SCRIPT) -> list[Finding]:
    files = {"train.py": script}
    if requirements is not None:
        files["requirements.txt"] = requirements
    path = write_tree(fresh_root(tmp, "case"), files, git=True) / "train.py"
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_a_keyword_the_config_class_lacks_in_code_stops_the_run(tmp_path: Path) -> None:
    """review3 (smollm train.py:98): SFTConfig(max_seq_length=...) with trl>=0.15; SFTConfig has no max_seq_length
    from trl 0.20, so the call raises TypeError at the release pip installs."""
    (f,) = _script_findings(tmp_path, "trl==0.20.0\n")
    assert f.blocker and f.key == "max_seq_length" and f.line == 6 and f.fix is None
    assert "SFTConfig(...)" in f.message and "TypeError" in f.message and "`max_length=`" in f.message and "None" not in f.message
    (unpinned,) = _script_findings(tmp_path, None)
    assert not unpinned.blocker and unpinned.footgun and "assumed trl 1.16.0" in unpinned.message
    # an open range installs the newest, assumed as without a pin (review4 #31): a requirement; a capped one is known
    (ranged,) = _script_findings(tmp_path, "trl>=0.15\n")
    assert not ranged.blocker and ranged.rule_id == "blocker.keys_unknown_at_version" and "trl>=0.15" in ranged.message
    (capped,) = _script_findings(tmp_path, "trl>=0.15,<0.22\n")
    assert capped.blocker and capped.rule_id == "blocker.keys_rejected_at_version"
    # must not: a release that still has the keyword, a commit pin, a keyword every release has
    assert _script_findings(tmp_path, "trl==0.19.1\n") == []
    assert _script_findings(tmp_path, "trl @ git+https://github.com/huggingface/trl.git@019fc6dbaa03\n") == []
    assert _script_findings(tmp_path, "trl==0.20.0\n", SCRIPT.replace("max_seq_length", "max_length")) == []


def test_a_python_script_pinned_before_436_gets_no_attn_implementation_edit(tmp_path: Path) -> None:
    """bigcode-project/starcoder finetune.py (review4 #33) pins transformers==4.28.1: a from_pretrained
    `attn_implementation` keyword there does nothing, so the SDPA edit is refused; from 4.36 it is written."""
    from pytest_goblin.frameworks import check_writes

    script = (
        "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
        "model = AutoModelForCausalLM.from_pretrained('bigcode/starcoder')\n"
        "args = TrainingArguments(output_dir='out', per_device_train_batch_size=1, gradient_accumulation_steps=16, bf16=True)\n"
        "Trainer(model=model, args=args).train()\n"
    )
    for name, pin, refused in (("old", "transformers==4.28.1\n", True), ("new", "transformers==4.36.2\n", False)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "requirements.txt").write_text(pin)
        (folder / "train.py").write_text(script)
        loaded = load_config(folder / "train.py")
        bad = check_writes("python", str(folder / "train.py"), loaded.text, loaded.data, {"attn_implementation": "sdpa"})
        assert ("attn_implementation" in bad) is refused
        if refused:
            assert "before 4.36" in bad["attn_implementation"]


def test_an_older_name_the_pinned_release_reads_is_read_as_the_new_key(tmp_path: Path) -> None:
    """review6b #21 (xuanhua/openr1_4x3090): trl 0.15's SFTConfig reads `use_liger` (trl/trainer/sft_config.py:75@69ad852e),
    which later releases name use_liger_kernel; goblin read only the new name and priced fp32 logits."""
    body = "# SFTTrainer arguments\n" + HF + "max_seq_length: 2048\nuse_liger: true\n"
    old = _findings_dir(tmp_path, "old", body, "trl==0.15.2\ntransformers==4.49.0\n")
    w = load_config(old).workload
    assert w.fused_kernels is True and w.sources["fused_kernels"].key == "use_liger" and w.sources["fused_kernels"].line == 7
    assert any("`use_liger` (line 7) is read as use_liger_kernel: trl 0.15.2 (trl==0.15.2" in n for n in w.notes)
    assert _findings(tmp_path, body, {"requirements.txt": "trl==0.15.2\ntransformers==4.49.0\n"}) == []  # accepted there
    # must not: the release the file runs on has dropped the name (trl 0.19.1), or no pin says which release runs (the
    # newest, assumed, has dropped it too): the key does nothing there, so fused kernels stay off
    for name, req in (("dropped", "trl==0.19.1\ntransformers==4.53.3\n"), ("unpinned", "")):
        w = load_config(_findings_dir(tmp_path, name, body, req)).workload
        assert w.fused_kernels is False and not any("is read as use_liger_kernel" in n for n in w.notes)
    # must not: a file setting both names is read under the new one
    both = _findings_dir(tmp_path, "both", body + "use_liger_kernel: false\n", "trl==0.15.2\ntransformers==4.49.0\n")
    w = load_config(both).workload
    assert w.fused_kernels is False and w.sources["fused_kernels"].key == "use_liger_kernel"


def test_a_dropped_older_name_is_renamed_to_the_key_that_replaced_it(tmp_path: Path) -> None:
    (f,) = _findings(
        tmp_path, "# trl sft --config sft.yaml\n" + HF + "max_length: 2048\nuse_liger: true\n", {"requirements.txt": "trl==0.19.1\ntransformers==4.53.3\n"}
    )
    # `trl sft` of 0.19.1 drops the key (a requirement, never written): the message names the key that replaced it
    assert f.key == "use_liger" and not f.blocker and "dropped it in trl 0.18" in f.message
    assert (
        "`use_liger_kernel` takes the same value (trl trl/trainer/sft_config.py:200-205@0.16.1" in f.message
        or "`use_liger_kernel` takes the same value (trl 0.16.1" in f.message
    )


TRL_SCRIPT = (
    "from trl import ModelConfig, ScriptArguments, SFTConfig, TrlParser\n\n"
    "if __name__ == '__main__':\n"
    "    parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))\n"
    "    {lhs} = parser.parse_args_and_config({kw})\n"
)


def _trl_parsed(tmp: Path, name: str, requirements: str, lhs: str = "script_args, training_args, model_args", kw: str = "", extra: str = "") -> list[Finding]:
    files = {
        "requirements.txt": requirements,
        "sft_train.py": TRL_SCRIPT.format(lhs=lhs, kw=kw) + extra,
        "run.sh": "accelerate launch sft_train.py --config sft.yaml\n",
        "sft.yaml": HF + "max_length: 2048\nevaluation_strategy: 'no'\n",
    }
    path = write_tree(tmp / name, files, git=True) / "sft.yaml"
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_the_scripts_trl_parser_decides_what_an_unread_key_does(tmp_path: Path) -> None:
    """review6b class 5 (#26 liv-daliberti/maxent-grpo, trl==0.18.0): TrlParser.parse_args_and_config of trl 0.18.0 drops
    config keys no dataclass reads (trl/scripts/utils.py:185-215@v0.18.0); from 0.19.0 it raises unless told not to."""
    pins_ = "trl==0.18.0\ntransformers==4.52.3\n"
    (f,) = _trl_parsed(tmp_path, "drops", pins_)
    assert f.key == "evaluation_strategy" and not f.blocker and "sft_train.py (line 5) parses the file with TrlParser" in f.message
    assert "so these do nothing" in f.message and "depends on how the file is read" not in f.message and "None" not in f.message
    (g,) = _trl_parsed(tmp_path, "raises", "trl==0.19.1\ntransformers==4.52.3\n")
    assert g.blocker and "stops with ValueError" in g.message
    (h,) = _trl_parsed(tmp_path, "told", "trl==0.19.1\ntransformers==4.52.3\n", kw="fail_with_unknown_args=False")
    assert not h.blocker and "so these do nothing" in h.message
    (i,) = _trl_parsed(tmp_path, "discarded", "trl==0.19.1\ntransformers==4.52.3\n", lhs="a, b, c, _", kw="return_remaining_strings=True")
    assert not i.blocker and "assigns the unread keys to `_`" in i.message
    # must not: the unread keys handed to the script, which may read them: goblin does not say what they do
    (j,) = _trl_parsed(tmp_path, "handed", pins_, lhs="a, b, c, rest", kw="return_remaining_strings=True")
    assert not j.blocker and "depends on how the file is read" in j.message and "TrlParser.parse_args_and_config" not in j.message.split("Source:")[0]
    # must not: the script reads an attribute of the dropped key's name itself (review6b #28 sft_train.py:45
    # `model_args.torch_dtype`): that line's outcome is not the key's, so it is not said to do nothing
    (k,) = _trl_parsed(tmp_path, "reads", pins_, extra="    print(training_args.evaluation_strategy)\n")
    assert "the script itself reads `.evaluation_strategy` (line 6)" in k.message and "so these do nothing" not in k.message
    assert "What that line does at this release goblin does not judge" in k.message and "None" not in k.message


def test_an_unpinned_trl_beside_a_transformers_pin_takes_the_default_of_the_release_pip_pairs_with_it(tmp_path: Path) -> None:
    """review13b #21 (fe1ixxu/ALMA): `pip install trl` beside `transformers==4.51.1` was read at trl 1.16.0, whose
    configs turn checkpointing on, though trl 1.16.0 requires transformers>=4.56.2; the newest trl that admits 4.51.1 is
    0.19.1 (0.20.0's METADATA: transformers>=4.53.2), whose SFTConfig leaves TrainingArguments' False."""
    body = "# SFTTrainer arguments\n" + HF + "max_length: 2048\ndataset_name: trl-lib/Capybara\noutput_dir: out\n"
    held = load_config(_findings_dir(tmp_path, "held", body, "transformers==4.51.1\ntrl\n")).workload
    note = held.sources["gradient_checkpointing"].note or ""
    assert held.gradient_checkpointing is False and "off at trl 0.19.1" in note and "None" not in note
    # must not: no transformers pin holds TRL back (the newest's True stands), nor one the newest TRL admits
    for name, reqs in (("free", "trl\n"), ("new", "transformers==4.57.1\ntrl\n")):
        assert load_config(_findings_dir(tmp_path, name, body, reqs)).workload.gradient_checkpointing is True
