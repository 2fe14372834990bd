"""The framework release a container image of the repository names, from any of its scripts (review11a #1, #4).

A repository that runs a framework from its own container image often pins it nowhere else: a GCP Batch script's
`export CONTAINER_IMAGE="axolotlai/axolotl-cloud:0.5.2"` (nuinashco/ua-safe-summarization scripts/gcp/submit.sh:16),
a Modal `Image.from_registry(f"winglian/axolotl@sha256:{AXOLOTL_REGISTRY_SHA}")` whose digest a comment names as
`main-20240705-py3.11-cu121-2.3.0` (modal-labs/llm-finetuning src/common.py:12-20), a k8s manifest's `image:`, a slurm
`--container-image=...`. pins.py reads a Dockerfile's FROM in the config's folders; this reads the image words of the
repository's shell, slurm, Python, YAML and Dockerfiles anywhere in the tree (the walk of pins._snapshot_files, read
through safepath, bounded, nothing run: pins.repository_images, pins.image_pin), only for images whose tag scheme goblin read from the framework's own build
(pins.IMAGE_TAGS: Axolotl's), and only where nothing else pins the framework (pins._with_image). A digest names no tag
by itself: the tag a comment beside it (or beside the line that sets the variable the digest is read from) names is
taken, said as assumed. Two images naming different releases pin none. A file named for inference, evaluation or
serving is passed over, as for snapshots.

Every Axolotl image is a CUDA build: axolotl v0.4.0 and v0.5.2 docker/Dockerfile-base:6 and 067b021c8b
docker/Dockerfile-uv-base:8 `FROM nvidia/cuda:$CUDA_VERSION-cudnn...`, the release images on it (v0.5.2
docker/Dockerfile:2 `FROM axolotlai/axolotl-base:$BASE_TAG`, docker/Dockerfile-cloud:2 `FROM axolotlai/axolotl:$BASE_TAG`);
pins.repository_images lists every image read, for the CUDA-image footgun (blockers._cuda_repository_image).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# `axolotlai/axolotl-cloud:0.5.2`, `docker://winglian/axolotl:main-py3.10-cu118-2.0.1`, `winglian/axolotl@sha256:{SHA}`
_IMAGE = re.compile(
    r"""(?<![\w./-])(?:docker://|dockerd://)?(?:(?:docker\.io|index\.docker\.io)/)?((?:axolotlai|winglian)/axolotl(?:-cloud(?:-term)?)?)"""
    r"""(?::([\w.-]{1,128}))?(?:@sha256:([0-9a-fA-F]{64}|\{[A-Za-z_][A-Za-z0-9_]{0,80}\}|\$\{?[A-Za-z_][A-Za-z0-9_]{0,80}\}?))?(?![\w/-])"""
)
# a tag a comment names: a release (`0.5.2`, `v0.5.2-py3.11-cu121-2.3.0`) or a nightly (`main-20240705-py3.11-cu121-2.3.0`)
_COMMENT_TAG = re.compile(r"""(?<![\w.-])((?:main-20[0-9]{6}|v?[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4})(?:-[\w.-]{1,120})?)(?![\w.-])""")
_COMMENT = re.compile(r"^[ \t]{0,40}(?:#|//)")
IMAGE_DISTS = ("axolotl",)  # the frameworks pins.IMAGE_TAGS names images of
COMMENT_SPAN = 3  # lines above a digest (or the line setting its variable) a comment naming its tag may be
AXOLOTL_CUDA_AT = (
    "axolotl v0.4.0 and v0.5.2 docker/Dockerfile-base:6, 067b021c8b docker/Dockerfile-uv-base:8 (FROM nvidia/cuda:...: the "
    "base of every Axolotl image); v0.5.2 docker/Dockerfile:2 and docker/Dockerfile-cloud:2 (the release images build on it)"
)


@dataclass(frozen=True)
class Image:
    """One framework image a file of the repository names: where (shown relative to the root, and the absolute file),
    the image as written, the tag read (from the word, or a comment beside its digest: `tag_from`)."""

    where: str
    file: str
    line: int
    image: str
    tag: str
    tag_from: str  # "" when the word has the tag, else "the comment at X:N"


def _assigned(rows: list[str], name: str) -> int:
    """1-based line of the last assignment of `name` (`NAME = (`, `NAME=...`, `export NAME=...`), 0 without one."""
    pattern = re.compile(rf"^[ \t]{{0,40}}(?:export[ \t]{{1,8}})?{re.escape(name)}[ \t]{{0,8}}[:=]")
    return next((n for n in range(len(rows), 0, -1) if pattern.match(rows[n - 1])), 0)


def _comment_tag(rows: list[str], at: int, shown: str) -> tuple[str, str] | None:
    """(tag, "comment at X:N") of the nearest comment line up to COMMENT_SPAN lines above line `at` that names a tag."""
    for n in range(at - 1, max(0, at - 1 - COMMENT_SPAN), -1):
        row = rows[n - 1]
        if not _COMMENT.match(row):
            continue
        m = _COMMENT_TAG.search(row)
        if m:
            return m.group(1), f"the comment at {shown}:{n}"
    return None


def images_in(text: str, shown: str, file: str) -> list[Image]:
    """The framework images the lines of one file name (comment lines are passed over)."""
    if "axolotl" not in text:
        return []
    rows = text.splitlines()
    out: list[Image] = []
    for n, row in enumerate(rows, 1):
        if "axolotl" not in row or _COMMENT.match(row):
            continue
        for m in _IMAGE.finditer(row):
            tag, digest = m.group(2) or "", m.group(3) or ""
            tag_from = ""
            if not tag and digest:
                var = digest.strip("{}$")
                at = _assigned(rows, var) if not re.fullmatch(r"[0-9a-fA-F]{64}", digest) else 0
                got = _comment_tag(rows, at or n, shown)
                if got is None:
                    continue
                tag, tag_from = got
            if not tag:
                continue
            out.append(Image(shown, file, n, m.group(0).removeprefix("docker://").removeprefix("dockerd://"), tag, tag_from))
    return out


def comment_images(text: str) -> list[tuple[int, str, str]]:
    """(line, image, tag) of the framework images a config's own comment lines name (`# run inside the
    winglian/axolotl:main-20241202 docker image`: review13a row 2). A comment is not a pin: nothing in the repository runs
    that image, so the caller only says it beside the release it assumes."""
    if "axolotl" not in text:
        return []
    out = []
    for n, row in enumerate(text.splitlines(), 1):
        if "axolotl" in row and _COMMENT.match(row):
            out += [(n, m.group(0), m.group(2)) for m in _IMAGE.finditer(row) if m.group(2)]
    return out
