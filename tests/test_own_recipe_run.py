"""The repository's own launcher and recipe beat a copied stock-recipe comment (review7a class 3).

torchtune configs copied from a release keep its header (`# tune run --nproc_per_node 2 lora_finetune_distributed
--config ...`) while the repository runs them its own way: #7 HichamAgueny/llm-hpc-gervasio's slurm job runs
`python "${PYTHON_FILE}" --config "${CONFIG_FILE}"` in a shell function srun starts 4 times (#SBATCH
--ntasks-per-node=4), with its own modified recipes/distributed/lora_finetune_distributed.py; #11 martin-kukla's
lora_orpo_ddp.py (DDP, ORPO) beside configs/7B_lora_orpo_ddp.yaml; #9 niklasmellgren's README ties src/kd_recipe.py
to configs/distillation.yaml (a frozen teacher). A stock config with only its comment keeps the comment's reading.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_goblin.formats import load_config
from pytest_goblin.schemas import Report
from pytest_goblin.service import audit_file
from pytest_goblin.settings import Settings

from .repo_files import repo


@pytest.fixture(autouse=True)
def _in_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


LORA = """# Config for multi-device LoRA finetuning in lora_finetune_distributed.py
# To launch on 2 devices, run the following command from root:
#   tune run --nproc_per_node 2 lora_finetune_distributed --config llama3_1/8B_lora
output_dir: /tmp/out
model:
  _component_: torchtune.models.llama3_1.lora_llama3_1_8b
  lora_attn_modules: ['q_proj', 'v_proj']
  lora_rank: 8
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
  max_seq_len: 1024
dataset:
  _component_: torchtune.datasets.alpaca_dataset
batch_size: 2
epochs: 1
gradient_accumulation_steps: 8
optimizer:
  _component_: torch.optim.AdamW
  lr: 3e-4
loss:
  _component_: torchtune.modules.loss.CEWithChunkedOutputLoss
dtype: bf16
enable_activation_checkpointing: True
"""

JOB = """#!/bin/bash -e
#SBATCH --nodes=1
#SBATCH --gpus-per-node=4
#SBATCH --ntasks-per-node=4
MyWD="/cluster/projects/p1/$USER/ws"
export CONFIG_FILE="${MyWD}/configs/8B_lora.yaml"
export PYTHON_FILE="${MyWD}/recipes/distributed/lora_finetune_distributed.py"
run_training() {
    export RANK=$SLURM_PROCID
    python "${PYTHON_FILE}" --config "${CONFIG_FILE}"
}
export -f run_training
time srun --cpu-bind=map_cpu:1,73 apptainer exec --nv img.sif bash -c run_training
"""

FSDP_RECIPE = """from torchtune import config, training
from torchtune.recipe_interfaces import FTRecipeInterface


class LoRAFinetuneRecipeDistributed(FTRecipeInterface):
    def setup(self, cfg):
        model = cfg.model
        training.shard_model(model=model)


@config.parse
def recipe_main(cfg):
    LoRAFinetuneRecipeDistributed().setup(cfg)
"""


def test_a_slurm_function_running_the_repositorys_recipe_beats_the_stock_comment(tmp_path: Path) -> None:
    # review7a #7 llm-hpc-gervasio finetuning/job_container/job_multiGPU_QA_LoRA.sh:2-10, 25-26, 60-80
    root = repo(tmp_path, {"configs/8B_lora.yaml": LORA, "jobs/job.sh": JOB, "recipes/distributed/lora_finetune_distributed.py": FSDP_RECIPE})
    w = load_config(root / "configs/8B_lora.yaml").workload
    assert (w.nodes, w.gpus_per_node, w.world_size) == (1, 4, 4)  # on aeb528e: 2 from the comment, marked explicit
    src = w.sources["world_size"]
    assert src.file.endswith("jobs/job.sh") and src.explicit
    assert any("shell function run_training, which srun runs at line 13" in n for n in w.notes)
    assert w.framework.endswith("(the repository's own recipes/distributed/lora_finetune_distributed.py)")
    assert any(n.startswith("torchtune recipe: the repository's own recipes/distributed/lora_finetune_distributed.py (read from jobs/job.sh") for n in w.notes)
    st = w.sources["strategy"]
    assert w.strategy == "fsdp" and st.file.endswith("lora_finetune_distributed.py") and st.line == 8 and "shard_model" in (st.key or "")


def test_a_stock_config_with_only_its_comment_keeps_the_comment(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/8B_lora.yaml": LORA})
    w = load_config(root / "configs/8B_lora.yaml").workload
    # the count is the comment's, kept; it is torchtune's stock header (llama3_1/8B_lora's says 2), so assumed (topo19a #3)
    assert w.world_size == 2 and not w.sources["world_size"].explicit and (w.sources["world_size"].key or "").startswith("comment:")
    assert w.framework.endswith("(lora_finetune_distributed)") and w.strategy == "fsdp"
    assert not any("the repository's own" in n for n in w.notes)


def test_a_function_srun_never_runs_gives_no_count(tmp_path: Path) -> None:
    job = JOB.replace("bash -c run_training", "bash -c other_function")
    root = repo(tmp_path, {"configs/8B_lora.yaml": LORA, "jobs/job.sh": job})
    w = load_config(root / "configs/8B_lora.yaml").workload
    assert w.world_size != 4 and not w.sources["world_size"].file.endswith("job.sh")


ORPO = (
    LORA.replace("lora_finetune_distributed.py", "lora_dpo_distributed.py")
    .replace("lora_finetune_distributed --config llama3_1/8B_lora", "lora_dpo_distributed --config llama2/7B_lora_dpo")
    .replace("torchtune.modules.loss.CEWithChunkedOutputLoss", "torchtune.modules.loss.ORPOLoss")
)

DDP_RECIPE = """import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from torchtune import config
from torchtune.recipe_interfaces import FTRecipeInterface


class LoRAORPORecipeDDP(FTRecipeInterface):
    def setup(self, cfg):
        self._model = DDP(cfg.model)


@config.parse
def recipe_main(cfg):
    LoRAORPORecipeDDP().setup(cfg)
"""


def _audit(path: Path) -> Report:
    result = audit_file(path, Settings(runner="projection", target="mi300x"), shown_as=path.name)
    assert result.report is not None, result.error
    return result.report


def test_the_repositorys_ddp_orpo_recipe_named_by_the_configs_file_name(tmp_path: Path) -> None:
    # review7a #11 martin-kukla/rm-for-rank-torchtune lora_orpo_ddp.py:33 beside configs/7B_lora_orpo_ddp.yaml
    root = repo(tmp_path, {"configs/7B_lora_orpo_ddp.yaml": ORPO, "lora_orpo_ddp.py": DDP_RECIPE})
    w = load_config(root / "configs/7B_lora_orpo_ddp.yaml").workload
    assert w.strategy == "ddp" and w.sources["strategy"].line == 9  # on aeb528e: lora_dpo_distributed's FSDP2
    assert w.world_size == 2 and not w.sources["world_size"].explicit  # the template's count, said assumed
    assert "from the config's comment at line 3" in (w.sources["world_size"].note or "")
    assert "lora_dpo_distributed" not in w.framework and "the repository's own lora_orpo_ddp.py, loss ORPOLoss" in w.framework
    r = _audit(root / "configs/7B_lora_orpo_ddp.yaml")
    assert r.inconclusive is not None and "lora_orpo_ddp.py" in r.inconclusive and "no reference model" in r.inconclusive
    assert "dpo" not in r.inconclusive.replace("lora_orpo_ddp", "")


KD = LORA.replace("tokenizer:\n", "teacher_model:\n  _component_: torchtune.models.llama3_2.llama3_2_3b\ntokenizer:\n").replace(
    "lora_llama3_1_8b", "lora_llama3_2_1b"
)

KD_RECIPE = """from torchtune.recipe_interfaces import FTRecipeInterface


class KDRecipeSingleDevice(FTRecipeInterface):
    def setup(self, cfg):
        self._teacher_model = cfg.teacher_model
"""


def test_a_readme_ties_the_repositorys_kd_recipe_and_the_teacher_is_not_modelled(tmp_path: Path) -> None:
    # review7a #9 niklasmellgren/mod-torchtune-distillation README.md:20, src/kd_recipe.py:215, :485
    readme = "Implemented in [`src/kd_recipe.py`](src/kd_recipe.py) and configured in [`configs/distillation.yaml`](configs/distillation.yaml).\n"
    root = repo(
        tmp_path, {"configs/distillation.yaml": KD, "src/kd_recipe.py": KD_RECIPE, "src/kd_losses.py": "def kl(a, b):\n    return a\n", "README.md": readme}
    )
    w = load_config(root / "configs/distillation.yaml").workload
    assert "the repository's own src/kd_recipe.py, knowledge distillation" in w.framework
    assert any("read from README.md:1, which names it beside distillation.yaml" in n for n in w.notes)
    r = _audit(root / "configs/distillation.yaml")
    assert r.verdict != "pass" and r.inconclusive is not None
    assert "src/kd_recipe.py" in r.inconclusive and "teacher model's weights and its forward pass every step" in r.inconclusive


def test_a_recipe_file_named_like_no_config_and_no_readme_tie_is_not_taken(tmp_path: Path) -> None:
    root = repo(tmp_path, {"configs/8B_lora.yaml": LORA, "lora_orpo_ddp.py": DDP_RECIPE, "README.md": "See lora_orpo_ddp.py.\n"})
    w = load_config(root / "configs/8B_lora.yaml").workload
    assert w.framework.endswith("(lora_finetune_distributed)") and w.strategy == "fsdp"


def test_an_sft_recipe_of_the_repositorys_own_is_no_preference_trainer_by_its_path(tmp_path: Path) -> None:
    # what it trains is read from the config's loss, not from the file's path (`dpo_work/`)
    root = repo(tmp_path, {"configs/8B_lora_sft.yaml": LORA, "dpo_work/lora_sft.py": FSDP_RECIPE})
    w = load_config(root / "configs/8B_lora_sft.yaml").workload
    assert "the repository's own dpo_work/lora_sft.py" in w.framework
    r = _audit(root / "configs/8B_lora_sft.yaml")
    assert "trainer's memory" not in (r.inconclusive or "")


KD_HEADER = """# You get better results using KD if the teacher model has already been fine-tuned on the target dataset:
#   tune run lora_finetune_single_device --config llama3_1/8B_lora_single_device
# To launch on a single device, run the following command from root:
#   tune run knowledge_distillation_single_device --config llama3_2/8B_to_1B_KD_lora_single_device
"""


def test_a_stock_kd_header_is_read_as_the_kd_recipe_not_the_teachers_fine_tune(tmp_path: Path) -> None:
    # torchtune's KD configs (recipes/configs/llama3_2/8B_to_1B_KD_lora_single_device.yaml:10,13) first name the teacher's fine-tune
    text = KD_HEADER + KD.split("\n", 3)[3] + "teacher_checkpointer:\n  _component_: torchtune.training.FullModelHFCheckpointer\nkd_ratio: 0.5\n"
    root = repo(tmp_path, {"configs/kd.yaml": text})
    w = load_config(root / "configs/kd.yaml").workload
    assert w.framework.endswith("(knowledge_distillation_single_device, knowledge distillation)")  # on aeb528e: lora_finetune_single_device
    assert "the config's own `tune run knowledge_distillation_single_device` comment" in " ".join(w.notes)


FULL_8B = """output_dir: /tmp/out
model:
  _component_: torchtune.models.llama3_1.llama3_1_8b
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/tokenizer.model
  max_seq_len: 2048
dataset:
  _component_: torchtune.datasets.alpaca_dataset
batch_size: 1
epochs: 1
gradient_accumulation_steps: 8
optimizer:
  _component_: torch.optim.AdamW
  lr: 2e-5
loss:
  _component_: torchtune.modules.loss.CEWithChunkedOutputLoss
dtype: bf16
enable_activation_checkpointing: True
fsdp_reshard_after_forward: False
run_val_every_n_steps: 50
"""

OWN_DIST = """from torchtune import config, training
from torchtune.recipe_interfaces import FTRecipeInterface


class OwnRecipe(FTRecipeInterface):
    def setup(self, cfg):
        self._model = self._setup_model(cfg.model, cfg.get("fsdp_cpu_offload", False), cfg.get("fsdp_reshard_after_forward", True))
        self._every = cfg.get("run_val_every_n_steps", None)

    def _setup_model(self, model, fsdp_cpu_offload, reshard):
        training.shard_model(model=model, shard_conditions=[], cpu_offload=fsdp_cpu_offload, reshard_after_forward=reshard)
        return model

    def validate(self):
        pass

    def train(self):
        for step in range(10):
            if self._every is not None and step % self._every == 0:
                self.validate()


@config.parse
def recipe_main(cfg):
    OwnRecipe().setup(cfg)
"""

OWN_SINGLE = """from torchtune import config
from torchtune.recipe_interfaces import FTRecipeInterface


class OwnRecipe(FTRecipeInterface):
    def setup(self, cfg):
        self._model = cfg.model.to("cuda")


@config.parse
def recipe_main(cfg):
    OwnRecipe().setup(cfg)
"""

TUNE_8 = "#!/bin/bash\ntune run --nproc_per_node 8 recipes/own_recipe.py --config configs/x.yaml\n"


def test_the_repositorys_distributed_recipe_shards_over_the_launch_lines_eight_gpus(tmp_path: Path) -> None:
    # review8a #6: the repository's own recipe run by `tune run --nproc_per_node 8 own_recipe.py`: 358 GB per GPU read on 1 GPU
    root = repo(tmp_path, {"configs/x.yaml": FULL_8B, "recipes/own_recipe.py": OWN_DIST, "train.sh": TUNE_8})
    w = load_config(root / "configs/x.yaml").workload
    assert w.world_size == 8 and w.strategy == "fsdp" and w.sources["strategy"].file.endswith("own_recipe.py") and w.sources["strategy"].line == 11
    assert w.sharding == "grad_op" and w.sources["sharding"].key == "fsdp_reshard_after_forward" and not w.cpu_offload
    assert any("validation: the repository's recipe recipes/own_recipe.py runs validate() (line 20) every 50 steps" in n for n in w.notes)
    r = _audit(root / "configs/x.yaml")
    assert r.before is not None and r.before.peak_memory_gb is not None and r.before.peak_memory_gb < 192
    assert not any(f.rule_id == "memory.projected_over_hbm" for f in r.findings)


def test_a_config_offload_key_the_repositorys_recipe_never_reads_offloads_nothing(tmp_path: Path) -> None:
    recipe = OWN_DIST.replace('cfg.get("fsdp_cpu_offload", False)', "False")
    root = repo(tmp_path, {"configs/x.yaml": FULL_8B + "fsdp_cpu_offload: True\n", "recipes/own_recipe.py": recipe, "train.sh": TUNE_8})
    w = load_config(root / "configs/x.yaml").workload
    assert not w.cpu_offload and not w.offload_params and any("`fsdp_cpu_offload` (line 22) does nothing" in n for n in w.notes)
    root2 = repo(tmp_path / "b", {"configs/x.yaml": FULL_8B + "fsdp_cpu_offload: True\n", "recipes/own_recipe.py": OWN_DIST, "train.sh": TUNE_8})
    w2 = load_config(root2 / "configs/x.yaml").workload
    assert w2.cpu_offload and w2.offload_params and w2.sources["cpu_offload"].line == 22


def test_a_single_device_recipe_of_the_repositorys_own_stays_on_one_gpu(tmp_path: Path) -> None:
    run = "#!/bin/bash\ntune run recipes/own_recipe.py --config configs/x.yaml\n"
    root = repo(tmp_path, {"configs/x.yaml": FULL_8B, "recipes/own_recipe.py": OWN_SINGLE, "train.sh": run})
    w = load_config(root / "configs/x.yaml").workload
    assert w.world_size == 1 and w.strategy == "single" and w.sharding is None
    assert not any("validation:" in n for n in w.notes)  # the recipe reads no validation key


@pytest.mark.parametrize(
    ("recipe", "why"),
    [
        (OWN_SINGLE.replace('cfg.model.to("cuda")', "wrap(cfg.model)"), "shows no sharding goblin reads"),
        (OWN_SINGLE + "\ndef broken(:\n", "could not be parsed"),
    ],
)
def test_an_unread_sharding_is_said_assumed_not_an_over_memory_fact(tmp_path: Path, recipe: str, why: str) -> None:
    root = repo(tmp_path, {"configs/x.yaml": FULL_8B, "recipes/own_recipe.py": recipe, "train.sh": TUNE_8})
    w = load_config(root / "configs/x.yaml").workload
    assert w.world_size == 8 and w.strategy == "ddp" and not w.sources["strategy"].explicit
    assert "the repository's own recipe recipes/own_recipe.py" in (w.sources["strategy"].note or "")
    r = _audit(root / "configs/x.yaml")
    assert not any(f.rule_id == "memory.projected_over_hbm" for f in r.findings)  # on 8a #6: 358 GB per GPU, as fact
    assert r.verdict != "pass" and r.inconclusive is not None and "goblin assumed DDP" in r.inconclusive
    assert f"the repository's own recipe recipes/own_recipe.py {why}" in r.inconclusive


FORK_REGISTRY = (
    'Recipe(name="my_sft", file_path="my_sft.py", configs=[\n    Config(\n        name="my_sft_cfg",\n        file_path="my_sft_cfg.yaml",\n    ),\n])\n'
)


@pytest.mark.parametrize(("registry", "own"), [(FORK_REGISTRY, True), (FORK_REGISTRY.replace('file_path="my_sft.py"', 'file_path="other.py"'), False)])
def test_a_torchtune_forks_registered_recipe_is_the_repositorys_own(tmp_path: Path, registry: str, own: bool) -> None:
    # 8a #6 ShiZhengyan/torchtune-0.6.1: `tune run my_sft --config my_sft_cfg`, Recipe(name="my_sft", file_path=...) in its registry
    notes = "```bash\ntune run --nnodes 1 --nproc_per_node 8 my_sft --config my_sft_cfg\n```\n"
    files = {"recipes/configs/my_sft_cfg.yaml": FULL_8B, "recipes/my_sft.py": OWN_DIST, "torchtune/_recipe_registry.py": registry, "FEATURES.md": notes}
    w = load_config(repo(tmp_path, files) / "recipes/configs/my_sft_cfg.yaml").workload
    assert w.world_size == 8
    assert (w.strategy == "fsdp" and w.sources["strategy"].file.endswith("my_sft.py")) is own
    assert ("the repository's own recipes/my_sft.py" in w.framework) is own


REGISTRY_TWO = (
    'Recipe(name="my_single", file_path="my_single.py", configs=[\n    Config(\n        name="team/x_single",\n        file_path="team/x_single.yaml",\n    ),\n]),\n'
    'Recipe(name="my_dist", file_path="my_dist.py", configs=[\n    Config(\n        name="team/y_full",\n        file_path="team/y_full.yaml",\n    ),\n]),\n'
)
PLACEHOLDER_README = "Then run your copy:\n\n```bash\ntune run --nproc_per_node 8 my_dist --config ./my_custom_config.yaml\n```\n"


@pytest.mark.parametrize(("registered", "recipe"), [("team/x_single.yaml", "my_single.py"), ("team/other.yaml", "my_dist.py")])
def test_a_forks_registry_registration_outranks_a_placeholder_readme_line(tmp_path: Path, registered: str, recipe: str) -> None:
    # review13a #8 torchtune_personify: README.md:222 `tune run full_finetune_distributed --config ./my_custom_config.yaml`
    # names no config; _recipe_registry.py:26-57 registers personify_8B_full_single_device under full_finetune_single_device
    files = {
        "recipes/configs/team/x_single.yaml": FULL_8B,
        "recipes/my_single.py": OWN_SINGLE,
        "recipes/my_dist.py": OWN_DIST,
        "torchtune/_recipe_registry.py": REGISTRY_TWO.replace('"team/x_single.yaml"', f'"{registered}"'),
        "recipes/configs/README.md": PLACEHOLDER_README,
    }
    w = load_config(repo(tmp_path, files) / "recipes/configs/team/x_single.yaml").workload
    assert f"the repository's own recipes/{recipe}" in w.framework
    said = "registers x_single.yaml under my_single.py"
    assert any(said in n for n in w.notes) is (recipe == "my_single.py")
