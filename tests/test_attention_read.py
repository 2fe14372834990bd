"""The attention a script actually asks for, and the one its model gets when it asks for none (review11a #17, #18b;
review11b #32, #35).

- #17 ROCm/MAD scripts/pyt_motif_training/SFT/train_motif.py: `from_pretrained(..., _attn_implementation="eager")`, the
  private keyword that sets the config's `_attn_implementation` (transformers 4.51.3 configuration_utils.py:753-759),
  was read as unset (SDPA).
- `config._attn_implementation = "eager"` on the config passed as `from_pretrained(..., config=config)`.
- #18b AMD-AGI/DUET-VLM llava/train/pdrop_train.py `def train(attn_implementation=None)`, called by the wrapper the
  launch line runs, train_mem_pdrop.py:5 `train(attn_implementation="flash_attention_2")`.
- #32 LUMI GPT-neo-IMDB-finetuning.py: GPT-Neo's class has no `_supports_sdpa` (4.51.3
  models/gpt_neo/modeling_gpt_neo.py:488-500), so an unset attention runs eager, not SDPA.
- #35 tatsu-lab/alpaca_farm: `transformers>=4.26,<=4.29.2` admits only releases before 4.36: eager."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config

from .repo_files import write_tree

HEAD = "from transformers import AutoModelForCausalLM, AutoConfig, Trainer, TrainingArguments\n\n"
ARGS = "args = TrainingArguments(output_dir='out', per_device_train_batch_size=2, bf16=True)\n"
TRAIN = "Trainer(model=model, args=args).train()\n"


def _script(tmp_path: Path, name: str, body: str, files: dict[str, str] | None = None) -> Path:
    return write_tree(tmp_path / name, {"train.py": HEAD + body + ARGS + TRAIN, **(files or {})}, git=True) / "train.py"


def test_the_private_attn_implementation_keyword_is_the_attention_used(tmp_path: Path) -> None:
    load = "model = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-3.1-8B', _attn_implementation='eager', torch_dtype='bfloat16')\n"
    path = _script(tmp_path, "private", load, {"requirements.txt": "transformers==4.51.3\n"})
    w = load_config(path).workload
    src = w.sources["attention"]
    assert w.attention == "eager" and src.explicit and src.line == 3
    # must not fire: the public keyword reads as before, and no keyword leaves transformers' default (SDPA for Llama)
    public = _script(tmp_path, "public", load.replace("_attn_implementation='eager'", "attn_implementation='flash_attention_2'"))
    assert load_config(public).workload.attention == "flash"
    unset = _script(tmp_path, "unset", load.replace("_attn_implementation='eager', ", ""), {"requirements.txt": "transformers==4.51.3\n"})
    assert load_config(unset).workload.attention == "sdpa"


def test_an_attention_set_on_the_config_the_load_takes_is_read(tmp_path: Path) -> None:
    body = (
        "config = AutoConfig.from_pretrained('meta-llama/Llama-3.1-8B')\nconfig._attn_implementation = 'eager'\n"
        "model = AutoModelForCausalLM.from_pretrained('meta-llama/Llama-3.1-8B', config=config, torch_dtype='bfloat16')\n"
    )
    w = load_config(_script(tmp_path, "cfg", body)).workload
    assert w.attention == "eager" and w.sources["attention"].line == 4
    assert any("`config._attn_implementation = 'eager'` (line 4)" in n and "config=config" in n for n in w.notes)
    # must not fire: the call's own keyword wins over the config's (4.51.3 modeling_utils.py:4202-4204), and a config
    # the load is not given changes nothing
    kw = load_config(_script(tmp_path, "kw", body.replace("config=config,", "config=config, attn_implementation='sdpa',"))).workload
    assert kw.attention == "sdpa" and kw.sources["attention"].line == 5
    other = load_config(_script(tmp_path, "other", body.replace("config=config, ", ""))).workload
    assert other.attention == "sdpa" and not other.sources["attention"].explicit


WRAPPED = (
    "from dataclasses import dataclass, field\nimport transformers\n\n\n@dataclass\nclass ModelArguments:\n"
    "    model_name_or_path: str = field(default='lmsys/vicuna-7b-v1.5')\n\n\n"
    "def train(attn_implementation=None):\n"
    "    parser = transformers.HfArgumentParser((ModelArguments, transformers.TrainingArguments))\n"
    "    model_args, training_args = parser.parse_args_into_dataclasses()\n"
    "    model = transformers.LlamaForCausalLM.from_pretrained(model_args.model_name_or_path, attn_implementation=attn_implementation)\n"
    "    transformers.Trainer(model=model, args=training_args).train()\n\n\n"
    "if __name__ == '__main__':\n    train()\n"
)
LAUNCH = "deepspeed pkg/train/train_mem.py \\\n    --model_name_or_path lmsys/vicuna-7b-v1.5 \\\n    --per_device_train_batch_size 4 \\\n    --output_dir out\n"


def test_the_attention_a_wrapper_passes_the_entry_function_is_read(tmp_path: Path) -> None:
    wrapper = "from pkg.train.train import train\n\nif __name__ == '__main__':\n    train(attn_implementation='flash_attention_2')\n"
    root = write_tree(tmp_path / "w", {"pkg/train/train.py": WRAPPED, "pkg/train/train_mem.py": wrapper, "run.sh": LAUNCH}, git=True)
    w = load_config(root / "pkg/train/train.py").workload
    src = w.sources["attention"]
    assert w.attention == "flash" and src.file == str(root / "pkg/train/train_mem.py") and src.line == 4
    # must not fire: a wrapper that passes nothing leaves the signature's default (None: transformers' own choice)
    bare = write_tree(
        tmp_path / "b",
        {"pkg/train/train.py": WRAPPED, "pkg/train/train_mem.py": wrapper.replace("attn_implementation='flash_attention_2'", ""), "run.sh": LAUNCH},
        git=True,
    )
    b = load_config(bare / "pkg/train/train.py").workload
    assert b.attention == "sdpa" and not b.sources["attention"].explicit


GPT_NEO = "model = AutoModelForCausalLM.from_pretrained('EleutherAI/gpt-neo-1.3B', torch_dtype='bfloat16')\n"


def test_an_unset_attention_is_eager_for_a_class_without_sdpa(tmp_path: Path) -> None:
    path = _script(tmp_path, "neo", GPT_NEO, {"requirements.txt": "transformers==4.51.3\n"})
    w = load_config(path).workload
    note = w.sources["attention"].note or ""
    assert w.attention == "eager" and not w.sources["attention"].explicit
    assert "GPTNeoForCausalLM does not support SDPA" in note and "4.51.3" in note and "None" not in note
    # must not fire: a Llama (`_supports_sdpa = True`) keeps SDPA, and GPT-Neo asked for flash-attention keeps it
    llama = load_config(_script(tmp_path, "llama", GPT_NEO.replace("EleutherAI/gpt-neo-1.3B", "meta-llama/Llama-3.1-8B"))).workload
    assert llama.attention == "sdpa"
    asked = GPT_NEO.replace("torch_dtype=", "attn_implementation='flash_attention_2', torch_dtype=")
    assert load_config(_script(tmp_path, "neo_fa", asked)).workload.attention == "flash"
    # nor where the checkpoint's own code builds the model (trust_remote_code): transformers' class is not the one that runs
    remote = GPT_NEO.replace("torch_dtype=", "trust_remote_code=True, torch_dtype=")
    assert load_config(_script(tmp_path, "neo_remote", remote)).workload.attention == "sdpa"


def test_a_range_capped_below_436_runs_eager(tmp_path: Path) -> None:
    llama = GPT_NEO.replace("EleutherAI/gpt-neo-1.3B", "huggyllama/llama-7b")
    w = load_config(_script(tmp_path, "old", llama, {"requirements.txt": "transformers>=4.26,<=4.29.2\n"})).workload
    assert w.attention == "eager" and "older than 4.36" in (w.sources["attention"].note or "")
    # must not fire: a range that admits 4.36 or later lets pip install a release with the SDPA default
    new = load_config(_script(tmp_path, "new", llama, {"requirements.txt": "transformers>=4.26,<4.40\n"})).workload
    assert new.attention == "sdpa"
