"""Package listings in a README's install block: the `pip list` / `conda list` columns an author pastes as the
environment to install (`bitsandbytes                      0.41.0`, no `==`; blind review 15b #27, choucaicai/drpo-align
README.md:15-19 under "Install request environment"). Each such line names one release of a package a blocker reads
(pins._EXACT_PIN's names), so it is read as that package's exact pin, said as a listing. Only a whole line of a code
block: the name, then the version, then at most a conda build string and channel; never prose, a range or a line with
anything else on it."""

from __future__ import annotations

import re
from typing import NamedTuple

# `name  version [build [channel]]`; bounded runs of distinct character classes (linear on any input)
_LISTED = re.compile(
    r"[ \t]{0,8}(bitsandbytes|torch|pytorch|vllm|tokenizers)[ \t]{1,40}v?([0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4})(\+[a-z0-9.]{1,40})?"
    r"(?:[ \t]{1,40}[^ \t]{1,200}){0,2}[ \t]{0,40}",
    re.IGNORECASE,
)


class Listed(NamedTuple):
    dist: str  # pip's name (conda's `pytorch` is torch)
    version: str
    local: str  # a local build label kept in the spec (`+cu118`), "" for none
    line: int  # 1-based


def listed_releases(install_lines: str) -> list[Listed]:
    """The listing lines of a README's install lines (pins._readme_lines: its code blocks, the rest blanked)."""
    out: list[Listed] = []
    for n, row in enumerate(install_lines.splitlines(), 1):
        m = _LISTED.fullmatch(row)
        if m is None:
            continue
        dist = m.group(1).lower()
        out.append(Listed("torch" if dist == "pytorch" else dist, m.group(2), (m.group(3) or "").lower(), n))
    return out
