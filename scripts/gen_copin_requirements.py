"""Regenerate pytest_goblin/frameworks/copin_requirements.json: the tokenizers each transformers release requires.

A recipe that pins `transformers>=4.26.1` beside `tokenizers==0.12.1` (sahil280114/codealpaca requirements.txt) does
not get the newest transformers: pip installs the newest release whose own `tokenizers` requirement admits the pin
(transformers 4.33.3: `tokenizers!=0.11.3,<0.14,>=0.11.1`; 4.34.0: `<0.15,>=0.14`). The requirement is what each
release's setup.py `_deps` list writes (`"tokenizers>=0.11.1,!=0.11.3,<0.14"`), as pip reads it: the wheel's METADATA
`Requires-Dist: tokenizers ...` without an extra marker. The metadata is read from pip's own resolution report, which
fetches a wheel's METADATA only (PEP 658), with the wheel's name and sha256:

    pip install --dry-run --no-deps --ignore-installed --quiet --report REPORTS/4.33.3.json transformers==4.33.3
    python scripts/gen_copin_requirements.py transformers:tokenizers=REPORTS

tests/test_pins_stated.py checks the file.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "pytest_goblin" / "frameworks" / "copin_requirements.json"


def requirement(report: Path, dist: str, dep: str) -> tuple[str, dict[str, str]] | None:
    """(release, {spec, wheel, sha256}) of `dist` in one pip report: the specifier of its unconditional `dep` requirement."""
    data = json.loads(report.read_text(encoding="utf-8"))
    for item in data.get("install", []):
        meta = item.get("metadata", {})
        if str(meta.get("name", "")).lower() != dist:
            continue
        specs: set[str] = set()
        named = False
        for raw in meta.get("requires_dist", []):
            try:
                req = Requirement(raw)
            except InvalidRequirement:
                continue
            if req.name.lower() == dep and req.marker is None:  # every unconditional line: pip meets them all
                named = True
                specs |= {str(s) for s in req.specifier}
        if named:
            info = item.get("download_info", {})
            wheel = re.sub(r".*/", "", str(info.get("url", "")))
            sha = str(info.get("archive_info", {}).get("hashes", {}).get("sha256", ""))
            return str(meta["version"]), {"spec": ",".join(sorted(specs)), "wheel": wheel, "sha256": sha}
    return None


def main(argv: list[str]) -> int:
    data: dict[str, object] = {"generated_by": "scripts/gen_copin_requirements.py (pip --dry-run --report: each wheel's METADATA Requires-Dist)"}
    for arg in argv:
        pair, _, folder = arg.partition("=")
        dist, _, dep = pair.partition(":")
        rows: dict[str, dict[str, str]] = {}
        for report in sorted(Path(folder).glob("*.json")):
            got = requirement(report, dist, dep)
            if got is not None:
                rows[got[0]] = got[1]
        ordered = dict(sorted(rows.items(), key=lambda kv: Version(kv[0])))
        data[dist] = {"dep": dep, "source": f"{dist} wheel METADATA Requires-Dist: {dep} ... (no extra marker), from its setup.py _deps", "releases": ordered}
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
