"""Literal keywords of a TRL trainer constructor the release the repository runs on rejects (blind review 13b rows 25,
28-30; frameworks/trainer_kwargs.py, trainer_signatures.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import blockers
from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks.trainer_kwargs import rejects, trainer_calls
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import Finding

from .repo_files import fresh_root, write_tree

SCRIPT = """from trl import SFTTrainer, SFTConfig


def main(model, tok, data):
    args = SFTConfig(output_dir="out", per_device_train_batch_size=4, bf16=True)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=data,
        tokenizer=tok,
    )
    trainer.train()
"""


def _findings(tmp: Path, name: str, requirements: str | None, script: str = SCRIPT) -> list[Finding]:
    files = {"train.py": script}
    if requirements is not None:
        files["requirements.txt"] = requirements
    path = write_tree(fresh_root(tmp, name), files, git=True) / "train.py"
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_the_table_reads_the_releases_from_trl_source() -> None:
    # trl/trainer/sft_trainer.py@v0.15.2 maps `tokenizer` through deprecate_kwarg; v0.16.1's __init__ has no such parameter
    assert rejects("0.15.2", "SFTTrainer", "tokenizer") is False and rejects("0.16.1", "SFTTrainer", "tokenizer") is True
    assert rejects("0.12.2", "DPOTrainer", "beta") is False and rejects("0.13.0", "DPOTrainer", "beta") is True
    assert rejects("0.12.2", "SFTTrainer", "max_seq_length") is False and rejects("0.13.0", "SFTTrainer", "max_seq_length") is True
    assert rejects("0.26.2", "KTOTrainer", "tokenizer") is None  # a `**kwargs` shim: not judged
    assert rejects("1.16.0", "SFTTrainer", "tokenizer") is True  # read from the 1.16.0 wheel
    assert rejects("0.4.7", "SFTTrainer", "tokenizer") is None  # a release the table does not hold


def test_a_trainer_keyword_the_pinned_release_rejects_stops_the_run(tmp_path: Path) -> None:
    (f,) = _findings(tmp_path, "pinned", "trl==0.16.1\n")
    assert f.blocker and f.rule_id == "blocker.keys_rejected_at_version" and f.key == "tokenizer" and f.line == 10
    assert "SFTTrainer(...)" in f.message and "TypeError" in f.message and "trl/trainer/sft_trainer.py:197@v0.16.1" in f.message
    assert "trl 0.15.2 is the newest release" in f.message and "None" not in f.message


def test_a_trainer_keyword_must_not_fire(tmp_path: Path) -> None:
    # accepted (with a deprecation warning only) at the pinned release
    assert _findings(tmp_path, "accepted", "trl==0.15.2\n") == []
    # a `**kwargs` call: what it passes is not read
    spread = SCRIPT.replace("tokenizer=tok,", "tokenizer=tok,\n        **extra,")
    assert _findings(tmp_path, "spread", "trl==0.16.1\n", spread) == []
    # unpinned, and the newest release (assumed) accepts the keyword: processing_class (trl 1.16.0 wheel)
    assert _findings(tmp_path, "unpinned_ok", None, SCRIPT.replace("tokenizer=tok", "processing_class=tok")) == []
    # a local class of the same name is not TRL's
    local = SCRIPT.replace("from trl import SFTTrainer, SFTConfig", "from trl import SFTConfig\nfrom mytrainer import SFTTrainer")
    assert _findings(tmp_path, "local", "trl==0.16.1\n", local) == []


def test_an_open_range_whose_newest_admitted_release_accepts_the_keyword_is_quiet(tmp_path: Path) -> None:
    # `trl<0.16` lets pip install 0.15.2, whose SFTTrainer still maps tokenizer
    assert _findings(tmp_path, "capped", "trl>=0.12,<0.16\n") == []
    (f,) = _findings(tmp_path, "capped_new", "trl>=0.12,<0.17\n")
    assert f.blocker and f.key == "tokenizer"


def test_dpo_keywords_moved_to_the_config_class(tmp_path: Path) -> None:
    script = "from trl import DPOConfig, DPOTrainer\n\nargs = DPOConfig(output_dir='out', bf16=True)\nt = DPOTrainer(model, ref, args=args, beta=0.1, max_length=1024, tokenizer=tok, train_dataset=d)\n"
    got = sorted(f.key for f in _findings(tmp_path, "dpo", "trl==0.16.1\n", script))
    assert got == ["beta", "max_length", "tokenizer"]
    assert _findings(tmp_path, "dpo_old", "trl==0.12.2\n", script) == []
    assert trainer_calls("from trl import DPOTrainer as D\nD(beta=1, **k)\n") == []


def test_an_unpinned_repository_gets_a_requirement_at_the_newest_release(tmp_path: Path) -> None:
    (f,) = _findings(tmp_path, "unpinned", None)
    assert not f.blocker and f.rule_id == "blocker.keys_unknown_at_version" and f.key == "tokenizer" and f.line == 10
    assert "assumed trl 1.16.0" in f.message and "would not start" in f.message and "None" not in f.message


RUN_DPO = """from trl import DPOConfig, DPOTrainer, ModelConfig, TrlParser


def main():
    parser = TrlParser((DPOConfig, ModelConfig))
    args, model_args = parser.parse_args_and_config()
    trainer = DPOTrainer(
        model,
        ref,
        args=args,
        beta=0.1,
        train_dataset=data,
    )
    trainer.train()


if __name__ == "__main__":
    main()
"""
RECIPE = (
    "model_name_or_path: Qwen/Qwen2.5-0.5B\nbf16: true\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 4\n"
    "learning_rate: 5.0e-7\nnum_train_epochs: 1\nlr_scheduler_type: cosine\nmax_length: 1024\nmax_prompt_length: 512\noutput_dir: out\n"
)


def test_a_recipe_s_launched_script_keyword_the_release_rejects(tmp_path: Path) -> None:
    """review13b row 28 (CheXalign scripts/run_dpo.py:169-179 run on config_chexagent_dpo.yaml): the script's
    DPOTrainer(beta=...) at the release the repository pins."""

    def run(name: str, req: str) -> list[Finding]:
        files = {
            "recipes/dpo.yaml": RECIPE,
            "run_dpo.py": RUN_DPO,
            "run.sh": "accelerate launch run_dpo.py --config recipes/dpo.yaml\n",
            "requirements.txt": req,
        }
        path = write_tree(fresh_root(tmp_path, name), files, git=True) / "recipes/dpo.yaml"
        return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]

    (f,) = run("new", "trl==0.16.1\n")
    assert f.blocker and f.key == "beta" and f.line == 11 and f.file is not None and f.file.endswith("run_dpo.py")
    assert "the script run_dpo.py line 11" in f.message and "trl 0.12.2 is the newest release" in f.message
    assert run("old", "trl==0.12.2\n") == []  # must not: DPOTrainer takes beta there


# transformers' own Trainer (trainer36): `tokenizer` mapped by deprecate_kwarg 4.46-4.57 and gone from 5.0
HF_SCRIPT = """from transformers import Trainer, TrainingArguments


def main(model, tok, data):
    args = TrainingArguments(output_dir="out", per_device_train_batch_size=4, bf16=True)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=data,
        tokenizer=tok,
    )
    trainer.train()
"""


def test_the_transformers_table_reads_the_release_wheels() -> None:
    # transformers/trainer.py@4.45.2 takes `tokenizer`; 4.46.3-4.57.6 map it through deprecate_kwarg; 5.0.0 has none
    assert rejects("4.45.2", "Trainer", "tokenizer", "transformers") is False
    assert rejects("4.45.2", "Trainer", "processing_class", "transformers") is True
    assert rejects("4.57.6", "Trainer", "tokenizer", "transformers") is False
    assert rejects("5.0.0", "Trainer", "tokenizer", "transformers") is True
    assert rejects("5.25.0", "Seq2SeqTrainer", "tokenizer", "transformers") is True
    assert rejects("4.36.0", "Trainer", "tokenizer", "transformers") is None  # a release the table does not hold


def test_a_transformers_trainer_keyword_the_pinned_release_rejects(tmp_path: Path) -> None:
    (f,) = _findings(tmp_path, "hf_pinned", "transformers==5.2.0\n", HF_SCRIPT)
    assert f.blocker and f.key == "tokenizer" and f.line == 10 and "Trainer(...)" in f.message
    assert "transformers transformers/trainer.py:363@v5.2.0" in f.message and "transformers 4.57.6 is the newest release" in f.message
    assert "processing_class" in f.message and "None" not in f.message
    (g,) = _findings(tmp_path, "hf_unpinned", None, HF_SCRIPT)
    assert not g.blocker and "assumed transformers 5.25.0" in g.message


def test_a_transformers_trainer_keyword_must_not_fire(tmp_path: Path) -> None:
    # 4.57.6 still maps tokenizer (deprecate_kwarg): a warning, no stop
    assert _findings(tmp_path, "hf_old", "transformers==4.57.6\n", HF_SCRIPT) == []
    assert _findings(tmp_path, "hf_new", None, HF_SCRIPT.replace("tokenizer=tok", "processing_class=tok")) == []
    # a Trainer of another package is not transformers'
    other = HF_SCRIPT.replace("from transformers import Trainer, TrainingArguments", "from transformers import TrainingArguments\nfrom mylib import Trainer")
    assert _findings(tmp_path, "hf_other", "transformers==5.2.0\n", other) == []


def test_an_unsloth_script_s_trl_trainer_is_not_trl_s(tmp_path: Path) -> None:
    # importing unsloth replaces SFTTrainer by Unsloth's, which adds `tokenizer` (unsloth/models/rl.py:2343-2349)
    script = "from unsloth import FastLanguageModel\n" + SCRIPT
    assert _findings(tmp_path, "unsloth", "trl==0.16.1\n", script) == []
    assert len(_findings(tmp_path, "no_unsloth", "trl==0.16.1\n", SCRIPT)) == 1


GPO = """from trl import DPOTrainer


class GPOTrainer(DPOTrainer):
    def __init__(self, *args, func=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.func = func
"""
RUN_GPO = """from trl import DPOConfig
from alignment import GPOTrainer


def main(model, ref, tok, data, func):
    args = DPOConfig(output_dir="out", bf16=True)
    trainer = GPOTrainer(
        model,
        ref,
        args=args,
        beta=0.1,
        tokenizer=tok,
        func=func,
    )
    trainer.train()
"""


def _subclass_findings(tmp: Path, name: str, gpo: str, req: str = "trl==0.16.1\n") -> list[Finding]:
    files = {"train.py": RUN_GPO, "src/alignment/__init__.py": "from .gpo import GPOTrainer\n", "src/alignment/gpo.py": gpo}
    files["requirements.txt"] = req
    files["setup.py"] = "from setuptools import setup, find_packages\nsetup(name='alignment', package_dir={'': 'src'}, packages=find_packages('src'))\n"
    path = write_tree(fresh_root(tmp, name), files, git=True) / "train.py"
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def test_a_repository_subclass_hands_its_other_keywords_to_the_trl_trainer(tmp_path: Path) -> None:
    """review13b row 29 (DiscoPOP src/alignment/gpo.py:9 `class GPOTrainer(DPOTrainer)`, `**kwargs` to super().__init__;
    scripts/run_gpo.py:226 GPOTrainer(beta=..., tokenizer=..., func=...))."""
    got = _subclass_findings(tmp_path, "gpo", GPO)
    assert sorted(f.key for f in got) == ["beta", "tokenizer"]  # func= is the subclass's own
    f = next(f for f in got if f.key == "beta")
    assert f.blocker and f.line == 11 and "GPOTrainer(...)" in f.message and "DPOTrainer.__init__ there has no parameter `beta`" in f.message
    assert "GPOTrainer (src/alignment/gpo.py:4) is a subclass of DPOTrainer" in f.message and "None" not in f.message
    # no __init__ of its own: DPOTrainer's signature decides every keyword (func= too)
    bare = _subclass_findings(tmp_path, "gpo_bare", "from trl import DPOTrainer\n\n\nclass GPOTrainer(DPOTrainer):\n    pass\n")
    assert sorted(f.key for f in bare) == ["beta", "func", "tokenizer"]
    assert "has no __init__ of its own" in bare[0].message


def test_a_repository_subclass_must_not_fire(tmp_path: Path) -> None:
    # its own __init__ names the keywords (no **kwargs): it decides, not TRL's release
    own = "from trl import DPOTrainer\n\n\nclass GPOTrainer(DPOTrainer):\n    def __init__(self, model, ref, args=None, beta=0.1, tokenizer=None, func=None):\n        super().__init__(model, ref, args=args, processing_class=tokenizer)\n"
    assert _subclass_findings(tmp_path, "own", own) == []
    # **kwargs kept, not handed on
    kept = GPO.replace("super().__init__(*args, **kwargs)", "super().__init__(*args)")
    assert _subclass_findings(tmp_path, "kept", kept) == []
    # the release takes the keywords: DPOTrainer at trl 0.12.2 has beta and tokenizer
    assert _subclass_findings(tmp_path, "old", GPO, "trl==0.12.2\n") == []
    # a subclass of a class not from trl/transformers
    assert _subclass_findings(tmp_path, "other", GPO.replace("from trl import DPOTrainer", "from mylib import DPOTrainer")) == []


def test_a_script_whose_only_framework_call_is_the_trainer_stays_uncollected(tmp_path: Path) -> None:
    """trainer36 item 3: in the blind 12/13 clones no script builds a trainer with a keyword the newest release rejects
    without also building TrainingArguments / a TRL config (only 2U1 Qwen2-VL-Finetune src/train/train_dpo.py builds
    its QwenDPOTrainer with none, and its keywords are accepted), so collection is not widened: such a file is no item."""
    script = "from trl import SFTTrainer\n\n\ndef main(m, t, d):\n    SFTTrainer(model=m, train_dataset=d, tokenizer=t).train()\n"
    path = write_tree(fresh_root(tmp_path, "only"), {"train.py": script, "requirements.txt": "trl==0.16.1\n"}, git=True) / "train.py"
    with pytest.raises(NotATrainingConfig) as exc:
        load_config(path)
    assert exc.value.reason == "a Python file without a TrainingArguments or TRL config call"


def _reading(tmp: Path, name: str, requirements: str | None, script: str = SCRIPT) -> tuple[str, str, bool]:
    from pytest_goblin.frameworks.history import reading

    files = {"train.py": script}
    if requirements is not None:
        files["requirements.txt"] = requirements
    path = write_tree(fresh_root(tmp, name), files, git=True) / "train.py"
    got = reading("trl 1.16.0 (SFTConfig)", str(path), script)
    assert got is not None
    return got.version, got.source, got.assumed


def test_an_unpinned_script_is_read_at_the_newest_release_its_own_trainer_call_starts_on(tmp_path: Path) -> None:
    """review14b #22: no trl pin and `SFTTrainer(tokenizer=...)`, which trl takes up to 0.15.2 only: the run starts only on
    such a release, so its defaults are read there, assumed (not at 1.16.0, whose SFTConfig turns checkpointing on); the
    requirement that a fresh install (the newest release) stops at start-up is still given."""
    version, source, assumed = _reading(tmp_path, "held", None)
    assert (version, assumed) == ("0.15.2", True)
    assert "SFTTrainer(tokenizer=...) at line 10 is taken by trl 0.15.2 and older, not by 1.16.0" in source
    assert "sft_trainer.py:142@v0.15.2" in source
    (f,) = _findings(tmp_path, "held_req", None)
    assert f.rule_id == "blocker.keys_unknown_at_version" and "assumed trl 1.16.0" in f.message


def test_the_trainer_call_holds_no_release_where_it_must_not(tmp_path: Path) -> None:
    # a pin decides, not the call
    assert _reading(tmp_path, "pinned", "trl==0.16.1\n")[0] == "0.16.1"
    # the newest release takes every keyword: nothing held
    assert _reading(tmp_path, "newest_ok", None, SCRIPT.replace("tokenizer=tok", "processing_class=tok"))[0] == "1.16.0"
    # no release takes both an old keyword and one of the newest releases only (quantization_config, trl 1.16.0 wheel)
    mixed = SCRIPT.replace("tokenizer=tok,", "tokenizer=tok,\n        quantization_config=q,")
    assert _reading(tmp_path, "mixed", None, mixed)[0] == "1.16.0"
