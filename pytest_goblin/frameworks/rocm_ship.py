"""Whether a repository already installs the ROCm build of a package a "needs a ROCm build" finding asks for
(review11b class 7: `blocker.trl_vllm_needs_rocm_build` on a repository whose Dockerfile is FROM rocm/vllm, and
`attention.flash_attn_rocm_build` on AMD's own MI300X repository whose Docker base image ships ROCm flash-attention).

The evidence, read from the same install files and lines as the blockers' exact pins (pins.exact_pins: the config's own
lines, its folder up to the repository root: requirements, setup files, Dockerfiles, README install lines and code blocks):
- the base image of a Dockerfile (its last stage's FROM) or an image a README/launcher line names, where AMD documents
  what the image holds (`IMAGES`, each with its source): rocm/vllm holds ROCm builds of vLLM and PyTorch, rocm/pytorch a
  ROCm PyTorch (not vLLM), rocm/megatron-lm ROCm PyTorch and flash-attention; an image tag naming ROCm 5 is not read
  (gfx942, MI300X, needs ROCm 6.0: torch_rocm.json);
- a requirement with a ROCm local version (`flash_attn==2.7.4+rocm6.3`, PEP 440 local version label) or a wheel URL of the
  package whose path names ROCm;
- an install from AMD's ROCm fork of the package's source (github.com/ROCm/flash-attention, ROCm/vllm, ROCm/bitsandbytes;
  ROCmSoftwarePlatform is the organisation's former name).

`shipped` gives package -> `Shipped` (file:line and what it says) from the exact pins; the kb entries that ask for a ROCm build name their
package (`rocm_build:`), and blockers.py / tools.audit_tools leave such a finding out where the repository ships that build,
saying so in the report's notes. Evidence for one package never answers another's requirement. Nothing is run or pulled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# What AMD documents each image to hold (the packages goblin's findings ask a ROCm build of).
IMAGES: dict[str, tuple[frozenset[str], str]] = {
    "rocm/vllm": (
        frozenset({"vllm", "torch"}),
        "ROCm docs-7.1.0 how-to/rocm-for-ai/inference/benchmark-docker/previous-versions/vllm-history.html "
        "(rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513: ROCm 6.3.1, vLLM 0.8.5, PyTorch 2.7.0; every tag lists ROCm, vLLM and PyTorch)",
    ),
    "rocm/pytorch": (
        frozenset({"torch"}),
        "vLLM v0.5.3 docs getting_started/amd-installation.rst (BASE_IMAGE rocm/pytorch: 'the PyTorch on ROCm base image'; "
        "vLLM and flash-attention are built on top of it)",
    ),
    "rocm/megatron-lm": (
        frozenset({"torch", "flash-attn"}),
        "ROCm docs, Training a model with ROCm Megatron-LM (v24.12-dev): the rocm/megatron-lm image's software table lists "
        "ROCm 6.1, PyTorch 2.4.0, Flash Attention v2.6; another tag is assumed to keep them",
    ),
}
PACKAGES = ("torch", "vllm", "flash-attn", "bitsandbytes")
SHOWN = {"torch": "PyTorch", "vllm": "vLLM", "flash-attn": "flash-attention", "bitsandbytes": "bitsandbytes"}
ROCM_BUILD = "rocm-build:"  # the pseudo-distribution pins.exact_pins reads the evidence as: `rocm-build:vllm`
_NAMES = {"torch": "torch", "vllm": "vllm", "flash_attn": "flash-attn", "flash-attn": "flash-attn", "bitsandbytes": "bitsandbytes"}
FORKS = {"flash-attention": "flash-attn", "vllm": "vllm", "bitsandbytes": "bitsandbytes"}
FORK_SOURCE = "github.com/ROCm (AMD's ROCm forks: flash-attention, vllm, bitsandbytes build for HIP)"
LOCAL_SOURCE = "PEP 440 local version label (`+rocmX.Y`: the build's own tag, as PyTorch's ROCm wheels are named)"

_IMAGE = re.compile(
    r"(?<![\w./-])(?:docker://)?(?:(?:docker\.io|index\.docker\.io)/)?(rocm/[a-z0-9][a-z0-9._-]{0,80})(?::([\w.-]{1,128}))?(?:@sha256:[0-9a-f]{6,64})?"
)
_FROM = re.compile(
    r"^[ \t]{0,16}FROM[ \t]{1,16}(?:--platform=[^ \t]{1,64}[ \t]{1,16})?([^ \t]{1,300})(?:[ \t]{1,16}AS[ \t]{1,16}([^ \t]{1,100}))?", re.IGNORECASE
)
_LOCAL = re.compile(r"(?<![\w.-])(torch|vllm|flash[-_]attn|bitsandbytes)[ \t]{0,8}===?[ \t]{0,8}v?[0-9][\w.]{0,40}\+(rocm[\w.]{0,40})", re.IGNORECASE)
_FORK = re.compile(r"github\.com/(?:ROCm|ROCmSoftwarePlatform)/(flash-attention|vllm|bitsandbytes)(?![\w-])", re.IGNORECASE)
_WHEEL = re.compile(r"^(torch|vllm|flash_attn|bitsandbytes)-", re.IGNORECASE)


@dataclass(frozen=True)
class Shipped:
    """Where the repository installs a ROCm build of `package`, and what says so."""

    package: str
    where: str  # "Dockerfile:1"
    what: str  # "builds FROM `rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513`"
    source: str  # what documents the image's contents / the build

    def phrase(self) -> str:
        return f"the repository's {self.where} {self.what}: a ROCm build of {SHOWN.get(self.package, self.package)} ({self.source})"


def _image(ref: str) -> tuple[str, str] | None:
    """(image name, tag) of a rocm/* image reference goblin knows the contents of; None otherwise, or for a ROCm 5 tag."""
    m = _IMAGE.fullmatch(ref.strip().strip("'\""))
    if m is None or m.group(1).lower() not in IMAGES:
        return None
    tag = m.group(2) or ""
    if re.search(r"(?i)rocm[-_]?5", tag):
        return None
    return m.group(1).lower(), tag


def image_packages(ref: str) -> tuple[frozenset[str], str, str] | None:
    """(packages, shown reference, source) of an image reference AMD documents; None for any other image."""
    got = _image(ref)
    if got is None:
        return None
    name, tag = got
    pkgs, source = IMAGES[name]
    return pkgs, f"{name}:{tag}" if tag else name, source


def line_evidence(line: str) -> list[tuple[str, str, str]]:
    """(package, what the line does, source) for one install line: a ROCm local version, a ROCm wheel URL, a ROCm fork's
    source, an image AMD documents (`docker run ... rocm/vllm:tag`); a comment line says nothing."""
    s = line.strip()
    if not s or s.startswith("#") or _FROM.match(line):
        return []
    out: list[tuple[str, str, str]] = []
    for m in _LOCAL.finditer(line):
        pkg = _NAMES[m.group(1).lower()]
        out.append((pkg, f"installs `{m.group(0).strip()}` ({m.group(2)} local version)", LOCAL_SOURCE))
    for m in _FORK.finditer(line):
        out.append((FORKS[m.group(1).lower()], f"installs from `{m.group(0)}`", FORK_SOURCE))
    for word in line.split():
        word = word.strip("'\"()[],;")
        if "://" in word and word.lower().endswith(".whl") and "rocm" in word.lower():
            w = _WHEEL.match(word.rsplit("/", 1)[-1])
            if w is not None:
                pkg = _NAMES[w.group(1).lower()]
                out.append((pkg, f"installs the ROCm wheel `{word[:160]}`", LOCAL_SOURCE))
        elif word.lower().startswith(("rocm/", "docker://rocm/", "docker.io/rocm/")) and (got := image_packages(word)) is not None:
            pkgs, shown, source = got
            out += [(p, f"runs the image `{shown}`", source) for p in sorted(pkgs)]
    return out


def dockerfile_evidence(text: str) -> list[tuple[int, str, str, str]]:
    """(line, package, what, source) of a Dockerfile's final stage's base image (an earlier stage's name followed to its
    FROM) where AMD documents what it holds."""
    stages: dict[str, tuple[int, str]] = {}
    last: tuple[int, str] | None = None
    for n, row in enumerate(text.splitlines(), 1):
        m = _FROM.match(row)
        if m is None:
            continue
        ref = m.group(1)
        base = stages.get(ref.lower())
        last = base if base is not None else (n, ref)
        if m.group(2):
            stages[m.group(2).lower()] = last
    if last is None or (got := image_packages(last[1])) is None:
        return []
    pkgs, shown, source = got
    return [(last[0], p, f"builds FROM `{shown}`", source) for p in sorted(pkgs)]


def shipped(pinned: Mapping[str, Any]) -> dict[str, Shipped]:
    """package -> where the repository installs its ROCm build, from the `rocm-build:<package>` entries of the exact pins
    (pins.exact_pins: the nearest first), each a Pin whose spec holds what the line does and its source, split by a NUL."""
    out: dict[str, Shipped] = {}
    for dist, pin in pinned.items():
        if dist.startswith(ROCM_BUILD):
            what, _, source = pin.spec.partition("\x00")
            out[dist[len(ROCM_BUILD) :]] = Shipped(dist[len(ROCM_BUILD) :], pin.where, what, source)
    return out
