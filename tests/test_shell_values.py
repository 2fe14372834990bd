"""Shell values a launcher uses (blind review 11): a sourced file's values through `${VAR//a/b}` (review11a #16
InstellaVL scripts/1B_release/instruction_tuning.sh:11-13 over .env:42-43), a `cd` before the launch line that relative
files on it are written from (review11b #23 llm2025compet training/commands/dpo-qwen3-14b-3node.sh:35-40), a config
path that is a variable's default holding other variables (review11b #26 grail-simulation
training/training-grpo-wage.sh:18,21) or a `: "${VAR:=...}"` default, and a torchtune `fsdp_cpu_offload=$CPU_OFFLOAD`
word over a variable set above (review11a #7 ROCm/MAD run_llama_3_3_LoRA_wiki.sh:17,160). Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import launcher_text, load_config

from .repo_files import repo
from .test_launch_forms import TORCHTUNE_DIST, TRL_DPO


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# ------------------------------------------------------------------ 1. a sourced file's values, `${VAR//a/b}`
def test_a_pattern_replacement_over_a_known_value() -> None:
    env = {"LLM": "amd/AMD-OLMo-1B-SFT"}
    assert launcher_text.expand("${LLM//\\//_}", env) == "amd_AMD-OLMo-1B-SFT"
    assert launcher_text.expand("${LLM/-/+}", env) == "amd/AMD+OLMo-1B-SFT"  # the first match only


@pytest.mark.parametrize("word", ["${UNSET//\\//_}", "${LLM//*/_}", "${LLM//a/&}"], ids=["unknown-variable", "glob-pattern", "ampersand"])
def test_a_replacement_goblin_cannot_compute_stays_as_written(word: str) -> None:
    assert launcher_text.expand(word, {"LLM": "amd/x"}) == word


ENV_FILE = 'MODEL_ID="org/tiny-1B"\nMODEL_CLEAN="${MODEL_ID//\\//_}"\nNPROC=2\n'
RUN_CLEAN = "#!/bin/bash\nset -a\nsource {src}\nset +a\ntune run --nproc_per_node $NPROC full_finetune_distributed --config configs/${{MODEL_CLEAN}}.yaml\n"


def test_a_value_a_sourced_file_builds_is_on_the_launch_line() -> None:
    lf = launcher_text.parse_launcher(Path("/r/run.sh"), RUN_CLEAN.format(src=".env"), source=lambda word: ("/r/.env", ENV_FILE))
    (line,) = lf.lines
    assert "configs/org_tiny-1B.yaml" in line.tokens and "2" in line.tokens


def test_a_sourced_files_values_set_the_launch(tmp_path: Path) -> None:
    root = repo(tmp_path, {".env": ENV_FILE, "run.sh": RUN_CLEAN.format(src=".env"), "configs/org_tiny-1B.yaml": TORCHTUNE_DIST})
    w = load_config(root / "configs/org_tiny-1B.yaml").workload
    assert (w.world_size, w.gpus_per_node) == (2, 2) and w.sources["world_size"].file.endswith("run.sh")


def test_a_sourced_file_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "outside.env").write_text(ENV_FILE)
    root = repo(tmp_path, {"run.sh": RUN_CLEAN.format(src="../outside.env"), "configs/org_tiny-1B.yaml": TORCHTUNE_DIST})
    w = load_config(root / "configs/org_tiny-1B.yaml").workload
    assert w.gpus_per_node != 2  # NPROC unread: `$NPROC` is not a count


# ------------------------------------------------------------------ 2. `cd DIR` before the launch line
ACC_ZERO3 = "distributed_type: DEEPSPEED\ndeepspeed_config:\n  zero_stage: 3\n  offload_optimizer_device: cpu\nnum_machines: 1\nnum_processes: 8\n"


def _cd_run(cd: str) -> str:
    return f"#!/bin/bash\n{cd}\naccelerate launch --config_file ../recipes/acc_x.yaml train.py --config ../../configs/b.yaml\n"


@pytest.mark.parametrize("cd", ["cd training/src || exit 1", "pushd training/src", "cd repo/training/src"], ids=["cd", "pushd", "cd-from-parent"])
def test_a_relative_accelerate_config_is_read_from_the_folder_a_cd_moved_to(tmp_path: Path, cd: str) -> None:
    root = repo(
        tmp_path,
        {"configs/b.yaml": TRL_DPO, "training/src/train.py": "", "training/recipes/acc_x.yaml": ACC_ZERO3, "scripts/run.sh": _cd_run(cd)},
    )
    w = load_config(root / "configs/b.yaml").workload
    assert (w.strategy, w.zero_stage) == ("deepspeed", 3)
    assert w.sources["zero_stage"].file.endswith("training/recipes/acc_x.yaml")
    assert not any("not in the repository" in n for n in w.notes)


def test_a_cd_into_a_folder_that_does_not_exist_reads_no_file_from_it(tmp_path: Path) -> None:
    script = "#!/bin/bash\ncd nowhere/src\naccelerate launch --config_file ../recipes/acc_x.yaml train.py --config configs/b.yaml\n"
    root = repo(tmp_path, {"configs/b.yaml": TRL_DPO, "training/recipes/acc_x.yaml": ACC_ZERO3, "scripts/run.sh": script})
    w = load_config(root / "configs/b.yaml").workload
    assert w.sources["world_size"].file.endswith("run.sh")  # the line is read
    assert not any(src.file.endswith("acc_x.yaml") for src in w.sources.values())
    assert any("../recipes/acc_x.yaml" in n and ("not found" in n or "outside the audited tree" in n) for n in w.notes)


# ------------------------------------------------------------------ 3. a config path that is a variable's default
@pytest.mark.parametrize(
    "assign",
    [
        'ROOT_DIR=${ROOT_DIR:-$PWD}\nCONFIG=${CONFIG:-"$ROOT_DIR/configs/b.yaml"}\n',
        'BASE=configs\nCONFIG="${CONFIG:-${BASE}/b.yaml}"\n',
        ': "${CONFIG:=configs/b.yaml}"\n',
    ],
    ids=["default-over-an-unknown-root", "default-over-a-set-variable", "colon-assign"],
)
def test_a_config_named_by_a_variables_default_is_linked(tmp_path: Path, assign: str) -> None:
    script = "#!/bin/bash\n#SBATCH --nodes=1\n" + assign + 'accelerate launch --num_processes 4 train.py --config "$CONFIG"\n'
    root = repo(tmp_path, {"configs/b.yaml": TRL_DPO, "train.py": "", "run.slurm": script})
    w = load_config(root / "configs/b.yaml").workload
    assert w.world_size == 4 and w.sources["world_size"].file.endswith("run.slurm")
    if "CONFIG:-" in assign:
        assert any("the default of line" in n and "read as the caller does not set CONFIG" in n for n in w.notes)


@pytest.mark.parametrize(
    "assign",
    [
        'if [ -n "$BIG" ]; then\n  : "${CONFIG:=configs/b.yaml}"\nfi\n',  # only under a branch
        'CONFIG=${CONFIG:-"$(pwd)/configs/b.yaml"}\n',  # a command substitution in the default
        'CONFIG=${CONFIG:-"$ROOT/configs/b.yaml $ROOT/configs/c.yaml"}\n',  # two words
    ],
    ids=["branch", "command-substitution", "two-words"],
)
def test_a_default_goblin_cannot_read_links_nothing(tmp_path: Path, assign: str) -> None:
    script = "#!/bin/bash\n" + assign + 'accelerate launch --num_processes 4 train.py --config "$CONFIG"\n'
    root = repo(tmp_path, {"configs/b.yaml": TRL_DPO, "train.py": "", "run.slurm": script})
    w = load_config(root / "configs/b.yaml").workload
    assert not w.sources["world_size"].file.endswith("run.slurm")


# ------------------------------------------------------------------ 4. `fsdp_cpu_offload=$CPU_OFFLOAD` on a tune run line
TUNE = "tune run --nproc_per_node 8 full_finetune_distributed --config ../configs/c.yaml fsdp_cpu_offload=$CPU_OFFLOAD batch_size=$MBS\n"


def test_a_tune_run_offload_word_over_a_variable_set_above(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/c.yaml": TORCHTUNE_DIST, "scripts/run.sh": 'MBS="${MBS:-2}"\nCPU_OFFLOAD="${CPU_OFFLOAD:-True}"\n' + TUNE})
    w = load_config(root / "configs/c.yaml").workload
    assert w.micro_batch_size == 2 and w.cpu_offload is True and w.offload_params is True
    src = w.sources["cpu_offload"]
    assert src.file.endswith("run.sh") and src.line == 3 and src.key == "fsdp_cpu_offload"
    assert "CPU_OFFLOAD=True set at scripts/run.sh line 2" in (src.note or "")


def test_a_tune_run_offload_word_set_false_overrides_the_yaml(tmp_path: Path) -> None:
    cfg = TORCHTUNE_DIST + "fsdp_cpu_offload: True\n"
    root = repo(tmp_path, {"configs/c.yaml": cfg, "scripts/run.sh": "CPU_OFFLOAD=False\nMBS=2\n" + TUNE})
    w = load_config(root / "configs/c.yaml").workload
    assert w.cpu_offload is False and not w.offload_params


def test_an_offload_variable_assigned_in_two_branches_stays_unresolved(tmp_path: Path) -> None:
    script = 'MBS=2\nif [ "$BIG" = 1 ]; then\n  CPU_OFFLOAD=True\nelse\n  CPU_OFFLOAD=False\nfi\n' + TUNE
    root = repo(tmp_path, {"configs/c.yaml": TORCHTUNE_DIST, "scripts/run.sh": script})
    w = load_config(root / "configs/c.yaml").workload
    assert w.cpu_offload is False and w.sources["cpu_offload"].file.endswith("c.yaml")
    assert any("fsdp_cpu_offload=$CPU_OFFLOAD" in n and "not set for certain" in n for n in w.notes)


# ------------------------------------------------------------------ the GPUs a line sees, set at run time
@pytest.mark.parametrize(("visible", "said"), [('"$TRAINING_GPUS"', False), ("0,1,2,3,4,5,6,7", True), ("", True)], ids=["run-time", "literal", "unset"])
def test_a_visible_devices_value_set_at_run_time_leaves_the_job_count_assumed(tmp_path: Path, visible: str, said: bool) -> None:
    export = f"export CUDA_VISIBLE_DEVICES={visible}\n" if visible else ""
    script = "#!/bin/bash\n#SBATCH --nodes=1\n#SBATCH --gres=gpu:8\n" + export + "accelerate launch train.py --config configs/b.yaml\n"
    root = repo(tmp_path, {"configs/b.yaml": TRL_DPO, "train.py": "", "run.slurm": script})
    w = load_config(root / "configs/b.yaml").workload
    assert w.gpus_per_node == 8 and w.sources["gpus_per_node"].file.endswith("run.slurm")
    assert w.sources["gpus_per_node"].explicit is said
    assert any("is set at run time (from a variable) and may show the line fewer GPUs" in n for n in w.notes) is not said
