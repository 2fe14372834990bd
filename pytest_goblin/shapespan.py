"""The span of shapes a model may have when goblin reads its size from its name but guesses its shape, and the
memory of a workload at that span's largest corner: what a memory-raising edit must fit at to be offered."""

from __future__ import annotations

from .costmodel import memory_gb, shape_variants
from .modelzoo import (
    LARGEST_VOCAB,
    LARGEST_VOCAB_ROW,
    NAME_SIZE_FACTOR,
    NAME_SIZE_FACTOR_ROW,
    NAME_SIZE_FLOOR,
    NAME_SIZE_FLOOR_ROW,
    SMALLEST_VOCAB,
    estimate_shape,
    unmodelled_architecture,
)
from .schemas import ModelShape, WorkloadConfig


def spanned(shape: ModelShape) -> bool:
    """A dense model whose size comes from its name and whose shape is guessed: its span can be walked. Not a
    size assumed (7B), nor experts read from a name, nor an architecture the cost model cannot express."""
    return not shape.known and shape.params_b is not None and not shape.n_experts and shape.family != "moe" and unmodelled_architecture(shape) is None


def span_shapes(shape: ModelShape) -> list[ModelShape]:
    """The shapes at the top of the span: parameters at the name's size x NAME_SIZE_FACTOR, the generic shape
    at that count with its hidden size as estimated, halved and doubled (layers to match, costmodel.shape_variants),
    each with the table's largest vocabulary. Empty where the span does not apply (`spanned`)."""
    if not spanned(shape) or shape.params_b is None:
        return []
    top = shape.model_copy(update={"params_b": round(shape.params_b * NAME_SIZE_FACTOR, 6)})
    shapes = [estimate_shape(top).model_copy(update={"known": True}), *shape_variants(top)]
    return [s.model_copy(update={"vocab": LARGEST_VOCAB}) for s in shapes]


def low_shapes(shape: ModelShape) -> list[ModelShape]:
    """The shapes at the bottom of the span: parameters at the name's size x NAME_SIZE_FLOOR (the table's smallest ratio
    of parameters to a name's size), the generic shape at that count with its hidden size as estimated, halved and
    doubled, each with the table's smallest vocabulary: where the most memory is left free. Empty where no span applies."""
    if not spanned(shape) or shape.params_b is None:
        return []
    low = shape.model_copy(update={"params_b": round(shape.params_b * NAME_SIZE_FLOOR, 6)})
    shapes = [estimate_shape(low).model_copy(update={"known": True}), *shape_variants(low)]
    return [s.model_copy(update={"vocab": SMALLEST_VOCAB}) for s in shapes]


def corner_shapes(shape: ModelShape) -> list[ModelShape]:
    """Both ends of the span (`low_shapes`, `span_shapes`): where a rule that reads memory or the shape is judged
    when the shape is a guess. Empty where no span applies."""
    return [*low_shapes(shape), *span_shapes(shape)]


def span_memory_gb(w: WorkloadConfig) -> float | None:
    """The workload's projected peak memory per GPU at the worst shape of its span; None where no span applies."""
    shapes = span_shapes(w.model)
    if not shapes:
        return None
    return max(memory_gb(w.model_copy(update={"model": s})) for s in shapes)


def span_phrase(shape: ModelShape) -> str:
    """The span in the model's own numbers, for a note: "0.16B from its name up to 0.209B (...), hidden size ..."."""
    shapes = span_shapes(shape)
    if not shapes or shape.params_b is None:
        return ""
    hidden = sorted({s.hidden for s in shapes if s.hidden})
    return (
        f"{shape.params_b:g}B from its name up to {shapes[0].params_b:.3g}B parameters (x{NAME_SIZE_FACTOR:g}, the largest ratio of "
        f"parameters to the name's size in goblin's shape table, {NAME_SIZE_FACTOR_ROW}), hidden size {hidden[0]}-{hidden[-1]} with "
        f"layers to match, vocabulary {LARGEST_VOCAB} (the table's largest, {LARGEST_VOCAB_ROW})"
    )


def full_span_phrase(shape: ModelShape) -> str:
    """Both ends of the span, for a note: "34B from its name: 32.3-44.4B parameters (...), hidden size ..., vocabulary ..."."""
    low, high = low_shapes(shape), span_shapes(shape)
    if not low or not high or shape.params_b is None:
        return ""
    hidden = sorted({s.hidden for s in [*low, *high] if s.hidden})
    return (
        f"{shape.params_b:g}B from its name: {low[0].params_b:.3g}-{high[0].params_b:.3g}B parameters (x{NAME_SIZE_FLOOR:.3g}-x{NAME_SIZE_FACTOR:g}, "
        f"the smallest and largest ratios of parameters to the name's size in goblin's shape table, {NAME_SIZE_FLOOR_ROW} and "
        f"{NAME_SIZE_FACTOR_ROW}), hidden size {hidden[0]}-{hidden[-1]} with layers to match, vocabulary {SMALLEST_VOCAB}-{LARGEST_VOCAB} "
        f"(the table's smallest and largest)"
    )
