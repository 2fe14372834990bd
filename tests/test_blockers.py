"""Blockers (kb/blockers.yaml): each fires on a config that will not start on the target and stays
silent where it must; a blocker fails the item whatever the speedup, comes first in every output,
and --goblin-fix writes its one edit where there is one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, get_args

import pytest

from pytest_goblin import blockers
from pytest_goblin.cli import main
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.options import build_settings
from pytest_goblin.schemas import Blocker
from pytest_goblin.service import audit_file

from .conftest import ROOT
from .repo_files import write_tree

HF = "model_name_or_path: meta-llama/Meta-Llama-3-8B\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 4\nlearning_rate: 2.0e-5\nbf16: true\n"
AXOLOTL = "base_model: meta-llama/Meta-Llama-3-8B\nmicro_batch_size: 2\nsequence_len: 2048\nbf16: true\nflash_attention: true\n"
LAUNCH = "# torchrun --nproc_per_node=$(nvidia-smi -L | wc -l) train.py --config sft.yaml\n"
QLORA = HF + "load_in_4bit: true\nuse_peft: true\n"
LF = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nstage: sft\ndo_train: true\nfinetuning_type: full\n"
    "per_device_train_batch_size: 2\ngradient_accumulation_steps: 8\nbf16: true\n"
)
PINNED_SFT = "# trl sft --config sft.yaml\n# pip install trl==0.12.2 transformers==4.53.3\n" + HF
COUNT_CVD = "# torchrun --nproc_per_node=$(echo $CUDA_VISIBLE_DEVICES | tr ',' '\\n' | wc -l) train.py --config sft.yaml\n"

TT = (
    "# tune run --nproc_per_node 8 lora_finetune_distributed --config 8B_lora.yaml\n"
    "model:\n  _component_: torchtune.models.llama3.lora_llama3_8b\nbatch_size: 2\n"
    "optimizer:\n  _component_: torch.optim.AdamW\n  lr: 3e-4\ndevice: cuda\n"
)
INT8_SCRIPT = (
    "from peft import LoraConfig, get_peft_model, prepare_model_for_int8_training\n"
    "from transformers import Trainer, TrainingArguments\n"
    "args = TrainingArguments(output_dir='o', per_device_train_batch_size=4, bf16=True)\n"
    "trainer = Trainer(model='meta-llama/Meta-Llama-3-8B', args=args)\ntrainer.train()\n"
)
QWEN2_JSON = (
    '{\n  "output_dir": "out",\n  "model_name_or_path": "Qwen/Qwen2.5-7B-Instruct",\n  "per_device_train_batch_size": 1,\n'
    '  "gradient_accumulation_steps": 16,\n  "learning_rate": 2e-4,\n  "bf16": true\n}\n'
)
DS_SCRIPT = (
    "from transformers import Trainer, TrainingArguments, deepspeed\n"
    "args = TrainingArguments(output_dir='o', per_device_train_batch_size=4, bf16=True)\n"
    "trainer = Trainer(model='meta-llama/Meta-Llama-3-8B', args=args)\ntrainer.train()\n"
)

# fused AdamW on parameters FSDP offloads to the host (HF Trainer `fsdp: ... offload`, torchtune `fsdp_cpu_offload`)
FUSED_OFFLOAD = "# accelerate launch --num_processes 8 train.py --config sft.yaml\n" + HF + "optim: adamw_torch_fused\nfsdp: full_shard offload auto_wrap\n"
TT_FUSED_OFFLOAD = (
    "# Config for multi-device full finetuning in full_finetune_distributed.py\n"
    "#   tune run --nproc_per_node 8 full_finetune_distributed --config llama3_1/70B_full\n"
    "model:\n  _component_: torchtune.models.llama3_1.llama3_1_70b\nbatch_size: 2\nepochs: 1\n"
    "optimizer:\n  _component_: torch.optim.AdamW\n  lr: 2e-5\n  fused: True\nfsdp_cpu_offload: True\ndtype: bf16\n"
)

# review4 #32 (dstack grpo_train.py): a GRPO batch of 2 x 1 GPU cannot hold groups of num_generations 8
GRPO = (
    "# accelerate launch --num_processes 2 -m trl.scripts.grpo --config grpo.yaml\n# pip install trl==0.29.0\n"
    "model_name_or_path: Qwen/Qwen2.5-1.5B\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 1\nnum_generations: 8\nbf16: true\n"
)
# KTO with the KL term on (loss_type kto, KTOConfig's default): trl 0.12.0 on raises on per_device_train_batch_size 1
KTO = (
    "# trl kto --config kto.yaml\nmodel_name_or_path: Qwen/Qwen2.5-1.5B\ndataset_name: trl-lib/kto-mix-14k\n"
    "per_device_train_batch_size: 1\ngradient_accumulation_steps: 8\nlearning_rate: 5.0e-7\nbeta: 0.1\nbf16: true\n"
)
KTO_PINNED = "# pip install trl==0.29.0\n" + KTO
GRPO_ASSUMED = GRPO.split("\n", 1)[1]
# GRPO with evaluation on: the generation batch 4 x 2 = 8 holds whole groups, the eval batch 2 x 2 = 4 does not
GRPO_EVAL = GRPO.replace("per_device_train_batch_size: 2", "per_device_train_batch_size: 4") + "eval_strategy: steps\nper_device_eval_batch_size: 2\n"
GRPO_EVAL_ASSUMED = GRPO_EVAL.split("\n", 1)[1].replace("per_device_train_batch_size: 4", "per_device_train_batch_size: 8")
# SFT with padding_free and no packing under SFTConfig's default max_length 1024: SFTTrainer raises from trl 1.0.0
SFT_PADDING_FREE = (
    "# trl sft --config sft.yaml\n# pip install trl==1.16.0\nmodel_name_or_path: Qwen/Qwen2.5-1.5B\n"
    "dataset_name: trl-lib/Capybara\nper_device_train_batch_size: 4\nlearning_rate: 2.0e-5\npadding_free: true\nbf16: true\n"
)  # no launch line: the world size is assumed
DPO = (
    "# trl dpo --config dpo.yaml\nmodel_name_or_path: Qwen/Qwen2.5-1.5B\ndataset_name: trl-lib/ultrafeedback_binarized\n"
    "per_device_train_batch_size: 2\ngradient_accumulation_steps: 4\nlearning_rate: 5.0e-7\nbeta: 0.1\nbf16: true\n"
)
# review4 #25 (MedicalGPT orpo_training.py:549-571, trl>=0.29.0): ORPO through DPOConfig(loss_type="orpo")
ORPO_SCRIPT = (
    "from trl import DPOConfig, DPOTrainer\n"
    "args = DPOConfig(output_dir='o', per_device_train_batch_size=2, loss_type='orpo', bf16=True)\n"
    "trainer = DPOTrainer(model='Qwen/Qwen2.5-1.5B', args=args)\ntrainer.train()\n"
)

# issue 24 / blk7: a full fine-tune loaded in float16 under `fp16: true` (no DeepSpeed): GradScaler.unscale_ raises
HF_FP16 = HF.replace("bf16: true\n", "fp16: true\n") + "torch_dtype: float16\n"
FP16_SCRIPT = (
    "import torch\nfrom transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
    "model = AutoModelForCausalLM.from_pretrained('Qwen/Qwen2.5-1.5B', torch_dtype=torch.float16)\n"
    "args = TrainingArguments(output_dir='o', per_device_train_batch_size=4, fp16=True)\n"
    "trainer = Trainer(model=model, args=args)\ntrainer.train()\n"
)
# review10b #28 (yangjianxin1/Firefly train.py:262-282): the script the README runs on every file under train_args/ loads
# the weights in float16 under `fp16: true`; the file sets no dtype key (formats/script_dtype.py)
FIREFLY_SCRIPT = (
    "import argparse\nimport torch\nfrom dataclasses import dataclass, field\n"
    "from peft import LoraConfig\n"
    "from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments\nfrom trl import DPOTrainer\n\n\n"
    "@dataclass\nclass CustomizedArguments:\n    model_name_or_path: str = field(default='m')\n"
    "    task_type: str = field(default='sft')\n    train_mode: str = field(default='qlora')\n\n\n"
    "def setup():\n    parser = argparse.ArgumentParser()\n    parser.add_argument('--train_args_file', type=str)\n"
    "    a = parser.parse_args()\n    parser = HfArgumentParser((CustomizedArguments, TrainingArguments))\n"
    "    return parser.parse_json_file(json_file=a.train_args_file)\n\n\n"
    "def load_model(args, training_args):\n"
    "    torch_dtype = torch.float16 if training_args.fp16 else torch.bfloat16\n"
    "    model_kwargs = dict(trust_remote_code=True, torch_dtype=torch_dtype)\n"
    "    model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, **model_kwargs)\n"
    "    if args.train_mode == 'full':\n        peft_config = None\n    else:\n        peft_config = LoraConfig(r=64)\n"
    "    ref_model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path, **model_kwargs) if args.task_type == 'dpo' else None\n"
    "    return model, ref_model, peft_config\n\n\n"
    "def main():\n    args, training_args = setup()\n    model, ref_model, peft_config = load_model(args, training_args)\n"
    "    if args.task_type == 'dpo':\n        trainer = DPOTrainer(model, ref_model, args=training_args, peft_config=peft_config)\n"
    "    else:\n        trainer = Trainer(model=model, args=training_args)\n    trainer.train()\n\n\nmain()\n"
)
FIREFLY_README = "```bash\ntorchrun --nproc_per_node=1 train.py --train_args_file train_args/sft/full/a-sft-full.json\n```\n"
FIREFLY_DPO = (
    '{\n    "output_dir": "o",\n    "model_name_or_path": "Qwen/Qwen1.5-7B-Chat",\n    "train_mode": "full",\n    "task_type": "dpo",\n'
    '    "per_device_train_batch_size": 1,\n    "max_seq_length": 1024,\n    "fp16": true,\n    "max_grad_norm": 0.3,\n'
    '    "num_train_epochs": 1,\n    "gradient_accumulation_steps": 16,\n    "learning_rate": 5e-7,\n    "lr_scheduler_type": "constant_with_warmup"\n}\n'
)
FIREFLY_SFT = FIREFLY_DPO.replace('"dpo"', '"sft"')
FIREFLY_TREE = {
    ".git/HEAD": "ref: refs/heads/main\n",
    "train.py": FIREFLY_SCRIPT,
    "README.md": FIREFLY_README,
    "train_args/sft/full/a-sft-full.json": FIREFLY_SFT,
}
# review8a #4: a Kubernetes Job runs the config on NVIDIA GPUs in an NGC image (formats/container.py)
KUBE_JOB = (
    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: train\nspec:\n  template:\n    spec:\n      containers:\n"
    "        - name: train\n          image: nvcr.io/nvidia/pytorch:24.01-py3\n"
    '          command: ["torchrun", "--nproc_per_node", "8", "-m", "axolotl.cli.train", "ax.yaml"]\n'
    "          resources:\n            limits:\n              nvidia.com/gpu: 8\n      restartPolicy: Never\n"
)
ROCM_JOB = KUBE_JOB.replace("nvcr.io/nvidia/pytorch:24.01-py3", "rocm/pytorch:latest").replace("nvidia.com/gpu", "amd.com/gpu")

# A case: (file name, text, target, {extra file: text}). blocker id -> (fires, must not fire).
UNSLOTH_8BIT = (
    "from unsloth import FastLanguageModel\nfrom trl import SFTConfig, SFTTrainer\n"
    "model, tokenizer = FastLanguageModel.from_pretrained(model_name='Qwen/Qwen2.5-7B-Instruct', load_in_8bit=True)\n"
    "args = SFTConfig(output_dir='out', per_device_train_batch_size=2, bf16=True)\n"
    "SFTTrainer(model=model, processing_class=tokenizer, train_dataset=None, args=args).train()\n"
)
FA1_IMPORT = "from flash_attn.flash_attn_interface import flash_attn_unpadded_qkvpacked_func\n"
FA2_IMPORT = "from flash_attn.flash_attn_interface import flash_attn_varlen_qkvpacked_func as flash_attn_unpadded_qkvpacked_func\n"
FA1_SCRIPT = (
    "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n" + FA1_IMPORT + "\n"
    "model = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-2-7b-hf', torch_dtype='bfloat16')\n"
    "args = TrainingArguments(output_dir='out', per_device_train_batch_size=1, bf16=True)\n"
    "Trainer(model=model, args=args).train()\n"
)
Case = tuple[str, str, str, dict[str, str]]

LEGACY_FLASH_SCRIPT = (
    "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
    "model = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-2-7b-hf', use_flash_attention_2=True)\n"
    "Trainer(model=model, args=TrainingArguments(output_dir='out', bf16=True)).train()\n"
)

TRL_GRPO_RECIPE = (
    "model_name_or_path: Qwen/Qwen2.5-0.5B\nbf16: true\nper_device_train_batch_size: 4\nnum_generations: 4\nlearning_rate: 1.0e-6\noutput_dir: out\n"
)
TRL_LAUNCH_SCRIPT = (
    "from trl import GRPOConfig, GRPOTrainer, ModelConfig, ScriptArguments, TrlParser\n"
    "script_args, training_args, model_args = TrlParser((ScriptArguments, GRPOConfig, ModelConfig)).parse_args_and_config()\n"
    "GRPOTrainer(model=model_args.model_name_or_path, args=training_args).train()\n"
)
TRL_LAUNCH_TREE = {
    ".git/HEAD": "ref: refs/heads/main\n",
    "requirements.txt": "trl==0.19.0\ntransformers==4.54.1\n",
    "src/grpo.py": TRL_LAUNCH_SCRIPT,
    "run.sh": "accelerate launch src/grpo.py --config recipes/grpo.yaml --server_ip 10.0.0.1 --vllm_server_port 8000\n",
}

# review13a #14 sm_accelerate_train.sh:98-103: the count from the platform's variable, else (some hosts) from a fallback
SM_FALLBACK = (
    'if [[ -n "${SM_NUM_GPUS:-}" ]]; then\n    gpu_count="$SM_NUM_GPUS"\nelse\n    gpu_count={count}\nfi\n'
    "torchrun --nproc-per-node ${gpu_count} sft.py --config sft.yaml\n"
)


CASES: dict[str, tuple[Case, Case]] = {
    # lora19: TrainingArguments(use_cpu=True) / no_cuda=True trains on the CPU (transformers 5.25.0 training_args.py:1876-1879)
    "blocker.trains_on_cpu": (("sft.yaml", HF + "use_cpu: true\n", "mi300x", {}), ("sft.yaml", HF + "use_cpu: false\n", "mi300x", {})),
    "blocker.tf32_on_rocm": (("sft.yaml", HF + "tf32: true\n", "mi300x", {}), ("sft.yaml", HF + "tf32: true\n", "h100", {})),
    # review8b #29 (Miraclove/DevAssistant chat/config.yaml `bf16: true`, requirements transformers==4.28.1): raises at
    # TrainingArguments.__post_init__ on ROCm; transformers 4.36.2 asks torch.cuda.is_bf16_supported() and does not
    "blocker.bf16_needs_cuda_before_transformers_4_35": (
        ("sft.yaml", HF, "mi300x", {"requirements.txt": "torch==2.0.1\ntransformers==4.28.1\n"}),
        ("sft.yaml", HF, "mi300x", {"requirements.txt": "torch==2.0.1\ntransformers==4.36.2\n"}),
    ),
    "blocker.fp16_amp_on_fp16_weights": (
        ("sft.yaml", HF_FP16, "mi300x", {}),
        ("sft.yaml", HF_FP16.replace("torch_dtype: float16", "torch_dtype: float32"), "mi300x", {}),
    ),
    "blocker.fp16_amp_on_fp16_weights_in_code": (
        ("train.py", FP16_SCRIPT, "mi300x", {}),
        ("train.py", FP16_SCRIPT.replace("fp16=True", "bf16=True"), "mi300x", {}),
    ),
    "blocker.fp16_amp_on_fp16_weights_in_script": (
        ("train_args/dpo/full/b-dpo-full.json", FIREFLY_DPO, "mi300x", FIREFLY_TREE),
        ("train_args/dpo/full/b-dpo-full.json", FIREFLY_DPO.replace('"fp16": true', '"bf16": true'), "mi300x", FIREFLY_TREE),
    ),
    # review11b #35 (tatsu-lab/alpaca_farm flash_llama.py:20): a flash-attn 1.x name, which ROCm's 2.x flash-attention lacks;
    # must not fire under a `try` that falls back on ImportError (DUET-VLM llava/train/llama_flash_attn_monkey_patch.py:9-12)
    "blocker.flash_attn_v1_api": (
        ("train.py", FA1_SCRIPT, "mi300x", {}),
        ("train.py", FA1_SCRIPT.replace(FA1_IMPORT, f"try:\n    {FA1_IMPORT}except ImportError:\n    {FA2_IMPORT}"), "mi300x", {}),
    ),
    # review14b #34 (KGLQA-model train_qlora_flash_attn.py:97): use_flash_attention_2=True under transformers==4.30.2, which
    # does not take it (4.34.0-4.52.x do); must not fire at a release that does (tests/test_attention_code.py: the rest)
    "blocker.legacy_flash_kwarg": (
        ("train.py", LEGACY_FLASH_SCRIPT, "mi300x", {"requirements.txt": "transformers==4.30.2\n"}),
        ("train.py", LEGACY_FLASH_SCRIPT, "mi300x", {"requirements.txt": "transformers==4.40.0\n"}),
    ),
    # review11b #24 (llm2025compet grpo-qwen-32b-node3 copy.sh:73 `--server_ip`): a launch-line flag no dataclass of the
    # script's TrlParser has; silent where the parse keeps unknown arguments (tests/test_launch_args_unknown.py: the rest)
    "blocker.launch_args_unknown_to_parser": (
        ("recipes/grpo.yaml", TRL_GRPO_RECIPE, "mi300x", TRL_LAUNCH_TREE),
        (
            "recipes/grpo.yaml",
            TRL_GRPO_RECIPE,
            "mi300x",
            {**TRL_LAUNCH_TREE, "src/grpo.py": TRL_LAUNCH_SCRIPT.replace("()", "(return_remaining_strings=True)")},
        ),
    ),
    # review4 #8 (farshadghodsian 8B_lora_distributed.yaml): every torchtune training recipe raises on fp16
    "blocker.torchtune_fp16_recipe": (("8B_lora.yaml", TT + "dtype: fp16\n", "mi300x", {}), ("8B_lora.yaml", TT + "dtype: bf16\n", "mi300x", {})),
    # review8a #9 (bahram-jahanshahi custom_config.yaml:84 `device: mps`, torchtune 0.3.1)
    "blocker.torchtune_device_not_on_host": (
        ("8B_lora.yaml", TT.replace("device: cuda", "device: mps"), "mi300x", {}),
        ("8B_lora.yaml", TT, "mi300x", {}),
    ),
    "blocker.cuda_only_hub_attention_kernel": (
        ("sft.yaml", HF + "attn_implementation: kernels-community/vllm-flash-attn3\n", "mi300x", {}),
        ("sft.yaml", HF + "attn_implementation: kernels-community/aiter-flash-attn\n", "mi300x", {}),
    ),
    "blocker.nvidia_smi_gpu_count": (
        ("sft.yaml", LAUNCH + HF, "mi300x", {}),
        ("sft.yaml", "# check the GPUs with nvidia-smi first\n" + HF, "mi300x", {}),
    ),
    # a count only the launcher's fallback branch takes from nvidia-smi: a footgun; a literal fallback is silent
    "blocker.nvidia_smi_gpu_count_fallback": (
        ("sft.yaml", HF, "mi300x", {"sft.sh": SM_FALLBACK.replace("{count}", '"$(nvidia-smi -L | wc -l)"')}),
        ("sft.yaml", HF, "mi300x", {"sft.sh": SM_FALLBACK.replace("{count}", "8")}),
    ),
    "blocker.cuda_gpu_resource": (("ax.yaml", AXOLOTL, "mi300x", {"jobs/train.yaml": KUBE_JOB}), ("ax.yaml", AXOLOTL, "mi300x", {"jobs/train.yaml": ROCM_JOB})),
    # the Dockerfile the launcher builds and runs the config in; a CUDA Dockerfile beside it that nothing runs is silent
    # off the launch path: a CUDA base image of a Dockerfile of the config's folders is a footgun; a ROCm one is silent
    "blocker.cuda_repository_image": (
        ("ax.yaml", AXOLOTL, "mi300x", {"Dockerfile": "FROM nvcr.io/nvidia/pytorch:24.05-py3\n"}),
        ("ax.yaml", AXOLOTL, "mi300x", {"Dockerfile": "FROM rocm/pytorch:latest\n"}),
    ),
    "blocker.cuda_container_image": (
        (
            "ax.yaml",
            AXOLOTL,
            "mi300x",
            {
                "run.sh": "docker build -t t .\ndocker run t torchrun --nproc_per_node 8 -m axolotl.cli.train ax.yaml\n",
                "Dockerfile": "FROM nvidia/cuda:12.1.0-devel\n",
            },
        ),
        (
            "ax.yaml",
            AXOLOTL,
            "mi300x",
            {
                "run.sh": "docker build -t t -f rocm.Dockerfile .\ndocker run t torchrun --nproc_per_node 8 -m axolotl.cli.train ax.yaml\n",
                "rocm.Dockerfile": "FROM rocm/pytorch:latest\n",
                "Dockerfile": "FROM nvidia/cuda:12.1.0-devel\n",
            },
        ),
    ),
    "blocker.bitsandbytes_before_rocm_wheels": (
        ("sft.yaml", QLORA, "mi300x", {"requirements.txt": "transformers>=4.40\nbitsandbytes==0.45.5\n"}),
        ("sft.yaml", QLORA, "mi300x", {"requirements.txt": "transformers>=4.40\nbitsandbytes>=0.45.5\n"}),
    ),
    "blocker.trl_vllm_needs_rocm_build": (
        ("grpo.yaml", HF + "use_vllm: true\nnum_generations: 8\n", "mi300x", {}),
        ("grpo.yaml", HF + "use_vllm: true\nnum_generations: 8\n", "h100", {}),
    ),
    "blocker.xformers_needs_rocm_build": (
        ("ax.yaml", AXOLOTL.replace("flash_attention: true", "xformers_attention: true"), "mi300x", {}),
        ("ax.yaml", AXOLOTL, "mi300x", {}),
    ),
    "blocker.flash_attention_3_needs_rocm_kernel": (
        ("sft.yaml", HF + "attn_implementation: flash_attention_3\n", "mi300x", {}),
        ("sft.yaml", HF + "attn_implementation: flash_attention_3\n", "h100", {}),
    ),
    # MI250X (gfx90a) has no FP8 GEMM in torch._scaled_mm; on MI300X torchao picks the fnuz dtypes gfx942 needs
    "blocker.fp8_on_gpu_without_fp8": (
        ("ax.yaml", AXOLOTL + "fp8: true\n", "mi250x", {}),
        ("ax.yaml", AXOLOTL + "fp8: true\n", "mi300x", {}),
    ),
    "blocker.fp8_transformer_engine_needs_rocm_build": (
        ("lf.yaml", LF + "fp8: true\nfp8_backend: te\n", "mi300x", {}),
        ("lf.yaml", LF + "fp8: true\nfp8_backend: torchao\n", "mi300x", {}),
    ),
    "blocker.apex_fused_adam_needs_rocm_build": (
        ("sft.yaml", HF + "optim: adamw_apex_fused\n", "mi300x", {}),
        ("sft.yaml", HF + "optim: adamw_torch_fused\n", "mi300x", {}),
    ),
    # setting CUDA_VISIBLE_DEVICES is fine (torch on ROCm honours it); counting it alone is not
    "blocker.cuda_visible_devices_gpu_count": (
        ("sft.yaml", COUNT_CVD + HF, "mi300x", {}),
        ("sft.yaml", "# CUDA_VISIBLE_DEVICES=0,1,2,3 torchrun --nproc_per_node=4 train.py --config sft.yaml\n" + HF, "mi300x", {}),
    ),
    # review2 #7 (DeepSeek-Coder finetune/requirements.txt:1): torch 2.0.1's ROCm wheels are ROCm 5.4.2; gfx942 needs 6.0
    "blocker.torch_without_rocm_build": (
        ("sft.yaml", HF, "mi300x", {"requirements.txt": "torch==2.0.1\ntransformers==4.35.0\n"}),
        ("sft.yaml", HF, "mi300x", {"requirements.txt": "torch==2.3.1\ntransformers==4.35.0\n"}),
    ),
    "blocker.torch_from_cuda_index": (
        ("sft.yaml", HF, "mi300x", {"requirements.txt": "--extra-index-url https://download.pytorch.org/whl/cu121\ntorch\n"}),
        ("sft.yaml", HF, "mi300x", {"requirements.txt": "--extra-index-url https://download.pytorch.org/whl/rocm6.2\ntorch\n"}),
    ),
    # blind review 15b #23 (chkaos train_qwen.sh:3 `export HSA_OVERRIDE_GFX_VERSION=9.0.6`, written for MI50s): the
    # runtime takes the MI300X for gfx906; the target's own 9.4.2 changes nothing
    "blocker.gfx_override_not_target": (
        ("sft.yaml", LF, "mi300x", {"train.sh": "export HSA_OVERRIDE_GFX_VERSION=9.0.6\nllamafactory-cli train sft.yaml\n"}),
        ("sft.yaml", LF, "mi300x", {"train.sh": "export HSA_OVERRIDE_GFX_VERSION=9.4.2\nllamafactory-cli train sft.yaml\n"}),
    ),
    "blocker.gfx_override_unread": (
        ("sft.yaml", LF, "mi300x", {"train.sh": 'export HSA_OVERRIDE_GFX_VERSION="$GFX"\nllamafactory-cli train sft.yaml\n'}),
        ("sft.yaml", LF, "mi300x", {"train.sh": "export NCCL_DEBUG=INFO\nllamafactory-cli train sft.yaml\n"}),
    ),
    # review2 #8 (FastChat train_lora.py:28, transformers>=4.31.0): transformers.deepspeed is gone from 4.46.0
    "blocker.module_removed_at_version": (
        ("train.py", DS_SCRIPT, "mi300x", {"requirements.txt": "transformers>=4.31.0\n"}),
        ("train.py", DS_SCRIPT, "mi300x", {"requirements.txt": "transformers==4.35.0\n"}),
    ),
    # review10b #27/#28 (yangjianxin1/Firefly requirements.txt transformers==4.34, Qwen2.5-7B-Instruct): model_type qwen2
    # is in transformers from 4.37.0; AutoConfig raises KeyError at 4.34 (configuration_auto.py:748@4.34.0)
    "blocker.model_type_unknown_at_version": (
        ("sft.json", QWEN2_JSON, "mi300x", {"requirements.txt": "transformers==4.34\n"}),
        ("sft.json", QWEN2_JSON, "mi300x", {"requirements.txt": "transformers==4.37.0\n"}),
    ),
    "blocker.module_unknown_at_version": (
        ("train.py", DS_SCRIPT, "mi300x", {}),
        (
            "train.py",
            DS_SCRIPT.replace("from transformers import Trainer, TrainingArguments, deepspeed", "from transformers import Trainer, TrainingArguments"),
            "mi300x",
            {},
        ),
    ),
    # the keys of the transformers/TRL release the recipe runs on (frameworks/history.py): `trl sft` of trl 0.12.2
    # stops on a key no dataclass reads; without a pin and a named command, whether it stops is not known
    "blocker.keys_rejected_at_version": (
        ("sft.yaml", PINNED_SFT + "evaluation_strategy: steps\n", "mi300x", {}),
        ("sft.yaml", PINNED_SFT + "eval_strategy: steps\n", "mi300x", {}),
    ),
    "blocker.keys_unknown_at_version": (
        ("sft.yaml", "# SFTTrainer arguments\n" + HF + "max_seq_length: 2048\n", "mi300x", {}),
        ("sft.yaml", "# SFTTrainer arguments\n" + HF + "max_length: 2048\n", "mi300x", {}),
    ),
    # review3 #30 (Qwen2.5-Coder finetuning/dpo): the launch line names ./configs/<file>.json and no file of that
    # name is in the repository; the same path under a subfolder of the repository (a `cd` may reach it) is not
    # concluded
    "blocker.deepspeed_file_missing": (
        ("sft.yaml", HF + "deepspeed: ./configs/ds_z3_offload.json\n", "mi300x", {".git": "gitdir: elsewhere\n"}),
        (
            "sft.yaml",
            HF + "deepspeed: ./configs/ds_z3_offload.json\n",
            "mi300x",
            {".git": "gitdir: elsewhere\n", "train/configs/ds_z3_offload.json": '{"zero_optimization": {"stage": 3}}\n'},
        ),
    ),
    # issue 24: the file sets bf16 off where the run sets it on; "auto" is filled from TrainingArguments
    "blocker.deepspeed_value_mismatch": (
        ("sft.yaml", HF + "deepspeed: ds.json\n", "mi300x", {"ds.json": '{\n  "bf16": {\n    "enabled": false\n  }\n}\n'}),
        ("sft.yaml", HF + "deepspeed: ds.json\n", "mi300x", {"ds.json": '{\n  "bf16": {\n    "enabled": "auto"\n  }\n}\n'}),
    ),
    # the world size read from the launch comment (2 GPUs): 2 x 2 = 4 is not a multiple of 8; 4 x 2 = 8 is
    "blocker.grpo_generation_batch_indivisible": (
        ("grpo.yaml", GRPO, "mi300x", {}),
        ("grpo.yaml", GRPO.replace("per_device_train_batch_size: 2", "per_device_train_batch_size: 4"), "mi300x", {}),
    ),
    # the world size assumed (1 GPU): not decided, a requirement; a batch of 8 holds whole groups on any GPU count
    "blocker.grpo_generation_batch_unchecked": (
        ("grpo.yaml", GRPO_ASSUMED, "mi300x", {}),
        ("grpo.yaml", GRPO_ASSUMED.replace("per_device_train_batch_size: 2", "per_device_train_batch_size: 8"), "mi300x", {}),
    ),
    # evaluation on, 2 GPUs read from the launch line: the eval batch 2 x 2 = 4 is not a multiple of 8; 4 x 2 = 8 is
    "blocker.grpo_eval_batch_indivisible": (
        ("grpo.yaml", GRPO_EVAL, "mi300x", {}),
        ("grpo.yaml", GRPO_EVAL.replace("per_device_eval_batch_size: 2", "per_device_eval_batch_size: 4"), "mi300x", {}),
    ),
    # the world size assumed (1 GPU): not decided, a requirement; without eval_strategy there is no evaluation
    "blocker.grpo_eval_batch_unchecked": (
        ("grpo.yaml", GRPO_EVAL_ASSUMED, "mi300x", {}),
        ("grpo.yaml", GRPO_EVAL_ASSUMED.replace("eval_strategy: steps\n", ""), "mi300x", {}),
    ),
    # no DPOTrainer release computes `orpo`; `sigmoid` every one does
    "blocker.dpo_unknown_loss_type": (
        ("orpo_training.py", ORPO_SCRIPT, "mi300x", {"requirements.txt": "trl>=0.29.0\n"}),
        ("orpo_training.py", ORPO_SCRIPT.replace("'orpo'", "'sigmoid'"), "mi300x", {"requirements.txt": "trl>=0.29.0\n"}),
    ),
    # kto_pair: trl 0.7.5 to 0.9.4 only; without a pin the newest (assumed) raises on it: a requirement
    "blocker.dpo_loss_type_at_newest": (
        ("dpo.yaml", DPO + "loss_type: kto_pair\n", "mi300x", {}),
        ("dpo.yaml", DPO + "loss_type: ipo\n", "mi300x", {}),
    ),
    # a pinned release with the check: per_device_train_batch_size 1 with the KL term on; 2 starts
    "blocker.kto_kl_term_raises": (
        ("kto.yaml", KTO_PINNED, "mi300x", {}),
        ("kto.yaml", KTO_PINNED.replace("per_device_train_batch_size: 1", "per_device_train_batch_size: 2"), "mi300x", {}),
    ),
    # not pinned: the newest, assumed; apo_zero_unpaired has no KL term
    "blocker.kto_kl_term_at_newest": (
        ("kto.yaml", KTO, "mi300x", {}),
        ("kto.yaml", KTO + "loss_type: apo_zero_unpaired\n", "mi300x", {}),
    ),
    # a pinned trl 1.16.0: padding_free without packing under max_length 1024; with packing it starts
    "blocker.trl_config_raises": (
        ("sft.yaml", SFT_PADDING_FREE, "mi300x", {}),
        ("sft.yaml", SFT_PADDING_FREE + "packing: true\n", "mi300x", {}),
    ),
    # not pinned: the newest GRPOConfig refuses num_generations 1; 2 starts
    "blocker.trl_config_raises_at_newest": (
        ("grpo.yaml", GRPO_ASSUMED.split("\n", 1)[1].replace("num_generations: 8", "num_generations: 1"), "mi300x", {}),
        ("grpo.yaml", GRPO_ASSUMED.split("\n", 1)[1].replace("num_generations: 8", "num_generations: 2"), "mi300x", {}),
    ),
    # Unsloth's from_pretrained defaults load_in_4bit to True and refuses load_in_8bit beside it (loader.py:1310-1319@2026.8.19)
    "blocker.unsloth_8bit_with_4bit": (
        ("train.py", UNSLOTH_8BIT, "mi300x", {"requirements.txt": "unsloth==2025.9.6\n"}),
        ("train.py", UNSLOTH_8BIT.replace("load_in_8bit=True", "load_in_8bit=True, load_in_4bit=False"), "mi300x", {"requirements.txt": "unsloth==2025.9.6\n"}),
    ),
    "blocker.unsloth_8bit_with_4bit_at_newest": (
        ("train.py", UNSLOTH_8BIT, "mi300x", {}),
        ("train.py", UNSLOTH_8BIT, "mi300x", {"requirements.txt": "unsloth==2025.2.4\n"}),
    ),
    # torch 2.3.1 torch/utils/_foreach_utils.py:14 (no cpu among the fused devices) and torch/optim/adamw.py:63-70
    "blocker.fused_adamw_on_host_params": (
        ("sft.yaml", FUSED_OFFLOAD, "mi300x", {"requirements.txt": "torch==2.3.1\n"}),
        ("sft.yaml", FUSED_OFFLOAD, "mi300x", {"requirements.txt": "torch==2.4.0\n"}),
    ),
    "blocker.fused_adamw_on_host_params_torchtune": (
        ("c.yaml", TT_FUSED_OFFLOAD, "mi300x", {"requirements.txt": "torch==2.2.2\n"}),
        ("c.yaml", TT_FUSED_OFFLOAD, "mi300x", {}),  # torchtune's own 70B_full: no torch pinned, nothing assumed
    ),
}
VERSION_CHECKS = {
    "blocker.legacy_flash_kwarg",  # transformers raises TypeError at the load on every GPU
    "blocker.trains_on_cpu",  # the CPU runs it whatever the GPU
    "blocker.fp16_amp_on_fp16_weights",  # the GradScaler raises on every GPU
    "blocker.fp16_amp_on_fp16_weights_in_code",
    "blocker.fp16_amp_on_fp16_weights_in_script",
    "blocker.deepspeed_file_missing",
    "blocker.torchtune_fp16_recipe",
    "blocker.keys_rejected_at_version",
    "blocker.keys_unknown_at_version",
    "blocker.module_removed_at_version",
    "blocker.module_unknown_at_version",
    "blocker.model_type_unknown_at_version",
    "blocker.grpo_generation_batch_indivisible",
    "blocker.grpo_generation_batch_unchecked",
    "blocker.grpo_eval_batch_indivisible",
    "blocker.grpo_eval_batch_unchecked",
    "blocker.dpo_unknown_loss_type",
    "blocker.dpo_loss_type_at_newest",
    "blocker.deepspeed_value_mismatch",
    "blocker.kto_kl_term_raises",
    "blocker.kto_kl_term_at_newest",
    "blocker.trl_config_raises",
    "blocker.trl_config_raises_at_newest",
    "blocker.unsloth_8bit_with_4bit",
    "blocker.unsloth_8bit_with_4bit_at_newest",
    "blocker.fused_adamw_on_host_params",
    "blocker.fused_adamw_on_host_params_torchtune",
    "blocker.launch_args_unknown_to_parser",
}  # not about the GPU: they fire on every target


def _write(tmp: Path, case: Case) -> Path:
    name, text, _target, extra = case
    return write_tree(tmp, {**extra, name: text}) / name


def _fired(tmp: Path, case: Case) -> set[str]:
    path = _write(tmp, case)
    return {f.rule_id for f in blockers.findings(load_config(path), get_hardware(case[2]))}


def test_every_blocker_has_a_case() -> None:
    ids = {b.id for b in blockers.cached_blockers()}
    assert ids == set(CASES), f"blockers without a case: {sorted(ids - set(CASES))}; cases without a blocker: {sorted(set(CASES) - ids)}"


@pytest.mark.parametrize("blocker_id", sorted(CASES))
def test_blocker_fires_and_does_not(blocker_id: str, tmp_path: Path) -> None:
    fires, silent = CASES[blocker_id]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert blocker_id in _fired(tmp_path / "a", fires), f"{blocker_id} should fire on {fires}"
    assert blocker_id not in _fired(tmp_path / "b", silent), f"{blocker_id} must not fire on {silent}"


def test_every_check_kind_has_a_reader() -> None:
    # a `check` the schema admits but no function reads would load from the KB and never fire
    kinds = set(get_args(get_args(Blocker.model_fields["check"].annotation)[0]))
    read = {"keys_at_version", *blockers._CHECKS_OF_CONFIG, *blockers._CHECKS_OF_TARGET}
    assert kinds == read, f"unread: {sorted(kinds - read)}; not in the schema: {sorted(read - kinds)}"


def test_every_blocker_names_a_versioned_source_with_lines() -> None:
    for b in blockers.cached_blockers():
        assert b.citation.startswith("https://"), b.id
        framework_sources = [s for s in b.sources if re.search(r"\d+\.\d+(\.\d+)? .*:\d+(-\d+)?", s)]
        assert framework_sources, f"{b.id}: no source names a version and file:lines"
        assert b.guidance.strip(), b.id


def test_tf32_fires_in_every_format_that_passes_it_to_training_arguments(tmp_path: Path) -> None:
    cases = {
        "ax.yaml": AXOLOTL + "tf32: true\n",
        "lf.yaml": "model_name_or_path: meta-llama/Meta-Llama-3-8B\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"
        "per_device_train_batch_size: 2\nbf16: true\ntf32: true\n",
        "train.py": "from transformers import TrainingArguments\nargs = TrainingArguments(output_dir='o', bf16=True, tf32=True)\n",
    }
    for name, text in cases.items():
        assert "blocker.tf32_on_rocm" in _fired(tmp_path, (name, text, "mi300x", {})), name
    # Axolotl's default `auto` resolves to is_torch_tf32_available(): not a blocker
    assert "blocker.tf32_on_rocm" not in _fired(tmp_path, ("ax2.yaml", AXOLOTL + "tf32: auto\n", "mi300x", {}))
    assert "blocker.tf32_on_rocm" not in _fired(tmp_path, ("sft2.yaml", HF + "tf32: false\n", "mi300x", {}))
    assert "blocker.tf32_on_rocm" in _fired(tmp_path, ("sft3.yaml", HF + 'tf32: "true"\n', "mi300x", {}))


@pytest.mark.parametrize(
    ("name", "text", "extra", "fires"),
    [
        ("sft.yaml", HF_FP16, {}, True),
        ("sft.yaml", HF_FP16.replace("torch_dtype: float16", "model_init_kwargs:\n  torch_dtype: float16"), {}, True),
        ("sft.yaml", HF_FP16.replace("torch_dtype: float16", "dtype: fp16"), {}, True),
        ("sft.yaml", HF_FP16.replace("torch_dtype: float16", "torch_dtype: bfloat16"), {}, False),
        ("sft.yaml", HF_FP16.replace("torch_dtype: float16", "torch_dtype: auto"), {}, False),
        ("sft.yaml", HF_FP16.replace("fp16: true", "fp16: false"), {}, False),
        # PEFT casts adapters to float32 (peft 0.12.0 autocast_adapter_dtype): the GradScaler sees fp32 grads
        ("sft.yaml", HF_FP16 + "use_peft: true\n", {}, False),
        # DeepSpeed runs fp16 without a GradScaler (accelerate 1.16.0 accelerator.py:536-540)
        ("sft.yaml", HF_FP16 + "deepspeed: ds.json\n", {"ds.json": '{"zero_optimization": {"stage": 2}, "fp16": {"enabled": "auto"}}'}, False),
        # FSDP1's ShardedGradScaler unscales fp16 gradients: not judged
        ("sft.yaml", HF_FP16 + "fsdp: full_shard auto_wrap\n", {}, False),
        # the launch names an accelerate config goblin cannot read: DeepSpeed or FSDP may run the step
        (
            "sft.yaml",
            HF_FP16,
            {
                ".git/HEAD": "ref: refs/heads/main\n",
                "README.md": "```\naccelerate launch --num_processes 4 --config_file <your_accelerate_config>.yaml train.py sft.yaml\n```\n",
            },
            False,
        ),
        ("sft.yaml", "# accelerate launch --num_processes 2 -m trl.scripts.sft --config sft.yaml\n" + HF_FP16, {}, True),
        # transformers 4.x clips (and unscales) only with max_grad_norm > 0
        ("sft.yaml", HF_FP16 + "max_grad_norm: 0\n", {}, False),
        ("train.py", FP16_SCRIPT, {}, True),
        (
            "train.py",
            "from trl import SFTConfig, SFTTrainer\nargs = SFTConfig(output_dir='o', fp16=True, model_init_kwargs={'torch_dtype': 'float16'})\n"
            "trainer = SFTTrainer(model='Qwen/Qwen2.5-1.5B', args=args)\ntrainer.train()\n",
            {},
            True,
        ),
        ("train.py", FP16_SCRIPT.replace("torch.float16", "torch.float32"), {}, False),
        # LLaMA-Factory upcasts trainable parameters to float32 (v0.9.5 model/adapter.py:316-325): not judged
        ("lf.yaml", LF.replace("bf16: true", "fp16: true") + "infer_dtype: float16\n", {}, False),
    ],
)
def test_fp16_amp_on_fp16_weights(tmp_path: Path, name: str, text: str, extra: dict[str, str], fires: bool) -> None:
    got = _fired(tmp_path, (name, text, "mi300x", extra)) & {"blocker.fp16_amp_on_fp16_weights", "blocker.fp16_amp_on_fp16_weights_in_code"}
    assert bool(got) == fires, (text, got)


_IN_SCRIPT = "blocker.fp16_amp_on_fp16_weights_in_script"
_DPO = "train_args/dpo/full/b-dpo-full.json"


@pytest.mark.parametrize(
    ("name", "text", "changes", "fires"),
    [
        # review10b #28: no launch line names the file nor its folder; the README runs a file under train_args/ with train.py
        (_DPO, FIREFLY_DPO, {}, True),
        ("train_args/sft/full/a-sft-full.json", FIREFLY_SFT, {}, True),
        # bf16: the script loads bfloat16, and torch's GradScaler (fp16 only) raises only on float16 grads
        (_DPO, FIREFLY_DPO.replace('"fp16": true', '"bf16": true'), {}, False),
        (_DPO, FIREFLY_DPO.replace('"full"', '"lora"'), {}, False),  # LoRA: the adapters are not judged here
        (_DPO, FIREFLY_DPO.replace('"max_grad_norm": 0.3', '"max_grad_norm": 0'), {}, False),
        # DeepSpeed runs fp16 with its own loss scaler, no GradScaler
        (
            _DPO,
            FIREFLY_DPO.replace('"fp16": true', '"fp16": true,\n    "deepspeed": "ds.json"'),
            {"ds.json": '{"zero_optimization": {"stage": 2}, "fp16": {"enabled": "auto"}}'},
            False,
        ),
        (_DPO, FIREFLY_DPO, {"train.py": FIREFLY_SCRIPT.replace("torch.float16 if", "torch.float32 if")}, False),
        # the dict is changed after it is bound: the dtype it passes is not read
        (
            _DPO,
            FIREFLY_DPO,
            {"train.py": FIREFLY_SCRIPT.replace("    model = AutoModel", "    model_kwargs['torch_dtype'] = 'auto'\n    model = AutoModel")},
            False,
        ),
        # the launch lines under train_args/ run two scripts: which one runs this file is not known
        (
            _DPO,
            FIREFLY_DPO,
            {"other.py": "", "README.md": FIREFLY_README + "```\npython other.py train_args/sft/lora/c.json\n```\n", "train_args/sft/lora/c.json": "{}"},
            False,
        ),
    ],
)
def test_fp16_amp_on_fp16_weights_in_script(tmp_path: Path, name: str, text: str, changes: dict[str, str], fires: bool) -> None:
    fired = _fired(tmp_path, (name, text, "mi300x", {**FIREFLY_TREE, **changes}))
    assert (_IN_SCRIPT in fired) == fires, fired
    assert "blocker.fp16_amp_on_fp16_weights" not in fired


def test_fp16_weights_in_script_names_the_load_and_the_file_key(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {**FIREFLY_TREE, _DPO: FIREFLY_DPO}) / _DPO
    loaded = load_config(path)
    w = loaded.workload
    assert (w.weight_dtype, w.method, w.reference_copy) == ("fp16", "full", True), w.sources["weight_dtype"]
    assert "DPO" in (w.framework or ""), w.framework
    [found] = [f for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id == _IN_SCRIPT]
    assert found.blocker and found.key == "fp16" and found.line == 8 and found.fix is None
    assert found.message.startswith("`fp16: true` (line 8), and `AutoModelForCausalLM.from_pretrained(...)` at train.py:27 loads the weights in torch.float16")
    assert "`torch_dtype = torch.float16 if training_args.fp16 else torch.bfloat16` (line 25)" in found.message
    assert "under train_args/" in found.message and "None" not in found.message


def test_a_file_dtype_key_is_judged_by_the_key_rule_not_the_script(tmp_path: Path) -> None:
    text = FIREFLY_DPO.replace('"fp16": true', '"fp16": true,\n    "torch_dtype": "float16"')
    fired = _fired(tmp_path, (_DPO, text, "mi300x", FIREFLY_TREE))
    assert _IN_SCRIPT not in fired


def test_fp16_weights_not_judged_where_the_repositorys_script_builds_the_model(tmp_path: Path) -> None:
    """A recipe its repository's script parses into its own classes, not TRL's ModelConfig: the script chooses LoRA or
    full and the dtype in code (hf_trainer._model_built_in_code), so the method goblin assumed is not the run's."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "train.py").write_text(
        "from dataclasses import dataclass, field\nfrom transformers import HfArgumentParser, TrainingArguments\n\n\n"
        "@dataclass\nclass CustomizedArguments:\n    model_name_or_path: str = field(default='m')\n    torch_dtype: str = field(default='auto')\n"
        "    train_mode: str = field(default='lora')\n\n\n"
        "parser = HfArgumentParser((CustomizedArguments, TrainingArguments))\nargs, training_args = parser.parse_yaml_file('sft.yaml')\n"
    )
    (tmp_path / "README.md").write_text("```bash\ntorchrun --nproc_per_node 8 train.py sft.yaml\n```\n")
    path = tmp_path / "sft.yaml"
    path.write_text(HF_FP16 + "output_dir: o\n")
    loaded = load_config(path)
    assert loaded.workload.sources["method"].unread, loaded.workload.sources["method"]
    assert "blocker.fp16_amp_on_fp16_weights" not in {f.rule_id for f in blockers.findings(loaded, get_hardware("mi300x"))}


def test_fp16_weights_fix_loads_in_float32_and_a_script_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "sft.yaml"
    path.write_text(HF_FP16)
    report = _audit(path, fix=True)
    assert "torch_dtype: float32" in path.read_text() and "torch_dtype: float16" not in path.read_text()
    assert any("the blocker fix `torch_dtype: float32`" in n for n in report.notes), report.notes
    assert not any(f.rule_id == "blocker.fp16_amp_on_fp16_weights" for f in _audit(path).findings)
    script = tmp_path / "train.py"
    script.write_text(FP16_SCRIPT)
    found = [f for f in _audit(script, fix=True).findings if f.rule_id == "blocker.fp16_amp_on_fp16_weights_in_code"]
    assert found and found[0].fix is None and "Attempting to unscale FP16 gradients" in found[0].message
    assert script.read_text() == FP16_SCRIPT


def test_a_compatible_release_pin_is_not_one_release(tmp_path: Path) -> None:
    """`~=0.45` allows every 0.x from 0.45 on, the ROCm wheels included; `~=0.45.2` stays below 0.46."""
    (tmp_path / "y").mkdir()
    (tmp_path / "z").mkdir()
    assert "blocker.bitsandbytes_before_rocm_wheels" not in _fired(tmp_path / "y", ("q.yaml", QLORA, "mi300x", {"requirements.txt": "bitsandbytes~=0.45\n"}))
    assert "blocker.bitsandbytes_before_rocm_wheels" in _fired(tmp_path / "z", ("q.yaml", QLORA, "mi300x", {"requirements.txt": "bitsandbytes~=0.45.2\n"}))


# The alignment-handbook layout (jkx19/ActiveQueryNew setup.py:43-116): a `_deps` table, torch only in extras["torch"]
HANDBOOK_SETUP = """import re
from setuptools import setup
_deps = [
    "torch==2.1.2",
    "trl==0.7.10",
]
deps = {b: a for a, b in (re.findall(r"^(([^!=<>~ ]+)(?:[!=<>~ ].*)?$)", x)[0] for x in _deps)}
def deps_list(*pkgs):
    return [deps[pkg] for pkg in pkgs]
extras = {}
extras["torch"] = deps_list("torch")
install_requires = [
    deps["trl"],
]
setup(name="x", extras_require=extras, install_requires=install_requires)
"""


@pytest.mark.parametrize(
    ("pin_file", "text", "target", "fires"),
    [
        ("requirements.txt", "torch==2.2.2\n", "mi300x", True),  # ROCm 5.7 wheels at newest
        ("requirements.txt", "torch>=1.13,<2.2\n", "mi300x", True),  # every release it allows is ROCm 5.x
        ("environment.yml", "dependencies:\n  - pytorch=2.0.1\n", "mi300x", True),  # conda's name
        ("Dockerfile", "FROM python:3.10\nRUN pip install torch==2.3.0+cu121\n", "mi300x", True),  # a CUDA build
        ("requirements.txt", "torch==2.3.1\n", "mi355x", True),  # ROCm 6.0 wheels; gfx950 needs ROCm 7.0
        ("requirements.txt", "torch>=1.13\n", "mi300x", False),  # pip installs the newest release
        ("requirements.txt", "torch>=1.13,<2.5\n", "mi300x", False),  # allows 2.3 and 2.4: ROCm 6 builds
        ("requirements.txt", "torch~=2.0\n", "mi300x", False),  # any 2.x from 2.0
        ("requirements.txt", "torch==2.0.1+rocm5.4.2\n", "mi250x", False),  # gfx90a: not in the table, not judged
        ("requirements.txt", "torch==2.5.1\n", "mi355x", False),  # after the table: not judged
        ("requirements.txt", "torchvision==0.15.2\n", "mi300x", False),  # not torch
        ("setup.py", 'extras = {"torch-npu": ["torch==2.1.0", "torch-npu==2.1.0.post3"]}\n', "mi300x", False),  # Ascend's torch (LIMO's vendored LF)
        # every pin source the framework version reader reads (review6b class 8): setup.py install_requires, pyproject,
        # a conda environment file of any name (read by its content)
        ("setup.py", 'from setuptools import setup\nsetup(name="x", install_requires=["torch==2.1.2", "trl==0.7.10"])\n', "mi300x", True),
        ("pyproject.toml", '[project]\nname = "x"\ndependencies = [\n  "torch==2.1.2",\n]\n', "mi300x", True),
        ("lumi-tools.yml", "name: x\nchannels:\n  - defaults\ndependencies:\n  - pip:\n    - torch==2.1.2\n", "mi300x", True),
        # review6b #25 (jkx19/ActiveQueryNew setup.py:67,89): torch==2.1.2 only in extras["torch"]; `pip install .` does not install it
        ("setup.py", HANDBOOK_SETUP, "mi300x", False),
        ("requirements.txt", "torch==2.0.1\n", "h100", False),
        # a CUDA index alone is a requirement (an installed ROCm torch satisfies the line), never this blocker
        ("README.md", "```\npip install torch --index-url https://download.pytorch.org/whl/cu118\n```\n", "mi300x", False),
    ],
)
def test_a_torch_pin_without_a_rocm_build_for_the_gpu(tmp_path: Path, pin_file: str, text: str, target: str, fires: bool) -> None:
    path = _write(tmp_path, ("sft.yaml", HF, target, {pin_file: text}))
    got = [f for f in blockers.findings(load_config(path), get_hardware(target)) if f.rule_id == "blocker.torch_without_rocm_build"]
    assert bool(got) == fires
    if got:
        (f,) = got
        assert f.blocker and pin_file in f.message and "None" not in f.message
        assert ("CUDA build" in f.message) if "+cu" in text else ("ROCm" in f.message and "What to change: pin" in f.message)
        if target == "mi300x" and "+cu" not in text:
            assert "pin torch>=2.3.0" in f.message


def test_a_cuda_index_in_the_readme_is_a_requirement_and_a_pin_that_blocks_says_it_alone(tmp_path: Path) -> None:
    readme = "```\npip install torch==2.0.1 --index-url https://download.pytorch.org/whl/cu118\n```\n"
    path = _write(tmp_path, ("sft.yaml", HF, "mi300x", {"README.md": readme.replace("torch==2.0.1", "torch")}))
    (f,) = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.torch")]
    assert f.rule_id == "blocker.torch_from_cuda_index" and f.footgun and not f.blocker and "cu118" in f.message and "README.md" in f.message
    (tmp_path / "b").mkdir()
    both = _write(tmp_path / "b", ("sft.yaml", HF, "mi300x", {"README.md": readme}))
    got = [f.rule_id for f in blockers.findings(load_config(both), get_hardware("mi300x")) if f.rule_id.startswith("blocker.torch")]
    assert got == ["blocker.torch_without_rocm_build"]


@pytest.mark.parametrize(
    ("line", "fires"),
    [
        ("from transformers import Trainer, BitsAndBytesConfig, deepspeed", True),
        ("from transformers.deepspeed import is_deepspeed_zero3_enabled", True),
        ("import transformers.deepspeed", True),
        ("from transformers.integrations import deepspeed", False),  # where it moved
        ("from transformers import deepspeed_config_helper", False),  # another name
        ("# from transformers import deepspeed", False),  # a comment
        ("import deepspeed", False),  # DeepSpeed itself
    ],
)
def test_an_import_of_transformers_deepspeed(line: str, fires: bool) -> None:
    from pytest_goblin.frameworks.modules import imports

    got = imports("import os\n" + line + "\n")
    assert bool(got) == fires
    if got:
        assert got[0].line == 2 and got[0].removed.gone == "4.46.0"


def test_a_removed_module_blocker_names_the_line_and_the_release(tmp_path: Path) -> None:
    path = _write(tmp_path, ("train.py", DS_SCRIPT, "mi300x", {"requirements.txt": "transformers>=4.31.0\n"}))
    (f,) = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.module_removed_at_version"]
    assert f.blocker and f.line == 1 and "transformers>=4.31.0" in f.message and "4.46.0" in f.message
    assert "from transformers.integrations import deepspeed" in f.message and "None" not in f.message


def test_torchtune_fp16_is_a_blocker_whose_fix_is_bf16_not_a_speedup(tmp_path: Path) -> None:
    """review4 #8: `dtype: fp16` was a WARN 1.19x with the bf16 edit as a speedup; the recipe raises ValueError."""
    path = tmp_path / "8B_lora.yaml"
    path.write_text(TT + "dtype: fp16\n")
    report = _audit(path)
    assert report.verdict == "fail" and "blocker.torchtune_fp16_recipe" in report.reason
    (f,) = [f for f in report.findings if f.rule_id == "blocker.torchtune_fp16_recipe"]
    assert f.blocker and f.fix == {"dtype": "bf16"} and f.line == 9 and "lora_finetune_distributed.py:110-114" in f.message
    assert "None" not in f.message
    assert not any(x.rule_id == "precision.bf16_over_fp16" for x in report.findings)  # the edit is the blocker's fix
    # must not: fp32 and bf16 start; an HF recipe's fp16 stays the speedup it was
    path.write_text(TT + "dtype: fp32\n")
    assert not any(x.rule_id == "blocker.torchtune_fp16_recipe" for x in _audit(path).findings)
    hf = tmp_path / "sft.yaml"
    hf.write_text(HF.replace("bf16: true", "fp16: true"))
    got = {x.rule_id for x in _audit(hf).findings}
    assert "precision.bf16_over_fp16" in got and "blocker.torchtune_fp16_recipe" not in got


@pytest.mark.parametrize(
    ("pin", "rule"),
    [
        ("peft==0.10.0\n", "blocker.module_removed_at_version"),  # review4 #33: gone from 0.10.0
        ("peft>=0.10,<0.14\n", "blocker.module_removed_at_version"),  # every release it allows lacks it
        ("", "blocker.module_unknown_at_version"),  # unpinned: the newest, assumed
        ("peft==0.9.0\n", None),  # the last release with it
        ("peft>=0.7,<0.10\n", None),  # pip installs 0.9.0
    ],
)
def test_a_removed_peft_name_stops_the_import(tmp_path: Path, pin: str, rule: str | None) -> None:
    path = _write(tmp_path, ("train.py", INT8_SCRIPT, "mi300x", {"requirements.txt": pin} if pin else {}))
    got = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.module_")]
    assert [f.rule_id for f in got] == ([rule] if rule else [])
    if got:
        (f,) = got
        assert f.line == 1 and "peft.prepare_model_for_int8_training is gone from peft 0.10.0" in f.message
        assert "prepare_model_for_kbit_training" in f.message and "other.py:144-149" in f.message and "None" not in f.message
        assert f.blocker == (rule == "blocker.module_removed_at_version")


@pytest.mark.parametrize(
    ("line", "fires"),
    [
        ("from peft import LoraConfig, prepare_model_for_int8_training", True),
        ("from peft.utils import prepare_model_for_int8_training as prep", True),
        ("from peft import prepare_model_for_kbit_training", False),  # the replacement
        ("# from peft import prepare_model_for_int8_training", False),
        ("from mylib import prepare_model_for_int8_training", False),  # the repository's own
    ],
)
def test_an_import_of_a_removed_peft_name(line: str, fires: bool) -> None:
    from pytest_goblin.frameworks.modules import imports

    got = [i for i in imports("import os\n" + line + "\n") if i.removed.dist == "peft"]
    assert bool(got) == fires


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # review10b #36: tloen/alpaca-lora finetune.py imports it inside a parenthesized import over several lines
        ("from peft import (\n    LoraConfig,\n    prepare_model_for_int8_training,\n)\n", 2),
        ("try:\n    import json\nexcept KeyError:\n    pass\nfrom peft import prepare_model_for_int8_training\n", 6),
        ("try:\n    from peft import prepare_model_for_int8_training\nexcept KeyError:\n    pass\n", 3),  # not caught
        ("def load():\n    from peft import prepare_model_for_int8_training\n", 3),
        # the script's own fallback: the ImportError is caught
        ("try:\n    from peft import prepare_model_for_int8_training\nexcept ImportError:\n    pass\n", None),
        ("try:\n    from peft import (\n        prepare_model_for_int8_training,\n    )\nexcept (ImportError, AttributeError):\n    pass\n", None),
        ("try:\n    from peft import prepare_model_for_int8_training\nexcept:\n    pass\n", None),
        ('s = """\nfrom peft import prepare_model_for_int8_training\n"""\n', None),  # a string, not an import
        ("from .peft import prepare_model_for_int8_training\n", None),  # the repository's own module
    ],
)
def test_a_removed_name_over_several_lines_or_guarded(text: str, line: int | None) -> None:
    from pytest_goblin.frameworks.modules import imports

    got = [i.line for i in imports("import os\n" + text) if i.removed.dist == "peft"]
    assert got == ([line] if line else [])


def test_a_multiline_removed_import_on_the_default_branch_is_a_blocker_and_silent_before_the_removal(tmp_path: Path) -> None:
    """review10b #36: tloen/alpaca-lora requirements.txt:9 installs peft's default branch (a bare git URL), which is at
    least as new as peft 0.20.0: the removed name is gone for certain."""
    script = "from peft import (\n    LoraConfig,\n    prepare_model_for_int8_training,\n)\n" + INT8_SCRIPT.split("\n", 1)[1]
    path = _write(tmp_path, ("train.py", script, "mi300x", {"requirements.txt": "git+https://github.com/huggingface/peft.git\n"}))
    got = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.module_")]
    assert [(f.rule_id, f.line) for f in got] == [("blocker.module_removed_at_version", 1)]
    assert "`from peft import ( LoraConfig, prepare_model_for_int8_training, )`" in got[0].message and "None" not in got[0].message
    old = _write(tmp_path / "old", ("train.py", script, "mi300x", {"requirements.txt": "peft==0.9.0\n"}))
    assert not [f for f in blockers.findings(load_config(old), get_hardware("mi300x")) if f.rule_id.startswith("blocker.module_")]


@pytest.mark.parametrize(
    ("model", "reqs", "fires"),
    [
        ("Qwen/Qwen2.5-7B-Instruct", "transformers==4.34\n", True),  # review10b #27: KeyError 'qwen2'
        ("Qwen/Qwen1.5-7B-Chat", "transformers==4.36.2\n", True),  # review10b #28's model, the last release without it
        ("Qwen/Qwen2.5-7B-Instruct", "transformers>=4.30,<4.37\n", True),  # capped: pip installs 4.36.2
        ("Qwen/Qwen2.5-7B-Instruct", "transformers==4.37.0\n", False),  # the first release with qwen2
        ("Qwen/Qwen2.5-7B-Instruct", "transformers==4.37.0.dev0\n", False),  # a build of 4.37.0 may have it
        ("Qwen/Qwen2.5-7B-Instruct", "transformers>=4.30\n", False),  # open range: pip installs the newest
        ("Qwen/Qwen2.5-7B-Instruct", "", False),  # unpinned
        ("meta-llama/Llama-2-7b-hf", "transformers==4.34\n", False),  # llama: in every release read
        ("Qwen/Qwen-7B", "transformers==4.34\n", False),  # its own code (model_type qwen, trust_remote_code)
        ("internlm/internlm2-chat-7b", "transformers==4.34\n", False),  # its own code
        # a local folder sized by its name, said as assumed (ModelShape.inferred): what it holds was not read
        ("/data/models/Qwen2.5-7B-Instruct", "transformers==4.34\n", False),
        ("my-org/mystery-7b", "transformers==4.34\n", False),  # a model goblin does not know
    ],
)
def test_a_model_type_newer_than_the_pinned_transformers(tmp_path: Path, model: str, reqs: str, fires: bool) -> None:
    text = QWEN2_JSON.replace("Qwen/Qwen2.5-7B-Instruct", model)
    path = _write(tmp_path, ("sft.json", text, "mi300x", {"requirements.txt": reqs} if reqs else {}))
    got = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.model_type_unknown_at_version"]
    assert bool(got) == fires, [f.message for f in got]
    if got:
        (f,) = got
        assert f.blocker and f.line == 3 and "is a `qwen2` model" in f.message
        assert "from 4.37.0 on (models/auto/configuration_auto.py:" in f.message and "transformers>=4.37.0" in f.message
        assert "KeyError: 'qwen2'" in f.message and re.search(r"configuration_auto\.py:\d+@4\.3[46]\.0 raises", f.message)
        assert "None" not in f.message


def test_the_model_type_table_is_generated_from_the_releases() -> None:
    from pytest_goblin.frameworks import model_types

    t = model_types._table()
    read = list(t["read"])
    assert read[0] == "4.30.0" and read[-1] == "5.25.0", read
    assert model_types.first_release("qwen2") == ("4.37.0", t["first"]["qwen2"][1])
    assert model_types.first_release("llama") is None  # in the oldest release read: may be older
    assert t["raises"]["4.34.0"] == {"raises": "KeyError", "lookup": 1050, "line": 748, "says": "KeyError: '<model_type>'"}
    assert t["raises"]["4.37.0"]["raises"] == "ValueError"
    for family, native in model_types.NATIVE.items():  # every family judged is a type of the table, with its source
        assert native.model_type in t["first"] and re.search(r"config\.json:\d+", native.source), family


def test_the_model_type_generator_reads_the_mapping() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_model_types", Path(__file__).resolve().parent.parent / "scripts" / "gen_model_types.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    old = (
        'CONFIG_MAPPING_NAMES = OrderedDict(\n    [\n        ("llama", "LlamaConfig"),\n        ("mistral", "MistralConfig"),\n    ]\n)\n'
        "class _LazyConfigMapping:\n    def __getitem__(self, key):\n        if key not in self._mapping:\n            raise KeyError(key)\n"
        'def from_pretrained():\n    config_class = CONFIG_MAPPING[config_dict["model_type"]]\n'
    )
    new = old.replace('("mistral", "MistralConfig"),', '("mistral", "MistralConfig"),\n        ("qwen2", "Qwen2Config"),').replace(
        '    config_class = CONFIG_MAPPING[config_dict["model_type"]]\n',
        '    try:\n        config_class = CONFIG_MAPPING[config_dict["model_type"]]\n    except KeyError:\n'
        '        raise ValueError("but Transformers does not recognize this architecture")\n',
    )
    assert gen.mapping_names(old) == {"llama": 3, "mistral": 4}
    table = gen.build({"4.30.0": (old, "a"), "4.36.2": (old, "b"), "4.36.0": (old, "c"), "4.37.0": (new, "d"), "4.29.0": (old, "e")})
    assert list(table["read"]) == ["4.30.0", "4.36.0", "4.37.0"]  # the first release of each minor line from 4.30.0
    assert table["first"] == {"llama": ["4.30.0", 3], "mistral": ["4.30.0", 4], "qwen2": ["4.37.0", 5]}
    assert table["raises"]["4.30.0"]["raises"] == "KeyError" and table["raises"]["4.30.0"]["line"] == 10
    assert table["raises"]["4.37.0"] == {"raises": "ValueError", "lookup": 14, "line": 16, "says": "does not recognize this architecture"}


def test_a_removed_name_is_certain_on_a_pinned_release_or_the_default_branch_only() -> None:
    from pytest_goblin.frameworks.modules import REMOVED, runs_without
    from pytest_goblin.frameworks.pins import Pin

    peft = next(r for r in REMOVED if r.dist == "peft")
    assert "8221246f2f48" in " ".join(peft.sources)  # the release commit that removed it
    branch = Pin("peft", "", "git+https://github.com/huggingface/peft.git", "requirements.txt:9", kind="branch")
    unknown = Pin("peft", "", "peft (a submodule)", ".gitmodules:1", kind="submodule")
    assert (runs_without(peft, branch) or (False,))[0] is True
    assert (runs_without(peft, unknown) or (True,))[0] is False  # a copy of unknown release: the newest, assumed
    assert (runs_without(peft, None) or (True,))[0] is False


def _audit(path: Path, *, target: str = "mi300x", fix: bool = False) -> Any:
    result = audit_file(path, build_settings({"target": target}), shown_as=path.name, fix=fix)
    assert result.report is not None, result.error
    return result.report


def test_a_blocker_fails_the_item_whatever_the_speedup_and_comes_first(tmp_path: Path) -> None:
    """Regression (issue 24): `tf32: true` on MI300X passed at 1.00x; the run raises at TrainingArguments."""
    path = tmp_path / "sft.yaml"
    path.write_text(HF + "dataloader_num_workers: 0\nuse_vllm: true\ntf32: true\n")
    report = _audit(path)
    assert report.verdict == "fail"
    assert report.inconclusive is None
    assert "will not start" in report.reason and "blocker.tf32_on_rocm" in report.reason
    assert report.findings[0].rule_id == "blocker.tf32_on_rocm" and report.findings[0].blocker
    assert report.findings[0].fix == {"tf32": False}
    assert "What to change" in report.findings[0].message and "training_args.py:1677-1682" in report.findings[0].message
    vllm = next(f for f in report.findings if f.rule_id == "blocker.trl_vllm_needs_rocm_build")
    assert vllm.footgun and not vllm.blocker  # a requirement: the runner may have the build
    healthy = tmp_path / "ok.yaml"
    healthy.write_text(HF + "tf32: true\n")
    assert _audit(healthy, target="h100").verdict != "fail"


def test_a_requirement_alone_does_not_fail(tmp_path: Path) -> None:
    path = tmp_path / "grpo.yaml"
    path.write_text(HF + "use_vllm: true\n")
    report = _audit(path)
    assert report.verdict != "fail"  # GRPO: inconclusive (online RL is not projected), never failed by a requirement
    assert report.inconclusive is not None and "online RL" in report.inconclusive
    assert [f.rule_id for f in report.findings if f.rule_id.startswith("blocker.")] == ["blocker.trl_vllm_needs_rocm_build"]


@pytest.mark.parametrize(
    ("name", "text", "before", "after"),
    [
        ("sft.yaml", HF + "tf32: true  # from the H100 recipe\n", "tf32: true  # from the H100 recipe", "tf32: false  # from the H100 recipe"),
        (
            "train.py",
            "from transformers import TrainingArguments\nargs = TrainingArguments(\n    output_dir='o',\n    bf16=True,\n    tf32=True,\n)\n",
            "tf32=True,",
            "tf32=False,",
        ),
    ],
)
def test_goblin_fix_writes_the_blocker_fix(tmp_path: Path, name: str, text: str, before: str, after: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    report = _audit(path, fix=True)
    written = path.read_text()
    assert after in written and before not in written  # the comment and the file's own style kept
    assert any("--goblin-fix wrote" in n and "the blocker fix `tf32: false`" in n for n in report.notes), report.notes
    if report.patch and report.patch.edits:  # a patch that won is written beside the blocker's fix
        assert "edits and the blocker fix" in " ".join(report.notes)
    again = _audit(path)
    assert not any(f.blocker for f in again.findings)


def test_goblin_fix_leaves_a_file_alone_where_nothing_blocks(tmp_path: Path) -> None:
    path = tmp_path / "sft.yaml"
    path.write_text(HF + "tf32: true\n")
    _audit(path, target="h100", fix=True)
    assert path.read_text() == HF + "tf32: true\n"


def test_every_output_lists_the_blocker_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(LAUNCH + HF + "dataloader_num_workers: 0\ntf32: true\n")
    out = {k: tmp_path / f"out.{k}" for k in ("md", "json", "sarif", "junit")}
    code = main(["audit", str(cfg), "-v", "--md", str(out["md"]), "--json", str(out["json"]), "--sarif", str(out["sarif"]), "--junit", str(out["junit"])])
    assert code == 1
    terminal = capsys.readouterr().out
    assert re.search(r"FAIL\s+\S*sft.yaml\s+will not start on mi300x: blocker.nvidia_smi_gpu_count, blocker.tf32_on_rocm", terminal), terminal
    assert "FAIL for mi300x: will not start (1.1" in terminal
    first = next(line for line in terminal.splitlines() if re.search(r"\[[a-z_]+\.[a-z0-9_]+\]", line))
    assert "(BLOCKER)" in first and "--goblin-fix writes: `tf32: false`" in terminal
    md = out["md"].read_text()
    assert "blocker: will not start" in md
    kinds = ["blocker: will not start" in line for line in md.splitlines() if line.startswith("<details><summary>")]
    assert kinds[:2] == [True, True] and not any(kinds[2:]) and len(kinds) > 2, md
    assert md.index("nvidia\\_smi") < md.index("tf32\\_on\\_rocm")  # by line within the blockers
    finding = json.loads(out["json"].read_text())["items"][0]["report"]["findings"][0]
    assert finding["blocker"] is True and finding["rule_id"].startswith("blocker.")
    sarif = json.loads(out["sarif"].read_text())
    levels = {r["ruleId"]: r["level"] for r in sarif["runs"][0]["results"]}
    assert levels["blocker.tf32_on_rocm"] == "error" and levels["blocker.nvidia_smi_gpu_count"] == "error"
    assert "<failure" in out["junit"].read_text() and "blocker.tf32_on_rocm" in out["junit"].read_text()


def test_pr_comment_shows_the_blocker(tmp_path: Path) -> None:
    from pytest_goblin.github_comment import body_for

    cfg = tmp_path / "sft.yaml"
    cfg.write_text(HF + "tf32: true\n")
    md = tmp_path / "out.md"
    main(["audit", str(cfg), "--md", str(md)])
    body = body_for(md.read_text())
    assert "blocker.tf32_on_rocm" in body and "blocker: will not start" in body


def test_kb_lint_and_list_know_the_blockers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "lint"]) == 0
    assert f"{len(blockers.cached_blockers())} blockers" in capsys.readouterr().out
    assert main(["kb", "list", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["blocker.tf32_on_rocm"]["blocker"] is True and rows["blocker.tf32_on_rocm"]["fix"] == {"tf32": False}
    assert rows["blocker.trl_vllm_needs_rocm_build"]["footgun"] is True


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"when": [{"fact": "derived.nope", "value": 1}], "keys": ["tf32"]}, "unknown derived fact"),
        ({"when": [{"fact": "pin.vllm", "op": "version_lt", "value": "2"}]}, "a pin goblin does not read"),
        ({"keys": [], "launch": "(unclosed"}, "not a regular expression"),
        ({"keys": [], "fix": False}, "needs `keys`"),
        ({"sources": []}, "sources"),
    ],
)
def test_lint_names_each_kind_of_broken_blocker(tmp_path: Path, entry: dict[str, Any], problem: str) -> None:
    base: dict[str, Any] = {
        "id": "blocker.x",
        "title": "t",
        "symptom": "s",
        "keys": ["tf32"],
        "guidance": "g",
        "sources": ["transformers 5.25.0 a.py:1"],
        "citation": "https://example.com",
    }
    f = tmp_path / "blockers.yaml"
    f.write_text(json.dumps([{**base, **entry}]))  # JSON is YAML
    found, problems = blockers.check_blockers(f)
    assert not found and problem in problems[0], problems


def test_readme_lists_the_blockers_goblin_knows() -> None:
    readme = (ROOT / "README.md").read_text()
    assert blockers.readme_table() in readme, "README's blockers table is stale: paste pytest_goblin.blockers.readme_table()"
    for b in blockers.cached_blockers():
        assert isinstance(b, Blocker)


@pytest.mark.parametrize("blocker_id", sorted(CASES))
def test_no_blocker_fires_on_a_target_that_is_not_rocm(blocker_id: str, tmp_path: Path) -> None:
    if blocker_id in VERSION_CHECKS:
        pytest.skip("a key the framework release rejects stops the run on every GPU")
    name, text, _target, extra = CASES[blocker_id][0]
    assert _fired(tmp_path, (name, text, "h100", extra)) == set()


def test_a_blocker_acknowledged_in_the_config_is_not_reported(tmp_path: Path) -> None:
    text = HF + "tf32: true  # goblin: ignore[blocker.tf32_on_rocm] -- runs on our H100s only\n"
    assert "blocker.tf32_on_rocm" not in _fired(tmp_path, ("sft.yaml", text, "mi300x", {}))


def test_a_new_blocker_is_not_excused_by_the_base_branch(tmp_path: Path) -> None:
    """--goblin-baseline: a config that failed on speed on the base branch and now will not start
    fails as this change's (before, the same patch rules made it a warning: 'known on the base branch')."""
    from pytest_goblin.baseline import compare
    from pytest_goblin.outcome import ItemOutcome

    base_cfg, new_cfg = tmp_path / "base.yaml", tmp_path / "new.yaml"
    fp32 = HF.replace("bf16: true\n", "")  # fp32 compute: bf16 autocast recovers well above goblin_fail_at
    base_cfg.write_text(fp32)
    new_cfg.write_text(fp32 + "tf32: true\n")
    base, new = _audit(base_cfg), _audit(new_cfg)
    assert base.verdict == "fail" and new.verdict == "fail"
    outcome = ItemOutcome(nodeid="c.yaml::audit", path="c.yaml", verdict=base.verdict, message=base.reason, report=base)
    assert compare(new, outcome).verdict == "fail"
    assert "new blockers: blocker.tf32_on_rocm" in compare(new, outcome).reason
    assert compare(base, outcome).verdict == "warn"  # nothing new: known on the base branch


def test_a_report_read_as_untrusted_shows_the_blockers_kb_text(tmp_path: Path) -> None:
    """`goblin comment` renders an artifact as untrusted: rule text must come from the installed
    KB by id, and the blockers are part of it (a blocker shown as 'not a rule of the installed
    knowledge base' would hide the one finding that matters most)."""
    from pytest_goblin.outcome import ItemOutcome, SessionReport
    from pytest_goblin.reporting.markdown import render

    cfg = tmp_path / "sft.yaml"
    cfg.write_text(HF + "tf32: true\n")
    report = _audit(cfg)
    item = ItemOutcome(nodeid="sft.yaml::audit", path="sft.yaml", verdict=report.verdict, message=report.reason, report=report)
    md = render(SessionReport(version="0", target="mi300x", items=[item]), untrusted=True)
    tf32 = next(b for b in blockers.cached_blockers() if b.id == "blocker.tf32_on_rocm")
    assert "not a rule of the installed knowledge base" not in md and "is not the installed knowledge base's" not in md
    assert tf32.title in md and tf32.citation in md and "blocker: will not start" in md


@pytest.mark.parametrize("flag", ["--hub_token plainhub33333333", "--hub-token=plainhub33333333", "--api-key 'plainhub33333333'"])
def test_a_secret_flag_on_a_quoted_launcher_line_is_masked(tmp_path: Path, flag: str) -> None:
    """Red team round 3, D5: the nvidia-smi blocker quotes its launcher line, and a secret passed
    there as a flag reached the JSON, Markdown and PR comment verbatim."""
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(f"# launch: {flag} torchrun --nproc_per_node=$(nvidia-smi -L | wc -l) train.py\n" + HF)
    out = {k: tmp_path / f"out.{k}" for k in ("md", "json")}
    assert main(["audit", str(cfg), "--md", str(out["md"]), "--json", str(out["json"])]) == 1
    for path in out.values():
        text = path.read_text()
        assert "blocker.nvidia_smi_gpu_count" in text and "plainhub33333333" not in text


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('  DB_PASSWORD: "x#y0123456789LEAK4"', "LEAK4"),
        ("# torchrun --hub_token=Q1w;E2r3T4LEAK1 --nproc_per_node $(nvidia-smi -L | wc -l) t.py", "LEAK1"),
        ('--password "Xy7,kLm9QrTLEAK2"', "LEAK2"),
        ('password: "correct horse battery LEAK3"', "LEAK3"),
        ("hub_token: abc defghijklmnop-LEAK5", "LEAK5"),  # round 5, M1: unquoted, with spaces
        ("password: correct horse battery LEAK6", "LEAK6"),
        ("passwd: 12345", "12345"),
        ("x-api-key: S28CRETVALUE", "S28CRET"),  # round 6: `-` reads as `_`
    ],
)
def test_a_secret_value_is_masked_whole(line: str, secret: str) -> None:
    """Red team round 4, R4-3: a value under a secret name was cut at its first `#`, `;`, `,` or
    space, and the rest printed."""
    from pytest_goblin.redact import redact

    assert secret not in redact(line)
    assert redact('{"experts_per_token": null, "api_key": true}') == '{"experts_per_token": null, "api_key": true}'  # JSON literals stay


def test_fp8_is_judged_by_the_targets_fp8_support(tmp_path: Path) -> None:
    """fp8 on MI300X / MI325X / MI355X starts (torchao picks the dtypes the architecture has); on MI250X and
    MI210 it does not; LLaMA-Factory's `fp8` too, unless its Transformer Engine backend (not judged)."""
    fp8 = "blocker.fp8_on_gpu_without_fp8"
    for i, (target, fires) in enumerate((("mi300x", False), ("mi325x", False), ("mi355x", False), ("mi250x", True), ("mi210", True), ("h100", False))):
        (tmp_path / str(i)).mkdir()
        assert (fp8 in _fired(tmp_path / str(i), ("ax.yaml", AXOLOTL + "fp8: true\n", target, {}))) is fires, target
    assert fp8 in _fired(tmp_path, ("lf.yaml", LF + "fp8: true\n", "mi250x", {}))
    assert fp8 not in _fired(tmp_path, ("lf2.yaml", LF + "fp8: true\nfp8_backend: te\n", "mi250x", {}))
    assert fp8 not in _fired(tmp_path, ("ax2.yaml", AXOLOTL + "fp8: false\n", "mi250x", {}))
    # the footgun rule for a precision of fp8 stays silent where the blocker speaks
    path = tmp_path / "ax3.yaml"
    path.write_text(AXOLOTL + "fp8: true\n")
    report = _audit(path, target="mi250x")
    ids = [f.rule_id for f in report.findings]
    assert ids[0] == fp8 and "precision.fp8_without_hardware_support" not in ids and report.verdict == "fail"
    assert report.findings[0].fix == {"fp8": False}


def test_transformer_engine_is_a_requirement_only_with_fp8_on(tmp_path: Path) -> None:
    te = "blocker.fp8_transformer_engine_needs_rocm_build"
    assert te not in _fired(tmp_path, ("lf.yaml", LF + "fp8: false\nfp8_backend: te\n", "mi300x", {}))
    path = tmp_path / "lf2.yaml"
    path.write_text(LF + "fp8: true\nfp8_backend: te\n")
    finding = next(f for f in _audit(path).findings if f.rule_id == te)
    assert finding.footgun and not finding.blocker and "`fp8_backend: te`" in finding.message


@pytest.mark.parametrize(
    "line",
    [
        "# torchrun --nproc_per_node=$(echo $CUDA_VISIBLE_DEVICES | tr ',' '\\n' | wc -l) train.py",
        "# NUM_GPUS=$(echo ${CUDA_VISIBLE_DEVICES} | awk -F, '{print NF}')",
        "# NPROC=$(python -c \"import os; print(len(os.environ['CUDA_VISIBLE_DEVICES'].split(',')))\")",
        "# GPUS=(${CUDA_VISIBLE_DEVICES//,/ }); torchrun --nproc_per_node=${#CUDA_VISIBLE_DEVICES[@]} train.py",
    ],
)
def test_counting_cuda_visible_devices_is_found_however_it_is_written(tmp_path: Path, line: str) -> None:
    assert "blocker.cuda_visible_devices_gpu_count" in _fired(tmp_path, ("sft.yaml", line + "\n" + HF, "mi300x", {}))


@pytest.mark.parametrize(
    "line",
    [
        "# export CUDA_VISIBLE_DEVICES=0,1,2,3",
        "# CUDA_VISIBLE_DEVICES=0,1 torchrun --nproc_per_node=2 train.py",
        "# NUM_GPUS=$(echo ${HIP_VISIBLE_DEVICES:-$CUDA_VISIBLE_DEVICES} | tr ',' '\\n' | wc -l)",
        "# torchrun --nproc_per_node=gpu train.py  # reads CUDA_VISIBLE_DEVICES on CUDA hosts",
    ],
)
def test_setting_or_falling_back_from_rocm_variables_is_not_counting(tmp_path: Path, line: str) -> None:
    assert "blocker.cuda_visible_devices_gpu_count" not in _fired(tmp_path, ("sft.yaml", line + "\n" + HF, "mi300x", {}))


def test_a_key_predicate_needs_a_key_name(tmp_path: Path) -> None:
    entry = {
        "id": "blocker.x",
        "title": "t",
        "symptom": "s",
        "keys": ["fp8_backend"],
        "when": [{"fact": "key.", "op": "eq", "value": True}],
        "guidance": "g",
        "sources": ["llamafactory 0.9.5 a.py:1"],
        "citation": "https://example.com",
    }
    f = tmp_path / "blockers.yaml"
    f.write_text(json.dumps([entry]))
    found, problems = blockers.check_blockers(f)
    assert not found and "needs a config key" in problems[0], problems


def test_a_blocker_found_through_a_setting_names_that_setting_not_none(tmp_path: Path) -> None:
    """A script whose optimizer is bitsandbytes' (artidoro/qlora: `optim` default paged_adamw_32bit) used to
    render `line 198: \\`None\\``: the line of the anchor setting, with no value."""
    script = "from transformers import TrainingArguments\nargs = TrainingArguments(output_dir='o', optim='paged_adamw_32bit', per_device_train_batch_size=2)\n"
    path = _write(tmp_path, ("train.py", script, "mi300x", {"requirements.txt": "bitsandbytes==0.40.0\n"}))
    found = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.bitsandbytes_before_rocm_wheels"]
    assert found and "None" not in found[0].message
    assert "optim" in found[0].message and "paged_adamw_32bit" in found[0].message


def test_a_launcher_in_the_repository_that_counts_gpus_with_nvidia_smi_is_a_blocker(tmp_path: Path) -> None:
    """review2 (s1 train/sft.sh:12): `gpu_count=$(nvidia-smi -L | wc -l)` in the script that launches the config,
    not in the config: the run starts no process on ROCm; a launcher that does not count with nvidia-smi is silent."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "train").mkdir()
    (root / "train" / "sft.yaml").write_text(HF)
    launch = "torchrun --nproc-per-node ${gpu_count} train/sft.py --config train/sft.yaml\n"
    (root / "train" / "sft.sh").write_text("gpu_count=$(nvidia-smi -L | wc -l)\n" + launch)
    found = [f for f in blockers.findings(load_config(root / "train" / "sft.yaml"), get_hardware("mi300x")) if f.rule_id == "blocker.nvidia_smi_gpu_count"]
    assert found and found[0].blocker and "the launcher sft.sh:1: `gpu_count=$(nvidia-smi -L | wc -l)`" in found[0].message
    (root / "train" / "sft.sh").write_text("gpu_count=8\n" + launch)
    assert not [f for f in blockers.findings(load_config(root / "train" / "sft.yaml"), get_hardware("mi300x")) if f.rule_id == "blocker.nvidia_smi_gpu_count"]


@pytest.mark.parametrize(
    ("counting", "fires"),
    [
        ("if [ -n \"$NGPU\" ]; then\n    echo given\nfi\ngpu_count=$(nvidia-smi -L | wc -l)\n", True),  # after the block: always run
        ("if [[ -n \"${SM_NUM_GPUS:-}\" ]]; then\n    gpu_count=\"$SM_NUM_GPUS\"\nelif command -v nvidia-smi &> /dev/null; then\n"
         "    gpu_count=\"$(nvidia-smi -L | wc -l)\"\nelse\n    gpu_count=1\nfi\n", False),  # a fallback branch
    ],
    ids=["unconditional", "fallback-branch"],
)  # fmt: skip
def test_an_nvidia_smi_count_in_a_fallback_branch_is_no_blocker(tmp_path: Path, counting: str, fires: bool) -> None:
    """review13a #14 sm_accelerate_train.sh:98-103: NUM_GPUS from SM_NUM_GPUS, else from `nvidia-smi -L` where the command
    exists: on ROCm that branch is not taken, so the count it sets is no certain stop."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "train").mkdir()
    (root / "train" / "sft.yaml").write_text(HF)
    launch = "torchrun --nproc-per-node ${gpu_count} train/sft.py --config train/sft.yaml\n"
    (root / "train" / "sft.sh").write_text(counting + launch)
    findings = blockers.findings(load_config(root / "train" / "sft.yaml"), get_hardware("mi300x"))
    found = [f for f in findings if f.rule_id == "blocker.nvidia_smi_gpu_count"]
    assert bool(found) is fires
    # the fallback some hosts take is a requirement (a footgun), never beside the certain blocker
    fallback = [f for f in findings if f.rule_id == "blocker.nvidia_smi_gpu_count_fallback"]
    assert bool(fallback) is not fires
    if fallback:
        assert "sft.sh:4:" in fallback[0].message and "nvidia-smi -L" in fallback[0].message
        assert fallback[0].footgun and not fallback[0].blocker


def test_an_nvidia_smi_fallback_is_no_requirement_on_an_nvidia_target_or_without_one(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "train").mkdir()
    (root / "train" / "sft.yaml").write_text(HF)
    branch = 'if [[ -n "${SM_NUM_GPUS:-}" ]]; then\n    gpu_count="$SM_NUM_GPUS"\nelse\n    gpu_count={count}\nfi\n'
    launch = "torchrun --nproc-per-node ${gpu_count} train/sft.py --config train/sft.yaml\n"
    (root / "train" / "sft.sh").write_text(branch.replace("{count}", '"$(nvidia-smi -L | wc -l)"') + launch)
    ids = [f.rule_id for f in blockers.findings(load_config(root / "train" / "sft.yaml"), get_hardware("h100"))]
    assert "blocker.nvidia_smi_gpu_count_fallback" not in ids
    (root / "train" / "sft.sh").write_text(branch.replace("{count}", "8") + launch)  # a literal fallback: no nvidia-smi
    ids = [f.rule_id for f in blockers.findings(load_config(root / "train" / "sft.yaml"), get_hardware("mi300x"))]
    assert "blocker.nvidia_smi_gpu_count_fallback" not in ids and "blocker.nvidia_smi_gpu_count" not in ids


def test_a_blocker_with_several_findings_is_named_once_with_its_count() -> None:
    """review2 #14: seven rejected keys were listed as seven copies of one id."""
    from pytest_goblin.schemas import Finding

    def f(rid: str) -> Finding:
        return Finding(rule_id=rid, title="t", category="blocker", message="m", citation="c", blocker=True)

    said = blockers.blocked_reason([f("blocker.keys_rejected_at_version")] * 3 + [f("blocker.tf32_on_rocm")], "mi300x")
    assert "4 blocker(s) (blocker.keys_rejected_at_version x3, blocker.tf32_on_rocm)" in said
    assert blockers.counted(["blocker.tf32_on_rocm"]) == "blocker.tf32_on_rocm"  # one: no count


def test_goblin_fix_writes_no_speedup_patch_into_a_file_its_parser_rejects(tmp_path: Path) -> None:
    """review2 #13 (open-thoughts OpenThinker-7B): the patch added keys to a LLaMA-Factory file whose `formatting`
    (a dataset_info.json field) stops every release's parser; the speedup is said, the file is left alone."""
    (tmp_path / ".git").mkdir()
    text = (
        "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nstage: sft\ndo_train: true\nfinetuning_type: full\ndeepspeed: ds_z3.json\n"
        "dataset: mydata\ntemplate: qwen\ncutoff_len: 4096\nper_device_train_batch_size: 1\ngradient_accumulation_steps: 3\nbf16: true\n"
        "# llamafactory-cli train sft.yaml\n"
    )
    (tmp_path / "ds_z3.json").write_text('{"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": "auto"}')
    path = tmp_path / "sft.yaml"
    path.write_text(text + "formatting: sharegpt\n")
    r = _audit(path, fix=True)
    assert r.verdict == "fail" and r.patch is not None and r.patch.edits and r.speedup.point > 1.0
    assert path.read_text() == text + "formatting: sharegpt\n"
    assert any(n.startswith("--goblin-fix did not write the speedup patch") and "blocker.keys_rejected_at_version" in n for n in r.notes)
    # must not: without the rejected key the same patch is written
    path.write_text(text)
    r = _audit(path, fix=True)
    assert path.read_text() != text and not any("did not write the speedup patch" in n for n in r.notes)


def test_a_missing_deepspeed_file_outside_a_git_repository_is_not_concluded(tmp_path: Path) -> None:
    """Without a repository root goblin cannot tell where the run's files live: a note, no blocker."""
    case = ("sft.yaml", HF + "deepspeed: ./configs/ds_z3_offload.json\n", "mi300x", {})
    assert "blocker.deepspeed_file_missing" not in _fired(tmp_path, case)
    assert load_config(tmp_path / "sft.yaml").workload.deepspeed_missing is None


def test_the_key_check_runs_once_for_its_blocker_and_requirement_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys_at_version pair (blocker.keys_rejected_at_version / blocker.keys_unknown_at_version) shares one check of
    the recipe's keys per findings() call; each entry still reports its own keys, and ignoring one keeps the other."""
    (tmp_path / ".git").mkdir()
    path = tmp_path / "sft.yaml"
    path.write_text(
        "model_name_or_path: mistralai/Mistral-7B-v0.1\nbf16: true\nper_device_train_batch_size: 2\nlearning_rate: 1.0e-5\n"
        "output_dir: out\noverwrite_output_dir: true\nwarmup_ratio: 0.1\n"
    )
    calls = [0]
    real = blockers._key_check

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(blockers, "_key_check", counted)
    loaded = load_config(path)
    got = [f for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]
    assert calls[0] == 1
    assert {f.key for f in got} == {"overwrite_output_dir", "warmup_ratio"}, got
    # must not: an ignored entry takes nothing from the other, which still reports its keys
    rid = got[0].rule_id
    loaded.workload.ignored_rules.append(rid)
    again = [f for f in blockers.findings(loaded, get_hardware("mi300x")) if f.rule_id.startswith("blocker.keys_")]
    assert rid not in {f.rule_id for f in again} and {f.key for f in again} == {f.key for f in got if f.rule_id != rid}


def _trl_found(tmp: Path, name: str, text: str, extra: dict[str, str] | None = None) -> list[Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = _write(tmp, (name, text, "mi300x", extra or {}))
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith(("blocker.grpo_", "blocker.dpo_"))]


@pytest.mark.parametrize(
    ("pin", "fires"),
    [
        ("0.14.0", False),  # the first GRPOTrainer: no check
        ("0.16.0", True),  # per_device x processes: 2 x 2 = 4
        ("0.17.0", False),  # x gradient_accumulation_steps 2: 8
        ("0.29.0", False),  # generation_batch_size = 2 x 2 x steps_per_generation (= gradient_accumulation_steps 2): 8
    ],
)
def test_the_grpo_batch_is_formed_as_the_release_forms_it(tmp_path: Path, pin: str, fires: bool) -> None:
    text = GRPO.replace("trl==0.29.0", f"trl=={pin}").replace("gradient_accumulation_steps: 1", "gradient_accumulation_steps: 2")
    got = _trl_found(tmp_path, "grpo.yaml", text)
    assert bool(got) == fires, [f.message for f in got]
    if fires:
        assert got[0].blocker and "trl 0.16.0 :425-433" in got[0].message and "GRPOTrainer.__init__ raises" in got[0].message


def test_a_grpo_generation_batch_set_in_the_config_is_the_batch(tmp_path: Path) -> None:
    fires = _trl_found(tmp_path / "a", "grpo.yaml", GRPO.replace("num_generations: 8", "num_generations: 8\ngeneration_batch_size: 12"))
    assert [f.rule_id for f in fires] == ["blocker.grpo_generation_batch_indivisible"]
    assert "generation_batch_size 12 = 12, which is not divisible by num_generations 8 (line 6)" in fires[0].message
    assert not _trl_found(tmp_path / "b", "grpo.yaml", GRPO.replace("num_generations: 8", "num_generations: 8\ngeneration_batch_size: 16"))


def test_a_grpo_batch_on_an_assumed_world_size_is_not_a_blocker_and_names_the_counts_that_fit(tmp_path: Path) -> None:
    (f,) = _trl_found(tmp_path, "grpo.yaml", GRPO_ASSUMED)
    assert f.category == "requirement" and not f.blocker and f.footgun
    assert f.message.startswith("not decided, the world size is assumed")
    assert "on 4, 8, 16 GPUs it would hold whole groups" in f.message
    assert "None" not in f.message and "None" not in f.title


def test_a_grpo_script_of_the_dstack_shape_blocks_on_the_stated_world_size(tmp_path: Path) -> None:
    # review4 #32: GRPOConfig(per_device_train_batch_size=args.per_device_train_batch_size), argparse default 1 here;
    # TRL's num_generations default 8 (trl 1.16.0 grpo_config.py:480-481)
    script = (
        "import argparse\nfrom trl import GRPOConfig, GRPOTrainer\n"
        "p = argparse.ArgumentParser()\np.add_argument('--per_device_train_batch_size', type=int, default=2)\nargs = p.parse_args()\n"
        "training_args = GRPOConfig(output_dir='o', per_device_train_batch_size=args.per_device_train_batch_size)\n"
        "trainer = GRPOTrainer(model='Qwen/Qwen2.5-1.5B', reward_funcs=len, args=training_args)\ntrainer.train()\n"
    )
    path = _write(tmp_path, ("grpo_train.py", script, "mi300x", {}))
    from pytest_goblin.formats.semantics import loaded_with_world_size

    assumed = blockers.findings(load_config(path), get_hardware("mi300x"))
    assert [f.rule_id for f in assumed if f.rule_id.startswith("blocker.grpo_")] == ["blocker.grpo_generation_batch_unchecked"]
    stated = blockers.findings(loaded_with_world_size(load_config(path), 1), get_hardware("mi300x"))
    (f,) = [f for f in stated if f.rule_id.startswith("blocker.grpo_")]
    assert f.blocker and "= 2, which is not divisible by num_generations 8 (not set: TRL's default" in f.message
    assert "per_device_train_batch_size 8 (the smallest from 2" in f.message
    assert not [f for f in blockers.findings(loaded_with_world_size(load_config(path), 4), get_hardware("mi300x")) if f.rule_id.startswith("blocker.grpo_")]


@pytest.mark.parametrize(
    ("pin", "rule"),
    [
        ("0.8.6", None),  # kto_pair computed from trl 0.7.5
        ("0.9.6", "blocker.dpo_unknown_loss_type"),  # gone from 0.9.6's dpo_loss
        (None, "blocker.dpo_loss_type_at_newest"),  # not pinned: the newest, assumed
    ],
)
def test_a_dpo_loss_type_is_judged_at_the_release_that_runs(tmp_path: Path, pin: str | None, rule: str | None) -> None:
    text = (f"# pip install trl=={pin}\n" if pin else "") + DPO + "loss_type: kto_pair\n"
    got = _trl_found(tmp_path, "dpo.yaml", text)
    assert [f.rule_id for f in got] == ([rule] if rule else [])
    if rule:
        assert "`loss_type: kto_pair` (line" in got[0].message and "None" not in got[0].message


def test_orpo_through_dpoconfig_is_a_blocker_whatever_the_release(tmp_path: Path) -> None:
    (f,) = _trl_found(tmp_path, "orpo_training.py", ORPO_SCRIPT, {"requirements.txt": "trl>=0.29.0\n"})
    assert f.blocker and f.line == 2
    assert "`loss_type='orpo'` (line 2): no DPOTrainer release goblin read (trl 0.7.3 to 1.16.0) computes it" in f.message


def test_a_grpo_batch_the_script_computes_is_not_judged(tmp_path: Path) -> None:
    from pytest_goblin.formats.semantics import loaded_with_world_size

    script = (
        "import os\nfrom trl import GRPOConfig, GRPOTrainer\nbs = int(os.environ.get('BS', '4'))\n"
        "args = GRPOConfig(output_dir='o', per_device_train_batch_size=bs * 2, num_generations=6)\n"
        "trainer = GRPOTrainer(model='Qwen/Qwen2.5-1.5B', reward_funcs=len, args=args)\ntrainer.train()\n"
    )
    path = _write(tmp_path, ("grpo.py", script, "mi300x", {}))
    # the trainer default (8) stands in for the computed value: 8 is not a multiple of 6, yet nothing is concluded
    assert not [f for f in blockers.findings(loaded_with_world_size(load_config(path), 1), get_hardware("mi300x")) if f.rule_id.startswith("blocker.grpo_")]
    (tmp_path / "b").mkdir()
    literal = _write(tmp_path / "b", ("grpo.py", script.replace("bs * 2", "8"), "mi300x", {}))
    (f,) = [f for f in blockers.findings(loaded_with_world_size(load_config(literal), 1), get_hardware("mi300x")) if f.rule_id.startswith("blocker.grpo_")]
    assert f.blocker and "= 8, which is not divisible by num_generations 6 (line 4)" in f.message


@pytest.mark.parametrize(("loss", "fires"), [("orpo", True), ("simpo", True), ("apo_zero", False)])
def test_a_yaml_dpo_loss_type_on_a_pinned_release(tmp_path: Path, loss: str, fires: bool) -> None:
    got = _trl_found(tmp_path, "dpo.yaml", "# pip install trl==0.29.0\n" + DPO + f"loss_type: {loss}\n")
    assert [f.rule_id for f in got] == (["blocker.dpo_unknown_loss_type"] if fires else [])
    if fires:
        assert f"`loss_type: {loss}` (line 10)" in got[0].message and "trl 0.29.0" in got[0].message


def test_a_loss_type_the_repositorys_own_config_class_declares_is_its_trainers(tmp_path: Path) -> None:
    # review4 #16 (uclaml/SPPO): SPPOConfig declares loss_type (sppo/alignment/configs.py:256) and SPPOTrainer computes it
    own = (
        "from dataclasses import dataclass, field\nimport transformers\n\n\n@dataclass\n"
        "class SPPOConfig(transformers.TrainingArguments):\n    loss_type: str = field(default='sigmoid')\n"
    )
    extra = {".git": "gitdir: elsewhere\n", "configs.py": own}
    assert not _trl_found(tmp_path / "a", "dpo.yaml", "# pip install trl==0.29.0\n" + DPO + "loss_type: sppo\n", extra)
    assert _trl_found(tmp_path / "b", "dpo.yaml", "# pip install trl==0.29.0\n" + DPO + "loss_type: sppo\n", {".git": "gitdir: elsewhere\n"})


def test_a_loss_type_the_launcher_passes_is_named_in_the_launcher(tmp_path: Path) -> None:
    script = (
        "from dataclasses import dataclass, field\nfrom transformers import HfArgumentParser\nfrom trl import DPOConfig, DPOTrainer\n\n\n"
        "@dataclass\nclass ScriptArguments:\n    model_name_or_path: str = field(default='Qwen/Qwen2.5-1.5B')\n\n\n"
        "parser = HfArgumentParser((ScriptArguments, DPOConfig))\nscript_args, training_args = parser.parse_args_into_dataclasses()\n"
        "trainer = DPOTrainer(model=script_args.model_name_or_path, args=training_args)\ntrainer.train()\n"
    )
    launch = "accelerate launch dpo.py --model_name_or_path Qwen/Qwen2.5-1.5B --output_dir o --loss_type orpo --bf16 True\n"
    got = _trl_found(tmp_path, "dpo.py", script, {"run.sh": launch})
    assert [f.rule_id for f in got] == ["blocker.dpo_unknown_loss_type"]
    assert got[0].line is None and "`loss_type='orpo'` (passed by run.sh line 1)" in got[0].message


def test_a_deepspeed_path_no_folder_of_the_repository_has_is_missing_though_its_name_is_elsewhere(tmp_path: Path) -> None:
    """review5 #2 (nopperl/corporate_emission_reports train_config/lora_dpo.yml): `deepspeed: train_configs/zero3_bf16.json`
    where the repository has only train_config/zero3_bf16.json. Axolotl hands the path to accelerate, which raises at
    start-up: a blocker. Must not: the same path held by a subfolder (a `cd` there reaches it)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "train_config").mkdir()
    (tmp_path / "train_config" / "zero3_bf16.json").write_text('{"zero_optimization": {"stage": 3}}\n')
    cfg = tmp_path / "train_config" / "lora_dpo.yml"
    cfg.write_text(AXOLOTL + "deepspeed: train_configs/zero3_bf16.json\n")
    found = {f.rule_id for f in blockers.findings(load_config(cfg), get_hardware("mi300x"))}
    assert "blocker.deepspeed_file_missing" in found
    assert load_config(cfg).workload.deepspeed_missing == "train_configs/zero3_bf16.json"
    # must not: a folder of the repository holds that path
    (tmp_path / "sub" / "train_configs").mkdir(parents=True)
    (tmp_path / "sub" / "train_configs" / "zero3_bf16.json").write_text('{"zero_optimization": {"stage": 3}}\n')
    found = {f.rule_id for f in blockers.findings(load_config(cfg), get_hardware("mi300x"))}
    assert "blocker.deepspeed_file_missing" not in found


def test_a_deepspeed_file_the_framework_ships_in_its_checkout_is_not_missing(tmp_path: Path) -> None:
    """review5 #14/#15 (psunlpgroup/FoVer): `deepspeed: examples/deepspeed/ds_z3_config.json` is LLaMA-Factory's own file
    (v0.9.5 examples/deepspeed/), found when the run starts in the LLaMA-Factory checkout: no blocker. Must fire: a file
    name LLaMA-Factory does not ship under that folder."""
    (tmp_path / ".git").mkdir()
    cfg = tmp_path / "sft.yaml"
    cfg.write_text(LF + "deepspeed: examples/deepspeed/ds_z3_config.json\n")
    wl = load_config(cfg).workload
    assert wl.deepspeed_missing is None and wl.zero_stage == 3
    assert "blocker.deepspeed_file_missing" not in {f.rule_id for f in blockers.findings(load_config(cfg), get_hardware("mi300x"))}
    cfg.write_text(LF + "deepspeed: examples/deepspeed/my_z3_config.json\n")
    assert "blocker.deepspeed_file_missing" in {f.rule_id for f in blockers.findings(load_config(cfg), get_hardware("mi300x"))}


def test_every_release_of_a_framework_counts_for_its_shipped_deepspeed_files() -> None:
    """review5 #3 (yxzwayne/Medilora, Axolotl): `deepspeed: deepspeed/zero3.json` is the file Axolotl v0.3.0 shipped
    (deepspeed/, renamed deepspeed_configs/ at v0.4.0): a run from an Axolotl clone of that age finds it, so it is not
    concluded missing; a name no release shipped still is."""
    from pytest_goblin.formats.deepspeed import shipped_by_framework

    for ref in ("deepspeed/zero3.json", "./deepspeed_configs/zero3_bf16.json", "examples/deepspeed/ds_z3_fp8_config.json", "zero3_bf16_cpuoffload_params.json"):
        assert shipped_by_framework(ref), ref
    for ref in ("deepspeed/zero3_offload.json", "deepspeed_configs/zero4.json", "configs/deepspeed/zero3.json", "my_zero3.json"):
        assert not shipped_by_framework(ref), ref


DS_BF16 = '{\n  "fp16": {"enabled": false},\n  "bf16": {\n    "enabled": true\n  },\n  "train_micro_batch_size_per_gpu": 2,\n  "gradient_accumulation_steps": "auto"\n}\n'


def _ds_found(tmp: Path, name: str, text: str, ds: str) -> list[Any]:
    path = _write(tmp, (name, text, "mi300x", {"ds.json": ds}))
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.deepspeed_value_mismatch"]


def test_a_deepspeed_value_that_disagrees_with_trainingarguments_stops_the_run(tmp_path: Path) -> None:
    text = HF.replace("bf16: true", "bf16: false") + "deepspeed: ds.json\n"
    (f,) = _ds_found(tmp_path, "sft.yaml", text, DS_BF16)
    assert f.blocker and f.line == 5 and f.key == "bf16"
    assert "`bf16: false` (line 5) but `bf16.enabled: true` in ds.json (line 4)" in f.message
    assert "`per_device_train_batch_size: 4` (line 2) but `train_micro_batch_size_per_gpu: 2` in ds.json (line 6)" in f.message
    assert "`gradient_accumulation_steps: 4`" not in f.message  # "auto" in the file
    assert 'set the key to "auto"' in f.message and "None" not in f.message


def test_a_script_passing_a_mismatching_deepspeed_file(tmp_path: Path) -> None:
    script = (
        "from transformers import Trainer, TrainingArguments\n"
        "args = TrainingArguments(output_dir='o', fp16=True, per_device_train_batch_size=2, deepspeed='ds.json')\n"
        "Trainer(model=None, args=args).train()\n"
    )
    (f,) = _ds_found(tmp_path, "train.py", script, DS_BF16)
    assert "`fp16=True` (line 2) but `fp16.enabled: false` in ds.json (line 2)" in f.message
    assert "`bf16" not in f.message  # bf16 not set by the run: not compared


@pytest.mark.parametrize(
    "text",
    [
        HF.replace("per_device_train_batch_size: 4", "per_device_train_batch_size: 2") + "deepspeed: ds.json\n",  # agreeing values
        "model_name_or_path: m\nlearning_rate: 1.0e-5\nnum_train_epochs: 1\ndeepspeed: ds.json\n",  # the run sets none of the compared keys
        HF.replace("bf16: true", "bf16: ${BF16}").replace("per_device_train_batch_size: 4", "per_device_train_batch_size: 2") + "deepspeed: ds.json\n",
        HF.replace("bf16: true", "bf16: false") + "# deepspeed: ds.json\n",  # the file not passed to TrainingArguments
    ],
)
def test_a_deepspeed_file_that_agrees_or_is_not_read_is_not_a_blocker(tmp_path: Path, text: str) -> None:
    assert _ds_found(tmp_path, "sft.yaml", text, DS_BF16) == []


def test_a_json_trainingarguments_file_with_a_mismatching_deepspeed_file(tmp_path: Path) -> None:
    text = '{\n  "model_name_or_path": "meta-llama/Meta-Llama-3-8B",\n  "learning_rate": 2e-05,\n  "gradient_accumulation_steps": 8,\n  "deepspeed": "ds.json"\n}\n'
    ds = '{\n  "gradient_accumulation_steps": 4,\n  "train_micro_batch_size_per_gpu": "auto"\n}\n'
    (f,) = _ds_found(tmp_path, "args.json", text, ds)
    assert "`gradient_accumulation_steps: 8` (line 4) but `gradient_accumulation_steps: 4` in ds.json (line 2)" in f.message
    assert f.line == 4


def test_a_computed_precision_or_an_unreadable_deepspeed_file_is_not_judged(tmp_path: Path) -> None:
    # as blind6 Phased-CPT-LLM-FineTuning train_phased.py (bf16 read from a file at run time) beside a file with bf16.enabled true
    script = (
        "import os\nfrom transformers import Trainer, TrainingArguments\n"
        "args = TrainingArguments(output_dir='o', bf16=os.environ.get('BF16') == '1', deepspeed='ds.json')\n"
        "Trainer(model=None, args=args).train()\n"
    )
    assert _ds_found(tmp_path, "train.py", script, DS_BF16) == []
    (tmp_path / "b").mkdir()
    text = HF.replace("bf16: true", "bf16: false") + "deepspeed: ds.json\n"
    assert _ds_found(tmp_path / "b", "sft.yaml", text, '{"bf16": {"enabled": true},\n') == []  # not JSON


def test_a_compared_key_the_launch_line_passes_is_not_judged(tmp_path: Path) -> None:
    text = HF.replace("bf16: true", "bf16: false").replace("per_device_train_batch_size: 4", "per_device_train_batch_size: 2") + "deepspeed: ds.json\n"
    launcher = "#!/bin/bash\naccelerate launch --num_processes 8 train.py \\\n  --config sft.yaml \\\n  --bf16 True\n"
    (tmp_path / "train.py").write_text("from trl import TrlParser\n")
    (tmp_path / "train.sh").write_text(launcher)
    assert _ds_found(tmp_path, "sft.yaml", text, DS_BF16) == []
    (tmp_path / "train.sh").write_text(launcher.replace(" \\\n  --bf16 True", ""))
    (f,) = _ds_found(tmp_path, "sft.yaml", text, DS_BF16)  # the same launch without the flag: the file's bf16 stands
    assert "`bf16: false` (line 5)" in f.message


def test_bf16_on_old_transformers_fires_only_in_its_release_range_and_off_cuda(tmp_path: Path) -> None:
    """transformers 4.21.0-4.34.x is_torch_bf16_gpu_available() needs torch.version.cuda (4.28.1 utils/import_utils.py:336-344);
    4.20.1 raised only when neither CPU nor GPU had bf16, 4.35.0 asks torch.cuda.is_bf16_supported()."""
    bid = "blocker.bf16_needs_cuda_before_transformers_4_35"
    for i, (req, text, target, fires) in enumerate(
        (
            ("transformers==4.34.1\n", HF, "mi300x", True),
            ("transformers==4.21.0\n", HF, "mi300x", True),
            ("transformers==4.35.0\n", HF, "mi300x", False),
            ("transformers==4.20.1\n", HF, "mi300x", False),
            ("transformers>=4.28.1\n", HF, "mi300x", False),  # a range: pip installs the newest
            ("transformers==4.28.1\n", HF, "h100", False),
            ("transformers==4.28.1\n", HF.replace("bf16: true", "bf16: false"), "mi300x", False),
            ("transformers==4.28.1\n", HF + "no_cuda: true\n", "mi300x", False),
        )
    ):
        got = _fired(tmp_path / str(i), ("sft.yaml", text, target, {"requirements.txt": req}))
        assert (bid in got) == fires, (req, text, target)
    path = _write(tmp_path / "m", ("sft.yaml", HF, "mi300x", {"requirements.txt": "transformers==4.28.1\n"}))
    f = next(f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == bid)
    assert f.blocker and "transformers==4.28.1 (requirements.txt:1)" in f.message and "None" not in f.message


def _kto_found(tmp: Path, name: str, text: str, extra: dict[str, str] | None = None) -> list[Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = _write(tmp, (name, text, "mi300x", extra or {}))
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.kto_")]


@pytest.mark.parametrize(
    ("pin", "fires"),
    [
        ("0.8.6", False),  # device count x batch x accumulation (8 here): not the per-device check
        ("0.11.4", False),  # the same total-batch form, the KL term now optional
        ("0.12.0", True),  # the per-device check first (kto_trainer.py:650-654)
        ("0.18.2", True),
        ("1.16.0", True),
    ],
)
def test_the_kto_batch_check_fires_only_at_releases_that_have_it(tmp_path: Path, pin: str, fires: bool) -> None:
    got = _kto_found(tmp_path, "kto.yaml", f"# pip install trl=={pin}\n" + KTO)
    assert [f.rule_id for f in got] == (["blocker.kto_kl_term_raises"] if fires else []), [f.message for f in got]
    if fires:
        (f,) = got
        assert f.blocker and f.line == 5 and f.key == "per_device_train_batch_size"
        assert f.message.startswith("`per_device_train_batch_size: 1` (line 5) with loss_type kto (not set: KTOConfig's default)")
        assert f"on trl {pin}" in f.message and "per_device_train_batch_size 2 with gradient_accumulation_steps 4" in f.message
        assert "None" not in f.message


def test_the_kto_sampling_check_fires_from_trl_1_6_0(tmp_path: Path) -> None:
    text = KTO.replace("per_device_train_batch_size: 1", "per_device_train_batch_size: 4") + "train_sampling_strategy: random\n"
    (f,) = _kto_found(tmp_path / "a", "kto.yaml", "# pip install trl==1.16.0\n" + text)
    assert f.blocker and f.line == 10 and "`train_sampling_strategy: random` (line 10)" in f.message
    assert "kto_trainer.py:837-843" in f.message and "train_sampling_strategy sequential" in f.message
    # must not: a release before the check, the default sequential, or no KL term
    assert not _kto_found(tmp_path / "b", "kto.yaml", "# pip install trl==1.5.0\n" + text)
    assert not _kto_found(tmp_path / "c", "kto.yaml", "# pip install trl==1.16.0\n" + text.replace("random", "sequential"))
    assert not _kto_found(tmp_path / "d", "kto.yaml", "# pip install trl==1.16.0\n" + text + "loss_type: apo_zero_unpaired\n")


def test_a_kto_script_with_a_batch_of_one_is_a_blocker(tmp_path: Path) -> None:
    script = (
        "from trl import KTOConfig, KTOTrainer\n"
        "args = KTOConfig(output_dir='o', per_device_train_batch_size=1, gradient_accumulation_steps=3, bf16=True)\n"
        "trainer = KTOTrainer(model='Qwen/Qwen2.5-1.5B', args=args)\ntrainer.train()\n"
    )
    (f,) = _kto_found(tmp_path / "a", "kto.py", script, {"requirements.txt": "trl==0.29.0\n"})
    assert f.blocker and f.line == 2 and f.message.startswith("`per_device_train_batch_size=1` (line 2) with loss_type kto")
    assert "per_device_train_batch_size 2 or more" in f.message
    # must not: the loss without a KL term, or a batch of 2
    no_kl = script.replace("bf16=True", "bf16=True, loss_type='apo_zero_unpaired'")
    assert not _kto_found(tmp_path / "b", "kto.py", no_kl, {"requirements.txt": "trl==0.29.0\n"})
    assert not _kto_found(tmp_path / "c", "kto.py", script.replace("batch_size=1", "batch_size=2"), {"requirements.txt": "trl==0.29.0\n"})


def _raises_found(tmp: Path, name: str, text: str, extra: dict[str, str] | None = None) -> list[Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = _write(tmp, (name, text, "mi300x", extra or {}))
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.trl_config_raises")]


@pytest.mark.parametrize(
    ("pin", "extra", "fires"),
    [
        ("0.29.0", "", False),  # SFTTrainer before 1.0.0 does not raise on it
        ("1.0.0", "", True),  # sft_trainer.py:924-929
        ("1.16.0", "max_length: 2048\n", True),
        ("1.16.0", "max_length: null\n", False),  # max_length None: nothing to enforce
        ("1.16.0", "packing: false\n", True),
    ],
)
def test_sft_padding_free_without_packing_raises_from_trl_1_0_0(tmp_path: Path, pin: str, extra: str, fires: bool) -> None:
    got = _raises_found(tmp_path, "sft.yaml", SFT_PADDING_FREE.replace("trl==1.16.0", f"trl=={pin}") + extra)
    assert [f.rule_id for f in got] == (["blocker.trl_config_raises"] if fires else []), [f.message for f in got]
    if fires:
        (f,) = got
        assert f.blocker and f.line == 7 and f.message.startswith("`padding_free: true` (line 7), ")
        assert f"on trl {pin}" in f.message and "SFTTrainer.__init__ raises ValueError" in f.message and "None" not in f.message


def test_sft_padding_free_on_a_vision_model_is_not_judged(tmp_path: Path) -> None:
    # SFTTrainer skips the check for a vision dataset (trl 1.16.0 sft_trainer.py:999), which goblin does not read
    vl = SFT_PADDING_FREE.replace("Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-VL-3B-Instruct")
    assert not _raises_found(tmp_path, "sft.yaml", vl)


@pytest.mark.parametrize(
    ("pin", "key", "fires"),
    [
        ("0.14.0", "num_generations: 1", False),  # the first GRPOTrainer: no check
        ("0.16.0", "num_generations: 1", True),  # GRPOTrainer.__init__ :425-433, the divisors from 2
        ("0.17.0", "num_generations: 1", True),  # GRPOTrainer.__init__ :592-596
        ("0.29.0", "num_generations: 1", True),  # GRPOConfig.__post_init__
        ("0.18.0", "num_generations: 8\ngeneration_batch_size: 16\nsteps_per_generation: 2", True),
        ("0.18.0", "num_generations: 8\ngeneration_batch_size: 16", False),
        ("1.8.0", "num_generations: 8\nauto_find_batch_size: true", False),  # accepted before 1.9.0
        ("1.9.0", "num_generations: 8\nauto_find_batch_size: true", True),
        ("1.16.0", "num_generations: 8\nauto_find_batch_size: false", False),
    ],
)
def test_grpo_start_up_raises_at_the_releases_that_have_them(tmp_path: Path, pin: str, key: str, fires: bool) -> None:
    text = GRPO.replace("trl==0.29.0", f"trl=={pin}").replace("per_device_train_batch_size: 2", "per_device_train_batch_size: 8")
    got = _raises_found(tmp_path, "grpo.yaml", text.replace("num_generations: 8", key))
    assert [f.rule_id for f in got] == (["blocker.trl_config_raises"] if fires else []), [f.message for f in got]
    if fires:
        assert got[0].blocker and f"on trl {pin}" in got[0].message and "None" not in got[0].message
        if pin == "0.17.0":
            assert "GRPOTrainer.__init__ raises" in got[0].message


def test_a_grpo_script_with_one_generation_is_a_blocker_at_its_line(tmp_path: Path) -> None:
    script = (
        "from trl import GRPOConfig, GRPOTrainer\n"
        "args = GRPOConfig(output_dir='o', per_device_train_batch_size=4, num_generations=1, bf16=True)\n"
        "trainer = GRPOTrainer(model='Qwen/Qwen2.5-1.5B', reward_funcs=len, args=args)\ntrainer.train()\n"
    )
    (f,) = _raises_found(tmp_path / "a", "grpo.py", script, {"requirements.txt": "trl==0.29.0\n"})
    assert f.blocker and f.line == 2 and f.message.startswith("`num_generations=1` (line 2): on trl 0.29.0")
    assert "num_generations 2 or more" in f.message
    # must not: two generations per prompt
    assert not _raises_found(tmp_path / "b", "grpo.py", script.replace("num_generations=1", "num_generations=2"), {"requirements.txt": "trl==0.29.0\n"})


def test_an_sft_script_with_padding_free_and_packing_is_not_judged_a_raise(tmp_path: Path) -> None:
    script = (
        "from trl import SFTConfig, SFTTrainer\n"
        "args = SFTConfig(output_dir='o', per_device_train_batch_size=4, padding_free=True, max_length=2048, bf16=True)\n"
        "trainer = SFTTrainer(model='Qwen/Qwen2.5-1.5B', args=args)\ntrainer.train()\n"
    )
    (f,) = _raises_found(tmp_path / "a", "sft.py", script, {"requirements.txt": "trl==1.16.0\n"})
    assert f.blocker and f.line == 2 and "`padding_free=True` (line 2), `max_length=2048` (line 2), packing not set (false)" in f.message
    packed = script.replace("padding_free=True", "padding_free=True, packing=True")
    assert not _raises_found(tmp_path / "b", "sft.py", packed, {"requirements.txt": "trl==1.16.0\n"})


def test_a_start_up_key_the_repositorys_own_config_class_declares_is_not_judged(tmp_path: Path) -> None:
    own = (
        "from dataclasses import dataclass, field\nimport transformers\n\n\n@dataclass\n"
        "class MyArgs(transformers.TrainingArguments):\n    padding_free: bool = field(default=False)\n"
    )
    assert not _raises_found(tmp_path / "a", "sft.yaml", SFT_PADDING_FREE, {".git": "gitdir: elsewhere\n", "args.py": own})
    assert _raises_found(tmp_path / "b", "sft.yaml", SFT_PADDING_FREE, {".git": "gitdir: elsewhere\n"})


CPU_SCRIPT = (
    "from transformers import Trainer, TrainingArguments\n"
    "args = TrainingArguments(output_dir='o', per_device_train_batch_size=4, {kw})\n"
    "trainer = Trainer(model='meta-llama/Meta-Llama-3-8B', args=args)\ntrainer.train()\n"
)


@pytest.mark.parametrize(
    ("kw", "fires"),
    [("use_cpu=True", True), ("no_cuda=True", True), ("use_cpu=False", False), ("bf16=True", False)],
)
def test_a_script_whose_trainer_runs_on_the_cpu(tmp_path: Path, kw: str, fires: bool) -> None:
    path = tmp_path / "train.py"
    path.write_text(CPU_SCRIPT.format(kw=kw))
    found = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.trains_on_cpu"]
    assert bool(found) is fires
    if fires:
        assert kw.split("=")[0] in found[0].message and "None" not in found[0].message


def _eval_found(tmp: Path, text: str, name: str = "grpo.yaml", extra: dict[str, str] | None = None) -> list[Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    path = _write(tmp, (name, text, "mi300x", extra or {}))
    return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.grpo_eval_batch")]


@pytest.mark.parametrize(
    ("pin", "raiser"),
    [
        ("0.14.0", None),  # the first GRPOTrainer: no check
        ("0.16.0", "GRPOTrainer.__init__"),  # grpo_trainer.py:434-441
        ("0.18.0", "GRPOConfig.__post_init__"),  # grpo_config.py:548-560
        ("0.20.0", None),  # 0.20.0 and 0.21.0 dropped the eval check
        ("0.22.0", "GRPOConfig.__post_init__"),  # back, as do_eval and eval_strategy not "no"
        ("1.16.0", "GRPOConfig.__post_init__"),
    ],
)
def test_the_grpo_eval_batch_is_checked_at_the_releases_that_check_it(tmp_path: Path, pin: str, raiser: str | None) -> None:
    got = _eval_found(tmp_path, GRPO_EVAL.replace("trl==0.29.0", f"trl=={pin}"))
    assert [f.rule_id for f in got] == (["blocker.grpo_eval_batch_indivisible"] if raiser else []), [f.message for f in got]
    if raiser:
        (f,) = got
        assert f.blocker and f.line == 6 and f"On trl {pin}" in f.message and f"{raiser} raises ValueError" in f.message
        assert "eval_strategy steps (line 8) turns evaluation on; per_device_eval_batch_size 2 (line 9)" in f.message
        assert "the eval batch 2 x 2 = 4 is not divisible by num_generations 8 (line 6)" in f.message
        assert "per_device_eval_batch_size 4 (the smallest from 2" in f.message and "None" not in f.message


def test_the_grpo_eval_batch_uses_num_generations_eval_where_the_release_reads_it(tmp_path: Path) -> None:
    text = GRPO_EVAL + "num_generations_eval: 4\n"  # 4 divides the eval batch 4 from trl 0.26.1 on
    assert not _eval_found(tmp_path / "a", text)
    (f,) = _eval_found(tmp_path / "b", text.replace("trl==0.29.0", "trl==0.26.0"))  # 0.26.0 still divides by num_generations
    assert "not divisible by num_generations 8" in f.message
    (g,) = _eval_found(tmp_path / "c", GRPO_EVAL + "num_generations_eval: 3\n")
    assert "not divisible by num_generations_eval 3 (line 10)" in g.message and g.line == 10


def test_the_grpo_eval_batch_defaults_and_assumptions_are_said(tmp_path: Path) -> None:
    # per_device_eval_batch_size not set: TrainingArguments' 8, x 2 GPUs = 16, not a multiple of num_generations 12
    text = (
        GRPO_EVAL.replace("per_device_eval_batch_size: 2\n", "")
        .replace("num_generations: 8", "num_generations: 12")
        .replace("per_device_train_batch_size: 4", "per_device_train_batch_size: 6")
    )
    (f,) = _eval_found(tmp_path / "a", text)
    assert "per_device_eval_batch_size 8 (not set: TrainingArguments' default, transformers 5.25.0" in f.message
    # the world size assumed: a requirement that says so and names the counts that would hold whole groups
    (g,) = _eval_found(tmp_path / "b", GRPO_EVAL_ASSUMED)
    assert g.rule_id == "blocker.grpo_eval_batch_unchecked" and not g.blocker
    assert g.message.startswith("not decided, the world size is assumed") and "on 4, 8, 16 GPUs it would hold whole groups" in g.message
    # the release assumed (no pin) on a read world size: a requirement too
    (h,) = _eval_found(tmp_path / "c", GRPO_EVAL.replace("# pip install trl==0.29.0\n", ""))
    assert h.rule_id == "blocker.grpo_eval_batch_unchecked" and "not decided, the release is assumed" in h.message
    # eval_strategy no, or the old name set to no: no evaluation, no check
    assert not _eval_found(tmp_path / "d", GRPO_EVAL.replace("eval_strategy: steps", "eval_strategy: 'no'"))
    (i,) = _eval_found(tmp_path / "e", GRPO_EVAL.replace("eval_strategy: steps", "evaluation_strategy: epoch"))
    assert "evaluation_strategy epoch (line 8) turns evaluation on" in i.message


# RLOO from trl 0.22.0: GRPO's generation-batch checks in RLOOConfig.__post_init__, num_generations defaulting to 2
RLOO = (
    "# accelerate launch --num_processes 1 -m trl.scripts.rloo --config rloo.yaml\n# pip install trl==0.29.0\n"
    "model_name_or_path: Qwen/Qwen2.5-1.5B\nper_device_train_batch_size: 3\ngradient_accumulation_steps: 1\nnum_generations: 4\nbf16: true\n"
)


def test_an_rloo_generation_batch_is_judged_as_rloo_config_judges_it(tmp_path: Path) -> None:
    def found(tmp: Path, text: str) -> list[Any]:
        tmp.mkdir(parents=True, exist_ok=True)
        path = _write(tmp, ("rloo.yaml", text, "mi300x", {}))
        return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith(("blocker.grpo_", "blocker.trl_config"))]

    (f,) = found(tmp_path / "a", RLOO)
    assert f.rule_id == "blocker.grpo_generation_batch_indivisible" and f.blocker
    assert "= 3, which is not divisible by num_generations 4 (line 6)" in f.message and "RLOOConfig.__post_init__ raises" in f.message
    assert "rloo_config.py:636-670; trl 0.29.0 :539-576" in f.message
    # must not: a batch of whole groups, the default num_generations 2 on an even batch, a release before the rewrite
    assert not found(tmp_path / "b", RLOO.replace("per_device_train_batch_size: 3", "per_device_train_batch_size: 4"))
    assert not found(tmp_path / "c", RLOO.replace("per_device_train_batch_size: 3", "per_device_train_batch_size: 2").replace("num_generations: 4\n", ""))
    assert not [f for f in found(tmp_path / "d", RLOO.replace("trl==0.29.0", "trl==0.21.0")) if f.rule_id.startswith("blocker.grpo_")]
    # the default num_generations 2 said as TRL's, on an odd batch
    (g,) = found(tmp_path / "e", RLOO.replace("num_generations: 4\n", ""))
    assert "num_generations 2 (not set: TRL's default, trl 1.16.0 trl/trainer/rloo_config.py:301-302" in g.message
    # the eval batch likewise: 3 x 1 = 3 with evaluation on
    (h,) = found(
        tmp_path / "f",
        RLOO.replace("per_device_train_batch_size: 3", "per_device_train_batch_size: 4") + "eval_strategy: epoch\nper_device_eval_batch_size: 3\n",
    )
    assert h.rule_id == "blocker.grpo_eval_batch_indivisible" and "RLOOConfig.__post_init__ raises" in h.message


@pytest.mark.parametrize(
    ("extra", "pin", "fires"),
    [
        ("num_generations: 1\n", "0.29.0", ["num_generations"]),
        ("num_generations: 1\n", "0.21.0", None),  # the older RLOOTrainer: no num_generations
        ("num_generations: 3\ngeneration_batch_size: 6\nsteps_per_generation: 2\n", "0.22.0", ["generation_batch_size", "steps_per_generation"]),
        ("num_generations: 3\ngeneration_batch_size: 6\n", "0.22.0", None),
        ("num_generations: 3\nauto_find_batch_size: true\n", "1.9.0", ["auto_find_batch_size"]),
        ("num_generations: 3\nauto_find_batch_size: true\n", "1.8.0", None),
    ],
)
def test_rloo_config_raises_at_the_releases_that_have_them(tmp_path: Path, extra: str, pin: str, fires: list[str] | None) -> None:
    text = RLOO.replace("trl==0.29.0", f"trl=={pin}").replace("num_generations: 4\n", "") + extra
    got = [f for f in _raises_found(tmp_path, "rloo.yaml", text) if "local_batch_size" not in f.message]  # the older trainer's own check
    assert [f.rule_id for f in got] == (["blocker.trl_config_raises"] if fires else []), [f.message for f in got]
    if fires:
        (f,) = got
        assert f.title.endswith(f"(RLOOConfig: {', '.join(fires)})") and f"on trl {pin} (" in f.message
        assert "RLOOConfig.__post_init__ raises ValueError" in f.message
        assert "None" not in f.message


# the RLOOTrainer of trl 0.9.3-0.21.x: local_batch_size = per_device x accumulation x num_mini_batches, a multiple of rloo_k
RLOO_OLD = (
    "# pip install trl==0.19.0\nmodel_name_or_path: Qwen/Qwen2.5-1.5B\nper_device_train_batch_size: 3\ngradient_accumulation_steps: 1\nrloo_k: 2\nbf16: true\n"
)


@pytest.mark.parametrize(
    ("pin", "text", "fires"),
    [
        ("0.19.0", RLOO_OLD, True),  # 3 x 1 x 1 = 3, not a multiple of rloo_k 2
        ("0.9.3", RLOO_OLD, True),  # the first RLOOTrainer
        ("0.19.0", RLOO_OLD.replace("gradient_accumulation_steps: 1", "gradient_accumulation_steps: 2"), False),  # 6
        ("0.8.6", RLOO_OLD, False),  # no RLOOTrainer yet
        ("0.22.0", RLOO_OLD, False),  # rewritten on num_generations (rloo_k mapped onto it): not this check
    ],
)
def test_the_old_rloo_trainer_needs_a_local_batch_of_whole_rloo_k_groups(tmp_path: Path, pin: str, text: str, fires: bool) -> None:
    got = _raises_found(tmp_path, "rloo.yaml", text.replace("trl==0.19.0", f"trl=={pin}"))
    got = [f for f in got if "rloo_k" in f.message]
    assert bool(got) == fires, [f.message for f in got]
    if fires:
        (f,) = got
        assert f.blocker and f.line == 5 and f.key == "rloo_k"
        assert f.message.startswith("`rloo_k: 2` (line 5), `per_device_train_batch_size: 3` (line 3), `gradient_accumulation_steps: 1` (line 4)")
        assert "num_mini_batches 1 (not set: RLOOConfig's default), local_batch_size 3 x 1 x 1 = 3, not a multiple of rloo_k 2" in f.message
        assert f"on trl {pin} (" in f.message and "RLOOTrainer.__init__ raises ValueError" in f.message and "None" not in f.message


def test_the_old_rloo_batch_check_says_the_defaults_it_used(tmp_path: Path) -> None:
    # per_device_train_batch_size not set: TrainingArguments' 8; rloo_k 3 does not divide 8
    (f,) = _raises_found(
        tmp_path,
        "rloo.yaml",
        "# pip install trl==0.11.0\nmodel_name_or_path: Qwen/Qwen2.5-1.5B\ngradient_accumulation_steps: 1\nlearning_rate: 1.0e-6\nbf16: true\nrloo_k: 3\n",
    )
    assert "per_device_train_batch_size 8 (not set: TrainingArguments' default)" in f.message and f.key == "rloo_k"
    assert not _raises_found(
        tmp_path / "b",
        "rloo.yaml",
        "# pip install trl==0.11.0\nmodel_name_or_path: Qwen/Qwen2.5-1.5B\ngradient_accumulation_steps: 1\nlearning_rate: 1.0e-6\nbf16: true\nrloo_k: 4\n",
    )


@pytest.mark.parametrize(
    ("pin", "says"),
    [
        ("0.14.0", None),  # the first GRPOTrainer: no check
        ("0.15.0", "must be evenly divisible by the number of generations per prompt (1)"),  # possible_values start at 2
        ("0.16.0", "must be evenly divisible by the number of generations per prompt (1)"),
        ("0.17.0", "GRPO requires at least 2 generations per prompt"),
        ("0.29.0", "GRPO requires at least 2 generations per prompt"),
    ],
)
def test_one_grpo_generation_is_refused_from_trl_0_15_in_the_words_of_the_release(tmp_path: Path, pin: str, says: str | None) -> None:
    got = _raises_found(tmp_path, "grpo.yaml", GRPO.replace("trl==0.29.0", f"trl=={pin}").replace("num_generations: 8", "num_generations: 1"))
    assert len(got) == (1 if says else 0), [f.message for f in got]
    if says:
        assert got[0].blocker and says in got[0].message and "None" not in got[0].message


def test_a_grpo_script_with_evaluation_on_blocks_on_its_eval_batch(tmp_path: Path) -> None:
    script = (
        "from trl import GRPOConfig, GRPOTrainer\n"
        "args = GRPOConfig(output_dir='o', per_device_train_batch_size=8, num_generations=8, eval_strategy='steps', "
        "per_device_eval_batch_size=3, bf16=True)\n"
        "trainer = GRPOTrainer(model='Qwen/Qwen2.5-1.5B', reward_funcs=len, args=args)\ntrainer.train()\n"
    )
    extra = {"requirements.txt": "trl==0.29.0\n", "run.sh": "#!/bin/bash\naccelerate launch --num_processes 2 train.py\n"}
    (f,) = _eval_found(tmp_path / "a", script, "train.py", extra)
    assert f.blocker and f.line == 2 and "the eval batch 3 x 2 = 6 is not divisible by num_generations 8" in f.message
    assert "per_device_eval_batch_size 4 (the smallest from 3" in f.message
    # must not: evaluation off
    assert not _eval_found(tmp_path / "b", script.replace("eval_strategy='steps'", "eval_strategy='no'"), "train.py", extra)


# review11a #13/#14 cat-on-tree/drkto README.md:26: a prose bullet ("The `nvidia-smi` command shows your GPU driver
# version") in the README whose code block launches the config was read as a launcher counting GPUs with nvidia-smi
README_PROSE = (
    "# drkto\n\n- The `nvidia-smi` command shows your GPU driver version.\n\n"
    "Train on 4 GPUs:\n\n```bash\nFORCE_TORCHRUN=1 NPROC_PER_NODE=4 llamafactory-cli train llamafactory/sft.yaml\n```\n"
)
LF_SFT = (
    "model_name_or_path: meta-llama/Meta-Llama-3-8B\nstage: sft\ndo_train: true\nfinetuning_type: lora\ndataset: alpaca_en\n"
    "template: llama3\ncutoff_len: 1024\nper_device_train_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: true\noutput_dir: out\n"
)


def test_readme_prose_is_no_launcher_line_for_the_nvidia_smi_blocker(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "prose", {"README.md": README_PROSE, "llamafactory/sft.yaml": LF_SFT}, git=True)
    loaded = load_config(root / "llamafactory/sft.yaml")
    assert loaded.workload.world_size == 4  # the README's code block is the launch line
    assert not [b for b, *_ in blockers.found(loaded, get_hardware("mi300x")) if b.id == "blocker.nvidia_smi_gpu_count"]
    # the same README counting GPUs with nvidia-smi inside its code block: the blocker fires
    counted = README_PROSE.replace("NPROC_PER_NODE=4", "NPROC_PER_NODE=$(nvidia-smi -L | wc -l)")
    root = write_tree(tmp_path / "fenced", {"README.md": counted, "llamafactory/sft.yaml": LF_SFT}, git=True)
    loaded = load_config(root / "llamafactory/sft.yaml")
    assert [b for b, *_ in blockers.found(loaded, get_hardware("mi300x")) if b.id == "blocker.nvidia_smi_gpu_count"]


def test_flash_attn_v1_import_through_the_repository_is_a_blocker_at_start_and_a_requirement_behind_a_flag(tmp_path: Path) -> None:
    # review11b #35: examples/supervised.py imports alpaca_farm.common, whose make_generative_lm imports flash_models.flash_llama
    # (common.py:113-114) only with --flash_attn; flash_llama.py:20 imports the flash-attn 1.x name
    script = FA1_SCRIPT.replace(FA1_IMPORT, "from pkg import common\n")
    lazy = "def make(flash_attn):\n    if flash_attn:\n        from .flash_models import flash_llama\n"
    tree = {"pkg/__init__.py": "", "pkg/flash_models/__init__.py": "", "pkg/flash_models/flash_llama.py": "import torch\n" + FA1_IMPORT}
    root = write_tree(tmp_path / "lazy", {"train.py": script, "pkg/common.py": lazy, **tree}, git=True)
    [found] = [f for f in blockers.findings(load_config(root / "train.py"), get_hardware("mi300x")) if f.rule_id == "blocker.flash_attn_v1_api"]
    assert not found.blocker and found.category == "requirement" and found.file == "pkg/flash_models/flash_llama.py" and found.line == 2
    assert "train.py:2 imports pkg/common.py" in found.message and "(in a function or under a branch)" in found.message
    assert "ROCm/flash-attention" in found.message and "None" not in found.message
    # every import at module level: the run cannot start
    eager = write_tree(tmp_path / "eager", {"train.py": script, "pkg/common.py": "from .flash_models import flash_llama\n", **tree}, git=True)
    [stop] = [f for f in blockers.findings(load_config(eager / "train.py"), get_hardware("mi300x")) if f.rule_id == "blocker.flash_attn_v1_api"]
    assert stop.blocker and stop.file == "pkg/flash_models/flash_llama.py"
    # must not fire: a module of the repository the script never imports, and the 2.x name
    apart = write_tree(tmp_path / "apart", {"train.py": script.replace("from pkg import common\n", ""), "pkg/common.py": lazy, **tree}, git=True)
    assert "blocker.flash_attn_v1_api" not in {f.rule_id for f in blockers.findings(load_config(apart / "train.py"), get_hardware("mi300x"))}
    v2 = write_tree(tmp_path / "v2", {"train.py": FA1_SCRIPT.replace(FA1_IMPORT, FA2_IMPORT)})
    assert "blocker.flash_attn_v1_api" not in {f.rule_id for f in blockers.findings(load_config(v2 / "train.py"), get_hardware("mi300x"))}


CPO_SCRIPT = (
    "from trl import CPOTrainer, CPOConfig\n"
    "args = CPOConfig(output_dir='o', per_device_train_batch_size=4, bf16=True)\n"
    "trainer = CPOTrainer(model='meta-llama/Meta-Llama-3-8B', args=args)\ntrainer.train()\n"
)


@pytest.mark.parametrize(
    ("pin", "rule"),
    [
        ("trl==0.29.0\n", "blocker.module_removed_at_version"),  # gone from the top level in 0.29.0
        ("trl>=0.20\n", "blocker.module_removed_at_version"),  # pip installs the newest
        ("", "blocker.module_unknown_at_version"),  # unpinned: the newest, assumed
        # review13b #21: unpinned beside transformers==4.51.1, read at trl 0.19.1, yet a bare install takes the newest
        ("transformers==4.51.1\ntrl\n", "blocker.module_unknown_at_version"),
        ("trl==0.28.0\n", None),  # the last release with it (a deprecated re-export)
        ("trl>=0.17,<0.29\n", None),
    ],
)
def test_a_trl_trainer_moved_to_experimental_stops_the_import(tmp_path: Path, pin: str, rule: str | None) -> None:
    path = _write(tmp_path, ("train.py", CPO_SCRIPT, "mi300x", {"requirements.txt": pin} if pin else {}))
    got = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id.startswith("blocker.module_")]
    assert [f.rule_id for f in got] == ([rule] if rule else [])
    if got:
        (f,) = got
        assert f.line == 1 and "trl.CPOTrainer is gone from trl 0.29.0 on" in f.message and "None" not in f.message
        assert "from trl.experimental.cpo import CPOTrainer, CPOConfig" in f.message and "4620e91d2" in f.message
        assert f.blocker == (rule == "blocker.module_removed_at_version")
        if "transformers" in pin:  # the release the co-pin holds pip at is said beside the newest
            from pytest_goblin.frameworks.history import newest

            assert f"a fresh install takes the newest, trl {newest('trl')}" in f.message and "so pip installs trl 0.19.1" in f.message


@pytest.mark.parametrize(
    ("line", "fires"),
    [
        ("from trl import CPOConfig", True),
        ("from trl.trainer import ORPOTrainer", True),
        ("from trl import (\n    PPOTrainer,\n)", True),
        ("from trl.experimental.cpo import CPOTrainer, CPOConfig", False),  # the new place
        ("from trl.experimental.orpo import ORPOTrainer", False),
        ("from trl import DPOTrainer, SFTTrainer", False),
    ],
)
def test_an_import_of_a_trl_trainer_moved_to_experimental(line: str, fires: bool) -> None:
    from pytest_goblin.frameworks.removed import _line_imports, imports

    assert bool([i for i in imports("import os\n" + line + "\n") if i.removed.dist == "trl"]) == fires
    if "\n" not in line:  # the line reader of text that does not parse agrees
        assert bool([i for i in _line_imports("import os(\n" + line + "\n") if i.removed.dist == "trl"]) == fires


HANDBOOK_README = (
    "# Recipes\n\n## Installation\n\nNext, install PyTorch `v2.1.2` - the precise version is important for reproducibility! "
    "Since this is hardware-dependent, we\ndirect you to the [PyTorch Installation Page](https://pytorch.org/get-started/locally/).\n\n"
    "```shell\npython -m pip install .\n```\n"
)


@pytest.mark.parametrize(
    ("readme", "fires"),
    [
        # review13b #29/#30 (DiscoPOP README.md:22, mathllm-finetune README.md:19): the README tells the reader to install
        # torch 2.1.2 by hand (ROCm 5.6 wheels at newest), as row 22's `torch==1.12.1+rocm5.1.1` install line did
        (HANDBOOK_README, True),
        # must not: a release with ROCm 6.0 wheels; a sentence saying what was used, not an instruction; no version
        (HANDBOOK_README.replace("v2.1.2", "v2.4.0"), False),
        (HANDBOOK_README.replace("Next, install PyTorch `v2.1.2`", "We trained with PyTorch `v2.1.2`"), False),
        (HANDBOOK_README.replace("Next, install PyTorch `v2.1.2`", "Next, install PyTorch"), False),
    ],
)
def test_a_readme_that_tells_the_reader_to_install_a_torch_release(tmp_path: Path, readme: str, fires: bool) -> None:
    path = _write(tmp_path, ("sft.yaml", HF, "mi300x", {"setup.py": HANDBOOK_SETUP, "README.md": readme}))
    got = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.torch_without_rocm_build"]
    assert bool(got) == fires
    if got:
        (f,) = got
        assert f.blocker and "README.md:5, in prose: 'install PyTorch 2.1.2'" in f.message and "ROCm 5.6" in f.message
        assert "pin torch>=2.3.0" in f.message and "None" not in f.message


def test_a_blocker_said_in_the_run_s_terms_renders_its_text_once(tmp_path: Path) -> None:
    """A repository pinned to another transformers has the blocker's citations moved to `file:line@version`
    (frameworks.history.in_run_terms), so the message no longer holds every KB word verbatim: the Markdown shows the
    message once, the KB words it still holds as Markdown, not the KB text and then the whole message escaped
    (review14a #12)."""
    from pytest_goblin.outcome import ItemOutcome, SessionReport
    from pytest_goblin.reporting.markdown import render

    cfg = write_tree(tmp_path, {"requirements.txt": "transformers==4.46.3\n", "sft.yaml": HF + "tf32: true\n"}) / "sft.yaml"
    report = _audit(cfg)
    tf32 = next(f for f in report.findings if f.rule_id == "blocker.tf32_on_rocm")
    assert "@" in tf32.message  # the premise: a citation said at the release goblin read, not the run's
    item = ItemOutcome(nodeid="sft.yaml::audit", path="sft.yaml", verdict=report.verdict, message=report.reason, report=report)
    md = render(SessionReport(version="0", target="mi300x", items=[item]))
    assert md.count("the run stops before the first step") == 1, md
    assert "raises ValueError" in md and "What to change" in md


TRAIN_PY = "from transformers import Trainer, TrainingArguments\nargs = TrainingArguments(output_dir='o', bf16=True)\n"


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        # review15a #15: LUMI's launcher loads CSC's ROCm PyTorch module before the launch line
        (
            {"run.sh": "#!/bin/bash\nmodule use /appl/local/csc/modulefiles/\nmodule load pytorch\ntorchrun --nproc_per_node 8 train.py --config sft.yaml\n"},
            "run.sh:3 loads the environment module `pytorch` before the launch line",
        ),
        # review15a #17: the repository's own image is a ROCm build and does not install the pinned file
        ({"docker/Dockerfile": "FROM rocm/pytorch:rocm6.3_ubuntu22.04_py3.10_pytorch_release_2.4.0\nRUN pip install accelerate\n"}, "builds on the ROCm image"),
        # the repository says the config trained on an MI300X
        ({"README.md": "## Training\n\nsft.yaml was trained on 8x MI300X 192GB.\n"}, "trained on MI300X"),
    ],
)
def test_a_cuda_torch_pin_is_a_requirement_where_the_run_s_torch_is_its_environment_s(tmp_path: Path, extra: dict[str, str], said: str) -> None:
    files = {"requirements.txt": "torch==2.5.1+cu121\n", "train.py": TRAIN_PY, **extra}
    path = _write(tmp_path, ("sft.yaml", HF, "mi300x", files))
    (f,) = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.torch_without_rocm_build"]
    assert not f.blocker and said in f.message and "a fresh install from requirements.txt" in f.message and "None" not in f.message


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"run.sh": "#!/bin/bash\nmodule load gcc\ntorchrun --nproc_per_node 8 train.py --config sft.yaml\n"},  # no torch module
        {"docker/Dockerfile": "FROM rocm/pytorch:rocm6.3_ubuntu22.04\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"},  # installs the pin
        {"docker/Dockerfile": "FROM nvidia/cuda:12.1.0-devel-ubuntu22.04\n"},  # a CUDA image
    ],
)
def test_a_cuda_torch_pin_stays_a_blocker_where_nothing_else_provides_torch(tmp_path: Path, extra: dict[str, str]) -> None:
    files = {"requirements.txt": "torch==2.5.1+cu121\n", "train.py": TRAIN_PY, **extra}
    path = _write(tmp_path, ("sft.yaml", HF, "mi300x", files))
    (f,) = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.torch_without_rocm_build"]
    assert f.blocker


GFX_LAUNCHER = (
    "#!/bin/bash\nexport HSA_OVERRIDE_GFX_VERSION={value}\nexport HIP_VISIBLE_DEVICES=0,1\n"
    "torchrun --nproc_per_node=2 src/train.py \\\n    --stage sft \\\n    --do_train \\\n"
    "    --model_name_or_path Qwen/Qwen2.5-7B-Instruct \\\n    --dataset alpaca_en \\\n    --template qwen \\\n"
    "    --finetuning_type lora \\\n    --output_dir out \\\n    --per_device_train_batch_size 1 \\\n"
    "    --gradient_accumulation_steps 32 \\\n    --bf16 True\n"
)


def _gfx_found(tmp: Path, name: str, text: str, target: str, extra: dict[str, str] | None = None) -> list[Any]:
    path = write_tree(tmp, {**(extra or {}), name: text}) / name
    return [f for f in blockers.findings(load_config(path), get_hardware(target)) if f.rule_id.startswith("blocker.gfx_override")]


def test_gfx_override_in_a_launcher_audited_as_its_llamafactory_run(tmp_path: Path) -> None:
    """blind review 15b #23: the launcher is the config (its flags are the LLaMA-Factory run); its exports before the
    launch line are the run's environment, and 9.0.6 on an MI300X is a blocker at its own line."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    got = _gfx_found(tmp_path / "a", "train_qwen.sh", GFX_LAUNCHER.format(value="9.0.6"), "mi300x")
    assert [f.rule_id for f in got] == ["blocker.gfx_override_not_target"]
    f = got[0]
    assert f.blocker and f.line == 2 and "`HSA_OVERRIDE_GFX_VERSION=9.0.6` (line 2)" in f.message
    assert "gfx906" in f.message and "gfx942, 9.4.2" in f.message and "None" not in f.message
    assert "ROCT-Thunk-Interface rocm-6.2.4 src/topology.c:1213-1226" in f.message
    assert _gfx_found(tmp_path / "b", "train_qwen.sh", GFX_LAUNCHER.format(value="9.4.2"), "mi300x") == []


def test_gfx_override_is_judged_against_each_targets_own_version(tmp_path: Path) -> None:
    # MI250X gfx90a = 9.0.10, MI355X gfx950 = 9.5.0, MI325X gfx942 (kb/hardware.yaml arch); an H100 has no gfx version
    cases = [("9.0.10", "mi250x", False), ("9.0.10", "mi300x", True), ("9.5.0", "mi355x", False), ("9.4.2", "mi355x", True)]
    cases += [("9.4.2", "mi325x", False), ("9.0.6", "h100", False), ("9.4", "mi300x", True), ('"9.4.2"', "mi300x", False)]
    for i, (value, target, fires) in enumerate(cases):
        (tmp_path / str(i)).mkdir()
        launcher = f"export HSA_OVERRIDE_GFX_VERSION={value}\nllamafactory-cli train sft.yaml\n"
        got = _gfx_found(tmp_path / str(i), "sft.yaml", LF, target, {"train.sh": launcher})
        assert bool(got) == fires, (value, target, got)
        if value == "9.4":  # the thunk reads exactly major.minor.stepping
            assert "refuses it" in got[0].message and "train.sh line 1" in got[0].message


def test_gfx_override_set_by_the_script_itself(tmp_path: Path) -> None:
    script = (
        "import os\nos.environ['HSA_OVERRIDE_GFX_VERSION'] = '{value}'\nfrom transformers import TrainingArguments\n"
        "args = TrainingArguments(output_dir='o', per_device_train_batch_size=4, bf16=True)\n"
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    got = _gfx_found(tmp_path / "a", "train.py", script.format(value="9.0.6"), "mi300x")
    assert [f.rule_id for f in got] == ["blocker.gfx_override_not_target"] and got[0].line == 2
    assert _gfx_found(tmp_path / "b", "train.py", script.format(value="9.4.2"), "mi300x") == []


def test_gfx_override_under_a_branch_goblin_cannot_evaluate_is_a_requirement(tmp_path: Path) -> None:
    launcher = 'if [ "$(hostname)" = "mi50box" ]; then\n  export HSA_OVERRIDE_GFX_VERSION=9.0.6\nfi\nllamafactory-cli train sft.yaml\n'
    got = _gfx_found(tmp_path, "sft.yaml", LF, "mi300x", {"train.sh": launcher})
    assert [f.rule_id for f in got] == ["blocker.gfx_override_unread"], got
    assert not got[0].blocker and "train.sh line 2" in got[0].message


def test_bitsandbytes_blocker_is_anchored_at_the_4bit_key_not_another_optimizer(tmp_path: Path) -> None:
    """blind review 15b #27: an HF recipe's `load_in_4bit: true` had no source, so the anchor fell to `optim: rmsprop`,
    which is not bitsandbytes; the message shows the key as written, not the field's `4bit`."""
    path = _write(tmp_path, ("sft.yaml", QLORA + "optim: rmsprop\n", "mi300x", {"requirements.txt": "bitsandbytes==0.41.0\n"}))
    got = [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.bitsandbytes_before_rocm_wheels"]
    assert got and got[0].line == 6 and got[0].message.startswith("line 6: `load_in_4bit: true`") and "rmsprop" not in got[0].message


# review15b #25 (FedGRPO train_grpo_7b.sh:72): the recipe's `num_generations: 8` under a launch line that passes
# `--num_generations 5` beside `--config`: TrlParser parses the command line over the file (trl 0.18.0
# trl/scripts/utils.py:186-208), so the run's generation batch 5 x 4 x 5 = 100 holds whole groups of 5
GRPO_RECIPE = (
    "# pip install trl==0.29.0\nmodel_name_or_path: Qwen/Qwen2.5-1.5B\nper_device_train_batch_size: 8\n"
    "gradient_accumulation_steps: 16\nnum_generations: 8\nbf16: true\n"
)
GRPO_SCRIPT = (
    "from trl import GRPOConfig, GRPOTrainer, ModelConfig, ScriptArguments, TrlParser\n"
    "parser = TrlParser((ScriptArguments, GRPOConfig, ModelConfig))\nscript_args, training_args, model_args = parser.parse_args_and_config()\n"
    "trainer = GRPOTrainer(model=model_args.model_name_or_path, reward_funcs=len, args=training_args)\ntrainer.train()\n"
)


def _launched_grpo(tmp: Path, flags: str) -> list[Any]:
    run = f"accelerate launch --num_processes=4 grpo.py \\\n    --config grpo.yaml \\\n    {flags}\n"
    return _trl_found(tmp, "grpo.yaml", GRPO_RECIPE, {"grpo.py": GRPO_SCRIPT, "train.sh": run})


def test_a_grpo_batch_takes_num_generations_from_the_launch_line_over_the_file(tmp_path: Path) -> None:
    # must not fire: 5 x 4 x 5 = 100 is a multiple of the launch line's num_generations 5 (the file's 8 gives way)
    assert not _launched_grpo(tmp_path / "a", "--num_generations 5 --per_device_train_batch_size 5 --gradient_accumulation_steps 5")
    # fires: the launch line's num_generations 6 does not divide 100; the message names the launch word and the file's own line
    (f,) = _launched_grpo(tmp_path / "b", "--num_generations 6 --per_device_train_batch_size 5 --gradient_accumulation_steps 5")
    assert f.rule_id == "blocker.grpo_generation_batch_indivisible" and f.blocker
    assert "= 100, which is not divisible by num_generations 6 (train.sh:3, the launch line's `--num_generations 6`" in f.message
    assert "the file's own `num_generations: 8` (line 5) gives way" in f.message
    assert "None" not in f.message
    # fires on the file's value where the launch line leaves num_generations alone: 5 x 4 x 5 = 100, num_generations 8
    (g,) = _launched_grpo(tmp_path / "c", "--per_device_train_batch_size 5 --gradient_accumulation_steps 5")
    assert "not divisible by num_generations 8 (line 5)" in g.message


def test_a_grpo_eval_batch_takes_the_launch_line_values_over_the_file(tmp_path: Path) -> None:
    def found(tmp: Path, flags: str) -> list[Any]:
        run = f"accelerate launch --num_processes=4 grpo.py --config grpo.yaml {flags}\n"
        text = GRPO_RECIPE.replace("num_generations: 8", "num_generations: 4") + "eval_strategy: steps\nper_device_eval_batch_size: 2\n"
        return _eval_found(tmp, text, extra={"grpo.py": GRPO_SCRIPT, "train.sh": run})

    # fires: the launch line's eval batch 3 x 4 processes = 12 holds no whole groups of 8 (the file's 2 x 4 = 8 of 4 would)
    (f,) = found(tmp_path / "a", "--per_device_eval_batch_size 3 --num_generations 8 --per_device_train_batch_size 2")
    assert "per_device_eval_batch_size 3 (train.sh:1, the launch line's `--per_device_eval_batch_size 3`" in f.message
    # must not: the launch line turns evaluation off over the file's eval_strategy steps
    assert not found(tmp_path / "b", "--per_device_eval_batch_size 3 --num_generations 8 --eval_strategy no --per_device_train_batch_size 2")


def test_a_keyed_blocker_reads_the_launch_line_value_over_the_recipe(tmp_path: Path) -> None:
    def tf32(tmp: Path, own: str, flag: str) -> list[Any]:
        recipe = "# pip install trl==0.29.0\nmodel_name_or_path: Qwen/Qwen2.5-1.5B\nper_device_train_batch_size: 2\nlearning_rate: 2.0e-5\n"
        recipe += f"num_train_epochs: 1\noutput_dir: out\nbf16: true\n{own}\n"
        run = f"accelerate launch --num_processes=4 sft.py --config sft.yaml {flag}\n"
        path = write_tree(tmp, {"sft.yaml": recipe, "sft.py": GRPO_SCRIPT.replace("GRPO", "SFT"), "train.sh": run}) / "sft.yaml"
        return [f for f in blockers.findings(load_config(path), get_hardware("mi300x")) if f.rule_id == "blocker.tf32_on_rocm"]

    # fires: the launch line turns tf32 on over the file's `tf32: false`; said at the launch word, no edit of the file offered
    (f,) = tf32(tmp_path / "a", "tf32: false", "--tf32 True")
    assert f.message.startswith("`--tf32 True` (train.sh:1, the launch line's `--tf32 True`; the file's own `tf32: false` (line 8) gives way)")
    assert f.fix is None and "the launch line sets `tf32` over this file: change it there" in f.message and "None" not in f.message
    # must not: the launch line turns it off over the file's `tf32: true`
    assert not tf32(tmp_path / "b", "tf32: true", "--tf32 False")
