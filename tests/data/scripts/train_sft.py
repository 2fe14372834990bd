"""Fine-tune Llama 3.1 8B with TRL."""
import os

import torch
from datasets import load_dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, BitsAndBytesConfig
from trl import SFTConfig, SFTTrainer

os.environ["WANDB_PROJECT"] = "sft"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

MODEL_ID = "meta-llama/Llama-3.1-8B-Instruct"
BATCH = 1  # what fit on our old V100

model = AutoModelForCausalLM.from_pretrained(
    MODEL_ID,
    torch_dtype=torch.float16,
    attn_implementation="eager",
    quantization_config=BitsAndBytesConfig(load_in_4bit=True),
)
peft_config = LoraConfig(r=16, lora_alpha=32)

args = SFTConfig(
    output_dir="out",
    per_device_train_batch_size=BATCH,
    gradient_accumulation_steps=16,
    gradient_checkpointing=True,
    fp16=True,
    max_length=2048,
    learning_rate=2e-4,
    optim="paged_adamw_8bit",
)
trainer = SFTTrainer(model=model, args=args, train_dataset=load_dataset("x"), peft_config=peft_config)
trainer.train()
