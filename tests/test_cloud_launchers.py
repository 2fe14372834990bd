"""Topology from cloud/cluster launcher files that are YAML (formats/cloud.py): dstack tasks, SkyPilot tasks and
Kubeflow PyTorchJobs, read as data; their commands read like a shell script's lines (review4 #32 dstack
grpo.dstack.yml)."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import launchers, load_config

from .repo_files import repo
from .test_topology import topo

AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\nsequence_len: 4096\nbf16: true\nfsdp_config:\n  fsdp_version: 2\n"

DSTACK_MULTI = """type: task
name: sft
nodes: 2
env:
  - HF_TOKEN
  - CONFIG=configs/sft.yaml
commands:
  - pip install axolotl
  - torchrun
    --nproc_per_node=$DSTACK_GPUS_PER_NODE
    --nnodes=$DSTACK_NODES_NUM
    -m axolotl.cli.train $CONFIG
resources:
  gpu: MI300X:8
"""


def test_dstack_multinode_task_gives_nodes_and_gpus_from_its_resources(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "train.dstack.yml": DSTACK_MULTI})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (16, 2, 8)
    src = w.sources["world_size"]
    assert src.explicit and src.line == 9 and Path(src.file) == (root / "train.dstack.yml").resolve()
    assert any("dstack launcher file asking for 2 node(s) (line 3) and 8 GPU(s) per node (line 14)" in n for n in w.notes)


def test_dstack_accelerate_without_a_count_takes_the_gpus_the_task_asks_for(tmp_path: Path) -> None:
    text = "type: task\ncommands:\n  - accelerate launch -m axolotl.cli.train configs/sft.yaml\nresources:\n  gpu: 80GB:4\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "configs/sft.dstack.yml": text})
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and (launch.nodes, launch.per_node) == (1, 4) and launch.per_node_said
    assert launch.line == 3


def test_dstack_script_arguments_reach_the_script_and_a_bare_gpu_name_is_one(tmp_path: Path) -> None:
    # review4 #32: grpo.dstack.yml runs `python grpo_train.py --per_device_train_batch_size 2` with `gpu: MI300X`
    text = (
        "type: task\nenv:\n  - MODEL_ID=Qwen/Qwen2.5-1.5B\ncommands:\n  - pip install trl\n  - python grpo_train.py\n"
        "    --model_name_or_path $MODEL_ID\n    --per_device_train_batch_size 2\n    --output_dir out\nresources:\n  gpu: MI300X\n"
    )
    root = repo(tmp_path, {"amd/grpo_train.py": "print('x')\n", "amd/grpo.dstack.yml": text})
    script = launchers.find_script_launch(root / "amd/grpo_train.py")
    assert script is not None and script.shown == "amd/grpo.dstack.yml" and script.line == 6
    assert ("--per_device_train_batch_size", "2", 8) in script.flags
    assert ("--model_name_or_path", "Qwen/Qwen2.5-1.5B", 7) in script.flags
    launch = launchers.find_launch(root / "amd/grpo_train.py")
    assert launch is not None and (launch.nodes, launch.per_node) == (1, 1)
    assert any("asks for a range of GPUs per node (from 1): the count is the offer's, not stated" in n for n in launch.notes)


def test_dstack_gpu_range_leaves_the_count_per_node_assumed(tmp_path: Path) -> None:
    # `gpu: MI300X` is the range 1.. (dstack resources.py:179): $DSTACK_GPUS_PER_NODE is whatever the offer has
    text = DSTACK_MULTI.replace("gpu: MI300X:8", "gpu: MI300X")
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "train.dstack.yml": text})
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and launch.nodes == 2 and launch.per_node == 8 and not launch.per_node_said
    assert any("`$DSTACK_GPUS_PER_NODE` not resolved" in a for a in launch.assumed)


SKY = """name: sft
num_nodes: 2
resources:
  accelerators: MI300X:8
envs:
  CFG: configs/sft.yaml
setup: |
  pip install axolotl
run: |
  cd $HOME
  torchrun --nnodes=$SKYPILOT_NUM_NODES \\
    --nproc_per_node=$SKYPILOT_NUM_GPUS_PER_NODE \\
    -m axolotl.cli.train configs/sft.yaml
"""


def test_skypilot_task_gives_nodes_and_gpus_and_the_run_line(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "sky.yaml": SKY.replace("cd $HOME\n", "")})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (16, 2, 8)
    assert w.sources["world_size"].line == 10 and w.sources["world_size"].file.endswith("sky.yaml")


PYTORCHJOB = """apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: sft
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      template:
        spec:
          containers:
            - name: pytorch
              command: ["torchrun", "--nproc_per_node=8", "-m", "axolotl.cli.train", "configs/sft.yaml"]
              resources:
                limits:
                  amd.com/gpu: 8
    Worker:
      replicas: 3
      template:
        spec:
          containers:
            - name: pytorch
              command: ["torchrun", "--nproc_per_node=8", "-m", "axolotl.cli.train", "configs/sft.yaml"]
              resources:
                limits:
                  amd.com/gpu: 8
"""


def test_pytorchjob_replicas_are_the_nodes(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "k8s/job.yaml": PYTORCHJOB})
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and (launch.nodes, launch.per_node) == (4, 8) and launch.line == 13


def test_pytorchjob_torchrun_without_flags_reads_the_operator_environment(tmp_path: Path) -> None:
    # the operator sets PET_NNODES (replicas summed) and PET_NPROC_PER_NODE (nprocPerNode, default `auto`),
    # which torchrun reads for flags left off (torch argparse_util.py:13-45)
    bare = PYTORCHJOB.replace('"--nproc_per_node=8", ', "")
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "k8s/job.yaml": bare})
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and (launch.nodes, launch.per_node) == (4, 8) and launch.per_node_said
    four = bare.replace("  pytorchReplicaSpecs:", '  nprocPerNode: "4"\n  pytorchReplicaSpecs:')
    root2 = repo(tmp_path / "b", {"configs/sft.yaml": AXOLOTL, "k8s/job.yaml": four})
    launch2 = launchers.find_launch(root2 / "configs/sft.yaml")
    assert launch2 is not None and (launch2.nodes, launch2.per_node) == (4, 4)


# ------------------------------------------------------------------ must not fire
def test_a_training_yaml_with_a_run_key_is_no_launcher(tmp_path: Path) -> None:
    other = "run: |\n  torchrun --nnodes 4 --nproc_per_node 8 -m axolotl.cli.train configs/sft.yaml\nlearning_rate: 1e-5\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "configs/other.yaml": other})
    assert launchers.find_launch(root / "configs/sft.yaml") is None


def test_a_dstack_file_that_names_another_config_or_is_broken_is_not_read(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "configs/sft.yaml": AXOLOTL,
            "configs/dpo.yaml": AXOLOTL,
            "a.dstack.yml": DSTACK_MULTI.replace("$CONFIG", "configs/dpo.yaml"),
            "b.dstack.yml": "type: task\ncommands:\n  - torchrun --nnodes 3 -m axolotl.cli.train configs/sft.yaml\n  bad: [\n",
        },
    )
    assert launchers.find_launch(root / "configs/sft.yaml") is None
    launch = launchers.find_launch(root / "configs/dpo.yaml")
    assert launch is not None and (launch.nodes, launch.per_node) == (2, 8)


def test_a_dstack_service_is_no_training_launcher(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "serve.dstack.yml": DSTACK_MULTI.replace("type: task", "type: service")})
    assert launchers.find_launch(root / "configs/sft.yaml") is None


def test_skypilot_accelerator_alternatives_leave_the_count_assumed(tmp_path: Path) -> None:
    text = SKY.replace("MI300X:8", "['MI300X:8', 'A100:4']").replace("cd $HOME\n", "")
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "sky.yaml": text})
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and launch.nodes == 2 and not launch.per_node_said
    assert any("lists alternatives" in n for n in launch.notes)


# ------------------------------------------------------------------ config names built from variables
def test_a_config_name_from_an_unset_variable_matches_the_one_file_of_its_folder(tmp_path: Path) -> None:
    script = "#!/bin/bash\ntorchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train configs/${MODEL}.yaml\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "train.sh": script})
    launch = launchers.find_launch(root / "configs/sft.yaml")
    assert launch is not None and (launch.nodes, launch.per_node) == (2, 8) and launch.line == 2
    assert any("read as the pattern `configs/*.yaml`, which sft.yaml is the one file of its folder to match" in n for n in launch.notes)


def test_a_variable_pattern_matching_two_files_names_neither(tmp_path: Path) -> None:
    script = "#!/bin/bash\ntorchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train configs/${MODEL}.yaml\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "configs/dpo.yaml": AXOLOTL, "train.sh": script})
    assert launchers.find_launch(root / "configs/sft.yaml") is None
    # a bare `${X}.yaml` is no pattern at all (any YAML of the folder)
    bare = "#!/bin/bash\ntorchrun --nnodes 2 --nproc_per_node 8 -m axolotl.cli.train ${X}.yaml\n"
    root2 = repo(tmp_path / "b", {"sft.yaml": AXOLOTL, "train.sh": bare})
    assert launchers.find_launch(root2 / "sft.yaml") is None


def test_a_config_variable_set_earlier_is_resolved_and_another_file_is_not_named(tmp_path: Path) -> None:
    script = "#!/bin/bash\nCONFIG=configs/dpo.yaml\ntorchrun --nnodes 2 --nproc_per_node 4 -m axolotl.cli.train $CONFIG\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "configs/dpo.yaml": AXOLOTL, "train.sh": script})
    assert launchers.find_launch(root / "configs/sft.yaml") is None
    launch = launchers.find_launch(root / "configs/dpo.yaml")
    assert launch is not None and (launch.nodes, launch.per_node) == (2, 4)


# review4 #18 VLM-R1 run_scripts/multinode_training_demo.sh: a function reads ${RUN_NAME}_args.yaml into the
# arguments the torchrun line passes; the node count is the length of a bash array of hosts
VLM = """#!/bin/bash
RUN_NAME=multinode_training # a ${RUN_NAME}_args.yaml beside it
DEFAULT_NODES=("node1" "node2")
if [ "$#" -ge 1 ]; then
    NODES=("$@")
else
    NODES=("${DEFAULT_NODES[@]}")
fi
TOTAL_NODES=${#NODES[@]}
build_train_args() {
    args=""
    while IFS=": " read -r key value; do
        args="$args --$key $value"
    done < ${RUN_NAME}_args.yaml
    echo "$args"
}
TRAIN_ARGS=$(build_train_args)
for host in "${NODES[@]}"; do
    ssh $host "cd /workspace && \\
        torchrun --nproc_per_node=8 \\
        --nnodes=$TOTAL_NODES \\
        src/train.py \\
        $TRAIN_ARGS" > "$host.log" 2>&1 &
done
"""


def test_a_config_read_into_the_arguments_a_launch_line_passes_is_launched_by_it(tmp_path: Path) -> None:
    root = repo(tmp_path, {"run_scripts/multinode_training_args.yaml": "per_device_train_batch_size: 1\n", "run_scripts/demo.sh": VLM})
    launch = launchers.find_launch(root / "run_scripts/multinode_training_args.yaml")
    assert launch is not None and (launch.nodes, launch.per_node) == (2, 8) and launch.line == 19
    assert any("passes $TRAIN_ARGS, which function build_train_args (line 17) builds from multinode_training_args.yaml (line 14)" in n for n in launch.notes)
    assert (
        "`TOTAL_NODES` is 2 (line 9), the number of words of the array NODES (line 7), read as the script is run without arguments (line 5 sets it from them)"
        in launch.notes
    )


def test_an_array_of_the_scripts_own_arguments_has_no_known_length(tmp_path: Path) -> None:
    text = VLM.replace('    NODES=("${DEFAULT_NODES[@]}")\n', "    echo none\n")
    root = repo(tmp_path, {"run_scripts/multinode_training_args.yaml": "per_device_train_batch_size: 1\n", "run_scripts/demo.sh": text})
    launch = launchers.find_launch(root / "run_scripts/multinode_training_args.yaml")
    assert launch is not None and launch.per_node == 8 and not launch.nodes_said and launch.nodes_unset


def test_a_config_a_function_reads_is_not_launched_by_a_line_that_does_not_pass_it(tmp_path: Path) -> None:
    text = VLM.replace('        $TRAIN_ARGS" >', '        --lr 1" >')
    root = repo(tmp_path, {"run_scripts/multinode_training_args.yaml": "per_device_train_batch_size: 1\n", "run_scripts/demo.sh": text})
    assert launchers.find_launch(root / "run_scripts/multinode_training_args.yaml") is None
