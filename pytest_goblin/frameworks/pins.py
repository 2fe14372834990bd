"""The transformers / TRL version a config is written for, from what it or its repository pins.

The framework tables come from one version (transformers 5.24.0, trl 1.16.0). A recipe whose
repository pins an older one (`transformers==4.36.2` in setup.py, a `pip install trl==0.8.6`
comment) runs with that version, which may not know a key goblin would add. The pin is read from
the config's own comments and launcher lines, then from setup.py / setup.cfg / pyproject.toml /
requirements*.txt in the config's folder and each folder above it up to the repository root, all
opened through safepath. An `==`/`~=`/`>=` pin gives the oldest version the recipe may run with;
an edit that adds a key first seen in a later version (facts.KEY_SINCE) is dropped with the reason.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..safepath import UnsafePath, read_text, repository_root, tree_of
from .facts import KEY_SINCE, OLDEST_READ, VALUE_SINCE

PIN_FILES = ("setup.py", "setup.cfg", "pyproject.toml", "requirements.txt", "requirements-dev.txt")
_PIN = re.compile(r"""(?<![\w-])(transformers|trl)\s*(==|~=|>=)\s*v?([0-9]+(?:\.[0-9]+){1,2})""")
# The whole specifier of such a pin (`transformers>=4.40,<4.46`): the upper bound decides which release pip installs.
_TAIL = re.compile(r"""[ \t]{0,16},[ \t]{0,16}(<=|<|!=|>=|>|==)[ \t]{0,16}v?([0-9]+(?:\.[0-9]+){0,2}(?:\.\*)?)""")
MAX_UP = 6  # folders above the config's own that are looked at, at most


@dataclass(frozen=True)
class Pin:
    dist: str
    version: str  # the oldest version the pin allows
    spec: str  # e.g. "transformers==4.36.2"
    where: str  # "setup.py:68" or "the config's line 3"
    constraint: str = ""  # the whole specifier, e.g. ">=4.40,<4.46" (upper bounds included; empty when not read)


# Pins of other packages a blocker reads (kb/blockers.yaml): only an exact one decides which
# release runs (`==`, or `~=X.Y.Z`, which stays below X.Y+1); `>=` lets pip install the newest.
_EXACT_PIN = re.compile(r"""(?<![\w-])(bitsandbytes)\s*(==|~=)\s*v?([0-9]+\.[0-9]+(?:\.[0-9]+)?)""")


def _scan(text: str, where: str, pattern: re.Pattern[str] = _PIN) -> dict[str, Pin]:
    out: dict[str, Pin] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in pattern.finditer(line):
            dist, op, ver = m.groups()
            if pattern is _EXACT_PIN and op == "~=" and ver.count(".") < 2:
                continue  # `~=0.45` allows any 0.x from 0.45 on: not one release
            constraint = f"{op}{ver}"
            rest = line[m.end() :]
            while tail := _TAIL.match(rest):
                constraint += f",{tail.group(1)}{tail.group(2)}"
                rest = rest[tail.end() :]
            out.setdefault(dist, Pin(dist, ver, f"{dist}{op}{ver}", f"{where}:{lineno}", constraint))
    return out


def _comment_lines(text: str) -> str:
    """Only comment and launcher lines of a config: a pin in a value is not a pin."""
    keep = []
    for line in text.splitlines():
        s = line.strip()
        keep.append(line if s.startswith(("#", "pip ", "uv ")) or "#" in line else "")
    return "\n".join(keep)


@lru_cache(maxsize=256)
def _pins(config: str, text: str) -> tuple[Pin, ...]:
    found = {
        k: Pin(p.dist, p.version, p.spec, f"the config's own line {p.where.rsplit(':', 1)[1]}", p.constraint)
        for k, p in _scan(_comment_lines(text), "").items()
    }
    for dist, pin in _repository_pins(os.path.dirname(os.path.abspath(config))).items():
        found.setdefault(dist, pin)
    return tuple(found.values())


@lru_cache(maxsize=256)
def _exact_pins(config: str, text: str) -> tuple[Pin, ...]:
    found = {
        k: Pin(p.dist, p.version, p.spec, f"the config's own line {p.where.rsplit(':', 1)[1]}") for k, p in _scan(_comment_lines(text), "", _EXACT_PIN).items()
    }
    for dist, pin in _repository_pins(os.path.dirname(os.path.abspath(config)), exact=True).items():
        found.setdefault(dist, pin)
    return tuple(found.values())


def exact_pins(config: str, text: str) -> dict[str, Pin]:
    """dist -> the exact pin of a package a blocker reads (bitsandbytes), from the same places as `pins`."""
    return {p.dist: p for p in _exact_pins(config, text)}


@lru_cache(maxsize=1024)
def _repository_pins(folder_name: str, exact: bool = False) -> dict[str, Pin]:
    """The pins of the folder's pin files and its parents' (the nearest first): the configs of one
    folder share them, so each folder is read once per session."""
    folder = Path(folder_name)
    stop = repository_root(folder)
    roots = tree_of(folder / "config")
    found: dict[str, Pin] = {}
    for _ in range(MAX_UP + 1):
        for name in PIN_FILES:
            f = folder / name
            if f.is_file():
                try:
                    body = read_text(f, roots=roots, limit=500_000)
                except (UnsafePath, OSError, UnicodeDecodeError):
                    continue
                rel = os.path.relpath(f, stop) if stop is not None else f.name
                for dist, pin in _scan(body, rel, _EXACT_PIN if exact else _PIN).items():
                    found.setdefault(dist, pin)
        if stop is None or folder == stop or folder.parent == folder:
            break
        folder = folder.parent
    return found


def pins(config: str, text: str | None = None) -> dict[str, Pin]:
    """dist -> the pin the config or its repository states (the config's own comment first).
    Without `text` the config is read again through safepath (an edit's writer has only its path)."""
    if text is None:
        try:
            text = read_text(Path(config), roots=tree_of(Path(config)))
        except (UnsafePath, OSError):
            text = ""
    return {p.dist: p for p in _pins(config, text)}


def _older(pinned: str, since: str) -> bool:
    try:
        return Version(pinned) < Version(since)
    except InvalidVersion:
        return False


def at_most(pin: Pin | None, version: str) -> bool:
    """Whether a pin's oldest allowed version is `version` or older (False without a readable pin)."""
    try:
        return pin is not None and Version(pin.version) <= Version(version)
    except InvalidVersion:
        return False


def too_new(dist: str, key: str, value: object, pin: Pin | None) -> str | None:
    """Why `key: value` cannot be written for a recipe pinned to an older `dist`, or None."""
    if pin is None:
        return None
    for (d, k), (since, cite) in KEY_SINCE.items():
        if d == dist and k == key and _older(pin.version, since):
            return _since(f"`{key}`", dist, since, cite, pin)
    for (d, k, v), (since, cite) in VALUE_SINCE.items():
        if d == dist and k == key and str(value) == v and _older(pin.version, since):
            return _since(f"`{key}: {value}`", dist, since, cite, pin)
    return None


def _since(what: str, dist: str, since: str, cite: str, pin: Pin) -> str:
    if OLDEST_READ in cite:  # present in the oldest release read: when it first appeared is not known
        return (
            f"goblin has read {dist} only from {since} on, where {what} exists ({cite.replace(f' ({OLDEST_READ})', '')}); this recipe pins "
            f"{pin.spec} ({pin.where}), older than that, so goblin does not know whether {what} exists there and does not write it"
        )
    return f"{what} first appears in {dist} {since} ({cite}), but this recipe pins {pin.spec} ({pin.where})"


def pin_for_key(key: str) -> str | None:
    """The distribution whose pin decides whether `key` exists (None when goblin has no record)."""
    for d, k in KEY_SINCE:
        if k == key:
            return d
    return None
