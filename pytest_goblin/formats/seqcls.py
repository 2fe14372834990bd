"""A training script whose model is a sequence classifier (`AutoModelForSequenceClassification.from_pretrained`, or a
model class's `...ForSequenceClassification`), read with ast through safepath (nothing imported or run; review13b #37:
KnightZhang625/llm_relevant_study fine-tune-classifer/distributed_train.py:61). Such a model scores one label per row at
the row's last non-pad token through a hidden x num_labels head, with no vocabulary-wide language-model head (transformers
5.25.0 src/transformers/modeling_layers.py:130-138 `self.score = nn.Linear(hidden_size, num_labels)`, :177-190 the pooled
logits at each row's last non-pad token). So packing several samples into one row is not offered (one label per row),
and the cost model prices no vocabulary logits or head GEMM (costmodel: `WorkloadConfig.sequence_classification`)."""

from __future__ import annotations

import ast
from pathlib import Path

from ..schemas import FieldSource
from .base import Reader
from .launched import parse_in_tree

SUFFIX = "ForSequenceClassification"
SEQCLS_AT = "transformers 5.25.0 src/transformers/modeling_layers.py:130-138 (score head hidden x num_labels), :177-190 (one pooled logit row per sample)"


def _receiver(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute) and func.attr == "from_pretrained":
        v = func.value
        return v.id if isinstance(v, ast.Name) else v.attr if isinstance(v, ast.Attribute) else None
    return None


def sequence_classifier(script_path: str | Path) -> str | None:
    """ "AutoModelForSequenceClassification.from_pretrained (x.py line N)" where every model class the script loads with
    `from_pretrained` (a name ending in ...ForX, Auto or not) is a sequence classifier; None where any other model is
    loaded (a PPO script's causal policy beside its reward classifier), or none."""
    got = parse_in_tree(script_path)
    if got is None:
        return None
    script = got[0]
    models: list[tuple[str, int]] = []
    for node in ast.walk(script.tree):
        if isinstance(node, ast.Call) and (name := _receiver(node.func)) is not None and "For" in name:
            models.append((name, node.lineno))
    if not models or any(not name.endswith(SUFFIX) for name, _ in models):
        return None
    name, line = min(models, key=lambda m: m[1])
    return f"{name}.from_pretrained ({script.shown} line {line})"


def read_classifier(r: Reader, script_path: str | Path, ran: str = "") -> None:
    """Sets `sequence_classification` (and `packing_blocked`, where nothing blocked packing before) from the script."""
    found = sequence_classifier(script_path)
    if found is None:
        return
    said = f"{found}: a sequence classifier, one label per row through a hidden x num_labels head ({SEQCLS_AT})" + (f"; {ran}" if ran else "")
    r.values["sequence_classification"] = said
    r.sources["sequence_classification"] = FieldSource(file=str(script_path), key=None, line=None, explicit=True, note=said)
    r.notes.append(f"{said}. Priced without a language-model head or vocabulary logits")
    if r.values.get("packing_blocked") is None and not r.values.get("sample_packing"):
        why = f"the model is a sequence classifier ({found}), one label per row: packing several samples into one row does not apply ({SEQCLS_AT})"
        r.values["packing_blocked"] = why
        if "sample_packing" in r.sources and not r.sources["sample_packing"].explicit:
            r.default("sample_packing", False, why)
