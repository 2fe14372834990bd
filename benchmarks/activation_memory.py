"""What one transformers Llama decoder layer keeps for backward, per token: the figures behind
`costmodel.activation_bytes_per_token_layer`.

    python benchmarks/activation_memory.py            # the table in docs/projection.md
    python benchmarks/activation_memory.py --quick    # small widths only (seconds)
    python benchmarks/activation_memory.py --compiled # what torch.compile's partition saves

One `LlamaDecoderLayer` (transformers, bf16 weights, SDPA) runs forward in training mode on a
batch of one sequence under `torch.autograd.graph.saved_tensors_hooks`. Every tensor autograd
saves is counted once per storage (views and tensors saved by two ops share one), parameters
and the shared rotary cos/sin excepted, and charged to the innermost module running when it
was first saved. Bytes are divided by the sequence length; running two lengths separates
per-token terms from terms that grow with the sequence (an S x S score matrix).

LoRA mirrors PEFT's `lora.Linear.forward` (peft/tuners/lora/layer.py):
`result = base_layer(x) + lora_B(lora_A(dropout(x))) * scaling`, with `nn.Identity` for
dropout 0, the base weight frozen and one dropout per adapted linear, applied to that
linear's input. PEFT is not a dependency of this benchmark; the module below is that line.

Dropout has two kernels. On CUDA/ROCm, `nn.Dropout` runs `native_dropout`, which keeps a
bool mask (1 byte per element); on CPU it multiplies by a noise tensor of the input's dtype
(2 bytes in bf16). `--dropout-kernel gpu` (the default) calls `torch.native_dropout`, so the
CPU run saves what an MI300X saves.

SDPA on CPU in this configuration (bf16, no mask, causal) takes the flash kernel for CPU,
which keeps q, k, v, the output and the logsumexp: O(S), as the flash/CK kernels on MI300X.
`--attention eager` shows the S x S probabilities eager attention keeps instead.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

WIDTHS: dict[str, tuple[int, int, int, int]] = {  # hidden, intermediate, heads, kv heads
    "llama-2-7b": (4096, 11008, 32, 32),
    "llama-3-8b": (4096, 14336, 32, 8),
    "qwen2.5-7b": (3584, 18944, 28, 4),
    "llama-2-70b": (8192, 28672, 64, 8),
}
TINY: dict[str, tuple[int, int, int, int]] = {"tiny-a": (256, 688, 4, 4), "tiny-b": (384, 1536, 6, 2)}
ATTENTION_LINEARS = frozenset({"q_proj", "k_proj", "v_proj", "o_proj"})


class NativeDropout(nn.Module):
    """`nn.Dropout` as it runs on CUDA/ROCm: `native_dropout`, which saves a bool mask."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.native_dropout(x, self.p, self.training)[0]


class LoraLinear(nn.Module):
    """PEFT's LoRA forward for one adapter: base(x) + B(A(dropout(x))) * scaling."""

    def __init__(self, base: nn.Linear, rank: int, dropout: nn.Module) -> None:
        super().__init__()
        self.base_layer = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False, dtype=base.weight.dtype)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False, dtype=base.weight.dtype)
        self.lora_dropout = dropout
        self.scaling = 2.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base_layer(x) + self.lora_B(self.lora_A(self.lora_dropout(x))) * self.scaling


@dataclass(frozen=True)
class Case:
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    seq: int = 512
    method: str = "lora"  # "lora" (frozen base) or "full"
    targets: str = "all"  # LoRA on "all" linears or "attention" (q, k, v, o) only
    dropout: float = 0.0
    dropout_kernel: str = "gpu"  # "gpu": native_dropout (bool mask); "cpu": nn.Dropout on CPU (dtype noise)
    attention: str = "sdpa"  # "sdpa" or "eager"
    rank: int = 16
    # torch.compile's partition of forward and backward: AOTAutograd's min-cut rematerialization
    # partitioner (the `aot_eager_decomp_partition` backend runs it without generating kernels; inductor
    # partitions with the same function and saves the same tensors, checked at tiny-b)
    compiled: bool = False


def measure(case: Case) -> dict[str, Any]:
    """Saved bytes per token by module, split into per-token tensors and S x S ones."""
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaRotaryEmbedding

    torch.manual_seed(0)
    cfg = LlamaConfig(
        hidden_size=case.hidden,
        intermediate_size=case.intermediate,
        num_attention_heads=case.heads,
        num_key_value_heads=case.kv_heads,
        num_hidden_layers=1,
        vocab_size=128,
    )
    cfg._attn_implementation = case.attention
    layer = LlamaDecoderLayer(cfg, 0).to(torch.bfloat16)
    if case.method == "lora":
        for module in list(layer.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, nn.Linear) and (case.targets == "all" or name in ATTENTION_LINEARS):
                    drop: nn.Module = nn.Identity()
                    if case.dropout > 0:
                        drop = NativeDropout(case.dropout) if case.dropout_kernel == "gpu" else nn.Dropout(case.dropout)
                    setattr(module, name, LoraLinear(child, case.rank, drop))
        for pname, param in layer.named_parameters():
            param.requires_grad_("lora_" in pname)
    layer.train()

    stack: list[str] = ["layer"]

    def enter(name: str) -> Any:
        return lambda _module, _args: stack.append(name)  # append returns None: the inputs stay

    def leave(_module: nn.Module, _args: Any, _out: Any) -> None:
        stack.pop()

    if not case.compiled:  # a compiled layer runs as one graph: its tensors are charged to the layer
        for mname, module in layer.named_modules():
            if mname:
                module.register_forward_pre_hook(enter(mname))
                module.register_forward_hook(leave)

    x = torch.randn(1, case.seq, case.hidden, dtype=torch.bfloat16, requires_grad=True)
    pos = torch.arange(case.seq)[None]
    cos, sin = LlamaRotaryEmbedding(cfg)(x, pos)
    excluded = {p.untyped_storage().data_ptr() for p in layer.parameters()} | {cos.untyped_storage().data_ptr(), sin.untyped_storage().data_ptr()}
    seen: dict[int, tuple[str, int, bool]] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        key = t.untyped_storage().data_ptr()
        if key not in excluded:
            square = sum(1 for d in t.shape if d == case.seq) >= 2
            owner, size, _ = seen.get(key, (stack[-1], 0, square))
            seen[key] = (owner, max(size, t.untyped_storage().nbytes()), square)
        return t

    if case.compiled:
        torch._dynamo.reset()  # one compiled layer per case (each case is another module class or width)
    run: Any = torch.compile(layer, backend="aot_eager_decomp_partition", fullgraph=True) if case.compiled else layer
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run(x, position_embeddings=(cos, sin), attention_mask=None, position_ids=pos)

    by_module: dict[str, float] = defaultdict(float)
    per_token = score = 0.0
    for owner, size, square in seen.values():
        if square:
            score += size / case.seq
        else:
            per_token += size / case.seq
            # LoRA pieces under their linear: self_attn.q_proj.lora_A -> self_attn.q_proj
            by_module[owner.rsplit(".lora_", 1)[0].replace(".base_layer", "")] += size / case.seq
    return {"per_token": per_token, "score": score, "by_module": dict(sorted(by_module.items()))}


def formula(case: Case) -> float:
    """The cost model's term for the case: what `activation_bytes_per_token_layer` charges."""
    from pytest_goblin.costmodel import layer_activation_bytes

    return layer_activation_bytes(
        hidden=case.hidden,
        intermediate=case.intermediate,
        kv_dim=case.hidden // case.heads * case.kv_heads,
        heads=case.heads,
        method=case.method,
        lora_targets=case.targets,
        lora_dropout=case.dropout,
        compiled=case.compiled,
    )


def cases(widths: dict[str, tuple[int, int, int, int]], seqs: tuple[int, ...]) -> list[tuple[str, Case]]:
    out = []
    for name, (h, i, heads, kv) in widths.items():
        for seq in seqs:
            base = Case(h, i, heads, kv, seq=seq)
            out += [
                (name, Case(h, i, heads, kv, seq=seq, method="full")),
                (name, base),
                (name, Case(h, i, heads, kv, seq=seq, dropout=0.05)),
                (name, Case(h, i, heads, kv, seq=seq, targets="attention", dropout=0.1)),
            ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small widths only")
    parser.add_argument("--seq", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--json", action="store_true", help="one JSON object per case")
    parser.add_argument("--compiled", action="store_true", help="torch.compile's partition (min-cut rematerialization)")
    args = parser.parse_args()
    widths = TINY if args.quick else {**TINY, **WIDTHS}
    print("| width | S | method | LoRA targets | dropout | measured B/token/layer | S x S B/token | model | model/measured |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, case in cases(widths, tuple(args.seq)):
        case = replace(case, compiled=args.compiled)
        got = measure(case)
        model = formula(case)
        if args.json:
            print(json.dumps({"width": name, **case.__dict__, **got, "model": model}))
            continue
        targets = "-" if case.method == "full" else case.targets
        print(
            f"| {name} | {case.seq} | {case.method} | {targets} | {case.dropout:g} | {got['per_token']:,.0f} | {got['score']:,.0f} | {model:,.0f} | {model / got['per_token']:.3f} |"
        )
    # eager attention's S x S term, once per length
    h, i, heads, kv = TINY["tiny-a"]
    for seq in args.seq:
        got = measure(Case(h, i, heads, kv, seq=seq, attention="eager"))
        print(f"eager attention, tiny-a, S={seq}: S x S bytes per token {got['score']:,.0f} = {got['score'] / (heads * seq):.2f} x heads x S")


if __name__ == "__main__":
    main()
