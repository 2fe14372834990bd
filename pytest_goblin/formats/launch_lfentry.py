"""LLaMA-Factory's own entry script run on a config (`python src/train.py x.yaml k=v`, `torchrun ... src/train.py x.yaml`,
`deepspeed ... src/train.py x.yaml`): the same run as `llamafactory-cli train x.yaml k=v`, read from LLaMA-Factory's source.

- src/train.py imports `run_exp` from `llamafactory.train.tuner` and calls `run_exp()` (llamafactory v0.9.5 and v0.8.3
  src/train.py:15-19). `llamafactory-cli train` calls the same `run_exp()` in its own process on one GPU (v0.9.5
  src/llamafactory/launcher.py:154-157; v0.8.3 src/llamafactory/cli.py:110-111) and, with FORCE_TORCHRUN or more than
  one GPU, starts torchrun on a file whose main is `run_exp()` with the same words (v0.9.5 launcher.py:60-66,
  :115-132, :182-185; v0.8.3 cli.py:88-109).
- `run_exp()` reads `sys.argv[1]` as the YAML/JSON and merges the `key=value` words after it over the file (v0.9.5
  src/llamafactory/hparams/parser.py:90-97); any other first word hands the words to HfArgumentParser, which refuses
  one it has no field for (parser.py:109-114).
- the deepspeed launcher puts `--local_rank=N` right after the script, before its arguments, unless `--no_local_rank`
  (DeepSpeed v0.16.5 deepspeed/launcher/launch.py:243-247, v0.19.5 :259-263): `sys.argv[1]` is then that flag, not the
  YAML.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..safepath import text_or_empty
from .launcher_text import MAX_BYTES, word_path

ENTRY_AT = "llamafactory v0.9.5 src/train.py:15-19 (run_exp()), src/llamafactory/hparams/parser.py:90-97 (sys.argv[1] is the config)"
DEEPSPEED_RANK_AT = "DeepSpeed v0.16.5 deepspeed/launcher/launch.py:243-247 (`--local_rank=N` right after the script unless --no_local_rank)"
_IMPORTS = re.compile(r"^[ \t]*from[ \t]+llamafactory(?:\.train\.tuner)?[ \t]+import[ \t][^\n]{0,200}\brun_exp\b", re.MULTILINE)
_CALLS = re.compile(r"\brun_exp\([ \t]*\)")
_CHECKOUT = re.compile(r"llama[-_]?factory", re.IGNORECASE)


def entry_script(tokens: tuple[str, ...], launcher_dir: Path, root: Path, cwd: str = "") -> int | None:
    """The index of the word naming LLaMA-Factory's entry script, the first `.py` word of the line: a repository file that
    imports `run_exp` from llamafactory and calls `run_exp()` (its own copy of src/train.py, or a vendored checkout's), or,
    where the repository does not hold it, `src/train.py` inside a folder named LLaMA-Factory (the word's or the `cd`
    before the line: a clone made at run time). None otherwise."""
    from .launch_naming import resolve_relative

    at = next((i for i, t in enumerate(tokens) if t.endswith(".py") and not t.startswith("-")), None)
    if at is None:
        return None
    word = word_path(tokens[at])
    if "$" not in word and not Path(word).is_absolute():
        found, _ = resolve_relative(word, launcher_dir, root, cwd)
        if found is not None and found.is_relative_to(root):
            text = text_or_empty(found, roots=[root], limit=MAX_BYTES)
            return at if _IMPORTS.search(text) and _CALLS.search(text) else None
    parts = Path(word).parts
    folders = [*parts[:-2], *cwd.split("/")]
    if parts[-2:] == ("src", "train.py") and any(_CHECKOUT.fullmatch(p) for p in folders):
        return at
    return None


def unread_by_deepspeed(tokens: tuple[str, ...], entry: int) -> bool:
    """A deepspeed line that runs the entry script without `--no_local_rank`: the script's first word is deepspeed's
    `--local_rank=N`, so LLaMA-Factory does not take the YAML as its config (DEEPSPEED_RANK_AT)."""
    own = tokens[:entry]
    return any(Path(t).name == "deepspeed" for t in own) and "--no_local_rank" not in own
