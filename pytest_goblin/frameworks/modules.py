"""Modules a framework removed: a training script that imports one stops at its first line on the release
that no longer has it, on any GPU (blocker.module_removed_at_version). Each entry: the distribution, the
module as imported, the first release without it, and where that was read (the wheels' own file lists).

The script is parsed with `ast` (nothing imported or run): `from transformers import deepspeed`, `from
transformers.deepspeed import ...`, `import transformers.deepspeed`, over several lines too; an import guarded by
`try: ... except ImportError:` is the script's own fallback and not judged. The release it runs on is the
repository's pin (history.run_version: the newest release the pin allows is what pip installs).
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from .history import run_version
from .pins import Pin
from .removed import REMOVED, Import, Removed, imports

__all__ = ["REMOVED", "Import", "Removed", "imports", "runs_without"]


def runs_without(r: Removed, pin: Pin | None) -> tuple[bool, str, str] | None:
    """(certain, release, how) when the release the script runs on lacks `r`'s module: certain with a pin whose
    newest allowed release lacks it, not certain without a pin (the newest release read, assumed)."""
    if pin is not None and pin.unpinned:
        # no version written: read at the release the co-pin admits, but a fresh install of the bare name alone takes the
        # newest, and nothing in the repository holds it back: the import is judged there, not certain (review13b #21)
        got = runs_without(r, None)
        if got is None:
            return None
        return False, got[1], f"{pin.where}: a fresh install takes the newest, {r.dist} {got[1]}; {pin.capped_by}"
    run = run_version(r.dist, pin)
    if run is None:
        return None
    try:
        lacks = Version(run.version) >= Version(r.gone)
    except InvalidVersion:
        return None
    if not lacks:
        return None
    # certain with a pin that names a release, or a default-branch install (at least as new as the newest release: the
    # removal stays); a vendored copy or submodule at a version goblin cannot read is the newest assumed
    return pin is not None and (bool(pin.version) or pin.kind == "branch"), run.version, run.how
