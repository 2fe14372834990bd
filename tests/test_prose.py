"""GPU counts a README's prose ties to a config (formats/prose.py) and where they stand against launch lines
(review4 #11 Virgo README.md:83 "64 Nvidia A800" over `NNODES=$WORLD_SIZE`; #27 dolly README.md:91 "8 A100")."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config, prose
from pytest_goblin.formats.semantics import strategy_unread
from pytest_goblin.schemas import WorkloadConfig

from .repo_files import repo

LLAMAFACTORY = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
    "dataset: alpaca_en_demo\ntemplate: llama3\ncutoff_len: 2048\nper_device_train_batch_size: 1\n"
    "gradient_accumulation_steps: 3\nbf16: true\n"
)
AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nsequence_len: 4096\nbf16: true\n"
# Virgo's shape: the root README's Training section runs a script (after `cd LF`) that launches the config with
# a node count the scheduler sets; a second config beside it has its own script the README never names.
VIRGO_README = """# Virgo

## Training
```
cd LF
bash training_scripts/big.sh
```

We train the 72B model with 64 Nvidia A800 with 80GB.

## Evaluation
Run `scripts/eval.py`.
"""
VIRGO = {
    "LF/examples/big.yaml": LLAMAFACTORY,
    "LF/examples/small.yaml": LLAMAFACTORY,
    "LF/training_scripts/big.sh": "FORCE_TORCHRUN=1 NNODES=$WORLD_SIZE NODE_RANK=$RANK llamafactory-cli train examples/big.yaml\n",
    "LF/training_scripts/small.sh": "FORCE_TORCHRUN=1 NNODES=$WORLD_SIZE NODE_RANK=$RANK llamafactory-cli train examples/small.yaml\n",
    "README.md": VIRGO_README,
}


def topo(w: WorkloadConfig) -> tuple[int, int | None, int | None]:
    return w.world_size, w.nodes, w.gpus_per_node


def test_a_readme_count_tied_through_the_launch_script_wins_over_an_unset_node_count(tmp_path: Path) -> None:
    root = repo(tmp_path, VIRGO)
    w = load_config(root / "LF/examples/big.yaml").workload
    src = w.sources["world_size"]
    assert topo(w) == (64, 8, 8)
    assert src.file.endswith("README.md") and src.line == 9 and src.explicit
    assert "`64 Nvidia A800`" in (src.note or "") and "A800 80GB" in (src.note or "") and "`$WORLD_SIZE` is never set" in (src.note or "")
    assert any("README.md:9" in n and "A800 80GB" in n for n in w.notes)
    assert not any(n.startswith("topology from the repository") for n in w.notes)  # its 1 node x 8 is not said


def test_a_readme_count_about_another_script_does_not_set_the_count(tmp_path: Path) -> None:
    root = repo(tmp_path, VIRGO)
    w = load_config(root / "LF/examples/small.yaml").workload  # small.sh is not named in the README
    assert topo(w) == (8, 1, 8) and w.sources["world_size"].file.endswith("small.sh")
    assert not any("A800" in n for n in w.notes)


def test_a_readme_8xa100_for_a_different_script_is_not_this_configs(tmp_path: Path) -> None:
    readme = "# Repo\n\n## 70B\nRun `train_70b.py`; we used 8xA100.\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "README.md": readme, "train_70b.py": "print(1)\n"})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (1, 1, 1) and not w.sources["world_size"].explicit


def test_an_explicit_launch_line_wins_over_readme_prose_and_the_conflict_is_noted(tmp_path: Path) -> None:
    files = dict(VIRGO)
    files["LF/training_scripts/big.sh"] = "FORCE_TORCHRUN=1 NNODES=2 NPROC_PER_NODE=8 llamafactory-cli train examples/big.yaml\n"
    root = repo(tmp_path, files)
    w = load_config(root / "LF/examples/big.yaml").workload
    assert topo(w) == (16, 2, 8) and w.sources["world_size"].file.endswith("big.sh")
    assert any("README.md:9" in n and "64 GPUs" in n and "16 GPUs and wins" in n for n in w.notes)


DOLLY_README = """# Dolly

## Getting Started with Training
- Start a single-node cluster with node type having 8 A100 GPUs.
- Open the `train_dolly.py` notebook and run all cells.

### Training on Other Instances

#### A10 GPUs
To train on A10 instances (ex: 4 x A10 24GB), use `train_dolly.py` with the a10 config.
"""


def test_a_python_script_gets_the_count_of_the_main_section_naming_its_notebook(tmp_path: Path) -> None:
    script = (
        "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
        "model = AutoModelForCausalLM.from_pretrained('EleutherAI/pythia-2.8b')\n"
        "args = TrainingArguments(output_dir='o', per_device_train_batch_size=4, bf16=True)\n"
        "Trainer(model=model, args=args).train()\n"
    )
    notebook = "from training.trainer import load_tokenizer\n# !deepspeed --module training.trainer --deepspeed cfg.json\n"
    root = repo(tmp_path, {"training/trainer.py": script, "train_dolly.py": notebook, "README.md": DOLLY_README})
    found = prose.readme_prose(str(root / "training/trainer.py"))
    assert found is not None and (found.gpus, found.line, found.phrase, found.gpu) == (8, 4, "8 A100", "A100")
    assert "`train_dolly.py`, which names `training.trainer`" in found.why and "`4 x A10` (line 10)" in found.why
    w = load_config(root / "training/trainer.py").workload
    assert topo(w) == (8, 1, 8) and w.sources["world_size"].file.endswith("README.md") and w.sources["world_size"].line == 4
    # the README says how many GPUs, not how they were launched: DDP is a stated guess, never a clean PASS
    assert w.strategy == "ddp" and "README.md:4 states the GPU count" in (strategy_unread(w) or "")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Trained on 64 Nvidia A800 with 80GB.", [(64, "64 Nvidia A800", "A800 80GB", None, None)]),
        ("We used 8xA100 for this run.", [(8, "8xA100", "A100", None, None)]),
        ("Hardware: 8 x H100 80GB.", [(8, "8 x H100", "H100 80GB", None, None)]),
        ("It ran on 2 nodes of 8 MI300X.", [(16, "2 nodes of 8 MI300X", "MI300X", 2, 8)]),
        ("Fits a single A100 (80GB).", [(1, "a single A100", "A100 80GB", None, None)]),
        ("Llama 3 8B at 80GB of memory, A100 preferred.", []),
        ("A single NVIDIA A100 GPU node is recommended; or 2 A100 nodes.", []),  # machines, not GPUs (Azure torchtune-azureml README.md:46)
        ("Trained using 4 H20 (96GB) GPUs, or 5 A100 (80G) GPUs.", [(4, "4 H20", "H20 96GB", None, None), (5, "5 A100", "A100 80GB", None, None)]),
        # review6b #31 Firefly README.MD:188 and :42 (a CJK character before the count, a Markdown-escaped `*`)
        ("我们最多仅使用了4*V100 GPU", [(4, "4*V100", "V100", None, None)]),
        ("使用了4\\*V100的GPU，相较于Ziya的160\\*A100", [(4, "4\\*V100", "V100", None, None), (160, "160\\*A100", "A100", None, None)]),
        # review6b #23 dapo-reproduction README.md:249: the GPU, then the count; not a memory size nor nodes
        ("GPU：A800 * 2", [(2, "A800 * 2", "A800", None, None)]),
        ("Runs on H100 x 8.", [(8, "H100 x 8", "H100", None, None)]),
        ("VRAM：81251MiB * 2, an A100 x 80GB, H100 x 2 nodes", []),
    ],
)
def test_prose_phrases_give_the_count_and_the_gpu(line: str, expected: list[tuple[int, str, str, int | None, int | None]]) -> None:
    assert [(h.gpus, h.phrase, h.gpu, h.nodes, h.per_node) for h in prose.hits_of(line, 1)] == expected


# review4 #23/#25 (MedicalGPT scripts/run_dpo.sh:1 `CUDA_VISIBLE_DEVICES=0,1 python3 training/dpo_training.py`,
# device_map "auto"): one process whose model transformers spreads over the visible GPUs.
SPLIT_SCRIPT = """from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3-8B", torch_dtype="bfloat16", device_map={device_map})
args = TrainingArguments(output_dir="out", per_device_train_batch_size=2, gradient_accumulation_steps=8, bf16=True)
Trainer(model=model, args=args).train()
"""


def _split_repo(tmp_path: Path, device_map: str, launch: str) -> Path:
    return repo(tmp_path, {"train.py": SPLIT_SCRIPT.replace("{device_map}", device_map), "run.sh": launch + "\n"})


def test_python_with_two_visible_gpus_and_device_map_auto_is_one_process_split_over_both(tmp_path: Path) -> None:
    from pytest_goblin import hardware, rules

    root = _split_repo(tmp_path, '"auto"', "CUDA_VISIBLE_DEVICES=0,1 python3 train.py")
    w = load_config(root / "train.py").workload
    assert topo(w) == (1, 1, 1)
    assert w.sources["device_map"].line == 3 and w.sources["device_map"].key == 'device_map="auto"'
    assert w.sources["visible_gpus"].key == "CUDA_VISIBLE_DEVICES=0,1" and w.sources["visible_gpus"].file.endswith("run.sh")
    note = next(n for n in w.notes if n.startswith("one process splits the model over 2 GPUs"))
    assert "each GPU idle about 1/2 of the step" in note and "integrations/accelerate.py:300" in note and "None" not in note
    advice = rules.naive_split_note(w, hardware.get_hardware("mi300x"))
    assert advice is not None and "which one AMD Instinct MI300X" in advice and "`torchrun --nproc_per_node 2`" in advice
    assert "None" not in advice


@pytest.mark.parametrize(
    ("device_map", "launch"),
    [
        ('"auto"', "torchrun --nproc_per_node 2 train.py"),  # DDP: each process its own copy
        ('{"": 0}', "CUDA_VISIBLE_DEVICES=0,1 python train.py"),  # the whole model on one GPU
        ('"auto"', "CUDA_VISIBLE_DEVICES=0 python train.py"),  # one GPU visible: nothing to split over
    ],
)
def test_no_split_is_read_where_the_model_stays_on_one_gpu_per_process(tmp_path: Path, device_map: str, launch: str) -> None:
    from pytest_goblin import hardware, rules

    w = load_config(_split_repo(tmp_path, device_map, launch) / "train.py").workload
    assert not any("splits the model" in n for n in w.notes)
    assert rules.naive_split_note(w, hardware.get_hardware("mi300x")) is None


def test_a_split_that_no_single_gpu_holds_is_what_makes_the_run_fit(tmp_path: Path) -> None:
    from pytest_goblin import hardware, rules

    big = SPLIT_SCRIPT.replace("Meta-Llama-3-8B", "Meta-Llama-3-70B")
    root = repo(tmp_path, {"train.py": big.replace("{device_map}", '"auto"'), "run.sh": "CUDA_VISIBLE_DEVICES=0,1,2,3 python train.py\n"})
    w = load_config(root / "train.py").workload
    advice = rules.naive_split_note(w, hardware.get_hardware("mi300x"))
    assert advice is not None and "over 4 GPUs" in advice and "the split is what makes it fit" in advice and "torchrun" not in advice


def test_a_readme_python_line_without_visible_gpus_says_the_split_may_span_every_gpu(tmp_path: Path) -> None:
    from pytest_goblin import hardware, rules

    readme = "# Train\n\n```bash\npython train.py\n```\n"
    root = repo(tmp_path, {"train.py": SPLIT_SCRIPT.replace("{device_map}", '"auto"'), "README.md": readme})
    w = load_config(root / "train.py").workload
    assert topo(w) == (1, 1, 1) and "visible_gpus" not in w.sources
    assert any(n.startswith("one process may split the model over every visible GPU") for n in w.notes)
    assert rules.naive_split_note(w, hardware.get_hardware("mi300x")) is None  # no count to give numbers for


def test_a_readme_without_a_tie_gives_no_count_in_a_form_read_only_with_one(tmp_path: Path) -> None:
    """MiniCPM-V README.md:79 "LoRA fine-tuning ... using only 2 V100 GPUs!" in a news list: a bare "N <GPU>" of a GPU
    goblin did not read before ties is read only where a section ties it to the config."""
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "README.md": "# News\n\n* LoRA fine-tuning now runs on only 2 V100 GPUs!\n"})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (1, 1, 1) and not w.sources["world_size"].explicit


def test_a_path_in_a_readme_section_names_only_the_config_it_leads_to(tmp_path: Path) -> None:
    readme = "# Fine-tune\n\n## Full\nRun on 8 x A100 40GB:\n```\naccelerate launch run.py configs/full/a100.yaml\n```\n"
    root = repo(tmp_path, {"configs/full/a100.yaml": AXOLOTL, "configs/lora/a100.yaml": AXOLOTL, "README.md": readme, "run.py": "print(1)\n"})
    full = prose.readme_prose(str(root / "configs/full/a100.yaml"))
    assert full is not None and full.gpus == 8 and full.gpu == "A100 40GB" and "configs/full/a100.yaml" in full.why
    assert prose.readme_prose(str(root / "configs/lora/a100.yaml")) is None  # the section runs run.py on another file


def test_a_tied_readme_count_wins_over_a_launch_line_that_uses_every_visible_gpu(tmp_path: Path) -> None:
    readme = "# Train\n\nRun `bash launch.sh`; we trained on 4xH100 80GB.\n"
    root = repo(tmp_path, {"configs/sft.yaml": AXOLOTL, "launch.sh": "accelerate launch -m axolotl.cli.train configs/sft.yaml\n", "README.md": readme})
    w = load_config(root / "configs/sft.yaml").workload
    assert topo(w) == (4, 1, 4) and w.sources["world_size"].file.endswith("README.md")
    assert "it states no count" in (w.sources["world_size"].note or "") and "H100 80GB" in (w.sources["world_size"].note or "")


# review6b #31 Firefly-LLaMA2-Chinese README.MD, cut down: the project's own count beside other projects' in the
# introduction, a leaderboard of other models' hardware, and one count in the training-details section
FIREFLY_README = """# Firefly

## 项目简介
我们最多仅使用了4\\*V100的GPU。相较于Ziya的160\\*A100，Linly的32\\*A100。

## 模型评测
| belle-llama2-13b | 41.57 | 8\\*A100，全量参数训练 |

## 训练细节
在整个训练流程中，我们最多仅使用了4*V100 GPU，两个阶段的训练长度均为1024。
"""


def test_the_one_count_of_a_readme_training_section_is_an_assumed_topology(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train_args/sft.yaml": AXOLOTL, "README.MD": FIREFLY_README})
    found = prose.readme_prose(str(root / "train_args/sft.yaml"))
    assert found is not None and (found.gpus, found.line, found.phrase, found.assumed) == (4, 10, "4*V100", True)
    w = load_config(root / "train_args/sft.yaml").workload
    src = w.sources["world_size"]
    assert w.world_size == 4 and not src.explicit and src.line == 10
    assert "the only GPU count of its training section `训练细节`" in (src.note or "") and "assumed for this config" in (src.note or "")


@pytest.mark.parametrize(
    "readme",
    [
        # the training section states no count: the introduction's and the leaderboard's are other projects' too
        FIREFLY_README.replace("我们最多仅使用了4*V100 GPU，", ""),
        # two training sections that disagree
        FIREFLY_README + "\n## 训练 13B\n用 8*A100 训练。\n",
        # a count only in an inference or evaluation section is another run's, even where it is the README's only one
        "# Model\n\n## Inference\nServe it on 2xA100 with vLLM.\n\n## Training\nRun `bash run.sh`.\n",
        "# Model\n\n## Evaluation\n### Throughput\nMeasured on 8x H100.\n",
        # the document's title says training (review5 #25 Firefly README.md:1 "一站式大模型训练工具"): its News item about
        # another project, "在4*V100上进行高效训练" (README.md:41), is no training section's count
        "# Firefly: 一站式大模型训练工具\n\n## News\n- 开源Firefly-LLaMA2-Chinese项目，**在4*V100上进行高效训练**\n\n## 模型评测\n用 8*A100。\n",
    ],
)
def test_no_count_from_a_readme_whose_training_sections_state_none_or_several(tmp_path: Path, readme: str) -> None:
    root = repo(tmp_path, {"train_args/sft.yaml": AXOLOTL, "README.md": readme, "run.sh": "echo\n"})
    assert prose.readme_prose(str(root / "train_args/sft.yaml")) is None
    assert topo(load_config(root / "train_args/sft.yaml").workload) == (1, 1, 1)


def test_a_device_section_gpu_times_count_is_the_readmes_one_count(tmp_path: Path) -> None:
    # review6b #23 dapo-reproduction README.md:243-251 "## DAPO 实验 / ### device / GPU：A800 * 2 / VRAM：81251MiB * 2"
    readme = "# dapo\n\n## DAPO 实验\n\n### device\n\nGPU：A800 * 2\n\nVRAM：81251MiB * 2\n"
    root = repo(tmp_path, {"recipes/x/config.yaml": AXOLOTL, "README.md": readme})
    w = load_config(root / "recipes/x/config.yaml").workload
    assert topo(w) == (2, 1, 2) and w.sources["world_size"].line == 7 and w.sources["world_size"].explicit


def test_no_launch_line_and_device_map_auto_says_the_split_may_span_every_gpu(tmp_path: Path) -> None:
    """review13b #24: amd/playbooks train_lora.py, run by a README Python block goblin does not read as a launch line."""
    from pytest_goblin import hardware, rules

    root = repo(tmp_path, {"train.py": SPLIT_SCRIPT.replace("{device_map}", '"auto"')})
    w = load_config(root / "train.py").workload
    note = next(n for n in w.notes if n.startswith("one process may split the model over every visible GPU"))
    assert 'device_map="auto" (train.py line 3) and no launch line goblin reads (world size assumed 1)' in note
    assert "`python train.py`" in note and "None" not in note
    assert rules.naive_split_note(w, hardware.get_hardware("mi300x")) is None  # no count to give numbers for


def test_no_launch_line_and_one_device_says_no_split(tmp_path: Path) -> None:
    root = repo(tmp_path, {"train.py": SPLIT_SCRIPT.replace("{device_map}", '{"": 0}')})
    w = load_config(root / "train.py").workload
    assert not any("split the model" in n for n in w.notes)
