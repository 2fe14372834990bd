"""The attention read where the code sets it (blind review 14b class 3: rows 21, 31, 34).

- #31 yuetan1988/lawer-llm app/finetune/train.py:159-164 loads internlm2-chat-7b with trust_remote_code=True: the
  checkpoint's own modeling code picks the attention (its config's attn_implementation), not transformers' SDPA default.
"""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.attn_default import REMOTE_DECIDES

from .repo_files import write_tree

HEAD = "from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments\n\n"
ARGS = "args = TrainingArguments(output_dir='out', per_device_train_batch_size=2, bf16=True)\n"
TRAIN = "Trainer(model=model, args=args).train()\n"


def _script(tmp_path: Path, name: str, body: str, files: dict[str, str] | None = None) -> Path:
    return write_tree(tmp_path / name, {"train.py": HEAD + body + ARGS + TRAIN, **(files or {})}, git=True) / "train.py"


def test_remote_code_of_an_architecture_transformers_lacks_decides_the_attention(tmp_path: Path) -> None:
    load = "model = AutoModelForCausalLM.from_pretrained('/models/internlm2-chat-7b', torch_dtype='auto', trust_remote_code=True)\n"
    w = load_config(_script(tmp_path, "internlm2", load)).workload
    src = w.sources["attention"]
    assert w.remote_code and src.unread and not src.explicit
    assert REMOTE_DECIDES in (src.note or "") and "internlm2" in (src.note or "")
    assert any(REMOTE_DECIDES in n for n in w.notes)


def test_remote_code_on_a_transformers_architecture_keeps_the_default(tmp_path: Path) -> None:
    # must not fire: llama is transformers' own model_type, so trust_remote_code changes nothing: SDPA, as before
    llama = "model = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-2-7b-hf', torch_dtype='auto', trust_remote_code=True)\n"
    w = load_config(_script(tmp_path, "llama", llama)).workload
    assert w.attention == "sdpa" and not w.sources["attention"].unread
    assert not any(REMOTE_DECIDES in n for n in w.notes)
    # nor where only the tokenizer is loaded with remote code, nor where the script names the attention itself
    tok = (
        "tok = AutoTokenizer.from_pretrained('/models/internlm2-chat-7b', trust_remote_code=True)\n"
        "model = AutoModelForCausalLM.from_pretrained('/models/internlm2-chat-7b', torch_dtype='auto')\n"
    )
    assert not load_config(_script(tmp_path, "tok", tok)).workload.sources["attention"].unread
    named = "model = AutoModelForCausalLM.from_pretrained('/models/internlm2-chat-7b', attn_implementation='eager', trust_remote_code=True)\n"
    w = load_config(_script(tmp_path, "named", named)).workload
    assert w.attention == "eager" and w.sources["attention"].explicit


# ------------------------------------------------------------------ the model load of the script a JSON recipe is run with
# review14b #34: KGLQA-model script/run/run_sft.sh runs train_qlora_flash_attn.py on the JSON recipe; its from_pretrained
# passes use_flash_attention_2=True (line 97), which transformers 4.34.0-4.52.x take and 4.30.2 (the pin) does not.

QLORA_TRAIN = """\
import argparse
from dataclasses import dataclass, field
from transformers import HfArgumentParser, TrainingArguments, AutoModelForCausalLM, Trainer
import torch


@dataclass
class CustomizedArguments:
    model_name_or_path: str = field(metadata={"help": "model"})
    max_seq_length: int = field(default=512)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train_args_file", type=str)
    args = parser.parse_args()
    parser = HfArgumentParser((CustomizedArguments, TrainingArguments))
    args, training_args = parser.parse_json_file(json_file=args.train_args_file)
    model = AutoModelForCausalLM.from_pretrained(
        args.model_name_or_path,
        torch_dtype=torch.float16,
        KEYWORD
    )
    Trainer(model=model, args=training_args).train()


main()
"""
RECIPE = """{
    "output_dir": "output/run",
    "model_name_or_path": "meta-llama/Llama-2-7b-hf",
    "per_device_train_batch_size": 2,
    "gradient_accumulation_steps": 8,
    "fp16": true
}
"""


def _recipe(tmp_path: Path, name: str, keyword: str, pin: str | None) -> Path:
    files = {
        "train.py": QLORA_TRAIN.replace("KEYWORD", keyword),
        "train_args/sft.json": RECIPE,
        "run.sh": "torchrun --nproc_per_node 1 train.py --train_args_file train_args/sft.json\n",
    }
    if pin is not None:
        files["requirements.txt"] = f"transformers=={pin}\n"
    return write_tree(tmp_path / name, files, git=True) / "train_args" / "sft.json"


def _blocker_ids(path: Path) -> list[str]:
    from pytest_goblin.blockers import findings
    from pytest_goblin.hardware import get_hardware

    return [f.rule_id for f in findings(load_config(path), get_hardware("mi300x"))]


def test_the_launched_scripts_legacy_flash_keyword_is_flash_at_a_release_that_takes_it(tmp_path: Path) -> None:
    config = _recipe(tmp_path, "ok", "use_flash_attention_2=True", "4.45.2")
    w = load_config(config).workload
    src = w.sources["attention"]
    assert w.attention == "flash" and src.explicit and src.line == 22 and "train.py:22" in (src.note or "")
    assert "run.sh line 1" in (src.note or "") and w.legacy_flash is None
    assert "blocker.legacy_flash_kwarg" not in _blocker_ids(config)
    # the current keyword reads the same way at any release
    current = load_config(_recipe(tmp_path, "cur", "attn_implementation='eager'", "4.45.2")).workload
    assert current.attention == "eager" and current.sources["attention"].explicit


def test_the_legacy_flash_keyword_at_a_release_without_it_is_a_blocker(tmp_path: Path) -> None:
    config = _recipe(tmp_path, "old", "use_flash_attention_2=True", "4.30.2")
    w = load_config(config).workload
    assert w.sources["attention"].unread and w.legacy_flash is not None and w.legacy_flash.line == 22
    assert not w.legacy_flash.assumed and w.legacy_flash.release == "4.30.2"
    from pytest_goblin.blockers import findings
    from pytest_goblin.hardware import get_hardware

    hit = [f for f in findings(load_config(config), get_hardware("mi300x")) if f.rule_id == "blocker.legacy_flash_kwarg"]
    assert len(hit) == 1 and hit[0].blocker and "transformers==4.30.2" in hit[0].message and "None" not in hit[0].message
    # unpinned: the newest release goblin read does not take it either: a requirement, not a blocker
    loose = _recipe(tmp_path, "loose", "use_flash_attention_2=True", None)
    got = [f for f in findings(load_config(loose), get_hardware("mi300x")) if f.rule_id == "blocker.legacy_flash_kwarg"]
    assert len(got) == 1 and not got[0].blocker and got[0].footgun
    assert load_config(loose).workload.attention == "flash"  # what the script was written for


def test_a_launched_script_that_names_no_attention_keeps_the_default(tmp_path: Path) -> None:
    # must not fire: the load passes no attention keyword: transformers' default, as before
    config = _recipe(tmp_path, "none", "device_map='auto',", "4.45.2")
    w = load_config(config).workload
    assert w.attention == "sdpa" and not w.sources["attention"].explicit and w.legacy_flash is None
    assert "blocker.legacy_flash_kwarg" not in _blocker_ids(config)


def test_a_python_scripts_own_legacy_flash_keyword_follows_the_release(tmp_path: Path) -> None:
    load = "model = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-2-7b-hf', use_flash_attention_2=True)\n"
    old = load_config(_script(tmp_path, "py_old", load, {"requirements.txt": "transformers==4.30.2\n"})).workload
    assert old.sources["attention"].unread and old.legacy_flash is not None and old.legacy_flash.line == 3
    ok = load_config(_script(tmp_path, "py_ok", load, {"requirements.txt": "transformers==4.40.0\n"})).workload
    assert ok.attention == "flash" and ok.legacy_flash is None


# ------------------------------------------------------------------ the model a repository module builds
# review14b #21: castorini/visa qwen/train.py:70 `model = RagVisaModel.build(...)` (`from ragvisa import RagVisaModel`,
# trained through `trainer_cls = Trainer`), qwen/ragvisa.py:47 from_pretrained(..., attn_implementation="flash_attention_2").

BUILDER = """\
import torch
from transformers import AutoModelForCausalLM


class MyModel(torch.nn.Module):
    TRANSFORMER_CLS = AutoModelForCausalLM

    @classmethod
    def build(cls, model_args, **hf_kwargs):
        base = cls.TRANSFORMER_CLS.from_pretrained(model_args.model_name_or_path, **hf_kwargs, KEYWORDS)
        return cls(base)
"""
BUILT_TRAIN = """\
from transformers import Trainer, TrainingArguments
from mymodel import MyModel


class Args:
    model_name_or_path = "meta-llama/Llama-3.1-8B"


model = MyModel.build(Args())
args = TrainingArguments(output_dir="out", per_device_train_batch_size=2, bf16=True)
trainer_cls = Trainer
trainer_cls(model=model, args=args).train()
"""


def _built(tmp_path: Path, name: str, keywords: str) -> Path:
    files = {"train.py": BUILT_TRAIN, "mymodel.py": BUILDER.replace("KEYWORDS", keywords)}
    return write_tree(tmp_path / name, files, git=True) / "train.py"


def test_the_attention_a_repository_builder_asks_for_is_the_runs(tmp_path: Path) -> None:
    path = _built(tmp_path, "flash", 'attn_implementation="flash_attention_2", torch_dtype=torch.bfloat16')
    w = load_config(path).workload
    src = w.sources["attention"]
    assert w.attention == "flash" and src.explicit and src.line == 10 and (src.file or "").endswith("mymodel.py")
    assert "mymodel.py:10" in (src.note or "") and "MyModel.build()" in (src.note or "")
    assert w.weight_dtype == "bf16"


def test_a_builder_that_names_no_attention_leaves_the_default(tmp_path: Path) -> None:
    # must not fire: the builder's load passes no attention keyword: transformers' default, as before
    w = load_config(_built(tmp_path, "none", "torch_dtype=torch.bfloat16")).workload
    assert w.attention == "sdpa" and not w.sources["attention"].explicit
    assert "transformers picks SDPA" in (w.sources["attention"].note or "")


def test_a_builders_legacy_flash_keyword_is_cited_in_the_builder(tmp_path: Path) -> None:
    path = _built(tmp_path, "legacy", "use_flash_attention_2=True")
    (path.parent / "requirements.txt").write_text("transformers==4.30.2\n")
    w = load_config(path).workload
    assert w.legacy_flash is not None and w.legacy_flash.file == "mymodel.py" and w.legacy_flash.line == 10
    assert w.sources["attention"].unread and "mymodel.py:10" in (w.sources["attention"].note or "")
