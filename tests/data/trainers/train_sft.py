"""A user's training script on TRL's SFTTrainer, configured through TrlParser (strict: unknown
keys in the YAML are an error), as TRL's own sft script is."""

import json
import os
import random

from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import ModelConfig, SFTConfig, SFTTrainer, TrlParser

model_args, args = TrlParser((ModelConfig, SFTConfig)).parse_args_and_config()
args.report_to = []
args.save_strategy = "no"
tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path)
rng = random.Random(0)
n = args.per_device_train_batch_size * args.gradient_accumulation_steps * args.max_steps
texts = [" ".join(f"w{rng.randrange(250)}" for _ in range(48)) for _ in range(n)]
model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, dtype=model_args.dtype)
result = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_dict({"text": texts}), processing_class=tokenizer).train()
if os.environ.get("TRAINER_METRICS"):  # the test compares goblin's reading with the trainer's own figures
    with open(os.environ["TRAINER_METRICS"], "a") as out:
        out.write(json.dumps(result.metrics) + "\n")
