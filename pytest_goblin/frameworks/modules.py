"""Modules a framework removed: a training script that imports one stops at its first line on the release
that no longer has it, on any GPU (blocker.module_removed_at_version). Each entry: the distribution, the
module as imported, the first release without it, and where that was read (the wheels' own file lists).

The script is read as text (nothing imported): `from transformers import deepspeed`, `from
transformers.deepspeed import ...`, `import transformers.deepspeed`. The release it runs on is the
repository's pin (history.run_version: the newest release the pin allows is what pip installs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from .history import run_version
from .pins import Pin


@dataclass(frozen=True)
class Removed:
    dist: str
    module: str  # as imported from the distribution's top package: "deepspeed" for transformers.deepspeed
    gone: str  # the first release without it
    last: str  # the last release read that has it
    instead: str  # where its contents moved
    sources: tuple[str, ...]
    # "module": a submodule (`from transformers import deepspeed`, `import transformers.deepspeed`); "name": a function
    # or class the package or one of its submodules exported (`from peft import prepare_model_for_int8_training`)
    kind: str = "module"


REMOVED = (
    Removed(
        "transformers",
        "deepspeed",
        "4.46.0",
        "4.45.2",
        "transformers.integrations.deepspeed, which has the same names (`from transformers.integrations import deepspeed` keeps "
        "`deepspeed.is_deepspeed_zero3_enabled()` working; transformers 5.25.0 integrations/deepspeed.py:62,286,615)",
        (
            'transformers 4.45.2 wheel: transformers/deepspeed.py (a deprecated shim re-exporting transformers.integrations.deepspeed) and __init__.py:118 `"deepspeed": []`',
            "transformers 4.46.0 wheel: no transformers/deepspeed.py and no `deepspeed` entry in transformers/__init__.py's import structure",
            "transformers 4.44.2 transformers/deepspeed.py:24-27 (FutureWarning: 'transformers.deepspeed module is deprecated and will be removed')",
        ),
    ),
    Removed(
        "peft",
        "prepare_model_for_int8_training",
        "0.10.0",
        "0.9.0",
        "`prepare_model_for_kbit_training`, which the 0.9.0 shim called with the same arguments (peft 0.9.0 "
        "src/peft/utils/other.py:144-149; prepare_model_for_kbit_training at peft 0.10.0 src/peft/utils/other.py:75, from peft 0.4.0 "
        "src/peft/utils/other.py:62)",
        (
            "peft 0.9.0 src/peft/__init__.py:83 and src/peft/utils/__init__.py:34 (exported) and src/peft/utils/other.py:144-149 "
            "(a deprecated shim: 'will be removed in a future version. Use prepare_model_for_kbit_training instead')",
            "peft 0.10.0 src/: no prepare_model_for_int8_training anywhere (git grep at tag v0.10.0)",
        ),
        "name",
    ),
)


@dataclass(frozen=True)
class Import:
    removed: Removed
    line: int
    text: str


def imports(text: str) -> list[Import]:
    """The imports of a removed module in a script's text (comments and strings on their own line skipped)."""
    out: list[Import] = []
    for r in REMOVED:
        d, m = re.escape(r.dist), re.escape(r.module)
        if r.kind == "name":  # from the package or any submodule of it; `as` renames are still the name
            pattern = re.compile(rf"^\s*from\s+{d}(?:\.[\w.]+)?\s+import\s+(?:\(\s*)?(?:[\w ,]*,\s*)?{m}\b")
        else:
            pattern = re.compile(rf"^\s*(?:from\s+{d}\.{m}\b\s+import\b|import\s+{d}\.{m}\b|from\s+{d}\s+import\s+(?:\(\s*)?(?:[\w ,]*,\s*)?{m}\b(?!\s*\.))")
        for n, line in enumerate(text.splitlines(), 1):
            if pattern.search(line.split("#", 1)[0]):
                out.append(Import(r, n, line.strip()))
                break
    return out


def runs_without(r: Removed, pin: Pin | None) -> tuple[bool, str, str] | None:
    """(certain, release, how) when the release the script runs on lacks `r`'s module: certain with a pin whose
    newest allowed release lacks it, not certain without a pin (the newest release read, assumed)."""
    run = run_version(r.dist, pin)
    if run is None:
        return None
    try:
        lacks = Version(run.version) >= Version(r.gone)
    except InvalidVersion:
        return None
    if not lacks:
        return None
    return pin is not None, run.version, run.how
