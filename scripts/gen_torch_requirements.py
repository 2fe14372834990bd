"""Regenerate pytest_goblin/frameworks/torch_requirements.json: the torch each transformers release requires.

A recipe that pins `transformers[torch]>=4.28.1,<5` beside `torch>=1.13.1,<2` (databrickslabs/dolly requirements.txt)
does not get the newest transformers below 5: pip installs the newest whose own `[torch]` extra admits the torch
pin. This reads each release's wheel METADATA (`Requires-Dist: torch>=2.0; extra == "torch"`: what pip resolves,
generated from the release's setup.py) and records the specifier per release, with the wheel's name and sha256:

    pip download --no-deps transformers==4.47.1 -d /tmp/wheels/transformers   # one per release to record
    python scripts/gen_torch_requirements.py transformers=/tmp/wheels/transformers

An empty specifier is `torch` without a bound (4.38-4.47). tests/test_pins_stated.py checks the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pytest_goblin" / "frameworks" / "torch_requirements.json"
EXTRA = "torch"
_LINE = re.compile(r"""^Requires-Dist:[ \t]*torch(?![\w.-])[ \t]*\(?([^;)]*)\)?[ \t]*;[ \t]*extra[ \t]*==[ \t]*["']([\w-]+)["'][ \t]*$""")


def torch_requirement(wheel: Path) -> str | None:
    """The specifier of `Requires-Dist: torch ...; extra == "torch"` in the wheel's METADATA (None without one)."""
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        for line in z.read(meta).decode("utf-8").splitlines():
            m = _LINE.match(line.strip())
            if m and m.group(2) == EXTRA:
                return ",".join(sorted(p.strip() for p in m.group(1).split(",") if p.strip()))
    return None


def read(dist: str, folder: Path) -> dict[str, object]:
    releases: dict[str, dict[str, str]] = {}
    for wheel in sorted(folder.glob(f"{dist}-*-py3-none-any.whl")):
        version = wheel.name.split("-")[1]
        spec = torch_requirement(wheel)
        if spec is None:
            continue
        releases[version] = {"spec": spec, "wheel": wheel.name, "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    ordered = dict(sorted(releases.items(), key=lambda kv: Version(kv[0])))
    return {"extra": EXTRA, "source": f'{dist} wheel METADATA Requires-Dist: torch ...; extra == "{EXTRA}"', "releases": ordered}


def main(argv: list[str]) -> int:
    data: dict[str, object] = {"generated_by": "scripts/gen_torch_requirements.py (wheels from pip download --no-deps, METADATA read)"}
    for arg in argv:
        dist, _, folder = arg.partition("=")
        data[dist] = read(dist, Path(folder))
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
