"""The environment a launcher gives the process it launches reaches the env rules (session 10, env16): a launch
script's `export`s before the launch line (in order; `unset` removes one), a file it sources, the launch line's own
`NAME=value` prefix (on a continuation line too) and `env NAME=value` words, a slurm script's exports before `srun`.
Each value is sourced at its file and line, and the finding names it. An export after the launch line, in another
script, commented out, inside a branch goblin cannot evaluate, or of a `$VAR` value is not the run's. A script's own
`os.environ[...] =` wins over the launcher (it runs after the export), `setdefault` does not, and an assignment under
an `if args.debug:` that is false sets nothing. Nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin import hardware
from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo
from .test_debug_modes import SCRIPT
from .test_launch_forms import TORCHTUNE_DIST

HW = hardware.get_hardware("mi300x")
RULE = "env.hip_logging_left_on"  # AMD_LOG_LEVEL not in (unset, "0")
TUNE = "tune run --nproc_per_node=2 full_finetune_distributed --config ../configs/c.yaml\n"


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _workload(tmp_path: Path, script: str, extra: dict[str, str] | None = None, name: str = "scripts/run.sh") -> WorkloadConfig:
    root = repo(tmp_path, {"configs/c.yaml": TORCHTUNE_DIST, name: script, **(extra or {})})
    return load_config(root / "configs/c.yaml").workload


def _finding(w: WorkloadConfig, rule_id: str = RULE) -> str | None:
    rule = next((r for r in kb.applicable(w, HW, kb.cached_rules()) if r.id == rule_id), None)
    return kb.render_finding(rule, w, HW) if rule else None


@pytest.mark.parametrize(
    ("script", "extra", "where"),
    [
        ("#!/bin/bash\nexport AMD_LOG_LEVEL=3\n" + TUNE, {}, "scripts/run.sh line 2"),
        ("#!/bin/bash\nAMD_LOG_LEVEL=3\nexport AMD_LOG_LEVEL\n" + TUNE, {}, "scripts/run.sh line 2"),  # the assignment's line
        ("export AMD_LOG_LEVEL=1\nAMD_LOG_LEVEL=3\n" + TUNE, {}, "scripts/run.sh line 2"),  # reassigned after its export
        ("AMD_LOG_LEVEL=3 " + TUNE, {}, "scripts/run.sh line 1"),  # a prefix on the launch line
        ("CUDA_LAUNCH_BLOCKING=1 \\\n  AMD_LOG_LEVEL=3 \\\n  " + TUNE, {}, "scripts/run.sh line 2"),  # on a continuation
        ("env AMD_LOG_LEVEL=3 " + TUNE, {}, "scripts/run.sh line 1"),  # `env NAME=value` words
        ("source ./env.sh\n" + TUNE, {"scripts/env.sh": "#!/bin/bash\nexport AMD_LOG_LEVEL=3\n"}, "scripts/env.sh line 2"),
        (". env.sh\n" + TUNE, {"scripts/env.sh": "export AMD_LOG_LEVEL=3\n"}, "scripts/env.sh line 1"),
    ],
    ids=["export", "export-name", "reassigned", "prefix", "continuation", "env-words", "source", "dot"],
)
def test_the_launchers_value_fires_and_names_its_line(tmp_path: Path, script: str, extra: dict[str, str], where: str) -> None:
    w = _workload(tmp_path, script, extra)
    assert w.env["AMD_LOG_LEVEL"] == "3"
    msg = _finding(w)
    assert msg is not None and f"AMD_LOG_LEVEL=3 ({where})" in msg


def test_a_slurm_scripts_exports_before_srun(tmp_path: Path) -> None:
    script = "#!/bin/bash\n#SBATCH --nodes=1\nexport NCCL_DEBUG=INFO\nexport PYTORCH_TUNABLEOP_ENABLED=1\nexport AMD_SERIALIZE_KERNEL=3\nsrun " + TUNE
    w = _workload(tmp_path, script, name="scripts/run.slurm")
    assert (w.env["NCCL_DEBUG"], w.env["PYTORCH_TUNABLEOP_ENABLED"]) == ("INFO", "1")
    assert w.sources["env.PYTORCH_TUNABLEOP_ENABLED"].line == 4 and w.sources["env.PYTORCH_TUNABLEOP_ENABLED"].file.endswith("run.slurm")
    msg = _finding(w, "env.profiler_variables_left_on")  # AMD_SERIALIZE_KERNEL from the export, named with its line
    assert msg is not None and msg.startswith("AMD_SERIALIZE_KERNEL=3 (scripts/run.slurm line 5): ")


@pytest.mark.parametrize(
    ("script", "extra"),
    [
        (TUNE + "export AMD_LOG_LEVEL=3\n", {}),  # after the launch line
        (TUNE, {"scripts/other.sh": "export AMD_LOG_LEVEL=3\n" + TUNE.replace("c.yaml", "d.yaml")}),  # in another script
        ("# export AMD_LOG_LEVEL=3\n" + TUNE, {}),  # commented out
        ("export AMD_LOG_LEVEL=3\nunset AMD_LOG_LEVEL\n" + TUNE, {}),  # unset before the launch
        ("AMD_LOG_LEVEL=3\n" + TUNE, {}),  # a shell variable never exported
        ("env -u AMD_LOG_LEVEL " + TUNE, {"scripts/x": ""}),  # removed by `env -u`
    ],
    ids=["after", "other-script", "commented", "unset", "not-exported", "env-unset"],
)
def test_a_value_the_process_does_not_get_does_not_fire(tmp_path: Path, script: str, extra: dict[str, str]) -> None:
    w = _workload(tmp_path, script, extra)
    assert "AMD_LOG_LEVEL" not in w.env and "env.AMD_LOG_LEVEL" not in w.sources
    assert _finding(w) is None


@pytest.mark.parametrize(
    "script",
    [
        "export AMD_LOG_LEVEL=$LEVEL\n" + TUNE,  # a variable
        "export AMD_LOG_LEVEL=`cat level`\n" + TUNE,  # backticks
        'if [ "$1" = debug ]; then\n  export AMD_LOG_LEVEL=3\nfi\n' + TUNE,  # a branch goblin cannot evaluate
        '[ -n "$DEBUG" ] && export AMD_LOG_LEVEL=3\n' + TUNE,  # after `&&`
        "AMD_LOG_LEVEL=$LEVEL " + TUNE,  # a prefix holding `$`
    ],
    ids=["variable", "backticks", "branch", "and-list", "prefix-variable"],
)
def test_an_unknown_value_is_not_guessed_and_no_rule_judges_it(tmp_path: Path, script: str) -> None:
    w = _workload(tmp_path, script)
    assert "AMD_LOG_LEVEL" not in w.env
    assert w.sources["env.AMD_LOG_LEVEL"].unread
    assert _finding(w) is None
    assert any("AMD_LOG_LEVEL to a value goblin cannot read" in n for n in w.notes)
    # a rule premised on the variable being unset is not judged either (the launcher sets it, to an unknown value)
    unread = {name for name, src in w.sources.items() if src.unread}
    assert "env.AMD_LOG_LEVEL" in unread


def test_an_unset_inside_a_branch_leaves_the_value_unknown(tmp_path: Path) -> None:
    w = _workload(tmp_path, 'export AMD_LOG_LEVEL=3\nif [ -z "$KEEP" ]; then\n  unset AMD_LOG_LEVEL\nfi\n' + TUNE)
    assert "AMD_LOG_LEVEL" not in w.env and w.sources["env.AMD_LOG_LEVEL"].unread and _finding(w) is None


def test_env_i_clears_the_exports(tmp_path: Path) -> None:
    w = _workload(tmp_path, "export AMD_LOG_LEVEL=3\nenv -i PATH=/usr/bin " + TUNE)
    assert "AMD_LOG_LEVEL" not in w.env and w.env["PATH"] == "/usr/bin"


def test_a_secret_the_launcher_exports_is_masked(tmp_path: Path) -> None:
    w = _workload(tmp_path, "export HF_TOKEN=hf_abcdefSECRET123\n" + TUNE)
    assert w.env["HF_TOKEN"] != "hf_abcdefSECRET123"


# ------------------------------------------------------------------ a Python script and its launcher
LAUNCH_PY = "export AMD_LOG_LEVEL=3\ntorchrun --nproc_per_node 2 train.py\n"


def _script(tmp_path: Path, top: str, launch: str = LAUNCH_PY) -> WorkloadConfig:
    root = repo(tmp_path, {"train.py": SCRIPT.format(top=top, train="    trainer.train()\n", imports="import os\n"), "run.sh": launch})
    return load_config(root / "train.py").workload


def test_the_scripts_os_environ_wins_over_the_launchers_export(tmp_path: Path) -> None:
    w = _script(tmp_path, 'os.environ["AMD_LOG_LEVEL"] = "0"\n')
    assert w.env["AMD_LOG_LEVEL"] == "0" and w.sources["env.AMD_LOG_LEVEL"].line == 10
    assert _finding(w) is None


def test_the_launchers_export_wins_over_a_setdefault(tmp_path: Path) -> None:
    w = _script(tmp_path, 'os.environ.setdefault("AMD_LOG_LEVEL", "0")\n')
    assert w.env["AMD_LOG_LEVEL"] == "3"
    msg = _finding(w)
    assert msg is not None and "AMD_LOG_LEVEL=3 (run.sh line 1)" in msg


def test_the_launchers_export_reaches_a_python_script(tmp_path: Path) -> None:
    w = _script(tmp_path, "")
    msg = _finding(w)
    assert msg is not None and "AMD_LOG_LEVEL=3 (run.sh line 1)" in msg


def test_an_os_environ_setting_under_a_false_if_sets_nothing(tmp_path: Path) -> None:
    w = _script(tmp_path, 'if args.debug:\n    os.environ["AMD_LOG_LEVEL"] = "3"\n', launch="torchrun --nproc_per_node 2 train.py\n")
    assert "AMD_LOG_LEVEL" not in w.env and _finding(w) is None


def test_an_os_environ_setting_under_a_true_if_counts(tmp_path: Path) -> None:
    w = _script(tmp_path, 'if args.debug:\n    os.environ["AMD_LOG_LEVEL"] = "3"\n', launch="torchrun --nproc_per_node 2 train.py --debug\n")
    msg = _finding(w)
    assert w.env["AMD_LOG_LEVEL"] == "3" and msg is not None and "AMD_LOG_LEVEL=3 (line 11)" in msg


def test_an_os_environ_setting_under_an_unknown_if_is_unknown(tmp_path: Path) -> None:
    w = _script(tmp_path, 'if os.path.exists("/tmp/x"):\n    os.environ["AMD_LOG_LEVEL"] = "3"\n')
    assert "AMD_LOG_LEVEL" not in w.env and w.sources["env.AMD_LOG_LEVEL"].unread  # over the launcher's 3 too
    assert _finding(w) is None


# ------------------------------------------------------------------ a cloud manifest's env
AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\nsequence_len: 4096\nbf16: true\n"
KUBE_JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: sft
spec:
  template:
    spec:
      containers:
        - name: train
          image: rocm/pytorch:latest
          command: ["torchrun", "--nproc_per_node=8", "-m", "axolotl.cli.train", "configs/sft.yaml"]
          env:
            - name: AMD_LOG_LEVEL
              value: "{level}"
            - name: NCCL_DEBUG
              valueFrom:
                configMapKeyRef: {{name: cfg, key: debug}}
          resources:
            limits:
              amd.com/gpu: 8
"""
DSTACK = """type: task
name: sft
env:
  - HF_TOKEN
  - AMD_LOG_LEVEL={level}
commands:
  - torchrun --nproc_per_node=$DSTACK_GPUS_PER_NODE -m axolotl.cli.train configs/sft.yaml
resources:
  gpu: MI300X:8
"""


def _cloud(tmp_path: Path, name: str, text: str) -> WorkloadConfig:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, name: text})
    return load_config(root / "configs/sft.yaml").workload


def test_a_kubernetes_containers_env_reaches_the_rules(tmp_path: Path) -> None:
    w = _cloud(tmp_path, "k8s/job.yaml", KUBE_JOB.format(level="3"))
    msg = _finding(w)
    assert msg is not None and "AMD_LOG_LEVEL=3 (k8s/job.yaml line 13)" in msg
    assert "NCCL_DEBUG" not in w.env and w.sources["env.NCCL_DEBUG"].unread  # from a ConfigMap: unknown


def test_a_kubernetes_env_value_of_zero_or_from_a_variable_does_not_fire(tmp_path: Path) -> None:
    assert _finding(_cloud(tmp_path / "a", "k8s/job.yaml", KUBE_JOB.format(level="0"))) is None
    w = _cloud(tmp_path / "b", "k8s/job.yaml", KUBE_JOB.format(level="$(LEVEL)"))
    assert _finding(w) is None and w.sources["env.AMD_LOG_LEVEL"].unread


def test_a_dstack_tasks_env_reaches_the_rules(tmp_path: Path) -> None:
    w = _cloud(tmp_path, "train.dstack.yml", DSTACK.format(level="3"))
    msg = _finding(w)
    assert msg is not None and "AMD_LOG_LEVEL=3 (train.dstack.yml line 5)" in msg
    assert "HF_TOKEN" not in w.env and w.sources["env.HF_TOKEN"].unread  # passed from outside: unknown
    assert _finding(_cloud(tmp_path / "z", "train.dstack.yml", DSTACK.format(level="0"))) is None


def test_export_n_takes_the_variable_back_out(tmp_path: Path) -> None:
    w = _workload(tmp_path, "export AMD_LOG_LEVEL=3\nexport -n AMD_LOG_LEVEL\n" + TUNE)
    assert "AMD_LOG_LEVEL" not in w.env and _finding(w) is None


def test_an_export_in_a_readme_block_or_notebook_cell_does_not_carry_but_a_prefix_does(tmp_path: Path) -> None:
    tune = TUNE.replace("../configs", "configs")
    w = _workload(tmp_path / "a", "# Train\n\n```bash\nexport AMD_LOG_LEVEL=3\n" + tune + "```\n", name="README.md")
    assert "AMD_LOG_LEVEL" not in w.env
    w = _workload(tmp_path / "b", "# Train\n\n```bash\nAMD_LOG_LEVEL=3 " + tune + "```\n", name="README.md")
    assert w.env.get("AMD_LOG_LEVEL") == "3" and w.sources["env.AMD_LOG_LEVEL"].line == 4


def test_a_modal_launch_gets_nothing_from_the_local_shell(tmp_path: Path) -> None:
    from .test_python_launch import _modal_tree

    w = load_config(_modal_tree(tmp_path, "AMD_LOG_LEVEL=3 GPU_CONFIG=h100:8 modal run -m src.train --config=config/a.yml")).workload
    assert w.gpus_per_node == 8  # the launch is found, and the Modal app reads GPU_CONFIG locally
    assert "AMD_LOG_LEVEL" not in w.env  # but the remote container does not get the local shell's variables


def test_a_launchers_p2p_ib_and_launch_blocking_exports_are_judged_by_the_topology(tmp_path: Path) -> None:
    """Issue 24 (review10b #21, Mini-R1 start.sh): the exports that take RCCL off xGMI (P2P), off InfiniBand and
    serialize HIP's kernel enqueue. On one node of 2 GPUs P2P and launch-blocking fire, IB does not; each names its line."""
    script = "#!/bin/bash\nexport NCCL_P2P_DISABLE=1\nexport NCCL_IB_DISABLE=1\nexport HIP_LAUNCH_BLOCKING=1\n" + TUNE
    w = _workload(tmp_path, script)
    p2p = _finding(w, "comm.p2p_disabled")
    assert p2p is not None and p2p.startswith("NCCL_P2P_DISABLE=1 (scripts/run.sh line 2): ") and "xGMI" in p2p
    blocking = _finding(w, "env.hip_launch_blocking")
    assert blocking is not None and blocking.startswith("HIP_LAUNCH_BLOCKING=1 (scripts/run.sh line 4): ")
    assert _finding(w, "comm.ib_disabled") is None  # one node: nothing crosses the network


def test_ib_off_fires_across_nodes_and_p2p_off_not_on_one_gpu_per_node(tmp_path: Path) -> None:
    two_nodes = TUNE.replace("--nproc_per_node=2", "--nnodes=2 --nproc_per_node=8")
    w = _workload(tmp_path, "export NCCL_IB_DISABLE=1\nexport NCCL_P2P_DISABLE=0\n" + two_nodes)
    ib = _finding(w, "comm.ib_disabled")
    assert ib is not None and ib.startswith("NCCL_IB_DISABLE=1 (scripts/run.sh line 1): ")
    assert _finding(w, "comm.p2p_disabled") is None  # value 0: P2P stays on


def test_p2p_off_on_one_gpu_and_cuda_launch_blocking_do_not_fire(tmp_path: Path) -> None:
    one_gpu = TUNE.replace("--nproc_per_node=2", "--nproc_per_node=1")
    w = _workload(tmp_path, "export NCCL_P2P_DISABLE=1\nexport CUDA_LAUNCH_BLOCKING=1\n" + one_gpu)
    assert w.env["NCCL_P2P_DISABLE"] == "1"
    assert _finding(w, "comm.p2p_disabled") is None  # one GPU: no peer
    assert _finding(w, "env.hip_launch_blocking") is None  # HIP reads HIP_LAUNCH_BLOCKING only (clr flags.cpp)
