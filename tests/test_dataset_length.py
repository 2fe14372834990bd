"""The sequence length a script's own dataset class fixes by cutting and padding every sample (blind review 13a #15:
tprimat train/amd_tran.py:66-100,149-155). Small fixture repositories under tmp_path; nothing is run."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

TRAIN = """\
import os
import torch
from torch.utils.data import IterableDataset
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

SEQ_LEN = int(os.environ.get("SEQ_LEN", 2048))


class PretrainingDataset(IterableDataset):
    def __init__(self, data_path, seq_length, steps):
        self.seq_length = seq_length
        self.steps = steps

    def __iter__(self):
        for tokens in load(self.steps):
            if len(tokens) < self.seq_length:
                input_ids = torch.cat([tokens, torch.full((self.seq_length - len(tokens),), 0)])
            else:
                input_ids = tokens[:self.seq_length]
            yield {"input_ids": input_ids}


def main():
    model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-3.1-8B")
    dataset = PretrainingDataset(data_path="d", seq_length=SEQ_LEN, steps=10)
    args = TrainingArguments(output_dir="o", per_device_train_batch_size=1, bf16=True)
    Trainer(model=model, args=args, train_dataset=dataset).train()


if __name__ == "__main__":
    main()
"""


def test_a_dataset_class_that_cuts_and_pads_every_sample_gives_the_length(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"train.py": TRAIN, "run.sh": "#!/bin/bash\nexport SEQ_LEN=4096\ntorchrun --nproc_per_node=8 train.py\n"})
    w = load_config(root / "train.py").workload
    assert w.seq_len == 4096  # the launcher's export over the script's default
    assert any("seq_len 4096: the dataset PretrainingDataset built at line 25, the trainer's train_dataset, cuts and pads every sample" in n for n in w.notes)


def test_a_dataset_that_only_cuts_or_is_not_the_trainers_gives_no_length(tmp_path: Path) -> None:
    # must not fire: samples are cut to the length but shorter ones stay short
    cut_only = TRAIN.replace("torch.cat([tokens, torch.full((self.seq_length - len(tokens),), 0)])", "tokens")
    a = write_tree(tmp_path / "a", {"train.py": cut_only.replace('int(os.environ.get("SEQ_LEN", 2048))', "4096")})
    wa = load_config(a / "train.py").workload
    assert wa.seq_len != 4096 and not any("cuts and pads" in n for n in wa.notes)
    # must not fire: the dataset is built but the trainer trains on another
    other = TRAIN.replace("train_dataset=dataset", "train_dataset=load_other()")
    b = write_tree(tmp_path / "b", {"train.py": other.replace('int(os.environ.get("SEQ_LEN", 2048))', "4096")})
    wb = load_config(b / "train.py").workload
    assert wb.seq_len != 4096 and not any("cuts and pads" in n for n in wb.notes)
