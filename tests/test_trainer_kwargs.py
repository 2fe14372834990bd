"""Literal keywords of a TRL trainer constructor the release the repository runs on rejects (blind review 13b rows 25,
28-30; frameworks/trainer_kwargs.py, trainer_signatures.json)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import blockers
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
