"""Topology from plain Kubernetes batch Jobs and Pods (formats/cloud.py `_pod_workload`, issue 23): the container
that asks for GPUs in its limits, its command (a repository shell script it runs followed into the scripts that
script runs), its environment, GPUs per pod x the pods a Job runs (review6a #20 offendo/formalize jobs/herald_em.yaml).
Read as data; nothing is applied or run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import launchers, load_config
from pytest_goblin.formats.cloud import read_cloud

from .repo_files import repo
from .test_cloud_launchers import AXOLOTL
from .test_topology import topo

# offendo/formalize 91a4b39 jobs/herald_em.yaml, cut down: env CONFIG = the config, a renamed whole-GPU resource
JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: train-a100-4x
spec:
  template:
    spec:
      containers:
        - name: train
          image: ghcr.io/x/y:latest
          command: ["bash", "run_pipeline.sh"]
          env:
            - name: CONFIG
              value: "configs/sft.yaml"
            - name: SKIP_VERIFY
              value: "true"
          resources:
            limits:
              memory: 256Gi
              nvidia.com/a100: "4"
      restartPolicy: Never
"""
# run_pipeline.sh:6-17 and run_em.sh:8 of the same repository, cut down
PIPELINE = (
    '#!/bin/bash\npip install -U deepspeed\nif [ "$SKIP_TRAIN" = "" ]; then\n  bash run_em.sh\nfi\nif [ "$SKIP_VERIFY" = "" ]; then\n  bash run_verify.sh\nfi\n'
)
FILES = {
    "configs/sft.yaml": AXOLOTL,
    "configs/other.yaml": AXOLOTL,
    "jobs/train.yaml": JOB,
    "run_pipeline.sh": PIPELINE,
    "run_em.sh": "#!/bin/bash\naxolotl fetch deepspeed_configs\naxolotl train $CONFIG\n",
    "run_verify.sh": "accelerate launch --num_processes 8 -m axolotl.cli.train configs/other.yaml\n",
}


def test_a_job_running_a_repository_script_with_the_config_in_its_env_gives_gpus_per_pod(tmp_path: Path) -> None:
    root = repo(tmp_path, FILES)
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and launch.where() == "jobs/train.yaml line 11" and (launch.nodes, launch.per_node) == (1, 4)
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (4, 1, 4) and w.sources["world_size"].explicit
    assert any("line 11 runs run_pipeline.sh" in n for n in w.notes) and any("line 11 runs run_em.sh" in n for n in w.notes)
    assert any("`nvidia.com/a100: 4` (line 20) is a cluster's name for a whole-GPU resource" in n for n in w.notes)
    # run_verify.sh sits under `if [ "$SKIP_VERIFY" = "" ]` and the Job sets SKIP_VERIFY: not this Job's command
    assert launchers.find_launch(root / "configs/other.yaml") is not None  # the script itself still launches it
    assert load_config(root / "configs/other.yaml").workload.sources["world_size"].file.endswith("run_verify.sh")


def test_a_job_with_parallel_pods_and_a_direct_command(tmp_path: Path) -> None:
    job = JOB.replace(
        'command: ["bash", "run_pipeline.sh"]', 'command: ["torchrun", "--nnodes", "2", "--nproc_per_node", "8", "-m", "axolotl.cli.train", "$(CONFIG)"]'
    )
    job = job.replace("spec:\n  template:", "spec:\n  parallelism: 2\n  template:").replace('nvidia.com/a100: "4"', "amd.com/gpu: 8")
    found = read_cloud(Path("job.yaml"), job)
    assert found is not None and found.nodes == (2, 6) and found.gpus == (8, 21)
    # Kubernetes' `$(CONFIG)` in args is the container's CONFIG
    assert found.lines == [(12, "torchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train '${CONFIG}'")]
    root = repo(tmp_path, {**FILES, "jobs/train.yaml": job})
    assert topo(load_config(root / "configs/sft.yaml").workload) == (16, 2, 8)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        # an inference server: its command runs no training command, though its env names the config
        (('command: ["bash", "run_pipeline.sh"]', 'command: ["python", "-m", "vllm.entrypoints.openai.api_server", "--model", "m"]'), "server"),
        # a Job that trains another config
        (('value: "configs/sft.yaml"', 'value: "configs/other.yaml"'), "other config"),
        # the training step switched off by the Job's environment
        (('- name: SKIP_VERIFY\n              value: "true"', '- name: SKIP_TRAIN\n              value: "true"'), "skipped"),
        # a MIG slice or a time-sliced GPU is part of a GPU: no container asks for whole GPUs, nothing read
        (('nvidia.com/a100: "4"', 'nvidia.com/mig-1g.5gb: "1"'), "mig"),
        (('nvidia.com/a100: "4"', 'nvidia.com/gpu.shared: "1"'), "shared"),
    ],
)
def test_a_manifest_that_does_not_train_this_config_on_whole_gpus_is_no_launch(tmp_path: Path, change: tuple[str, str], why: str) -> None:
    files = {**FILES, "jobs/train.yaml": JOB.replace(*change), "run_verify.sh": "echo verify\n"}
    assert files["jobs/train.yaml"] != JOB, why
    root = repo(tmp_path, files)
    assert launchers.find_launch(root / "configs/sft.yaml") is None
    assert topo(load_config(root / "configs/sft.yaml").workload) == (8, 1, 8)  # FSDP config, 8 assumed as before
    assert not load_config(root / "configs/sft.yaml").workload.sources["world_size"].explicit


def test_the_else_branch_of_a_block_the_environment_switches_off_still_runs(tmp_path: Path) -> None:
    pipeline = '#!/bin/bash\nif [ -z "$FULL" ]; then\n  echo dry run\nelse\n  bash run_em.sh\nfi\n'
    job = JOB.replace("SKIP_VERIFY", "FULL")
    root = repo(tmp_path, {**FILES, "run_pipeline.sh": pipeline, "jobs/train.yaml": job})
    assert topo(load_config(root / "configs/sft.yaml").workload) == (4, 1, 4)
    # without FULL set (nor assigned by a script of the chain) the `-z` test holds: the dry run, not the training
    root2 = repo(tmp_path / "b", {**FILES, "run_pipeline.sh": pipeline})
    assert launchers.find_launch(root2 / "configs/sft.yaml") is None
    # a script of the chain that sets FULL: the test is not judged, both branches read
    root3 = repo(tmp_path / "c", {**FILES, "run_pipeline.sh": "export FULL=1\n" + pipeline})
    assert launchers.find_launch(root3 / "configs/sft.yaml") is not None


def test_parallel_pods_whose_command_joins_no_nodes_are_independent_one_node_runs(tmp_path: Path) -> None:
    # topo10: `parallelism: 3` with a plain single-node command runs 3 separate copies, not one 3-node run
    job = JOB.replace('command: ["bash", "run_pipeline.sh"]', 'command: ["torchrun", "--nproc_per_node", "8", "-m", "axolotl.cli.train", "$(CONFIG)"]')
    job = job.replace("spec:\n  template:", "spec:\n  parallelism: 3\n  template:").replace('nvidia.com/a100: "4"', "amd.com/gpu: 8")
    found = read_cloud(Path("job.yaml"), job)
    assert found is not None and found.nodes == (1, 6) and found.gpus == (8, 21)
    assert any("`parallelism: 3` (line 6) runs 3 pods" in n and "its own one-node run" in n for n in found.notes)
    root = repo(tmp_path, {**FILES, "jobs/train.yaml": job})
    assert topo(load_config(root / "configs/sft.yaml").workload) == (8, 1, 8)
    # must-not-fire: a rendezvous endpoint (or MASTER_ADDR in the pod's env) joins the pods: 3 nodes
    joined = job.replace('"--nproc_per_node"', '"--rdzv_endpoint", "head:29400", "--nproc_per_node"')
    found2 = read_cloud(Path("job.yaml"), joined)
    assert found2 is not None and found2.nodes == (3, 6) and not any("own one-node run" in n for n in found2.notes)
    env = job.replace("- name: SKIP_VERIFY", '- name: MASTER_ADDR\n              value: "head"\n            - name: SKIP_VERIFY')
    found3 = read_cloud(Path("job.yaml"), env)
    assert found3 is not None and found3.nodes == (3, 6)
    # `--nnodes 1` joins nothing: still one node each
    one = job.replace('"--nproc_per_node"', '"--nnodes", "1", "--nproc_per_node"')
    found4 = read_cloud(Path("job.yaml"), one)
    assert found4 is not None and found4.nodes == (1, 6)
