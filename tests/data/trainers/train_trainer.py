"""A user's training script on transformers.Trainer: the config is TrainingArguments YAML plus
model_name_or_path, parsed strictly (an unknown key is an error), as HfArgumentParser does."""

import argparse
import json
import os
import random
from dataclasses import dataclass

import torch
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str
    seq_len: int = 64


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n: int, seq_len: int, vocab: int):
        rng = random.Random(0)
        self.rows = [torch.tensor([rng.randrange(4, vocab) for _ in range(seq_len)]) for _ in range(n)]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.rows[i], "labels": self.rows[i]}


cli = argparse.ArgumentParser()
cli.add_argument("--config", required=True)
cli.add_argument("--max_steps", type=int, required=True)
a = cli.parse_args()
model_args, args = HfArgumentParser((ModelArguments, TrainingArguments)).parse_yaml_file(a.config, allow_extra_keys=False)
args.max_steps = a.max_steps
args.report_to = []
args.save_strategy = "no"
model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
data = Tokens(args.per_device_train_batch_size * args.gradient_accumulation_steps * a.max_steps, model_args.seq_len, model.config.vocab_size)
result = Trainer(model=model, args=args, train_dataset=data).train()
if os.environ.get("TRAINER_METRICS"):  # the test compares goblin's reading with the Trainer's own figures
    with open(os.environ["TRAINER_METRICS"], "a") as out:
        out.write(json.dumps(result.metrics) + "\n")
