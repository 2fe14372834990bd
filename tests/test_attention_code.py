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
