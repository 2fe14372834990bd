"""Launch values that reach the run through shell variables (issue 23, batch 6): a `tune run` line's `key=$VAR`
override whose variable a sourced file sets (6a #1 torchtune-gpu-benchmark della-scripts/a100_2device.slurm:18 after
`source setup-della.sh`), and `$((A*B))` over SLURM's own variables named without `$` (6b #39 lumiopen-tools
main_hf.sbatch:41). A value set only in a branch, a loop or by a command substitution, a sourced file that is not
there, and a variable set after the launch line stay unresolved. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import launcher_text, load_config

from .repo_files import repo
from .test_launch_forms import TORCHTUNE_DIST


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


TUNE = "tune run --nproc_per_node=2 full_finetune_distributed --config ../configs/c.yaml batch_size=$BATCH_SIZE\n"


def _workload(tmp_path: Path, script: str, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    root = repo(tmp_path, {"configs/c.yaml": TORCHTUNE_DIST, "scripts/run.slurm": script, **(extra or {})})
    return load_config(root / "configs/c.yaml").workload


def test_a_sourced_files_value_overrides_the_yaml_batch_size(tmp_path: Path) -> None:
    w = _workload(tmp_path, "#!/bin/bash\n#SBATCH --nodes=1\nsource setup.sh\n\n" + TUNE, {"scripts/setup.sh": "#!/bin/bash\nBATCH_SIZE=6\n"})
    assert w.micro_batch_size == 6  # the YAML says 4
    src = w.sources["micro_batch_size"]
    assert src.file.endswith("run.slurm") and src.line == 5 and src.key == "batch_size"
    assert "BATCH_SIZE=6 set at scripts/setup.sh line 2" in (src.note or "")
    assert "own batch_size (line 11) is overridden" in (src.note or "") and "in the launch line" in (src.note or "")


def test_a_literal_override_and_one_set_in_the_script_itself(tmp_path: Path) -> None:
    w = _workload(tmp_path, "BATCH_SIZE=3\n" + TUNE.replace("\n", " gradient_accumulation_steps=2\n"))
    assert (w.micro_batch_size, w.gradient_accumulation) == (3, 2)
    assert "BATCH_SIZE=3 set at scripts/run.slurm line 1" in (w.sources["micro_batch_size"].note or "")


@pytest.mark.parametrize(
    "script",
    [
        'if [ "$1" = big ]; then\n  BATCH_SIZE=16\nfi\n' + TUNE,  # only inside a branch
        "for b in 8 16; do\n  BATCH_SIZE=$b\ndone\n" + TUNE,  # only inside a loop
        "BATCH_SIZE=$(cat bs.txt)\n" + TUNE,  # a command substitution
        '[ -z "$X" ] && BATCH_SIZE=16\n' + TUNE,  # after `&&`
        "source missing.sh\n" + TUNE,  # a sourced file that is not there
        TUNE + "BATCH_SIZE=16\n",  # set after the launch line
    ],
    ids=["branch", "loop", "command-substitution", "and-list", "missing-source", "after"],
)
def test_a_variable_not_set_for_certain_stays_unresolved(tmp_path: Path, script: str) -> None:
    w = _workload(tmp_path, script)
    assert w.micro_batch_size == 4  # the YAML's own
    assert w.sources["micro_batch_size"].file.endswith("c.yaml")
    assert any("batch_size=$BATCH_SIZE" in n and "not set for certain" in n for n in w.notes)


def test_a_sourced_files_branch_assignment_is_not_read(tmp_path: Path) -> None:
    setup = 'if [ -n "$BIG" ]; then\n  BATCH_SIZE=16\nfi\n'
    w = _workload(tmp_path, "source setup.sh\n" + TUNE, {"scripts/setup.sh": setup})
    assert w.micro_batch_size == 4


def test_the_batch_size_edit_is_left_to_the_launch_line(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/c.yaml": TORCHTUNE_DIST, "scripts/run.slurm": "BATCH_SIZE=3\n" + TUNE})
    loaded = load_config(root / "configs/c.yaml")
    text, skipped = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, loaded.workload, {"micro_batch_size": 8})
    assert text == loaded.text and "in the launch line" in skipped["micro_batch_size"]


def test_arithmetic_over_slurm_variables_named_without_dollar() -> None:
    script = (
        "#!/bin/bash\n#SBATCH --nodes=6\n#SBATCH --gpus-per-node=8\n"
        "export WORLD_SIZE=$((SLURM_GPUS_ON_NODE*SLURM_NNODES))\n"
        "accelerate launch --num_machines $SLURM_NNODES --num_processes $WORLD_SIZE train.py --config c.yaml\n"
    )
    (line,) = launcher_text.parse_launcher(Path("/x/run.sbatch"), script).lines
    words = list(line.tokens)
    assert words[words.index("--num_processes") + 1] == "48" and words[words.index("--num_machines") + 1] == "6"


def test_arithmetic_over_an_unknown_name_stays_as_written() -> None:
    assert launcher_text.expand("$((GPUS*NODES))", {"NODES": "2"}) == "$((GPUS*NODES))"  # bash would read GPUS as 0
    assert launcher_text.expand("$((GPUS*NODES))", {"NODES": "2", "GPUS": "$(nproc)"}) == "$((GPUS*NODES))"
    assert launcher_text.expand("$((GPUS*NODES))", {"NODES": "2", "GPUS": "4"}) == "8"


def test_a_config_named_by_a_positional_parameters_default(tmp_path: Path) -> None:
    # 6a #4 interpolation-of-experts-torchtune scripts/launch_mi250x_fsdp.sh:24-50
    script = (
        'REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)\n'
        'CONFIG=${1:-"$REPO_ROOT/configs/c.yaml"}\n'
        'cd "$REPO_ROOT"\n'
        'tune run --nnodes 1 --nproc_per_node 16 recipes/own_recipe.py --config "$CONFIG"\n'
    )
    w = _workload(tmp_path, script, {"recipes/own_recipe.py": "# a recipe\n"})
    assert (w.nodes, w.gpus_per_node, w.world_size) == (1, 16, 16)
    assert w.sources["world_size"].file.endswith("run.slurm") and w.sources["world_size"].line == 4
    assert any("the default of line 2" in n and "without its argument $1" in n for n in w.notes)


def test_a_positional_parameter_without_a_default_names_nothing(tmp_path: Path) -> None:
    w = _workload(tmp_path, 'CONFIG=${1}\ntune run --nnodes 1 --nproc_per_node 16 full_finetune_distributed --config "$CONFIG"\n')
    assert w.world_size != 16  # the launch does not name this file: the config's own comment (4) is the fallback


def test_a_variable_passed_into_a_single_quoted_bash_c_body(tmp_path: Path) -> None:
    # 6b #26 maxent-grpo training.sh:123-124, 174-211: `"'"$CONFIG"'"` opens a hole in the outer single quotes
    script = (
        'export CONFIG="configs/c.yaml"\nexport ACC="acc/zero3.yaml"\nALL="${CUDA_VISIBLE_DEVICES:-0,1,2,3,4,5,6,7}"\n'
        "srun bash -c '\nexport CUDA_VISIBLE_DEVICES=0\ntrl vllm-serve --model m &\n"
        'export CUDA_VISIBLE_DEVICES=$(echo "\'"$ALL"\'" | cut -d"," -f2-)\n'
        'accelerate launch --config_file "\'"$ACC"\'" train.py --config "\'"$CONFIG"\'" --use_vllm\n\'\n'
    )
    lf = launcher_text.parse_launcher(Path("/x/training.sh"), script)
    line = lf.lines[-1]
    assert line.tokens[:6] == ("accelerate", "launch", "--config_file", "acc/zero3.yaml", "train.py", "--config")
    assert line.tokens[6] == "configs/c.yaml"
    assert "CUDA_VISIBLE_DEVICES" not in dict(line.env)  # set by a command substitution: not known, not the vLLM server's 0


def test_a_config_under_a_checkout_elsewhere_with_a_variable_prefix(tmp_path: Path) -> None:
    # 6a #19 HichamAgueny/llm-workshop job_multiGPU_QA.sh:27-37: `MyWD="/cluster/.../$USER/llm-workshop"`, a checkout
    # whose folder name is not this one's
    from pytest_goblin.formats.launch_naming import names_config

    root = repo(tmp_path, {"ft/config_scripts/c.yaml": TORCHTUNE_DIST})
    config = (root / "ft/config_scripts/c.yaml").resolve()
    word = "/cluster/projects/$USER/llm-workshop/ft/config_scripts/c.yaml"
    assert names_config(("tune", "run", "--config", word), config, root.resolve(), root.resolve())
    other = "/cluster/projects/$USER/llm-workshop/other/c.yaml"  # another folder's file of that name
    assert not names_config(("tune", "run", "--config", other), config, root.resolve() / "jobs", root.resolve())


HEREDOC = (
    "#!/bin/bash -e\n#SBATCH --nodes=1\n#SBATCH --gpus-per-node=4\n#SBATCH --ntasks-per-node=4\n"
    'CONFIG_DIR="/cluster/$USER/ws/configs"\nCONFIG_FILE="${CONFIG_DIR}/c.yaml"\nINNER="/tmp/inner_${SLURM_JOB_ID}"\n'
    'cat > "${INNER}" << EOF\n#!/bin/bash -e\nexport RANK=\\$SLURM_PROCID\n'
    'python "/cluster/$USER/ws/scripts/lora_finetune_distributed.py" --config "${CONFIG_FILE}" epochs=1\nEOF\n'
    'chmod +x "${INNER}"\n'
)


def test_a_python_line_a_heredoc_writes_and_srun_runs(tmp_path: Path) -> None:
    # 6a #19 llm-workshop job_multiGPU_QA.sh:9, 37, 89-147
    w = _workload(tmp_path, HEREDOC + 'time srun apptainer exec --nv img.sif "${INNER}"\n')
    assert (w.nodes, w.gpus_per_node, w.world_size) == (1, 4, 4)  # the config's own comment says 4 too: the source tells
    src = w.sources["world_size"]
    assert src.file.endswith("run.slurm") and src.line == 11
    assert any("which srun runs at line 14" in n and "--ntasks-per-node=4 (line 4)" in n for n in [src.note or "", *w.notes])


@pytest.mark.parametrize(
    "tail",
    ['srun -n 8 "${INNER}"\n', 'bash "${INNER}"\n', ""],
    ids=["total-tasks", "not-srun", "never-run"],
)
def test_a_heredoc_srun_does_not_run_as_stated_is_not_read(tmp_path: Path, tail: str) -> None:
    w = _workload(tmp_path, HEREDOC + tail)
    assert not w.sources["world_size"].file.endswith("run.slurm")


def test_a_file_sourced_many_times_is_read_once() -> None:
    calls: list[str] = []

    def source(word: str) -> tuple[str, str] | None:
        calls.append(word)
        return ("/x/setup.sh", "BATCH_SIZE=6\n")

    script = "source setup.sh\n" * 2000 + "".join(f"source s{i}.sh\n" for i in range(40)) + TUNE
    (line,) = launcher_text.parse_launcher(Path("/x/run.sh"), script, source=source).lines
    assert calls.count("setup.sh") == 1 and len(calls) == launcher_text.MAX_SOURCED
    assert ("BATCH_SIZE", "/x/setup.sh", 1) in line.origins
