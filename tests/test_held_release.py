"""The release an unpinned repository runs on, from its own evidence (blind review 15a #14, NYCU-NLP-Lab/MathEDU):
the modules its script imports (`trl.commands`, gone from trl 0.13.0), an exact tokenizers pin beside no transformers
pin, and the TrlParser of those releases, which refuses a recipe key no dataclass has."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.frameworks import pins as P
from pytest_goblin.frameworks.history import reading
from pytest_goblin.hardware import get_hardware
from pytest_goblin.redact import redact

from .repo_files import fresh_root, write_tree

SCRIPT = """from dataclasses import dataclass, field
from transformers import TrainingArguments
from trl.commands.cli_utils import TrlParser


@dataclass
class ScriptArguments:
    dataset_path: str = field(default="data")
    model_id: str = field(default="m")
    max_seq_length: int = field(default=512)


if __name__ == "__main__":
    parser = TrlParser((ScriptArguments, TrainingArguments))
    script_args, training_args = parser.parse_args_and_config()
"""
RECIPE = (
    "model_id: meta-llama/Meta-Llama-3-8B\ndataset_path: data\nmax_seq_length: 2048\noutput_dir: out\nlearning_rate: 0.0002\n"
    "num_train_epochs: 3\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\nevaluation_strategy: epoch\n"
)
README = "# Train\n\n```\ntorchrun --nproc_per_node=4 train.py --config finetune.yaml\n```\n"


def _repo(tmp: Path, files: dict[str, str]) -> Path:
    return write_tree(fresh_root(tmp), files, git=True)


def test_an_import_the_newest_trl_removed_holds_the_run_at_the_last_release_with_it(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"train.py": SCRIPT, "finetune.yaml": RECIPE, "README.md": README})
    for config in ("train.py", "finetune.yaml"):  # the script itself, and the recipe its launch line runs it on
        pin = P.pins(str(root / config))["trl"]
        assert (pin.kind, pin.version, pin.unpinned, pin.line) == ("calls", "0.12.2", True, 3)
        assert "imports trl.commands at line 3" in pin.capped_by and "trl 0.13.0 removed" in pin.capped_by
        assert "the run starts only on trl 0.12.2 or older" in pin.capped_by and "None" not in pin.capped_by
    got = reading("trl 1.16.0 (SFTConfig)", str(root / "finetune.yaml"))
    assert got is not None and (got.version, got.assumed) == ("0.12.2", True)
    assert "train.py (run on this file by README.md" in got.source


def test_an_import_every_release_has_or_a_guarded_one_holds_nothing(tmp_path: Path) -> None:
    for script in (
        SCRIPT.replace("from trl.commands.cli_utils import TrlParser", "from trl import TrlParser"),
        SCRIPT.replace(
            "from trl.commands.cli_utils import TrlParser",
            "try:\n    from trl.commands.cli_utils import TrlParser\nexcept ImportError:\n    from trl import TrlParser",
        ),
    ):
        root = _repo(tmp_path, {"train.py": script, "finetune.yaml": RECIPE, "README.md": README})
        assert "trl" not in P.pins(str(root / "train.py")) and "trl" not in P.pins(str(root / "finetune.yaml"))
    # a pin of the repository wins over the script's evidence
    root = _repo(tmp_path, {"train.py": SCRIPT, "finetune.yaml": RECIPE, "README.md": README, "requirements.txt": "trl==0.11.4\n"})
    assert P.pins(str(root / "finetune.yaml"))["trl"].kind == "pin"


def test_an_exact_tokenizers_pin_holds_an_unpinned_transformers_at_the_newest_release_that_admits_it(tmp_path: Path) -> None:
    # MathEDU requirement.txt:178 `tokenizers==0.19.1`: transformers 4.45.2's METADATA asks tokenizers>=0.20
    root = _repo(tmp_path, {"train.py": SCRIPT, "finetune.yaml": RECIPE, "README.md": README, "requirements.txt": "accelerate==0.29.3\ntokenizers==0.19.1\n"})
    pin = P.pins(str(root / "finetune.yaml"))["transformers"]
    assert (pin.version, pin.unpinned, pin.cap, pin.line) == ("4.44.2", True, "<=4.44.2", 2)
    assert "the tokenizers pin tokenizers==0.19.1 (requirements.txt:2)" in pin.capped_by
    got = reading("transformers 5.25.0", str(root / "finetune.yaml"))
    assert got is not None and (got.version, got.assumed) == ("4.44.2", True) and "None" not in got.note()
    # so `evaluation_strategy` (TrainingArguments had it up to 4.50.3) is no unknown key there
    found = blockers.findings(load_config(root / "finetune.yaml"), get_hardware("mi300x"))
    assert not any(f.key == "evaluation_strategy" for f in found)
    bare = _repo(tmp_path, {"train.py": SCRIPT, "finetune.yaml": RECIPE, "README.md": README, "requirements.txt": "accelerate==0.29.3\n"})
    assert any(f.key == "evaluation_strategy" for f in blockers.findings(load_config(bare / "finetune.yaml"), get_hardware("mi300x")))


def test_a_tokenizers_range_or_one_the_newest_admits_holds_no_transformers(tmp_path: Path) -> None:
    for reqs in ("tokenizers>=0.19\n", "tokenizers==0.23.1\n", "tokenizers\n"):
        root = _repo(tmp_path, {"train.yaml": "output_dir: out\nbf16: true\n", "requirements.txt": reqs})
        assert "transformers" not in P.pins(str(root / "train.yaml")), reqs


TYPO = RECIPE + "fp36: true\nmax_seq_len: 2048\n"


def _unknown(root: Path) -> list[blockers.Finding]:
    found = blockers.findings(load_config(root / "finetune.yaml"), get_hardware("mi300x"))
    return [f for f in found if f.rule_id == "blocker.launch_args_unknown_to_parser"]


def test_trl_commands_trlparser_refuses_a_recipe_key_no_dataclass_has(tmp_path: Path) -> None:
    # held at trl 0.12.2 by the script's own import: TrlParser raises there (cli_utils.py:250@v0.12.2), a requirement
    root = _repo(tmp_path, {"train.py": SCRIPT, "finetune.yaml": TYPO, "README.md": README})
    got = {f.key: f for f in _unknown(root)}
    assert set(got) == {"fp36", "max_seq_len"} and not any(f.blocker for f in got.values())
    f = got["max_seq_len"]
    assert f.line == 11 and "Some specified config arguments are not used by the TrlParser" in f.message
    assert (
        "The nearest field is `max_seq_length`" in f.message
        and "trl v0.9.6 trl/commands/cli_utils.py:187,227-238,252-254; v0.11.4 :201,241-268; v0.12.2 :183,223-250" in f.message
    )
    assert "None" not in f.message and redact(f.message) == f.message  # no phrase of it reads as a secret's assignment
    # pinned to such a release: a blocker
    pinned = _repo(tmp_path, {"train.py": SCRIPT, "finetune.yaml": TYPO, "README.md": README, "requirements.txt": "trl==0.11.4\n"})
    assert {(f.key, f.blocker) for f in _unknown(pinned)} == {("fp36", True), ("max_seq_len", True)}


def test_trl_commands_trlparser_keys_must_not_fire(tmp_path: Path) -> None:
    # every key a field; ignore_extra_args=True; trl 0.9.4 (warns and drops); an unpinned TRL nothing holds back
    quiet = SCRIPT.replace("TrlParser((ScriptArguments, TrainingArguments))", "TrlParser((ScriptArguments, TrainingArguments), ignore_extra_args=True)")
    for files in (
        {"train.py": SCRIPT, "finetune.yaml": RECIPE, "README.md": README},
        {"train.py": quiet, "finetune.yaml": TYPO, "README.md": README},
        {"train.py": SCRIPT, "finetune.yaml": TYPO, "README.md": README, "requirements.txt": "trl==0.9.4\n"},
        {"train.py": SCRIPT.replace("trl.commands.cli_utils", "trl"), "finetune.yaml": TYPO, "README.md": README},
    ):
        assert _unknown(_repo(tmp_path, files)) == [], files
