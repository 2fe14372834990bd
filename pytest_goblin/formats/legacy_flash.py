"""transformers' legacy `from_pretrained(..., use_flash_attention_2=True)` at the release a run is on.

The keyword exists from 4.34.0 to 4.52.x: 4.34.0 modeling_utils.py:2472 pops it and :3081-3082 enables flash-attention 2
(_check_and_enable_flash_attn_2); 4.45.2 :1485 and 4.52.4 :2041 still pop it (deprecated: "use
`attn_implementation=\"flash_attention_2\"` instead", 4.45.2 :1565-1567). 4.33.3 and 4.53.0 (and 4.53.3, 5.0.0) name it
nowhere in modeling_utils.py: the keyword stays among the unused kwargs the config returns (configuration_utils.from_dict
keeps only the keys the config has, `hasattr(config, key)`), which from_pretrained hands to the model's constructor
(4.30.2 modeling_utils.py:2321 `model_kwargs = kwargs` / :2675 `cls(config, *model_args, **model_kwargs)`; 4.53.3 :4614 /
:4766; 5.0.0 :4002 / :4072), and transformers' model classes take only the config (LlamaForCausalLM.__init__(self,
config): 4.30.2 models/llama/modeling_llama.py:613, 5.0.0 :445): TypeError, the run stops before training.
"""

from __future__ import annotations

from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..schemas import LegacyFlash

FIRST = "4.34.0"  # the first release whose from_pretrained takes use_flash_attention_2
GONE = "4.53.0"  # the first release whose from_pretrained no longer does
ACCEPTED_CITE = "transformers 4.34.0 modeling_utils.py:2472,3081-3082 .. 4.52.4 :2041"
REJECTED_CITE = (
    "transformers 4.33.3 and 4.53.0 modeling_utils.py name no use_flash_attention_2; the unused keyword reaches the model's "
    "constructor (4.30.2 modeling_utils.py:2321,2675; 5.0.0 :4002,4072), which takes only the config "
    "(LlamaForCausalLM.__init__(self, config): 4.30.2 models/llama/modeling_llama.py:613, 5.0.0 :445)"
)


def accepts(release: str) -> bool | None:
    """Whether transformers `release` takes use_flash_attention_2; None where the version does not parse."""
    try:
        v = Version(Version(release).base_version)
    except InvalidVersion:
        return None
    return Version(FIRST) <= v < Version(GONE)


def legacy_flash(config: str | Path, text: str, file: str, line: int) -> LegacyFlash | None:
    """The transformers release the run is on (its pin, else the newest goblin read, assumed) where it does not take
    `use_flash_attention_2=True` written at `file`:`line`; None where it does (flash-attention 2 is then the attention) or
    goblin cannot say which release runs. On a pinned release the attention is then not judged; on an assumed one the
    script was written for a release that takes it, so flash-attention 2 stays the attention read."""
    from ..frameworks.history import run_version
    from ..frameworks.pins import pins

    run = run_version("transformers", pins(str(config), text).get("transformers"))
    if run is None or run.also is not None:
        return None  # no release read, or a commit between two releases: not judged
    if accepts(run.version) is not False:
        return None
    return LegacyFlash(file=file, line=line, release=run.version, how=run.how, assumed=run.assumed)


def rejected_note(got: LegacyFlash, shown: str) -> str:
    """What the premise and the notes say for a rejected keyword."""
    return (
        f"`use_flash_attention_2=True` ({shown}:{got.line}) is not taken by transformers {got.release} ({got.how}): only "
        f"{FIRST} to the 4.52 releases read it ({ACCEPTED_CITE}); the load raises TypeError, so the attention is not judged"
    )
