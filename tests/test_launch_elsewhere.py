"""Topology and arguments the repository states for a file no launch line names by its path (issue 23, review5
#30 and #5): a README line that runs a training script copied into another checkout by its bare name, and an
accelerate config beside a config that no launcher passes. Small synthetic trees; nothing run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_goblin.errors import NotATrainingConfig
from pytest_goblin.formats import load_config

from .repo_files import write_file

# ------------------------------------------------------------------ a script run from another checkout
PARSED = """\
import transformers

parser = transformers.HfArgumentParser((transformers.TrainingArguments,))
(args,) = parser.parse_args_into_dataclasses()
transformers.Trainer(model=transformers.AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B"), args=args).train()
"""

# WizardCoder/README.md:127-160 as written at nlpxucan/WizardLM cd4b4cc0 (shortened): copy the script into a Llama-X
# checkout, then run it there by its bare name
ELSEWHERE_README = """\
# Coder

To reproduce, install [Other-X](https://example.invalid/other-x) (Note: `deepspeed==0.9.2` and `transformers==4.29.2`)
and replace its `train.py` with the `train_coder.py` in our repo (`src/train_coder.py`).

```bash
deepspeed {flags}train_coder.py \\
    --output_dir o \\
    --per_device_train_batch_size 16 \\
    --gradient_accumulation_steps 4 \\
    --deepspeed configs/deepspeed_config.json
```
"""


def _elsewhere_tree(tmp_path: Path, flags: str = "") -> Path:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "Coder/README.md", ELSEWHERE_README.replace("{flags}", flags))
    return write_file(tmp_path, "Coder/src/train_coder.py", PARSED)


def test_a_readme_line_running_the_script_from_another_checkout_gives_its_arguments_and_topology(tmp_path: Path) -> None:
    w = load_config(_elsewhere_tree(tmp_path, "--num_gpus 4 ")).workload
    assert w.micro_batch_size == 16 and w.gradient_accumulation == 4
    assert w.sources["micro_batch_size"].file.endswith("Coder/README.md")
    assert w.world_size == 4 and w.nodes == 1
    assert w.sources["world_size"].file.endswith("Coder/README.md") and w.sources["world_size"].line == 7
    said = [n for n in w.notes if "from another checkout" in n]
    assert said and "Coder/src/train_coder.py, the repository's one file of that name" in said[0]
    # `--deepspeed configs/deepspeed_config.json` is the other checkout's file: not a missing-file blocker here
    assert w.deepspeed_missing is None
    assert any("'configs/deepspeed_config.json' is read from there, not judged missing here" in n for n in w.notes)


def test_a_deepspeed_line_without_counts_from_another_checkout_uses_every_gpu(tmp_path: Path) -> None:
    w = load_config(_elsewhere_tree(tmp_path)).workload
    assert w.world_size == 8 and w.sources["world_size"].file.endswith("Coder/README.md")
    assert not w.sources["gpus_per_node"].explicit  # every local GPU: assumed 8, said so


def test_python_running_the_script_from_another_checkout_is_one_process(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "Coder/README.md", "```bash\npython train_coder.py --per_device_train_batch_size 2 --output_dir o\n```\n")
    w = load_config(write_file(tmp_path, "Coder/src/train_coder.py", PARSED)).workload
    assert w.micro_batch_size == 2
    assert w.world_size == 1 and w.sources["world_size"].file.endswith("Coder/README.md")


def test_two_scripts_sharing_the_name_are_not_guessed(tmp_path: Path) -> None:
    path = _elsewhere_tree(tmp_path, "--num_gpus 4 ")
    write_file(tmp_path, "Other/train_coder.py", PARSED)
    with pytest.raises(NotATrainingConfig, match="no launch line in its repository runs it"):
        load_config(path)


def test_a_name_said_in_prose_only_is_no_launch_line(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    prose = ELSEWHERE_README.split("```")[0] + "Then run `train_coder.py` with python as you would `train.py`.\n"
    write_file(tmp_path, "Coder/README.md", prose)
    path = write_file(tmp_path, "Coder/src/train_coder.py", PARSED)
    with pytest.raises(NotATrainingConfig, match="no launch line in its repository runs it"):
        load_config(path)


def test_a_line_whose_program_is_another_script_does_not_run_it(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "Coder/README.md", "```bash\npython launch.py train_coder.py --per_device_train_batch_size 16 --output_dir o\n```\n")
    path = write_file(tmp_path, "Coder/src/train_coder.py", PARSED)
    with pytest.raises(NotATrainingConfig, match="no launch line in its repository runs it"):
        load_config(path)


def test_goblin_parse_json_shows_the_topology_and_where_from(tmp_path: Path) -> None:
    _elsewhere_tree(tmp_path, "--num_gpus 4 ")
    out = subprocess.run(
        [sys.executable, "-m", "pytest_goblin.cli", "parse", "Coder/src/train_coder.py", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    record = json.loads(out.stdout)
    assert record["world_size"] == 4
    assert record["sources"]["world_size"]["file"].endswith("Coder/README.md")
    assert any("from another checkout" in n for n in record["notes"])
    # the README's prose pins reach the record: the run is read at transformers 4.29.2
    assert record["framework_version"]["version"] == "4.29.2"
    assert record["framework_version"]["source"] == "Coder/README.md:3"


# ------------------------------------------------------------------ an accelerate config beside the config
AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\nsequence_len: 4096\nbf16: true\n"
# Novelty-Reviewer llm_training/acc_config.yaml at f480f4cc (shortened): 8 machines, 32 processes, ZeRO-3
ACCELERATE = """\
compute_environment: LOCAL_MACHINE
deepspeed_config:
  zero_stage: 3
  offload_optimizer_device: none
distributed_type: DEEPSPEED
machine_rank: 0
num_machines: 8
num_processes: 32
"""


def _beside_tree(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    write_file(tmp_path, "llm_training/acc_config.yaml", ACCELERATE)
    return write_file(tmp_path, "llm_training/fft.yaml", AXOLOTL)


def test_the_one_accelerate_config_beside_the_config_gives_its_topology_as_assumed(tmp_path: Path) -> None:
    w = load_config(_beside_tree(tmp_path)).workload
    assert (w.world_size, w.nodes, w.gpus_per_node) == (32, 8, 4)
    src = w.sources["world_size"]
    assert src.file.endswith("llm_training/acc_config.yaml") and src.line == 8 and not src.explicit
    assert "from llm_training/acc_config.yaml beside the config; no launcher passes it, assumed it is the one used" in (src.note or "")
    # the strategy it sets is read the same way, said as assumed
    assert w.strategy == "deepspeed" and w.zero_stage == 3
    assert not w.sources["strategy"].explicit and "no launcher passes it" in (w.sources["strategy"].note or "")
    # findings that depend on the topology say where it came from
    from pytest_goblin.formats.semantics import world_size_note

    said = world_size_note(w)
    assert said.startswith("on 8 nodes x 4 GPUs (assumed from ") and "acc_config.yaml" in said and "no launcher passes" in said


def test_two_accelerate_configs_beside_the_config_are_not_guessed(tmp_path: Path) -> None:
    path = _beside_tree(tmp_path)
    write_file(tmp_path, "llm_training/single.yaml", "distributed_type: MULTI_GPU\nnum_machines: 1\nnum_processes: 2\n")
    w = load_config(path).workload
    assert w.world_size != 32 and "acc_config" not in w.sources["world_size"].file
    assert not any("acc_config.yaml" in n for n in w.notes)


def test_a_launcher_that_passes_no_accelerate_config_wins_over_the_one_beside(tmp_path: Path) -> None:
    path = _beside_tree(tmp_path)
    write_file(tmp_path, "run.sh", "accelerate launch --num_processes 2 -m axolotl.cli.train llm_training/fft.yaml\n")
    w = load_config(path).workload
    assert w.world_size == 2 and w.sources["world_size"].file.endswith("run.sh")
    assert not any("acc_config.yaml" in n for n in w.notes)


def test_a_launcher_that_passes_another_accelerate_config_wins_over_the_one_beside(tmp_path: Path) -> None:
    path = _beside_tree(tmp_path)
    write_file(tmp_path, "configs/two.yaml", "distributed_type: MULTI_GPU\nnum_machines: 1\nnum_processes: 2\n")
    write_file(tmp_path, "run.sh", "accelerate launch --config_file configs/two.yaml -m axolotl.cli.train llm_training/fft.yaml\n")
    w = load_config(path).workload
    assert w.world_size == 2 and w.sources["world_size"].file.endswith("run.sh")
    assert w.strategy == "ddp"


README_NAMING = """\
# Recipes

## Full fine-tune

Train with `{config}`; the accelerate configs for it are in `configs/accelerate/`.

## Other

Nothing here.
"""


def test_the_one_accelerate_config_in_a_folder_the_configs_readme_section_names(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "recipes/fft.yaml", AXOLOTL)
    write_file(tmp_path, "README.md", README_NAMING.replace("{config}", "recipes/fft.yaml"))
    write_file(tmp_path, "configs/accelerate/zero3.yaml", ACCELERATE)
    w = load_config(path).workload
    assert (w.world_size, w.nodes, w.gpus_per_node) == (32, 8, 4) and not w.sources["world_size"].explicit
    note = w.sources["world_size"].note or ""
    assert "from configs/accelerate/zero3.yaml in a folder that README.md line 5 names, in a README section about this config" in note


@pytest.mark.parametrize(
    ("readme", "extra"),
    [
        (README_NAMING.replace("{config}", "recipes/fft.yaml"), {"configs/accelerate/fsdp.yaml": "distributed_type: FSDP\nnum_processes: 8\n"}),
        (README_NAMING.replace("{config}", "recipes/other.yaml"), {}),  # the section is about another config
    ],
)
def test_no_accelerate_config_from_a_readme_folder_when_it_is_not_the_one(tmp_path: Path, readme: str, extra: dict[str, str]) -> None:
    (tmp_path / ".git").mkdir()
    path = write_file(tmp_path, "recipes/fft.yaml", AXOLOTL)
    write_file(tmp_path, "recipes/other.yaml", AXOLOTL)
    write_file(tmp_path, "README.md", readme)
    write_file(tmp_path, "configs/accelerate/zero3.yaml", ACCELERATE)
    for name, text in extra.items():
        write_file(tmp_path, name, text)
    w = load_config(path).workload
    assert w.world_size != 32 and "zero3.yaml" not in w.sources["world_size"].file


def test_looking_for_the_accelerate_config_learns_no_secret_of_a_sibling_recipe(tmp_path: Path) -> None:
    from pytest_goblin.redact import redact

    path = _beside_tree(tmp_path)
    write_file(tmp_path, "llm_training/other.yaml", AXOLOTL + "wandb_api_key: plainword7\n")
    assert load_config(path).workload.world_size == 32
    assert redact("plainword7") == "plainword7"  # other.yaml was not parsed for this config
