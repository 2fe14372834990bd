"""A key judged at the newest release goblin knows because the repository fixes none (review11b #21, #22, #28, #31,
#32): the message says the release is open, names the newest release goblin read that still accepts the key and what to
pin; and a repository whose launch line runs the config in a container goblin cannot read (LUMI's `singularity exec
X.sif`, #32) gets no "will not start" blocker from it: the image's release decides."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import blockers
from pytest_goblin.formats import load_config
from pytest_goblin.formats.container import launch_container
from pytest_goblin.hardware import get_hardware
from pytest_goblin.schemas import Finding

from .repo_files import write_tree

HF = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nbf16: true\nlearning_rate: 1.0e-5\n"
TRL_SCRIPT = (
    "from trl import ModelConfig, ScriptArguments, SFTConfig, TrlParser\n\n"
    "if __name__ == '__main__':\n"
    "    parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))\n"
    "    script_args, training_args, model_args = parser.parse_args_and_config()\n"
)
PLAIN = "accelerate launch --num_processes 8 sft_train.py --config sft.yaml\n"
SIF = "CONTAINER=/appl/containers/lumi-pytorch-rocm-6.2.4-python-3.12-pytorch-v2.6.0.sif\nsrun singularity exec -B /scratch $CONTAINER \\\n    " + PLAIN
CODE = (
    "from transformers import Trainer, TrainingArguments\n\n"
    "args = TrainingArguments(output_dir='out', per_device_train_batch_size=4, bf16=True, logging_dir='runs')\n"
    "Trainer(model=None, args=args).train()\n"
)


def _keys(tmp: Path, name: str, files: dict[str, str], config: str = "sft.yaml") -> list[Finding]:
    path = write_tree(tmp / name, files, git=True) / config
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]


def _yaml(run: str, requirements: str) -> dict[str, str]:
    return {"requirements.txt": requirements, "sft_train.py": TRL_SCRIPT, "run.sh": run, "sft.yaml": HF + "evaluation_strategy: 'no'\n"}


def test_an_unpinned_key_says_the_release_is_open_and_what_to_pin(tmp_path: Path) -> None:
    (f,) = _keys(tmp_path, "open", _yaml(PLAIN, "accelerate\n"))
    # TrlParser of the newest trl stops on it, but that release is assumed: a requirement, as every release-dependent
    # check is on an assumed release (README "Framework tables"; review12b C2/C3 rows 29, 30), said as assumed
    assert not f.blocker and f.rule_id == "blocker.keys_unknown_at_version" and "stops with ValueError" in f.message
    assert "So at that release the run would not start." in f.message
    assert "The repository does not fix its transformers release, so goblin judged the newest it knows" in f.message
    assert "transformers 4.50.3 is the newest release goblin read that still accepts `evaluation_strategy`: pin `transformers==4.50.3`" in f.message
    assert "None" not in f.message


def test_a_container_goblin_cannot_read_makes_it_no_blocker(tmp_path: Path) -> None:
    files = _yaml(SIF, "accelerate\n")
    (f,) = _keys(tmp_path, "sif", files)
    assert not f.blocker and f.rule_id == "blocker.keys_unknown_at_version"
    assert "runs it in the container /appl/containers/lumi-pytorch-rocm-6.2.4-python-3.12-pytorch-v2.6.0.sif (run.sh:2)" in f.message
    assert "whose transformers goblin cannot read" in f.message


def test_a_pinned_release_is_judged_as_pinned_container_or_not(tmp_path: Path) -> None:
    for name, run in (("pinned", PLAIN), ("pinned-sif", SIF)):
        (f,) = _keys(tmp_path, name, _yaml(run, "trl==0.19.1\ntransformers==4.52.3\n"))
        assert f.blocker and "does not fix" not in f.message and "container" not in f.message.split("Source:")[0], name


def test_a_code_keyword_at_an_assumed_release_is_no_certain_stop(tmp_path: Path) -> None:
    (f,) = _keys(tmp_path, "code", {"train.py": CODE}, "train.py")
    assert not f.blocker and "so at that release the run would not start" in f.message and "on any GPU" not in f.message
    assert "transformers 5.14.1 is the newest release goblin read that still accepts `logging_dir`: pin `transformers==5.14.1`" in f.message
    # must not: pinned, the call raises for certain: the blocker, without the unpinned sentence
    (g,) = _keys(tmp_path, "code-pinned", {"train.py": CODE, "requirements.txt": "transformers==5.25.0\n"}, "train.py")
    assert g.blocker and "so the run does not start on any GPU" in g.message and "does not fix" not in g.message


def test_launch_lines_without_a_container_name_none(tmp_path: Path) -> None:
    for name, run in (("plain", PLAIN), ("docker-build", "docker build -t t .\n" + PLAIN)):
        path = write_tree(tmp_path / name, _yaml(run, ""), git=True) / "sft.yaml"
        assert launch_container(load_config(path).workload) is None, name
    path = write_tree(tmp_path / "pyxis", _yaml("srun --container-image=/scratch/torchtune.sqsh " + PLAIN, ""), git=True) / "sft.yaml"
    assert launch_container(load_config(path).workload) == "/scratch/torchtune.sqsh (run.sh:1)"
