"""OmegaConf interpolations in torchtune configs are read as the file's own values (review5 #7).

torchtune resolves them before building a component (torchtune/config/_instantiate.py:104 @v0.2.1,
`OmegaConf.resolve(config)`); goblin resolves `${key}` / `${a.b}` / `${.a}` against the same file as data,
and leaves a resolver call (`${oc.env:X}`) or a missing key unknown, said in a note, never an item error.
"""

from __future__ import annotations

from pathlib import Path

from pytest_goblin.formats import load_config
from pytest_goblin.formats.interpolation import resolve

HEAD = "model:\n  _component_: torchtune.models.llama3.llama3_8b\noptimizer:\n  _component_: torch.optim.AdamW\n"


def _load(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + body)
    return load_config(path).workload


def test_top_level_key_interpolation_is_read_as_its_value(tmp_path: Path) -> None:
    # tradutor configs/fft/llama3.yaml: `packed: False` at the top, `packed: ${packed}` under dataset
    body = "packed: True\nbatch_size: ${bs}\nbs: 4\ndataset:\n  _component_: torchtune.datasets.alpaca_dataset\n  packed: ${packed}\n  max_seq_len: ${tokenizer.max_seq_len}\ntokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  max_seq_len: 2048\n"
    w = _load(tmp_path, body)  # on 8f667be: ConfigError "expected true or false, got '${packed}'"
    assert w.sample_packing is True and w.micro_batch_size == 4 and w.seq_len == 2048
    assert w.sources["micro_batch_size"].key == "batch_size" and w.sources["micro_batch_size"].line == 6


def test_a_resolver_call_is_unknown_not_an_error(tmp_path: Path) -> None:
    body = "batch_size: ${oc.env:BATCH}\ndataset:\n  _component_: torchtune.datasets.alpaca_dataset\n  packed: ${nowhere}\n"
    w = _load(tmp_path, body)
    assert w.sources["micro_batch_size"].explicit is False  # read as not set: the recipe's default
    said = " ".join(w.notes)
    assert "`batch_size: ${oc.env:BATCH}` is an OmegaConf interpolation goblin does not resolve" in said
    assert "`dataset.packed: ${nowhere}`" in said and "None" not in said


def test_resolve_grammar_forms() -> None:
    data = {"a": {"b": 3, "c": "${.b}", "d": "${..top}", "e": "run_${a.b}_${top}"}, "top": "x", "f": "${a}", "g": "${h}", "h": "${g}"}
    out, unknown = resolve(data)
    assert out["a"]["c"] == 3 and out["a"]["d"] == "x" and out["a"]["e"] == "run_3_x"
    assert out["f"] is None and out["g"] is None and out["h"] is None  # a whole node; a cycle
    assert len(unknown) == 3 and data["a"]["c"] == "${.b}"  # the input is not changed


def test_plain_values_are_untouched() -> None:
    data = {"a": 1, "b": "no interpolation", "c": [1, "two"], "d": "\\${escaped}"}
    out, unknown = resolve(data)
    assert out == data and unknown == []
