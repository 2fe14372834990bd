"""The attention a run gets when its config names none, at the transformers release it runs on.

transformers picks SDPA for a model that supports it when attn_implementation is unset from 4.36 on
(4.36.0 modeling_utils.py:1309-1313 and _check_and_enable_sdpa :1473-1481, Llama `_supports_sdpa`
models/llama/modeling_llama.py:845; 4.36.2 :1309-1313; 4.41.2 :1478-1480; 4.48.3 :1536-1538; 4.57.6
get_correct_attn_implementation :2696; 5.0.0 :1897; 5.25.0 :1856). 4.35.2 has no SDPA path:
LlamaDecoderLayer builds the eager LlamaAttention unless flash-attention 2 is enabled
(models/llama/modeling_llama.py:629-633).

Axolotl passes no attn_implementation when no attention flag is set, so transformers decides there too:
at v0.4.0 src/axolotl/utils/models.py:450-470 sets one only under `if cfg.flash_attention:` (eager plus
the flash monkeypatch of :273-285 for a packed Llama), and v0.5.0 models.py:689-701 .. v0.10.0
src/axolotl/loaders/model.py:533-553 only under flex/flash/sdp/eager flags. Every Axolotl release read
(0.4.0 on) requires transformers 4.36 or newer (v0.4.0 requirements.txt:4 transformers==4.37.0), so an
Axolotl pin alone never makes the default eager; a transformers pin below 4.36 next to it does.
"""

from __future__ import annotations

from .base import Reader

SDPA_DEFAULT_FROM = "4.36"

SDPA_CITE = "transformers 4.36.0 modeling_utils.py:1309-1313,1473-1481 .. 5.25.0 :1856"
EAGER_CITE = "transformers 4.35.2 models/llama/modeling_llama.py:629-633"


def transformers_attention_default(r: Reader, who: str = "") -> tuple[str, str, bool]:
    """(the attention, its note, whether a transformers pin decided it) for a config that names none.
    `who` says which framework left it unset ("Axolotl 0.4.0 sets no attn_implementation without a flag")."""
    from packaging.version import InvalidVersion, Version

    from ..frameworks.pins import pins

    lead = f"{who}; " if who else ""
    pin = pins(r.path, r.text).get("transformers")
    newest = ("sdpa", f"{lead}transformers picks SDPA when attn_implementation is unset ({SDPA_CITE})", False)
    if pin is None or not pin.constraint.startswith("=="):
        return newest  # a range lets pip install a release with SDPA
    try:
        older = Version(pin.constraint[2:].split(",", 1)[0]) < Version(SDPA_DEFAULT_FROM)
    except InvalidVersion:
        return newest
    if not older:
        return (
            "sdpa",
            f"{lead}attn_implementation unset at {pin.spec} ({pin.where}): transformers picks SDPA for a model that supports it ({SDPA_CITE})",
            True,
        )
    return (
        "eager",
        f"{lead}attn_implementation unset at {pin.spec} ({pin.where}): transformers before 4.36 has no SDPA default; Llama-class models run "
        f"the eager attention unless flash-attention 2 is asked for ({EAGER_CITE})",
        True,
    )
