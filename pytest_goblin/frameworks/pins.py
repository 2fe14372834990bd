"""The framework version a config is written for, from what it or its repository pins.

goblin's framework tables come from one release of each framework (transformers 5.24.0, trl 1.16.0,
...). A recipe whose repository pins an older one runs with that release, which may not know a key
goblin would add, or may reject one the recipe has. `pins(config)` says, per distribution, what the
config or its repository pins: transformers, trl, torchtune, llamafactory (LLaMA-Factory; its
package was `llmtuner` before 0.8, read under `llamafactory`), axolotl, peft, deepspeed,
accelerate and unsloth (its CalVer releases, 2026.8.19; not unsloth_zoo), each by its lowercase PyPI name.

Where a version is read (every file opened through safepath, size-bounded, nothing executed or
imported; a file that cannot be read safely, is too large or is not UTF-8 text is skipped):

- the config's own comment and launcher lines (`# pip install trl==0.8.6`);
- in the config's folder and each folder above it up to the repository root (at most MAX_UP):
  setup.py, setup.cfg, pyproject.toml (PEP 508 strings and Poetry `name = "^x.y"` tables),
  requirements*.txt, requirement*.txt, reqs.txt and requirements/*.txt (and a `.txt` of another name whose content is a
  requirements list: requirements_file; conda export lines `trl=0.16.0=pypi_0` in them, or a `.txt` all of such lines,
  conda_export_lines, read as exact pins), Pipfile, environment.yml/.yaml (conda `name=x.y` and the
  `pip:` list; a YAML file of another name whose content is a conda environment, conda_env_file), poetry.lock / uv.lock / Pipfile.lock (the release resolved), Dockerfile,
  Dockerfile.*, *.Dockerfile and docker/ Dockerfiles (`pip install x==v`, with the file's own
  ARG/ENV defaults put in, and a base image whose tag names the framework's release: only images
  whose tag scheme goblin read from the framework's own build, IMAGE_TAGS), a README's install
  lines (in a code block or a `pip install` / `git clone` line: `x==v`,
  `git+https://github.com/o/x@v1.2.3`, `git clone -b v1.2.3 .../x`, a release branch `@release/0.5.0` or
  `torchtune # release/0.5.0` as that release; `cd X && pip install -e .`
  reads the copy in folder X, and the pins of X's own setup.py / pyproject.toml: installing it installs them);
- the install lines of Python and shell scripts there (Modal `.pip_install("torchtune @ git+...@c2c6f4a")`,
  `subprocess.run(["pip", "install", ...])`, `setup.sh`; read as text, nothing run; a script named for inference,
  evaluation or serving (or a shell script named for a server) is passed over; `cd X` + `pip install -e .` in a shell
  script installs X as in a README); a shell script of another folder a README names or a script read runs (`bash
  setup/x.sh`, `./install.sh`, `bash ../tools/install.sh` where the path stays in the repository), SCRIPT_DEPTH steps deep;
- an environment line in the prose of the README of the config's own folder or of its launched script's folder (or
  of a folder above whose README names the script by file name)
  (`**Environment**: transformers==4.33.0 for GLM-4-9B`; of several releases on one line, the one `for` the model the
  config names, none when it names none); it wins over a range and over a parent folder's pin;
- the nearest package (setup.py / pyproject.toml) above the script the config's launch line runs, below the repository
  root: its requirements win over the root's, unless the repository has a vendored copy or a commit of the framework;
- a `transformers[torch]` range beside an exact or bounded torch pin: narrowed to the releases whose own `[torch]`
  extra admits that torch (frameworks/torchreq.py; Pin.cap, said in Pin.capped_by); likewise a transformers range beside
  a tokenizers pin of the same file (`tokenizers==0.12.1`: transformers 4.33.3, frameworks/copins.py), and a TRL range
  beside a transformers pin of the same file (`transformers==4.52.4`: trl 0.19.1);
- a vendored framework copy in the folder or in one of its sub-folders named for a framework or
  for vendored code (third_party/, vendor/, external/, ...) or named by .gitmodules: its own version
  string (VENDORED: LLaMA-Factory's extras/env.py VERSION, `__version__` in the package's
  __init__.py, Axolotl's and TRL's VERSION file, torchtune's and DeepSpeed's version.txt); such a
  copy's own setup.py / pyproject.toml / requirements files count as the folder's (installing it
  installs them);
- a torchtune recipe file the repository copied from a release (the one a `tune run` line naming the config runs,
  else one named as the config's recipe): its content hash against recipe_hashes.json (scripts/gen_recipe_hashes.py)
  gives the release, said as "vendored recipe X identical to torchtune vY"; only where nothing else pins torchtune;
- a git submodule (.gitmodules) of a framework whose folder is not checked out: the commit the repository's own git
  index records for it (frameworks/gitlink.py, a gitlink entry; read as a commit pin, placed where goblin's history
  has it), else the framework is named but its version is not ("vendored, version unknown": Pin.version is empty);
- a git commit: `git+https://github.com/o/x@<sha>`, or `git clone .../x` followed within CHECKOUT_SPAN lines
  (README code blocks, Dockerfiles, shell scripts) by `git checkout <sha>` / `git reset --hard <sha>` (`git checkout v0.4.0`, a release tag, pins that
  release). frameworks/commits.py
  places it between the release it follows (Pin.version: defaults are read there) and the next one (Pin.before;
  a key counts as rejected only where both lack it, history.has), said as "commit 019fc6d (33 commits after
  v0.15.0, before v0.16.0)"; a commit it cannot place keeps Pin.version empty (no key judged).
- a development build `==X.Y.Z.devN` (rcN, aN, bN): PEP 440 orders it before X.Y.Z, so history reads it like a
  commit between two releases, where the newest release goblin read below X.Y.Z and X.Y.Z agree (history._read_as,
  said in the reading's source); a local label alone (`==4.45.0+cu121`) is that release;
- an environment snapshot anywhere in the repository (`pip_freeze.txt`, `env.txt`, a `*snapshot*.yml`, a conda export:
  _snapshot_pins): where nothing pins the framework, a range it fits does, or only a commit goblin cannot place does
  (said beside it); its exact pins only, not one for inference or serving, nothing where two snapshots disagree;
  likewise a conda environment file written by hand outside the config's folders (ENV_FILE), but only over a range it fits.

Precedence: the config's own comment or launch line first, whatever it says. Otherwise, of what
the repository says: a vendored copy with its version > a placed commit > a submodule or commit of unknown version > an exact
pin (`==x.y.z`, a lock file's entry, a conda `=x.y.z`, a tag, a .devN build) > a range (`>=`, `~=`, `==x.*`, a Poetry
caret), then an environment snapshot (over a range it fits, an unplaceable commit or nothing); between
two of the same kind, the nearest folder's (the config's own folder first, then its parents up to
the repository root); in one folder, the file read first in the order above, then its first line.
An `==`/`~=`/`>=` pin gives the oldest version the recipe may run with (Pin.version), and its whole
specifier (Pin.constraint) says which release pip installs; an edit that adds a key first seen in a
later version (facts.KEY_SINCE) is dropped with the reason. history.reading turns the pin of a
config's framework into the release it is read as (`sources["framework"]`, `goblin parse --json`'s
`framework_version`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..pysource import parse as parse_source
from ..safepath import UnsafePath, project_root, read_bytes, read_text, repository_root, tree_of
from . import image_pins
from .facts import KEY_SINCE, OLDEST_READ, VALUE_SINCE
from .rocm_ship import ROCM_BUILD, dockerfile_evidence, line_evidence

DISTS = ("transformers", "trl", "torchtune", "llamafactory", "axolotl", "peft", "deepspeed", "accelerate", "unsloth")
# LLaMA-Factory's package was `llmtuner` before 0.8 (hiyouga/LLaMA-Factory src/llmtuner/__init__.py,
# `__version__ = "0.1.0"` at 091805d); its releases continue the same numbers as `llamafactory`.
_ALIAS = {"llmtuner": "llamafactory", "llama-factory": "llamafactory", "llama_factory": "llamafactory"}
_NAME = "transformers|trl|torchtune|llamafactory|llmtuner|axolotl|peft|deepspeed|accelerate|unsloth"
_VER = r"([0-9]{1,6}(?:\.[0-9]{1,6}){1,2})"
# `<X` / `<=X` heads too (review12a #18, hkust-nlp/dart-math requirements.txt:2 `transformers<4.43`): an upper bound
# alone lets pip install the newest release below it, which history.run_version reads as it reads any range.
_PIN = re.compile(rf"""(?<![\w.-])({_NAME})(?:\[[\w,. -]{{0,100}}\])?[ \t]{{0,16}}(==|~=|>=|<=|<(?!=))[ \t]{{0,16}}v?{_VER}(\.\*)?""", re.IGNORECASE)
# The whole specifier of such a pin (`transformers>=4.40,<4.46`): the upper bound decides which release pip installs.
_TAIL = re.compile(r"""[ \t]{0,16},[ \t]{0,16}(<=|<|!=|>=|>|==)[ \t]{0,16}v?([0-9]+(?:\.[0-9]+){0,2}(?:\.\*)?)""")
# conda's match spec `name=1.2.3` (one `=`): `=1.2` means 1.2.*, `=1.2.3` that release (its builds)
_CONDA = re.compile(rf"""^[ \t]{{0,32}}-[ \t]{{0,8}}(?:[\w.-]{{1,40}}::)?({_NAME})[ \t]{{0,8}}=(?!=)[ \t]{{0,8}}v?{_VER}""", re.IGNORECASE)
# A TOML dependency table line: Pipfile `transformers = "==4.45.2"`, Poetry `transformers = "^4.45"`, or `{version = "..."}`
_TOML_DEP = re.compile(
    rf"""^[ \t]{{0,16}}["']?({_NAME})["']?[ \t]{{0,8}}=[ \t]{{0,8}}(?:\{{[^}}\n]{{0,200}}?version[ \t]{{0,8}}=[ \t]{{0,8}})?["']([^"'\n]{{1,60}})["']""",
    re.IGNORECASE,
)
# pip's VCS form `git+https://github.com/huggingface/transformers@v4.45.2` (in requirements, a README, a Dockerfile)
_GIT_REF = re.compile(rf"""github\.com/[\w.-]{{1,100}}/([\w-]{{1,100}})(?:\.git)?@v?{_VER}(?![\w.])""", re.IGNORECASE)
# ... and pinned to a commit, `git+https://github.com/huggingface/trl.git@019fc6d`: one build of x whose release goblin
# cannot tell offline (a development version between two tags)
_GIT_SHA = re.compile(r"""github\.com/[\w.-]{1,100}/([\w-]{1,100})(?:\.git)?@([0-9a-f]{7,40})(?![\w.])""")
# ... and a PEP 508 direct reference with no ref at all, `transformers @ git+https://github.com/huggingface/transformers.git`
# (review6b #38, MeetKai/functionary functionary/train/pyproject.toml:22): the default branch as of the install, which
# names no release (Pin.kind "branch"): read like no pin, at the newest release goblin read, said as assumed (the
# branch is at least that new today; history.run_version), but against an exact pin it ranks as one (Pin.rank): the
# nearest folder's says which runs, not a parent's exact pin.
_GIT_HEAD = re.compile(
    rf"""(?<![\w.-])({_NAME})(?:\[[\w,. -]{{0,100}}\])?[ \t]{{0,8}}@[ \t]{{0,8}}git\+https?://github\.com/[\w.-]{{1,100}}/[\w-]{{1,100}}(?:\.git)?/?(?=["'\s,;\]]|$)""",
    re.IGNORECASE,
)
# ... and the bare VCS URL with no ref, `git+https://github.com/huggingface/peft.git` (review10b #36, tloen/alpaca-lora
# requirements.txt:9; pip names the distribution from the repository's own metadata, read here by the repository's
# name as for `@v1.2.3`): the default branch too
_GIT_BARE = re.compile(r"""(?<![\w.-])git\+https?://github\.com/[\w.-]{1,100}/([\w-]{1,100})(?:\.git)?/?(?=["'\s,;\]#]|$)""", re.IGNORECASE)
DEFAULT_BRANCH = "the default branch, no release named"
_CLONE_URL = re.compile(r"""github\.com/[\w.-]{1,100}/([\w-]{1,100})""", re.IGNORECASE)
_CLONE_TAG = re.compile(rf"""(?:^|[ \t])(?:-b|--branch)(?:[ \t]{{1,8}}|=)(release/)?v?{_VER}(?![\w.])""")
# A release branch named in an install line: `git+https://github.com/pytorch/torchtune@release/0.5.0`, or a framework
# named with the branch in a comment, `torchtune # release/0.5.0` (review5 #11, kk97111/ONE-PASS README.md:55): read as
# that release (the branch carries the release and its patch fixes, not the main line after it).
_GIT_BRANCH = re.compile(rf"""github\.com/[\w.-]{{1,100}}/([\w-]{{1,100}})(?:\.git)?@release/v?{_VER}(?![\w.])""", re.IGNORECASE)
_NAMED_BRANCH = re.compile(rf"""(?<![\w./-])({_NAME})(?![\w-])[^\n#]{{0,40}}#[ \t]{{0,8}}release/v?{_VER}(?![\w.])""", re.IGNORECASE)
_FROM = re.compile(r"""^[ \t]{0,16}FROM[ \t]{1,16}(?:--platform=[^ \t]{1,64}[ \t]{1,16})?([\w./:@-]{1,256})""", re.IGNORECASE)
MAX_UP = 6  # folders above the config's own that are looked at, at most
MAX_ENTRIES = 4096  # entries of one folder listed, at most
MAX_FILES = 24  # files of one kind (requirements*.txt, Dockerfiles) read per folder, at most
LIMIT = 500_000  # bytes of one pin file; a larger one is skipped
LOCK_LIMIT = 4_000_000  # bytes of a lock file (uv.lock, poetry.lock, Pipfile.lock), which lists every package
COPIN_SPAN = 4  # lines of a README or script between a framework's pin and a co-pin of the same install, at most
HEAD = 65_536  # bytes read from the top of a vendored copy's version file


@dataclass(frozen=True)
class Pin:
    dist: str
    version: str  # the oldest version the pin allows; "" when the framework is vendored at an unknown version
    spec: str  # e.g. "transformers==4.36.2"
    where: str  # "setup.py:68", "the config's own line 3", "a vendored copy, LLaMA-Factory/src/llamafactory/extras/env.py:30"
    constraint: str = ""  # the whole specifier, e.g. ">=4.40,<4.46" (upper bounds included; empty when not read)
    # "pin" (a requirement), "vendored" (a copy in the tree), "submodule" (version unknown), "commit" (a git commit),
    # "branch" (a git install of the default branch), "calls" (no pin: the newest release the script's trainer calls run on)
    kind: str = "pin"
    file: str = ""  # the file it was read from (absolute), "" for the config's own line
    line: int = 0
    # a commit pin goblin's history places (frameworks/commits.py): `version` is the release it follows, `before` the
    # next one ("" when newer than every release read); keys are judged against both, defaults read at `version`
    before: str = ""
    extras: str = ""  # the extras the requirement names (`transformers[torch]>=4.28.1,<5`: "torch")
    # a range a torch pin of the repository narrows (frameworks/torchreq.py): the specifier pip is left with, and why
    cap: str = ""
    capped_by: str = ""
    # no version is written (`pip install trl` beside `pip install transformers==4.51.1`): the release is the newest the
    # co-pin admits (copins.py), assumed (pins._unpinned_copinned; review13b #21)
    unpinned: bool = False

    @property
    def exact(self) -> bool:
        """One release: `==x.y.z` (not `==x.y.*`), a vendored copy's own version."""
        head = self.constraint.split(",", 1)[0]
        return self.kind == "vendored" or (head.startswith("==") and "*" not in head)

    @property
    def rank(self) -> int:
        if self.kind == "vendored":
            return 0
        if self.kind in ("submodule", "commit"):
            return 1 if self.version else 2  # a placed commit says more than a submodule or commit of unknown release
        return 3 if self.exact or self.kind == "branch" else 4  # a default-branch install against an exact pin: the nearest wins


# Pins of other packages a blocker reads (kb/blockers.yaml): only an exact one decides which
# release runs (`==`, or `~=X.Y.Z`, which stays below X.Y+1); `>=` lets pip install the newest, so a
# `>=` pin is kept only for torch and only with an upper bound (`torch>=1.13,<2.1`: every release it
# allows may lack a ROCm build for the GPU). A local version (`torch==2.0.1+cu118`) is kept in the spec.
# conda's `pytorch=2.0.1` (one `=`: that release, any build; `=2.0` is 2.0.*) is read as torch too.
# tokenizers is read too, for the transformers range its pin narrows (frameworks/copins.py): `==`, an upper bound
# (`tokenizers<0.14`, `<=0.13.3`) or a bounded `>=` (`>=0.13,<0.14`); a plain `>=` narrows nothing pip resolves.
_EXACT_PIN = re.compile(
    r"""(?<![\w.-])(bitsandbytes|torch|pytorch|vllm|tokenizers)(?![\w-])\s*(==|~=|>=|<=|<|=(?!=))\s*v?([0-9]+\.[0-9]+(?:\.[0-9]+)?)(\+[a-z0-9.]+)?""",
    re.IGNORECASE,
)
_BOUNDED = ("torch", "tokenizers")  # read with `>=` only beside an upper bound


# An install line that takes torch from PyTorch's CUDA wheel index (`--index-url https://download.pytorch.org/whl/cu121`,
# `--extra-index-url`, `-f .../cu118/torch_stable.html`): read as the pseudo-distribution `torch-index`, its version the build (cu121).
_TORCH_INDEX = re.compile(r"""(--(?:extra-)?index-url|-f|--find-links)[ \t=]{1,8}https?://download\.pytorch\.org/whl/(cu[0-9]{2,4})\b""", re.IGNORECASE)
_OTHER_ACCELERATOR = re.compile(r"(?i)\b(?:torch[-_]npu|npu|xpu|ipex|intel[-_]extension|habana|gaudi|torch[-_]xla)\b")


def canonical(name: str) -> str | None:
    n = name.lower()
    n = _ALIAS.get(n, n)
    return n if n in DISTS else None


def _scan_all(text: str, where: str, file: str = "", pattern: re.Pattern[str] = _PIN) -> list[Pin]:
    """Every pin in `text`, in line order (`where` is the file's name as shown, "" for the config)."""
    out: list[Pin] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        at = f"{where}:{lineno}"
        for m in pattern.finditer(line):
            dist, op, ver = m.group(1), m.group(2), m.group(3)
            if pattern is _EXACT_PIN:
                if op == "~=" and ver.count(".") < 2:
                    continue  # `~=0.45` allows any 0.x from 0.45 on: not one release
                name = dist.lower()
                if (name == "pytorch") != (op == "="):
                    continue  # `pytorch` is conda's name (one `=`); pip's is `torch`
                if name == "pytorch":
                    name, dist, op, star_conda = "torch", "torch", "==", "" if ver.count(".") == 2 else ".*"
                    ver += star_conda
            else:
                name = canonical(dist) or dist.lower()
            star = m.group(4) if pattern is _PIN and m.group(4) else ""
            local = (m.group(4) or "").lower() if pattern is _EXACT_PIN else ""
            constraint = f"{op}{ver}{star}{local}"
            rest = line[m.end() :]
            pre = _PRE.match(rest) if pattern is _PIN and not star else None
            if pre is not None and (pre.group(1) or pre.group(2)):
                rest = rest[pre.end() :]
                if op == "==":  # one development build (`llamafactory==0.9.3.dev0`) or a local build of a release
                    out.append(dev_pin(canonical(dist) or dist.lower(), ver, pre.group(1) or "", pre.group(2) or "", at, file, lineno))
                    continue
            while tail := _TAIL.match(rest):
                constraint += f",{tail.group(1)}{tail.group(2)}"
                rest = rest[tail.end() :]
            if pattern is _EXACT_PIN and op == ">=" and (name not in _BOUNDED or not re.search(r",<", constraint)):
                continue  # lets pip install the newest release
            if pattern is _EXACT_PIN and op.startswith("<") and name != "tokenizers":
                continue  # an upper bound alone is read for tokenizers only
            if name == "torch" and _OTHER_ACCELERATOR.search(line):
                continue  # the torch another accelerator's plugin needs (LLaMA-Factory setup.py's "torch-npu" extra)
            extras = re.search(r"\[([\w,. -]{0,100})\]", m.group(0)) if pattern is _PIN else None
            if pattern is _PIN and op.startswith("<"):
                ver = _newest_below(name, constraint)
                if not ver:
                    continue  # a bound below every release goblin read: which one pip installs is unknown
            out.append(Pin(name, ver, f"{dist.lower()}{constraint}", at, constraint, file=file, line=lineno, extras=extras.group(1) if extras else ""))
        if pattern is _PIN:
            out += _git_refs(line, at, file, lineno)
        elif pattern is _EXACT_PIN and (ix := _TORCH_INDEX.search(line)):
            out.append(Pin("torch-index", ix.group(2).lower(), ix.group(0), at, file=file, line=lineno))
        if pattern is _EXACT_PIN and "rocm" in line.lower():
            out += [rocm_build_pin(pkg, what, source, at, file, lineno) for pkg, what, source in line_evidence(line)]
    return out


def _table_pins(body: str, rel: str, file: str, pattern: re.Pattern[str]) -> list[Pin]:
    """The framework pins of a README's version-table rows (version_rows), said as the README's table row, file:line
    (the exact pins of blocker packages in a `pip list` block are frameworks/listed.py's, pins._listed_pins)."""
    return [dataclasses.replace(p, where=f"the README's table row, {p.where}") for p in _scan_all(version_rows(body), rel, file, pattern)]


def _newest_below(dist: str, constraint: str) -> str:
    """The newest release goblin read that an upper-bounded range (`<4.43`, `<=0.12.0,>=0.10`) admits: the `version` of
    such a pin, which has no lower bound to hold ("" where no read release fits, or the framework's releases are unread)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    from .read_releases import read_versions

    try:
        spec = SpecifierSet(constraint)
        versions = read_versions(dist)
    except (InvalidSpecifier, KeyError):
        return ""
    fits = []
    for v in versions:
        try:
            if Version(v) in spec:
                fits.append(v)
        except InvalidVersion:
            continue
    return fits[-1] if fits else ""


# A ROCm build of a package the repository installs (frameworks/rocm_ship.py), read with the exact pins as the pseudo-
# distribution `rocm-build:<package>`; its spec holds what the line does and the source, split by a NUL.
def rocm_build_pin(pkg: str, what: str, source: str, at: str, file: str, lineno: int) -> Pin:
    return Pin(f"{ROCM_BUILD}{pkg}", "", f"{what}\x00{source}", at, file=file, line=lineno)


def _scan(text: str, where: str, pattern: re.Pattern[str] = _PIN) -> dict[str, Pin]:
    """dist -> the strongest pin of one text (an exact pin over a range; else the first)."""
    out: dict[str, Pin] = {}
    for p in _scan_all(text, where, pattern=pattern):
        if p.dist not in out or p.rank < out[p.dist].rank:
            out[p.dist] = p
    return out


def _git_refs(line: str, at: str, file: str, lineno: int) -> list[Pin]:
    """`git+https://github.com/o/x@v1.2.3` and `git clone -b v1.2.3 https://github.com/o/x`: one release of x."""
    out = []
    for m in _GIT_REF.finditer(line):
        dist = canonical(m.group(1))
        if dist:
            out.append(Pin(dist, m.group(2), f"{dist}=={m.group(2)} (git tag)", at, f"=={m.group(2)}", file=file, line=lineno))
    for m in _GIT_SHA.finditer(line):
        dist = canonical(m.group(1))
        if dist:
            out.append(commit_pin(dist, m.group(2), at, file, lineno))
    for m in (*_GIT_BRANCH.finditer(line), *_NAMED_BRANCH.finditer(line)):
        dist = canonical(m.group(1))
        if dist:
            out.append(Pin(dist, m.group(2), f"{dist}=={m.group(2)} (release branch release/{m.group(2)})", at, f"=={m.group(2)}", file=file, line=lineno))
    heads = []
    for m in _GIT_HEAD.finditer(line):
        heads.append(m.span())
        dist = canonical(m.group(1))
        if dist:
            out.append(Pin(dist, "", f"{dist} @ git+{m.group(0).split('git+', 1)[1]} ({DEFAULT_BRANCH})", at, "", "branch", file=file, line=lineno))
    for m in _GIT_BARE.finditer(line):
        dist = canonical(m.group(1))
        if dist and not any(a <= m.start() < b for a, b in heads):  # not the URL of a `name @ git+...` already read
            out.append(Pin(dist, "", f"{m.group(0)} ({DEFAULT_BRANCH})", at, "", "branch", file=file, line=lineno))
    if "git clone" in line:
        url, tag = _CLONE_URL.search(line), _CLONE_TAG.search(line)
        dist = canonical(url.group(1).removesuffix(".git")) if url else None
        if dist and tag:
            what = f"release branch release/{tag.group(2)}" if tag.group(1) else "git clone of a tag"
            out.append(Pin(dist, tag.group(2), f"{dist}=={tag.group(2)} ({what})", at, f"=={tag.group(2)}", file=file, line=lineno))
    return out


# What PEP 440 writes after a release's numbers in an `==` pin: a pre-release or development segment (`0.9.3.dev0`,
# `4.57.0.dev0`, `1.0.0rc1`), which orders BEFORE that release, and a local label (`4.45.0+cu121`, `0.9.3.dev0+g1a2b`),
# which does not change the release. A `.postN` is not taken here (it is that release, read as it).
_PRE = re.compile(r"""(\.?(?:dev|rc|a|b)[0-9]{0,6})?(\+[A-Za-z0-9.]{1,60})?(?![\w.+])""")


def dev_pin(dist: str, release: str, pre: str, local: str, at: str, file: str, lineno: int) -> Pin:
    """`==X.Y.Z.devN` (or rcN/aN/bN): a build PEP 440 orders before X.Y.Z, kept as such (Pin.version "0.9.3.dev0");
    history reads it where the read release below X.Y.Z and X.Y.Z agree (history._read_as), as a commit between two
    releases. `==X.Y.Z+local` alone is release X.Y.Z, built locally."""
    if not pre:
        return Pin(dist, release, f"{dist}=={release}{local} (a local build of {release})", at, f"=={release}", file=file, line=lineno)
    version = str(Version(release + pre))  # PEP 440's normal form: `0.9.3.dev0`, `1.0.0rc1`
    return Pin(dist, version, f"{dist}=={release}{pre}{local} (a development build)", at, f"=={version}", file=file, line=lineno)


def commit_pin(dist: str, sha: str, at: str, file: str, lineno: int, how: str = "a git pin") -> Pin:
    """A pin to one commit of `dist`: placed between two releases by the framework's own history (frameworks/commits.py),
    else of unknown release."""
    from .commits import place

    got = place(dist, sha)
    if got is None:
        return Pin(dist, "", f"{dist} @ commit {sha[:12]} ({how}, release unknown)", at, "", "commit", file=file, line=lineno)
    return Pin(dist, got.after, f"{dist} @ {got.said}", f"{at}; placed by {got.source}", "", "commit", file=file, line=lineno, before=got.before)


# `git clone https://github.com/o/axolotl` followed (same line or the next few) by `git checkout <sha>` / `git reset --hard
# <sha>`: that commit of the clone (review3 #7, RLHFlow README.md: clone, cd axolotl, git checkout 55cc214c76...)
_CHECKOUT = re.compile(
    r"""(?<![\w-])git[ \t]{1,8}(?:-C[ \t]{1,8}[\w./-]{1,200}[ \t]{1,8})?(?:checkout|reset[ \t]{1,8}--hard)[ \t]{1,8}([0-9a-f]{7,40})(?![\w.])"""
)
CHECKOUT_SPAN = 6  # lines after a `git clone` in which its `git checkout <sha>` is looked for
# ... or `git checkout v0.4.0` / `git checkout tags/v0.4.0`: that release of the clone (review4 #3, moeru-ai/Moeru-Llama-3-8B
# Dockerfile:7 clones Axolotl, :11 `RUN git checkout v0.4.0`)
_CHECKOUT_TAG = re.compile(rf"""(?<![\w-])git[ \t]{{1,8}}(?:-C[ \t]{{1,8}}[\w./-]{{1,200}}[ \t]{{1,8}})?checkout[ \t]{{1,8}}(?:tags/)?v?{_VER}(?![\w.])""")


def _clone_checkouts(text: str, where: str, file: str) -> list[Pin]:
    out: list[Pin] = []
    rows = text.splitlines()
    for i, line in enumerate(rows):
        if "git clone" not in line or not (url := _CLONE_URL.search(line)):
            continue
        dist = canonical(url.group(1).removesuffix(".git"))
        if dist is None:
            continue
        for j in range(i, min(len(rows), i + 1 + CHECKOUT_SPAN)):
            if j > i and "git clone" in rows[j]:
                break
            rest = rows[j][url.end() :] if j == i else rows[j]
            if m := _CHECKOUT.search(rest):
                out.append(commit_pin(dist, m.group(1), f"{where}:{j + 1}", file, j + 1, f"git checkout after the clone at line {i + 1}"))
                break
            if m := _CHECKOUT_TAG.search(rest):
                ver = m.group(1)
                spec = f"{dist}=={ver} (git checkout of the tag after the clone at line {i + 1})"
                out.append(Pin(dist, ver, spec, f"{where}:{j + 1}", f"=={ver}", file=file, line=j + 1))
                break
    return out


def _conda(text: str, where: str, file: str) -> list[Pin]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _CONDA.match(line)
        dist = canonical(m.group(1)) if m else None
        if m and dist:
            ver = m.group(2)
            constraint = f"=={ver}" if ver.count(".") >= 2 else f"=={ver}.*"
            out.append(Pin(dist, ver, f"{m.group(1).lower()}={ver} (conda)", f"{where}:{lineno}", constraint, file=file, line=lineno))
    return out


# A conda export (`conda list --export`, `conda create --file`) kept as a requirements file (`requirements.txt` of a
# sub-project: `trl=0.16.0=pypi_0`, `transformers=4.50.3=pypi_0`, `torch=2.6.0=pypi_0`): `name=version=build`, one
# installed build of that release, read as an exact pin. pip cannot read such a line, so it is no pip requirement.
_CONDA_EXPORT = re.compile(r"""^[ \t]{0,8}(\w[\w.-]{0,100})=v?([0-9]{1,6}(?:\.[0-9]{1,6}){1,2})(\+[a-z0-9.]{1,40})?=([\w.+-]{1,100})[ \t]*$""")
_EXPORT_LINE = re.compile(r"""^\w[\w.-]{0,100}=[\w.+!]{1,60}=[\w.+-]{1,100}$""")  # any package's line (`openssl=1.1.1w=h7f8727e_0`)
_EXACT_EXPORT = ("bitsandbytes", "torch", "pytorch", "vllm", "tokenizers")  # the names _EXACT_PIN reads


def conda_export_lines(body: str) -> bool:
    """Whether a text is a conda export: at least two `name=version=build` lines and no other uncommented line."""
    rows = [row.strip() for row in body.split("\n", REQ_LINES + 1) if row.strip() and not row.lstrip().startswith("#")]
    return len(rows) <= REQ_LINES and len(rows) >= 2 and all(_EXPORT_LINE.match(row) for row in rows)


def _conda_export(text: str, where: str, file: str, exact: bool = False) -> list[Pin]:
    """The framework pins (`exact`: the torch / bitsandbytes / vllm / tokenizers pins) of a conda export's lines."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _CONDA_EXPORT.match(line)
        if m is None:
            continue
        name, ver, local, build = m.group(1).lower(), m.group(2), (m.group(3) or "").lower(), m.group(4)
        dist = ("torch" if name == "pytorch" else name) if exact and name in _EXACT_EXPORT else None if exact else canonical(name)
        if dist is None:
            continue
        spec = f"{name}={ver}{local}={build} (conda export)"
        out.append(Pin(dist, ver, spec, f"{where}:{lineno}", f"=={ver}{local if exact else ''}", file=file, line=lineno))
    return out


def _bump(parts: list[int], at: int) -> str:
    head = [*parts[:at], parts[at] + 1]
    return ".".join(str(p) for p in head + [0] * max(0, 2 - len(head)))


def _toml_constraint(spec: str) -> str | None:
    """A Pipfile / Poetry version string as a PEP 440 specifier: `^1.2.3` -> `>=1.2.3,<2.0`, `~1.2.3`
    -> `>=1.2.3,<1.3`, a bare `1.2.3` -> `==1.2.3` (Poetry's dependency-specification rules); `*` -> None."""
    s = spec.strip()
    if s[:2] in ("==", "~=", ">="):
        return s.replace(" ", "")
    op = s[:1] if s[:1] in "^~" else ""
    body = s[len(op) :].lstrip("v")
    if not re.fullmatch(r"[0-9]{1,6}(?:\.[0-9]{1,6}){0,2}", body):
        return None
    parts = [int(p) for p in body.split(".")]
    if op == "^":
        first = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
        return f">={body},<{_bump(parts, first)}"
    if op == "~":
        return f">={body},<{_bump(parts, min(1, len(parts) - 1))}"
    return f"=={body}" if len(parts) >= 2 else None


def _toml(text: str, where: str, file: str) -> list[Pin]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _TOML_DEP.match(line)
        dist = canonical(m.group(1)) if m else None
        constraint = _toml_constraint(m.group(2)) if m and dist else None
        if m and dist and constraint:
            version = re.split(r"[,<]", constraint[2:], maxsplit=1)[0].lstrip("=")
            if version.count(".") >= 1:
                out.append(Pin(dist, version, f"{m.group(1).lower()} = {m.group(2)!r}", f"{where}:{lineno}", constraint, file=file, line=lineno))
    return out


# Base images whose tag names the framework's release: `axolotlai/axolotl:0.12.2-py3.11-cu128-2.8.0`.
# Axolotl's docker build tags its images `{{version}}` (docker/metadata-action type=pep440) or the
# branch name, then `-py<python>-cu<cuda>-<torch>` (axolotl .github/workflows/main.yml@00d2abed,
# jobs build-axolotl, build-axolotl-cloud, build-axolotl-cloud-no-tmux): a `main-...` tag is a branch
# build and names no release; the trailing number is torch's. From v0.6.0 (6aa31b44c6, main.yml:3-8
# `tags: - "v*"`, :47-52) the same tags went to winglian/axolotl* too; before it (v0.4.0 1427d5b502,
# v0.5.0 e4af51eb66) only `main` was built there, so a release-numbered winglian tag names that release.
IMAGE_TAGS = {f"{org}/axolotl{kind}": "axolotl" for org in ("axolotlai", "winglian") for kind in ("", "-cloud", "-cloud-term")}
_TAG_RELEASE = re.compile(r"v?([0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6})(?:-|$)")
# `axolotlai/axolotl:main-20250812-py3.11-cu126-2.7.1`: the nightly build of the main branch, tagged `{{ branch }}-{{ date
# 'YYYYMMDD' }}` by a schedule at 00:00 UTC (axolotl .github/workflows/nightlies.yml:4-6,45 @067b021c8b), so main as it
# was before that day began. Each main-line stretch between two releases (commit_releases.json's segments: the release it
# follows, the next one) with the UTC day of its first commit (`git log -1 --format=%cd` of each segment's first commit,
# axolotl-ai-cloud/axolotl history at 067b021c8b); the last one whose first day is before the tag's day holds the build.
_TAG_MAIN_DAY = re.compile(r"main-(20[0-9]{6})(?:-|$)")
MAIN_DAYS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "axolotl": (
        ("0.4.0", "0.5.0", "20240124"), ("0.5.0", "0.5.1", "20241108"), ("0.5.1", "0.5.1.post1", "20241119"),
        ("0.5.1.post1", "0.5.2", "20241119"), ("0.5.2", "0.6.0", "20241119"), ("0.6.0", "0.7.0", "20241209"),
        ("0.7.0", "0.7.1", "20250218"), ("0.7.1", "0.8.0", "20250225"), ("0.8.0", "0.8.1", "20250402"),
        ("0.8.1", "0.9.0", "20250408"), ("0.9.0", "0.10.0", "20250428"), ("0.10.0", "0.10.1", "20250617"),
        ("0.10.1", "0.11.0", "20250619"), ("0.11.0", "0.12.0", "20250709"), ("0.12.0", "0.12.2", "20250808"),
        ("0.12.2", "0.13.0", "20250818"), ("0.13.0", "0.13.1", "20251118"), ("0.13.1", "0.13.2", "20260120"),
        ("0.13.2", "0.14.0", "20260122"), ("0.14.0", "0.15.0", "20260130"), ("0.15.0", "0.16.0", "20260306"),
        ("0.16.0", "0.16.1", "20260402"), ("0.16.1", "0.17.0", "20260402"), ("0.17.0", "0.18.0", "20260603"),
        ("0.18.0", "", "20260717"),
    ),
}  # fmt: skip
MAIN_DAYS_AT = "axolotl .github/workflows/nightlies.yml:4-6,45@067b021c8b; main-line history at 067b021c8b"
# modal py/v1.5.4 py/modal/_image.py:2200 `Image.from_registry(tag, ...)`: the container starts from that registry image
_FROM_REGISTRY = re.compile(r"""from_registry\(\s{0,8}(?:tag\s{0,4}=\s{0,4})?["']([\w./:@-]{1,256})["']""")
FROM_REGISTRY_AT = "modal py/v1.5.4 py/modal/_image.py:2200 (Image.from_registry(tag): the image the container starts from)"


def _main_build(dist: str, tag: str) -> tuple[str, str, str] | None:
    """(release before, next release, YYYY-MM-DD) of a `main-YYYYMMDD` nightly tag, None when not placed."""
    m = _TAG_MAIN_DAY.match(tag)
    rows = MAIN_DAYS.get(dist, ())
    if not m or not rows or m.group(1) <= rows[0][2]:
        return None
    day = m.group(1)
    after, before, _first = [r for r in rows if r[2] < day][-1]
    return after, before, f"{day[:4]}-{day[4:6]}-{day[6:]}"


_DOCKER_VAR = re.compile(
    r"""^[ \t]{0,16}(?:ARG|ENV)[ \t]{1,16}([A-Za-z_][A-Za-z0-9_]{0,80})(?:=|[ \t]{1,16})["']?([\w.+-]{1,80})["']?[ \t]{0,16}$""", re.IGNORECASE
)
_DOCKER_REF = re.compile(r"""\$\{([A-Za-z_][A-Za-z0-9_]{0,80})(?::-[\w.+-]{0,80})?\}|\$([A-Za-z_][A-Za-z0-9_]{0,80})""")


def docker_expanded(text: str) -> str:
    """A Dockerfile with its own `ARG NAME=value` / `ENV NAME=value` defaults put where later lines use
    them (`pip install transformers==${TRANSFORMERS_VERSION}`); one line per line, nothing else expanded."""
    values: dict[str, str] = {}
    out = []
    for line in text.splitlines():
        if "$" in line:
            line = _DOCKER_REF.sub(lambda m: values.get(m.group(1) or m.group(2), m.group(0)), line)
        if m := _DOCKER_VAR.match(line):
            values[m.group(1)] = m.group(2)
        out.append(line)
    return "\n".join(out)


def _images(text: str, where: str, file: str, modal: bool = False) -> list[Pin]:
    """The framework a base image's tag names: a Dockerfile's `FROM`, or (`modal`) a Python file's Modal
    `Image.from_registry("...")` (FROM_REGISTRY_AT)."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _FROM_REGISTRY.search(line) if modal else _FROM.match(line)
        if not m:
            continue
        ref = m.group(1).split("@", 1)[0]
        name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
        name = name.lower().removeprefix("docker.io/").removeprefix("index.docker.io/")
        dist = IMAGE_TAGS.get(name)
        via = f"Modal image {name}:{tag}" if modal else f"base image {name}:{tag}"
        pin = image_tag_pin(dist, tag, via, f"{where}:{lineno}", file, lineno) if dist else None
        if pin is not None:
            out.append(pin)
    return out


def image_tag_pin(dist: str, tag: str, via: str, where: str, file: str, line: int) -> Pin | None:
    """The pin an image tag of `dist` names (IMAGE_TAGS): a release (`0.5.2-py3.11-cu121-2.3.0`), or a nightly
    `main-YYYYMMDD` placed between two releases (MAIN_DAYS); None for a tag naming neither (`main-py3.10-cu118-2.0.1`)."""
    rel = _TAG_RELEASE.match(tag)
    if rel:
        return Pin(dist, rel.group(1), f"{dist}=={rel.group(1)} ({via})", where, f"=={rel.group(1)}", file=file, line=line)
    main = _main_build(dist, tag)
    if main is None:
        return None
    after, before, day = main
    nxt = f", before {before}" if before else ", after the newest release goblin read"
    said = f"{dist} main of {day} ({via}; a nightly build of the main branch: after {after}{nxt}, read at {after}, assumed; {MAIN_DAYS_AT})"
    return Pin(dist, after, said, where, "", kind="commit", file=file, line=line, before=before)


_LOCK_NAME = re.compile(rf"""^name[ \t]{{0,4}}=[ \t]{{0,4}}"({_NAME})"[ \t]{{0,4}}$""", re.IGNORECASE)
_LOCK_VERSION = re.compile(r"""^version[ \t]{0,4}=[ \t]{0,4}"([0-9][\w.+-]{0,40})"[ \t]{0,4}$""")
_PIPFILE_LOCK_NAME = re.compile(rf"""^[ \t]{{0,16}}"({_NAME})":[ \t]{{0,4}}\{{""", re.IGNORECASE)
_PIPFILE_LOCK_VERSION = re.compile(r'^[ \t]{0,16}"version":[ \t]{0,4}"==([0-9][\w.+-]{0,40})"')


def _locked(text: str, where: str, file: str) -> list[Pin]:
    """A lock file's resolved release (poetry.lock / uv.lock `[[package]] name = ... version = ...`,
    Pipfile.lock `"name": {... "version": "==x"}`): what was installed, one release."""
    out = []
    rows = text.splitlines()
    toml = not file.endswith("Pipfile.lock")
    name_re, version_re, span = (_LOCK_NAME, _LOCK_VERSION, 3) if toml else (_PIPFILE_LOCK_NAME, _PIPFILE_LOCK_VERSION, 400)
    for i, line in enumerate(rows):
        m = name_re.match(line)
        dist = canonical(m.group(1)) if m else None
        if not m or not dist:
            continue
        for j in range(i + 1, min(len(rows), i + 1 + span)):
            v = version_re.match(rows[j])
            if v:
                try:
                    Version(v.group(1))
                except InvalidVersion:
                    break
                out.append(Pin(dist, v.group(1), f"{dist}=={v.group(1)} (locked)", f"{where}:{j + 1}", f"=={v.group(1)}", file=file, line=j + 1))
                break
            if (toml and rows[j].startswith("[")) or (not toml and rows[j].strip().startswith("}")):
                break
    return out


_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
# A fence line as CommonMark reads it (spec 0.31.2, 4.5 Fenced code blocks): an opening fence is 3+ backticks or tildes
# indented at most 3 spaces (a backtick fence's info string holds no backtick); only a run of the same character at
# least as long, with nothing after it but spaces, closes it; an unclosed block runs to the end. A "```shell" line
# inside an unclosed "```python" block is code, not a close (review7b #24: xirui-li/Gradient-based-Analysis-on-RLVR
# README.md:291 opens a block it never closes; read pairwise, every later block and heading flipped).
_FENCE_RUN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})(.*)$")


def _fence_lines(rows: list[str]) -> list[bool]:
    """For each line, whether it opens or closes a fenced code block (CommonMark's pairing, not every fence-like line)."""
    out: list[bool] = []
    open_run = ""
    for line in rows:
        m = _FENCE_RUN.match(line)
        if m is None:
            out.append(False)
        elif not open_run:
            opens = not (m.group(1)[0] == "`" and "`" in m.group(2))
            open_run = m.group(1) if opens else ""
            out.append(opens)
        else:
            closes = m.group(1)[0] == open_run[0] and len(m.group(1)) >= len(open_run) and not m.group(2).strip()
            open_run = "" if closes else open_run
            out.append(closes)
    return out


_COMMAND = (
    "pip ",
    "pip3 ",
    "uv ",
    "python -m pip",
    "python3 -m pip",
    "conda ",
    "mamba ",
    "git clone",
    "git checkout",
    "git -C",
    "git reset",
    "cd ",
    "!pip",
    "%pip",
)


def _readme_lines(text: str) -> str:
    """A README's install lines only (code blocks, and `pip install` / `git clone` lines): a version in prose is not a pin.
    An install block the README's own prose supersedes, and a section about inference/evaluation/serving in a README
    that also installs something elsewhere, are left out (readme_set_aside says which and why)."""
    keep, fenced = [], False
    rows = text.splitlines()
    for line, fence in zip(rows, _fence_lines(rows), strict=True):
        if fence:
            fenced = not fenced
            keep.append("")
            continue
        s = line.strip().lstrip("$>").strip()
        keep.append(line if fenced or s.startswith(_COMMAND) else "")
    for first, last, _why in _set_aside(text):
        keep[first - 1 : last] = [""] * (last - first + 1)
    return "\n".join(keep)


# A README that states its environment as a version table rather than pip specs (review15b #27, choucaicai/drpo-align
# README.md:15-19, under "Install request environment": a code block of `transformers                      4.44.0` rows,
# `pip list`'s layout; or a Markdown table `| transformers | 4.44.0 |` under a header naming a version column): each
# row naming a package and one exact version is read as `name==version` (version_rows), said as the README's table row.
# Not a range (`| transformers | >=4.40 |`), a table without a version column (benchmark results), a row of more than
# two cells, or a code block holding anything but such rows (a log, a command's output beside other text).
_TABLE_ROW = re.compile(
    r"^[ \t]{0,3}\|[ \t]{0,8}`?([A-Za-z][\w.-]{0,60})`?[ \t]{0,40}\|[ \t]{0,40}`?v?([0-9]{1,6}(?:\.[0-9]{1,6}){1,3})`?[ \t]{0,40}\|?[ \t]*$"
)
_TABLE_HEAD = re.compile(r"(?i)^[ \t]{0,3}\|[^\n]{0,200}\bversions?\b")
_TABLE_RULE = re.compile(r"^[ \t]{0,3}\|?[ \t]{0,8}:?-{3,}:?[ \t]{0,8}\|")
_LIST_ROW = re.compile(r"^[ \t]{0,8}([A-Za-z][\w.-]{0,60})[ \t]{2,60}v?([0-9]{1,6}(?:\.[0-9]{1,6}){1,3})[ \t]*$")
_LIST_HEAD = re.compile(r"(?i)^[ \t]{0,8}(?:package|name)[ \t]{2,60}version[ \t]*$|^[ \t]{0,8}-{3,}[ \t]{1,60}-{3,}[ \t]*$")


def version_rows(body: str) -> str:
    """The version-table rows of a README as `name==version` on their own lines (every other line blank, so line
    numbers stay): a Markdown table whose header names a version column, two cells a row; a code block whose every
    line is a `name   version` row (two or more blanks between), a `Package  Version` header or its dashes. Set-aside
    sections (_set_aside) give none."""
    rows = body.splitlines()
    keep = [""] * len(rows)
    fences = _fence_lines(rows)
    block: list[int] = []
    fenced = False
    head_ok = False
    for i, (line, fence) in enumerate(zip(rows, fences, strict=True)):
        if fence:
            if fenced and block and all(_LIST_ROW.match(rows[j]) or _LIST_HEAD.match(rows[j]) for j in block):
                for j in block:
                    if (m := _LIST_ROW.match(rows[j])) is not None:
                        keep[j] = f"{m.group(1)}=={m.group(2)}"
            fenced, block = not fenced, []
            continue
        if fenced:
            if line.strip():
                block.append(i)
            continue
        if not line.lstrip().startswith("|"):
            head_ok = False
            continue
        if i == 0 or not rows[i - 1].lstrip().startswith("|"):  # a table's first row is its header
            head_ok = _TABLE_HEAD.match(line) is not None
            continue
        if head_ok and not _TABLE_RULE.match(line) and (m := _TABLE_ROW.match(line)) is not None:
            keep[i] = f"{m.group(1)}=={m.group(2)}"
    for first, last, _why in _set_aside(body):
        keep[first - 1 : last] = [""] * (last - first + 1)
    return "\n".join(keep)


# A README line that names a torch release without installing it (review11b #36, ContextualAI/gritlm README.md:320, a
# comment in its setup block: "# First install PyTorch (https://pytorch.org/get-started/locally/; we used torch==2.2.0 with
# NVIDIA-SMI ..., CUDA Version: 12.2)"): the authors' environment, not what the block installs. A comment line, or a
# sentence saying what was used or tested, with no install command on it; a bare `torch==2.2.0` line of a requirements
# listing in a code block stays a pin.
_INSTALL_WORD = re.compile(r"(?i)\b(?:pip3?|uv|conda|mamba|micromamba)[ \t]{1,8}(?:pip[ \t]{1,8})?install\b")
_USED = re.compile(r"(?i)\b(?:we|i)[ \t]{1,4}(?:used|use|tested|ran|trained)\b|\btested[ \t]{1,4}(?:with|on)\b|\bour[ \t]{1,4}(?:environment|setup)\b")


def _said_not_installed(rows: list[str], lineno: int) -> bool:
    """Whether README line `lineno` names a release without installing it (a comment, or a "we used" sentence)."""
    if not 0 < lineno <= len(rows):
        return False
    line = rows[lineno - 1]
    if line.lstrip().startswith("#"):
        return True  # a shell/Python comment in a code block (a Markdown heading names no torch release)
    return _INSTALL_WORD.search(line) is None and _USED.search(line) is not None


# README prose that supersedes the install block next to it (review3, magpie-align/magpie recipes/README.md:22-34 clones
# Axolotl and `git reset --hard 7c2bf30...`; line 36: "**Note 2:** They have fixed that. Please use the latest version.").
# Read in the prose lines right after a block's closing fence ("use the latest ..." and the rest), and in the section
# heading or the prose right before its opening fence (only the words that mark a block as old: "deprecated", "outdated",
# "old instructions", "no longer needed"): "we use this commit; the latest may have bugs" before a block does not supersede it.
_SUPERSEDED_AFTER = re.compile(
    r"(?i)\buse[ \t]{1,4}the[ \t]{1,4}(?:latest|newest|most[ \t]{1,4}recent)\b|\bno[ \t]{1,4}longer[ \t]{1,4}(?:needed|required|necessary)\b"
    r"|\bdeprecated\b|\bold(?:er)?[ \t]{1,4}instructions\b|\boutdated\b"
)
_SUPERSEDED_BEFORE = re.compile(
    r"(?i)\bno[ \t]{1,4}longer[ \t]{1,4}(?:needed|required|necessary)\b|\bdeprecated\b|\bold(?:er)?[ \t]{1,4}instructions\b|\boutdated\b"
)
NOTE_SPAN = 2  # prose lines (not blank) read after a block's closing fence, and before its opening one
# A README's section titles: Markdown headings, and a line that is bold text alone (`**Training Environment**`, review3
# RLHFlow/Online-RLHF README.md:89 and :106, which has an inference and a training environment).
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.{1,200}?)[ \t#]*$")
_BOLD_TITLE = re.compile(r"^[ \t]{0,3}(?:\*\*|__)([^*_\n]{1,120})(?:\*\*|__)[ \t]*:?[ \t]*$")
# (the verb's forms too: "Evaluating models", "Generate data from DeepSeek-R1", review7b #24)
_OFF_TOPIC = re.compile(
    r"(?i)\b(?:inference|serving|serve|eval|evaluat(?:e|es|ed|ing|ion|ions)|generat(?:e|es|ing|ion)|deploy(?:ment)?|demo|benchmark(?:s|ing)?)\b"
)
_TRAINING = re.compile(r"(?i)\b(?:train(?:ing)?|fine-?tun\w{0,6}|finetun\w{0,6}|sft|dpo|rlhf|ppo|grpo|orpo|kto)\b")


def _blocks(rows: list[str]) -> list[tuple[int, int]]:
    """(first line, last line), 1-based, of a README's install blocks: its fenced code blocks (fence to fence) and runs of
    install lines outside them (`$ pip install ...` in prose, an indented block)."""
    out, start, run = [], 0, 0
    fences = _fence_lines(rows)
    for i, line in enumerate(rows, 1):
        command = not start and line.strip().lstrip("$>").strip().startswith(_COMMAND)
        if run and not command:
            out.append((run, i - 1))
            run = 0
        if fences[i - 1]:
            if start:
                out.append((start, i))
                start = 0
            else:
                start = i
        elif command and not run:
            run = i
    if run:
        out.append((run, len(rows)))
    if start:  # a block never closed runs to the end (CommonMark 0.31.2, 4.5)
        out.append((start, len(rows)))
    return sorted(out)


def _sections(rows: list[str]) -> list[str]:
    """The section title each line is under (the deepest heading or bold title line before it, "" for none); a bold
    title ends at the next heading."""
    out: list[str] = []
    stack: list[tuple[int, str]] = []
    fenced = False
    for line, fence in zip(rows, _fence_lines(rows), strict=True):
        if fence:
            fenced = not fenced
        elif not fenced and (h := _HEADING.match(line)):
            level = len(h.group(1))
            stack = [(lv, t) for lv, t in stack if lv < level] + [(level, h.group(2).strip())]
        elif not fenced and (b := _BOLD_TITLE.match(line)):
            stack = [(lv, t) for lv, t in stack if lv < 7] + [(7, b.group(1).strip())]
        out.append(" / ".join(t for _lv, t in stack))
    return out


def _off_topic(path: str) -> bool:
    """A section about inference, evaluation or serving: the deepest title that says either decides."""
    for title in reversed(path.split(" / ")):
        if _TRAINING.search(title):
            return False
        if _OFF_TOPIC.search(title):
            return True
    return False


def _prose(rows: list[str], start: int, step: int) -> list[tuple[int, str]]:
    """Up to NOTE_SPAN prose lines (1-based, text) from line `start` on, going by `step`, stopping at a fence or heading."""
    out: list[tuple[int, str]] = []
    i = start
    while 1 <= i <= len(rows) and len(out) < NOTE_SPAN:
        line = rows[i - 1]
        if _FENCE.match(line) or _HEADING.match(line):
            break
        if line.strip():
            out.append((i, line.strip()))
        i += step
    return out


# "Do not use the latest version", "the latest may not work": a negation before the words keeps the block
_NEGATED = re.compile(r"(?i)\b(?:not|never|avoid|don'?t|do[ \t]{1,4}not|instead[ \t]{1,4}of)\b|n't\b")


def _supersedes(line: str, words: re.Pattern[str]) -> bool:
    m = words.search(line)
    return m is not None and not _NEGATED.search(line[: m.start()])


@lru_cache(maxsize=256)
def _set_aside(text: str) -> tuple[tuple[int, int, str], ...]:
    """(first, last, why) of the README lines whose pins are not taken: a block its own prose supersedes, and the sections
    about inference/evaluation/serving of a README that installs something in another section too."""
    rows = text.splitlines()
    blocks = _blocks(rows)
    titles = _sections(rows)
    out: list[tuple[int, int, str]] = []
    kept: list[tuple[int, int]] = []
    for first, last in blocks:
        after = [(n, t) for n, t in _prose(rows, last + 1, 1) if _supersedes(t, _SUPERSEDED_AFTER)]
        before = [(n, t) for n, t in _prose(rows, first - 1, -1) if _supersedes(t, _SUPERSEDED_BEFORE)]
        title = titles[first - 1]
        if after or before:
            n, t = (after or before)[0]
            out.append((first, last, f"superseded by line {n}: {t[:160]}"))
        elif title and _SUPERSEDED_BEFORE.search(title.split(" / ")[-1]):
            out.append((first, last, f"under the section {title.split(' / ')[-1][:120]!r}, which marks it as old"))
        else:
            kept.append((first, last))
    topical = [(f, la) for f, la in kept if not _off_topic(titles[f - 1])]
    if topical:  # several environments: the training one is taken, not the one for inference or serving
        for first, last in kept:
            if _off_topic(titles[first - 1]):
                out.append((first, last, f"under the section {titles[first - 1].split(' / ')[-1][:120]!r}, not about training"))
    return tuple(sorted(out))


def readme_set_aside(body: str, where: str, dist: str = "") -> list[str]:
    """Why each install block of a README (`where`, its name as shown) was not read for pins, with its lines (`dist`:
    only the blocks that pin it)."""
    rows = body.splitlines()
    out = []
    for first, last, why in _set_aside(body):
        block = "\n".join(rows[i] if first <= i + 1 <= last else "" for i in range(len(rows)))
        if dist and not any(p.dist == dist for p in _scan_all(block, where) + _clone_checkouts(block, where, "")):
            continue
        out.append(f"{where}:{first}-{last} not read ({why})")
    return out


_CD = re.compile(r"""(?:^|[\s;&(])cd[ \t]{1,8}([\w.][\w./-]{0,199})""")
_INSTALL_HERE = re.compile(r"""pip3?[ \t]{1,8}install[ \t]{1,8}(?:-[\w-]{1,40}[ \t]{1,8}){0,4}["']?\.(?:\[[\w,-]{0,100}\])?["']?(?:[ \t]|$)""")


def _installed_folders(lines: str) -> list[tuple[str, int]]:
    """(folder, line) of `cd X` followed by `pip install -e .` (same line or the next three): X is installed from the tree."""
    rows = lines.splitlines()
    out = []
    for i, line in enumerate(rows):
        m = _CD.search(line)
        if m and any(_INSTALL_HERE.search(r[m.end() :] if j == 0 else r) for j, r in enumerate(rows[i : i + 4])):
            out.append((m.group(1).rstrip("/"), i + 1))
    return out


def _comment_lines(text: str) -> str:
    """Only comment and launcher lines of a config: a pin in a value is not a pin."""
    keep = []
    for line in text.splitlines():
        s = line.strip()
        keep.append(line if s.startswith(("#", "pip ", "uv ")) or "#" in line else "")
    return "\n".join(keep)


# A vendored copy: (dist, what must exist in the folder for it to be that framework, the file with its
# version, how the version is written there). Read from each framework's own tree:
#   LLaMA-Factory src/llamafactory/extras/env.py `VERSION = "0.9.3.dev0"` (070b061, line 30); before
#     0.8, src/llmtuner/__init__.py `__version__ = "0.1.0"` (091805d);
#   Axolotl VERSION `0.15.0.dev0` (2c687bb); earlier src/axolotl/__init__.py `__version__`, which its
#     setup.py read (get_package_version, 00454d8);
#   torchtune version.txt `0.2.1` at v0.2.1, `0.6.1` at v0.6.1; torchtune/__init__.py `__version__ = ""`
#     (bd2a0fc): pyproject takes the version from that attribute, filled at build time;
#   transformers transformers/__init__.py:21 `__version__ = "5.25.0"` in the 5.25.0 wheel (src/transformers/ in its repository);
#   TRL VERSION `1.1.0.dev0` (00a5fd0); older trl/__init__.py `__version__`;
#   PEFT src/peft/__init__.py `__version__ = "0.17.2.dev0"` (00073fe); accelerate
#     accelerate/__init__.py:14 `__version__ = "1.16.0"` in the 1.16.0 wheel (src/accelerate/ in its repository); DeepSpeed version.txt (041c8f0).
VENDORED: tuple[tuple[str, str, str, str], ...] = (
    ("llamafactory", "src/llamafactory/extras", "src/llamafactory/extras/env.py", "VERSION"),
    ("llamafactory", "llamafactory/extras", "llamafactory/extras/env.py", "VERSION"),
    ("llamafactory", "src/llmtuner", "src/llmtuner/__init__.py", "__version__"),
    ("llamafactory", "llmtuner", "llmtuner/__init__.py", "__version__"),
    ("axolotl", "src/axolotl", "VERSION", "file"),
    ("axolotl", "src/axolotl", "src/axolotl/__init__.py", "__version__"),
    ("torchtune", "torchtune/modules", "version.txt", "file"),
    ("torchtune", "torchtune/modules", "torchtune/__init__.py", "__version__"),
    ("transformers", "src/transformers/training_args.py", "src/transformers/__init__.py", "__version__"),
    ("transformers", "transformers/training_args.py", "transformers/__init__.py", "__version__"),
    ("trl", "trl/trainer", "VERSION", "file"),
    ("trl", "trl/trainer", "trl/__init__.py", "__version__"),
    ("peft", "src/peft/tuners", "src/peft/__init__.py", "__version__"),
    ("peft", "peft/tuners", "peft/__init__.py", "__version__"),
    ("accelerate", "src/accelerate/accelerator.py", "src/accelerate/__init__.py", "__version__"),
    ("accelerate", "accelerate/accelerator.py", "accelerate/__init__.py", "__version__"),
    ("deepspeed", "deepspeed/runtime", "version.txt", "file"),
)
_VERSION_LINE = {
    "VERSION": re.compile(r"""^VERSION[ \t]{0,8}=[ \t]{0,8}["']v?([0-9][\w.+-]{0,40})["']"""),
    "__version__": re.compile(r"""^__version__[ \t]{0,8}=[ \t]{0,8}["']v?([0-9][\w.+-]{0,40})["']"""),
    "file": re.compile(r"""^[ \t]{0,8}v?([0-9]{1,6}\.[0-9][\w.+-]{0,40})[ \t]{0,8}$"""),
}
# Sub-folders that may hold vendored code; a sub-folder named for a framework is looked into too.
_VENDOR_DIRS = {"thirdparty", "3rdparty", "vendor", "vendored", "external", "externals", "deps", "submodules", "libs", "lib", "packages", "third"}
_FRAMEWORK_WORDS = ("transformers", "trl", "torchtune", "llamafactory", "llmtuner", "axolotl", "peft", "deepspeed", "accelerate")


def _norm(name: str) -> str:
    return re.sub(r"[-_. ]", "", name.lower())


def _framework_named(name: str) -> bool:
    n = _norm(name)
    return any(w in n for w in _FRAMEWORK_WORDS)


def _rel(path: Path, stop: Path | None) -> str:
    return os.path.relpath(path, stop) if stop is not None else path.name


def _version_in(path: Path, how: str, roots: list[Path]) -> tuple[str, int] | None:
    try:
        head = read_bytes(path, roots=roots, limit=HEAD, head=True).decode("utf-8", "replace")
    except (UnsafePath, OSError):
        return None
    pattern = _VERSION_LINE[how]
    for lineno, line in enumerate(head.splitlines(), 1):
        m = pattern.match(line)
        if m:
            try:
                Version(m.group(1))
            except InvalidVersion:
                return None
            return m.group(1), lineno
        if how == "file" and line.strip():
            return None  # a VERSION/version.txt holds the version on its first line
    return None


def _vendored_at(folder: Path, stop: Path | None, roots: list[Path]) -> list[Pin]:
    """The framework copies whose package lies in `folder` (a checkout of the framework's repository, or its package)."""
    out: list[Pin] = []
    seen: set[str] = set()
    for dist, marker, file, how in VENDORED:
        if dist in seen or not (folder / marker).exists() or (folder / marker).is_symlink():
            continue
        got = _version_in(folder / file, how, roots)
        if got is None:
            continue
        seen.add(dist)
        version, line = got
        rel = _rel(folder / file, stop)
        what = f"the repository is {dist}'s own tree" if stop is not None and folder == stop else "a vendored copy"
        out.append(Pin(dist, version, f"{dist}=={version}", f"{what}, {rel}:{line}", f"=={version}", "vendored", str(folder / file), line))
    return out


def vendored_copy(folder: Path, stop: Path | None, roots: list[Path]) -> Path | None:
    """The folder of the vendored framework copy (a LLaMA-Factory/axolotl/torchtune checkout inside the repository, by its
    own version file: `_vendored_at`) that is `folder` or holds it, below the repository root `stop`; None when there is
    none, or the repository is the framework's own tree."""
    if stop is None:
        return None
    here = folder
    while here != stop and here.is_relative_to(stop) and here.parent != here:
        if _vendored_at(here, stop, roots):
            return here
        here = here.parent
    return None


def _subfolders(folder: Path, names: list[str]) -> list[Path]:
    """`folder`'s sub-folders that may hold a framework copy: named for a framework or for vendored code
    (one level further for the latter), not symlinks."""
    out: list[Path] = []
    for name in names:
        sub = folder / name
        if sub.is_symlink() or not sub.is_dir():
            continue
        if _framework_named(name):
            out.append(sub)
        elif _norm(name) in _VENDOR_DIRS:
            for inner in _listing(sub):
                if _framework_named(inner) and not (sub / inner).is_symlink() and (sub / inner).is_dir():
                    out.append(sub / inner)
    return out


def _listing(folder: Path) -> list[str]:
    names: list[str] = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                names.append(entry.name)
                if len(names) >= MAX_ENTRIES:
                    break
    except OSError:
        return []
    return sorted(names)


_SUBMODULE_PATH = re.compile(r"""^[ \t]{0,16}path[ \t]{0,8}=[ \t]{0,8}([^\s]{1,300})""")
_SUBMODULE_URL = re.compile(r"""^[ \t]{0,16}url[ \t]{0,8}=[ \t]{0,8}([^\s]{1,500})""")


def _submodules(folder: Path, text: str, stop: Path | None, roots: list[Path]) -> list[Pin]:
    """.gitmodules entries of a framework: the checked-out copy's version, else the commit the repository's git index
    records for it (placed or not), else "vendored, version unknown"."""
    from .gitlink import submodule_commit

    out: list[Pin] = []
    path: str | None = None
    url: tuple[str, int] | None = None
    entries: list[tuple[str | None, tuple[str, int] | None]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("[submodule"):
            entries.append((path, url))
            path, url = None, None
        elif m := _SUBMODULE_PATH.match(line):
            path = m.group(1)
        elif m := _SUBMODULE_URL.match(line):
            url = (m.group(1), lineno)
    entries.append((path, url))
    for sub, u in entries:
        if not u:
            continue
        name = u[0].rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
        dist = canonical(name)
        if dist is None:
            continue
        where = folder / sub if sub and ".." not in Path(sub).parts and not Path(sub).is_absolute() else None
        found = [p for p in _vendored_at(where, stop, roots) if p.dist == dist] if where is not None and where.is_dir() and not where.is_symlink() else []
        if found:
            out += found
            continue
        rel = _rel(folder / ".gitmodules", stop)
        sha = submodule_commit(folder, sub, roots) if sub and where is not None else None
        if sha is not None:
            # the commit the superproject records for the submodule (frameworks/gitlink.py): placed between two
            # releases where goblin's history has it (review6a #12 asked; its snapshot had no gitlink)
            at = f"git submodule {sub} at commit {sha[:12]} (the repository's git index; {rel}:{u[1]})"
            out.append(commit_pin(dist, sha, at, str(folder / ".gitmodules"), u[1], how="a git submodule"))
            continue
        out.append(
            Pin(
                dist,
                "",
                f"{dist} (a git submodule, version unknown)",
                f"vendored as a git submodule, {rel}:{u[1]}",
                "",
                "submodule",
                str(folder / ".gitmodules"),
                u[1],
            )
        )
    return out


# A pip requirements file by its name: `requirements.txt`, `requirements-dev.txt`, and the names people also use,
# `requirement.txt` (review8b #26/#38, NJUNLP/MAPO requirement.txt:187 transformers==4.36.2; MAOJIASONG/TinyZero-TRL
# requirement.txt:17 `trl @ git+...@e751a16`, installed by its setup.sh:5 `pip install -r requirement.txt`), `reqs.txt`.
_REQ = re.compile(r"requirements?[\w.-]{0,80}\.txt|reqs?(?:[-_.][\w.-]{0,80})?\.txt", re.IGNORECASE)
# ... and a `.txt` file of another name whose content is one (REQUIREMENTS_BY_CONTENT, requirements_file): every line
# that is not blank, a comment or a pip option parses as a PEP 508 requirement, at least two do, and one has a version
# specifier or a URL (a word list or a prompt is not a requirements file). An environment snapshot's name (`env.txt`,
# `pip_freeze.txt`) is read as a snapshot instead (_snapshot_pins).
REQUIREMENTS_BY_CONTENT = "requirements?"
REQ_LINES = 2000  # lines of a `.txt` file of another name looked at to tell whether it is a requirements file, at most
_README = re.compile(r"readme(?:\.(?:md|rst|txt|markdown))?", re.IGNORECASE)


# A folder of requirement files beside `requirements/` (review12a #10, emattia/tune-sft dependencies/train_requirements.txt:4
# torchtune==0.6.0): its `.txt` files are read as the folder's own, a requirements name as one, another name by its
# content; not a snapshot's name, nor one named for inference, evaluation or serving (`inference_requirements.txt`).
DEPENDENCY_DIRS = ("dependencies", "deps", "env", "envs", "environment", "environments")


def _training_side(stem: str) -> bool:
    """A file name that is not named for inference, evaluation or serving alone (`train_requirements`, `requirements`)."""
    words = re.sub(r"[_.-]", " ", stem)
    return _TRAINING.search(words) is not None or not _OFF_TOPIC.search(words)


def _dockerfile(name: str) -> bool:
    """`Dockerfile`, `Dockerfile.rocm`, `Dockerfile-cloud`, `train.Dockerfile` (not `Dockerfile.md`)."""
    n = name.lower()
    return len(n) <= 200 and (n.startswith("dockerfile") or n.endswith(".dockerfile")) and not n.endswith((".md", ".txt", ".py", ".rst"))


# pip 23.2.1 pip/_internal/req/req_file.py:46, :492-500 (COMMENT_RE `(^|\s+)#.*$`: a `#` at a line's start or after
# whitespace ends the line); Python's tokenize for setup.py; configparser (CPython 3.11.7 Lib/configparser.py:
# comment_prefixes ('#', ';') on a line of their own) for setup.cfg; TOML, YAML and Dockerfile comments likewise
# start with a `#` outside a quoted value.
# (a `#` at the start or after whitespace; pip's own `(^|\s+)#.*$` backtracks quadratically on long runs of blanks,
# so the blanks before it are cut with rstrip instead)
_PIP_COMMENT = re.compile(r"(?:^|(?<=\s))#")


def _pip_uncommented(line: str) -> str:
    m = _PIP_COMMENT.search(line)
    return line[: m.start()].rstrip() if m else line


def without_comments(body: str, name: str) -> str:
    """The file with its comments blanked, line numbers kept: `# transformers==4.30.0` in a requirements
    file, a commented-out `"trl==0.8.1",` in setup.py or `# RUN pip install ...` in a Dockerfile pins nothing."""
    low = name.lower()
    if low.endswith(".py"):
        return _python_without_comments(body)
    lines = body.split("\n")
    if low.endswith(".txt"):
        return "\n".join(_pip_uncommented(line) for line in lines)
    if low.endswith(".cfg"):
        return "\n".join("" if line.lstrip().startswith(("#", ";")) else line for line in lines)
    return "\n".join(hash_comment_cut(line) for line in lines)


def hash_comment_cut(line: str) -> str:
    """A line without a `#` comment that starts a word outside quotes (TOML, YAML, Dockerfile, shell; the launcher
    reader's too: `micro_batch_size=1 # per GPU`); `$#`, `${#x}` and `a#b` are not comments."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _python_without_comments(body: str) -> str:
    import io
    import tokenize

    lines = body.split("\n")
    try:
        for tok in tokenize.generate_tokens(io.StringIO(body).readline):
            if tok.type == tokenize.COMMENT:
                row, col = tok.start
                lines[row - 1] = lines[row - 1][:col]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(hash_comment_cut(line) for line in lines)
    return "\n".join(lines)


def requirements_file(body: str) -> bool:
    """Whether a text is a pip requirements file by its content (see REQUIREMENTS_BY_CONTENT), whatever its name."""
    from packaging.requirements import InvalidRequirement, Requirement

    rows = [_pip_uncommented(line).strip() for line in body.split("\n", REQ_LINES + 1)]
    if len(rows) > REQ_LINES:
        return False
    reqs, pinned = 0, False
    for row in rows:
        if not row or row.startswith("-"):  # pip options (`-r x.txt`, `-e .`, `--index-url ...`)
            continue
        try:
            req = Requirement(row)
        except InvalidRequirement:
            return False
        reqs += 1
        pinned = pinned or bool(req.specifier) or req.url is not None
    return reqs >= 2 and pinned


def _read(path: Path, roots: list[Path], limit: int = LIMIT) -> str | None:
    try:
        return read_text(path, roots=roots, limit=limit)
    except (UnsafePath, OSError, UnicodeDecodeError):
        return None


# A conda environment file, by content: a top-level `dependencies:` list beside `channels:` or `prefix:` (the keys of
# `conda env create -f` files and of `conda env export`, conda 24.x conda/env/env.py from_yaml / to_dict). A training
# config has neither `channels` nor `prefix`.
CONDA_BY_CONTENT = "conda?"
_CONDA_ENV_FILE = re.compile(r"(?m)^dependencies:[ \t]*$")
_CONDA_ENV_KEYS = re.compile(r"(?m)^(?:channels|prefix):")


def conda_env_file(body: str) -> bool:
    """Whether a YAML text is a conda environment file (see _CONDA_ENV_FILE), whatever its name."""
    return bool(_CONDA_ENV_FILE.search(body) and _CONDA_ENV_KEYS.search(body))


def _files_at(folder: Path, names: list[str]) -> list[tuple[Path, str]]:
    """(file, kind) of the pin files of one folder, in the order they are read."""
    names = _rocm_side(folder, names)
    have = set(names)
    out: list[tuple[Path, str]] = [(folder / n, "text") for n in ("setup.py", "setup.cfg") if n in have]
    out += [(folder / n, "toml") for n in ("pyproject.toml", "Pipfile") if n in have]
    out += [(folder / n, "text") for n in names if _REQ.fullmatch(n)][:MAX_FILES]
    out += [
        (folder / n, REQUIREMENTS_BY_CONTENT)
        for n in names
        if n.lower().endswith(".txt") and not _REQ.fullmatch(n) and not _SNAPSHOT_TXT.fullmatch(n) and not _README.fullmatch(n)
    ][:MAX_FILES]
    if "requirements" in have and (folder / "requirements").is_dir() and not (folder / "requirements").is_symlink():
        out += [(folder / "requirements" / n, "text") for n in _rocm_side(folder / "requirements", _listing(folder / "requirements")) if n.endswith(".txt")][
            :MAX_FILES
        ]
    for sub in DEPENDENCY_DIRS:
        if sub in have and (folder / sub).is_dir() and not (folder / sub).is_symlink():
            listed = [
                n
                for n in _rocm_side(folder / sub, _listing(folder / sub))
                if n.lower().endswith(".txt") and not _SNAPSHOT_TXT.fullmatch(n) and _training_side(n[:-4])
            ]
            out += [(folder / sub / n, "text" if _REQ.fullmatch(n) else REQUIREMENTS_BY_CONTENT) for n in listed][:MAX_FILES]
    conda_names = ("environment.yml", "environment.yaml", "conda.yml", "conda.yaml")
    out += [(folder / n, "conda") for n in conda_names if n in have]
    # a conda environment file of another name (review6b #39, jnkyto/lumiopen-tools lumi-tools.yml:139 transformers==4.41.0):
    # read as one when its content is one (CONDA_ENV_FILE), checked where it is read
    out += [(folder / n, CONDA_BY_CONTENT) for n in names if n.lower().endswith((".yml", ".yaml")) and n not in conda_names][:MAX_FILES]
    docker = [folder / n for n in names if _dockerfile(n)]
    if "docker" in have and (folder / "docker").is_dir() and not (folder / "docker").is_symlink():
        docker += [folder / "docker" / n for n in _rocm_side(folder / "docker", _listing(folder / "docker")) if _dockerfile(n)]
    out += [(f, "docker") for f in docker[:MAX_FILES]]
    out += [(folder / n, "readme") for n in names if _README.fullmatch(n)][:4]
    out += [(folder / n, "python") for n in names if _launch_script(n)][:MAX_FILES]
    out += [(folder / n, "shell") for n in names if _shell_script(n)][:MAX_FILES]
    out += [(folder / n, "lock") for n in ("poetry.lock", "uv.lock", "Pipfile.lock") if n in have]
    return out


def _rocm_side(folder: Path, names: list[str]) -> list[str]:
    """A folder's file names without another accelerator's variants where it ships a ROCm one (frameworks/variants.py)."""
    from .variants import ROCM_INDEX, other_variants

    def inside(n: str) -> bool:
        if not _REQ.fullmatch(n):
            return False
        body = _read(folder / n, [folder])
        return body is not None and ROCM_INDEX.search(body) is not None

    skip = other_variants(names, inside)
    return [n for n in names if n not in skip] if skip else names


def _launch_script(name: str) -> bool:
    """A Python file whose install lines are read (`modal_train.py`, `train_torchtune_full.py`): not setup.py (read as
    packaging), not a test module, not one named for inference, evaluation or serving (`serve_modal.py`, `eval_gsm8k.py`)."""
    # a test module (`test_*.py`, `*_test.py`, `conftest.py`) quotes install lines as test data, not the environment
    test = name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    return name.endswith(".py") and name != "setup.py" and not test and len(name) <= 200 and _training_side(name[:-3])


_SERVER = re.compile(r"(?i)\bservers?\b")  # `install_vllm_server.sh`: the environment of an inference server


def _shell_script(name: str) -> bool:
    """A shell script whose install lines are read (`setup.sh`, `install_env.sh`, `requirements_MI300.sh`), not one
    named for inference, evaluation or serving (`install_vllm_server.sh`)."""
    words = re.sub(r"[_.-]", " ", name[:-3])
    off = _OFF_TOPIC.search(words) is not None or _SERVER.search(words) is not None
    return name.endswith(".sh") and len(name) <= 200 and (_TRAINING.search(words) is not None or not off)


def _shell_install_lines(body: str) -> str:
    """Only a shell script's install lines (`pip install`, `git clone`, `cd X`, ... at a line's start), line numbers kept."""
    return "\n".join(line if line.strip().startswith(_COMMAND) else "" for line in body.split("\n"))


# A Python script's install lines, read as text (nothing run): Modal's image builder `.pip_install(...)` /
# `.uv_pip_install(...)` call (its arguments may span lines), and a line that runs pip (`subprocess.run(["pip",
# "install", "trl==0.8.6"])`, `os.system("pip install ...")`, `!pip install` in a notebook exported to .py).
_PY_PIP_CALL = re.compile(r"""\.(?:uv_)?pip_install[ \t]{0,8}\(""")
_PY_PIP_LINE = re.compile(r"""\bpip3?["'],?[ \t]{0,8}["']install\b|\bpip3?[ \t]{1,8}install\b""")
PY_CALL_SPAN = 40  # lines of one `.pip_install(` call read, at most


# Calls whose arguments are text shown to a person, not a command run (review12b #31, icip-cas/ChatAlpaca
# train/train_lora.py:22-24: an assert's message "pip install git+https://github.com/huggingface/transformers.git" was read as
# the install of the default branch): an `assert`'s message, a `raise`, and these calls' arguments pin nothing.
_MESSAGE_CALLS = frozenset({"print", "warn", "warning", "warnings", "info", "debug", "error", "exception", "critical", "fatal", "log", "echo", "secho", "exit"})


def _message_lines(body: str) -> set[int]:
    """The 0-based lines of a Python text that only hold a message (an assert's, a raise's, a print's or a log call's);
    empty where the text does not parse."""
    import ast

    try:
        tree = parse_source(body)
    except (SyntaxError, ValueError):
        return set()
    spans: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            spans.append(node.msg)
        elif isinstance(node, ast.Raise) and node.exc is not None:
            spans.append(node.exc)
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
            if name in _MESSAGE_CALLS:
                spans += [*node.args, *(k.value for k in node.keywords)]
    out: set[int] = set()
    for n in spans:
        start: int = getattr(n, "lineno", 1)
        end: int = getattr(n, "end_lineno", None) or start
        out.update(range(start - 1, end))
    return out


def python_install_lines(body: str) -> str:
    """Only the install lines of a Python script (comments already blanked), line numbers kept; a message's text
    (`_message_lines`) is not one."""
    rows = body.split("\n")
    keep = [""] * len(rows)
    told = _message_lines(body) if _PY_PIP_LINE.search(body) or _PY_PIP_CALL.search(body) else set()
    i = 0
    while i < len(rows):
        line = rows[i]
        if i in told:
            i += 1
            continue
        if m := _PY_PIP_CALL.search(line):
            depth, j = 0, i
            while j < len(rows) and j < i + PY_CALL_SPAN:
                seg = rows[j][m.end() - 1 :] if j == i else rows[j]
                keep[j] = rows[j]
                depth += seg.count("(") - seg.count(")")
                if depth <= 0:
                    break
                j += 1
            i = j + 1
            continue
        if _PY_PIP_LINE.search(line):
            keep[i] = line
        i += 1
    return "\n".join(keep)


@lru_cache(maxsize=1024)
def _level_once(folder: str, stop: str | None, roots: tuple[Path, ...], exact: bool) -> tuple[Pin, ...]:
    """_level, once per folder in a process: the configs of sibling folders share their parents' files."""
    return tuple(_level(Path(folder), Path(stop) if stop is not None else None, list(roots), exact))


def _level(folder: Path, stop: Path | None, roots: list[Path], exact: bool) -> list[Pin]:
    """Everything one folder says, in reading order. Inside a vendored framework copy only its package requirements:
    its READMEs, Dockerfiles and scripts are the framework's documentation, not the repository's install lines
    (review12a #12 InternSVG LLaMA-Factory/README.md:555 `--index-url .../whl/cu126`, LLaMA-Factory's own install text)."""
    names = _listing(folder)
    found = _pin_files(folder, names, stop, roots, exact, requirements_only=vendored_copy(folder, stop, roots) is not None)
    if exact:
        return found
    if ".gitmodules" in names:
        body = _read(folder / ".gitmodules", roots)
        if body is not None:
            found += _submodules(folder, body, stop, roots)
    found += _vendored_at(folder, stop, roots)
    for place in _subfolders(folder, names):
        copies = _vendored_at(place, stop, roots)
        found += copies
        if copies:  # the vendored framework's own requirements: what installing it pulls in (its transformers, TRL...)
            own = {p.dist for p in copies}
            found += [p for p in _pin_files(place, _listing(place), stop, roots, False, requirements_only=True) if p.dist not in own]
    return found


# An install script a README or another install script names, in another folder (review5 #14/#15, psunlpgroup/FoVer
# README.md:55 "refer to [setup/setup.sh]"; setup/setup.sh:14 `bash setup/setup_llama_factory.sh`, which clones
# LLaMA-Factory and `git checkout 4a5d0f0` at :8): its install lines are read as the folder's own. A README names it by
# path anywhere (a link, a `bash x.sh` line); a shell script by running it (`bash`, `sh`, `source`, `.`). The path is
# taken from the naming file's folder, and for a script another script runs, from the folder the run started in too.
_SCRIPT_PATH = re.compile(r"""(?<![\w./:-])((?:[\w.-]{1,100}/){0,8}[\w.-]{1,100}\.sh)(?![\w./-])""")
_SCRIPT_RUN = re.compile(
    r"""^[ \t]{0,16}(?:[A-Z_]{1,40}=[\w.-]{0,40}[ \t]{1,8})?(?:(?:bash|sh|source|\.)[ \t]{1,8}(?:-[\w]{1,8}[ \t]{1,8}){0,2}["']?|(?=\.\.?/))"""
    r"""((?:[\w.-]{1,100}/){0,8}[\w.-]{1,100}\.sh)\b"""
)
SCRIPT_DEPTH = 2  # scripts named through a README and scripts, at most


def _named_scripts(body: str, kind: str) -> list[tuple[str, int]]:
    """(path, line) of the install scripts a README names or a shell script runs."""
    out = []
    for lineno, line in enumerate(body.splitlines(), 1):
        found = _SCRIPT_PATH.findall(line) if kind == "readme" else [m.group(1)] if (m := _SCRIPT_RUN.match(line)) else []
        out += [(p.removeprefix("./"), lineno) for p in found]
    return out


def _script_pins(folder: Path, body: str, kind: str, rel: str, stop: Path | None, roots: list[Path], depth: int, cwd: Path | None) -> list[Pin]:
    """The pins of the install scripts `body` (a README or shell script of `folder`) names, outside `folder`."""
    found: list[Pin] = []
    seen: set[Path] = set()
    for sub, lineno in _named_scripts(body, kind):
        up = ".." in Path(sub).parts
        if Path(sub).is_absolute() or (up and stop is None):
            continue
        for base in dict.fromkeys(b for b in (folder, cwd) if b is not None):
            # `bash ../tools/install.sh` from a sub-folder's launch script or README: read where it stays in the repository
            # (the path as written and as the file system resolves it name the same file)
            target = Path(os.path.normpath(base / sub)) if up else base / sub
            if up and (base / sub).resolve() != target.resolve():
                continue
            if target in seen or (depth == 0 and target.parent == folder) or target.is_symlink() or not target.is_file() or not _shell_script(target.name):
                continue
            if stop is not None and not target.is_relative_to(stop):
                continue
            seen.add(target)
            got = _pin_files(target.parent, [target.name], stop, roots, False, depth=depth + 1, cwd=cwd or folder)
            found += [Pin(p.dist, p.version, p.spec, f"{p.where}, named by {rel}:{lineno}", p.constraint, p.kind, p.file, p.line, p.before) for p in got]
            break
    return found


def _pin_files(
    folder: Path,
    names: list[str],
    stop: Path | None,
    roots: list[Path],
    exact: bool,
    requirements_only: bool = False,
    depth: int = 0,
    cwd: Path | None = None,
) -> list[Pin]:
    """The pins of one folder's pin files (`requirements_only`: its package requirements, not its READMEs or Dockerfiles;
    `depth`: how many READMEs/scripts named this one, `cwd` the folder the first of them is in)."""
    found: list[Pin] = []
    for f, kind in _files_at(folder, names):
        if requirements_only and kind not in ("text", "toml", REQUIREMENTS_BY_CONTENT):
            continue
        if not f.is_file():
            continue
        body = _read(f, roots, LOCK_LIMIT if kind == "lock" else LIMIT)
        if body is None:
            continue
        if kind == CONDA_BY_CONTENT:
            if not conda_env_file(body):
                continue
            kind = "conda"
        elif kind == REQUIREMENTS_BY_CONTENT:
            if not requirements_file(body) and not conda_export_lines(body):
                continue
            kind = "text"
        rel = _rel(f, stop)
        if kind == "lock":
            found += [] if exact else _locked(body, rel, str(f))
            continue
        if kind == "python" and not exact and "from_registry" in body:  # a Modal image from a framework's own base image
            found += _images(without_comments(body, f.name), rel, str(f), modal=True)
        if kind in ("python", "shell") and (exact or ("install" not in body and "pip" not in body)):
            continue  # a script's install lines are read for the framework only (most scripts install nothing)
        if kind != "readme":
            body = without_comments(body, f.name)  # a commented-out pin is not a pin (review2 class: commented-out code read as code)
        text = (
            _readme_lines(body)
            if kind == "readme"
            else docker_expanded(body)
            if kind == "docker"
            else python_install_lines(body)
            if kind == "python"
            else _shell_install_lines(body)
            if kind == "shell"
            else body
        )
        if kind in ("readme", "shell") and not exact:
            for sub, lineno in _installed_folders(text):
                where = folder / sub
                if ".." in Path(sub).parts or Path(sub).is_absolute() or where.is_symlink() or not where.is_dir():
                    continue
                copies = _vendored_at(where, stop, roots)
                found += [Pin(p.dist, p.version, p.spec, f"{p.where}, installed by {rel}:{lineno}", p.constraint, p.kind, p.file, p.line) for p in copies]
                # the sub-folder's own package: installing it installs what its setup.py / pyproject.toml require (review4
                # #18, om-ai-lab/VLM-R1 setup.sh:6-7 `cd src/open-r1-multimodal` + `pip install -e ".[dev]"`; its setup.py:66 trl==0.17.0)
                own = {p.dist for p in copies}
                found += [
                    Pin(p.dist, p.version, p.spec, f"{p.where}, installed by {rel}:{lineno}", p.constraint, p.kind, p.file, p.line)
                    for p in _pin_files(where, _listing(where), stop, roots, False, requirements_only=True)
                    if p.dist not in own
                ]
        if kind in ("readme", "shell") and not exact and depth < SCRIPT_DEPTH:
            found += _script_pins(folder, body, kind, rel, stop, roots, depth, cwd)
        extras = _extras_only(f.name, body)
        if extras:  # a pin only an extra lists is installed only where an install line asks for that extra
            asked = _asked_extras(folder, names, roots)
            skip = {pkg for pkg, of in extras.items() if not of & asked}
            text = "\n".join("" if _line_names(line, skip) else line for line in text.split("\n"))
        export = _conda_export(text, rel, str(f), exact) if kind == "text" and f.suffix.lower() == ".txt" else []
        if exact:
            got = _scan_all(text, rel, str(f), _EXACT_PIN)
            if kind == "readme":
                got += _listed_pins(text, rel, str(f), {p.dist for p in got})
                got = [p for p in got if p.dist != "torch" or not _said_not_installed(body.splitlines(), p.line)]
            if kind == "docker":
                got += [rocm_build_pin(pkg, what, source, f"{rel}:{n}", str(f), n) for n, pkg, what, source in dockerfile_evidence(text)]
            found += got + export
            continue
        found += _scan_all(text, rel, str(f)) + export
        if kind == "readme":
            found += _table_pins(body, rel, str(f), _PIN)
        if kind in ("readme", "docker", "shell"):
            found += _clone_checkouts(text, rel, str(f))
        if kind == "toml":
            found += _toml(body, rel, str(f))
        elif kind == "conda":
            found += _conda(body, rel, str(f))
        elif kind == "docker":
            found += _images(text, rel, str(f))
    return found


def _listed_pins(install_lines: str, rel: str, file: str, pinned: set[str]) -> list[Pin]:
    """A README code block's `pip list` / `conda list` line (`bitsandbytes   0.41.0`) of a package no `==` line of the
    README pins, as that release's exact pin, said as a listing (frameworks/listed.py; blind review 15b #27)."""
    from .listed import listed_releases

    out = []
    for got in listed_releases(install_lines):
        if got.dist in pinned:
            continue
        constraint = f"=={got.version}{got.local}"
        where = f"{rel}:{got.line}, a package listing read as {constraint}"
        out.append(Pin(got.dist, got.version, f"{got.dist}{constraint}", where, constraint, file=file, line=got.line))
    return out


# What `pip install .` installs of a setup.py / pyproject.toml: install_requires / [project] dependencies, not
# extras_require / [project.optional-dependencies] (setuptools: an extra's requirements are installed only when
# named, `pip install .[torch]`; PEP 621 likewise). review3 #19/#20, uclaml/SPIN setup.py: torch==2.1.0 (line 56) is
# only in extras["torch"] (line 76); install_requires (lines 82-103) has vllm==0.3.0, which requires torch==2.1.2.
_REQ_NAME = re.compile(r"^[ \t]{0,8}([A-Za-z0-9][A-Za-z0-9._-]{0,100})")
_ASKED = re.compile(r"""pip3?[ \t]{1,8}install\b[^\n]{0,300}?(?:^|[\s"'=])\.\[([\w, -]{1,200})\]""")


def _norm_pkg(name: str) -> str:
    n = re.sub(r"[-_.]+", "-", name.lower())
    return canonical(n) or ("torch" if n == "pytorch" else n)


def _line_names(line: str, pkgs: set[str]) -> bool:
    """Whether a setup.py/pyproject line holds a requirement of one of `pkgs` (`"torch==2.1.0",`)."""
    return any(
        _norm_pkg(m.group(1)) in pkgs
        for m in re.finditer(r"""["']([A-Za-z0-9][A-Za-z0-9._-]{0,100})[ \t]{0,8}(?:\[[^\]]{0,100}\])?[ \t]{0,8}(?:[=<>~!;]|["'])""", line)
    )


def _extras_only(name: str, body: str) -> dict[str, set[str]]:
    """package -> the extras that list it, for the packages of a setup.py / pyproject.toml that only extras list."""
    if name == "pyproject.toml":
        import tomllib

        try:
            project = tomllib.loads(body).get("project", {})
        except (tomllib.TOMLDecodeError, ValueError):
            return {}
        base = {_req(r) for r in project.get("dependencies", []) if isinstance(r, str)}
        out: dict[str, set[str]] = {}
        for extra, reqs in (project.get("optional-dependencies") or {}).items():
            for r in reqs if isinstance(reqs, list) else []:
                if isinstance(r, str) and (pkg := _req(r)) and pkg not in base:
                    out.setdefault(pkg, set()).add(str(extra).lower())
        return out
    if name != "setup.py" or "extra" not in body:
        return {}
    return _setup_extras_only(body)


def _req(text: str) -> str:
    m = _REQ_NAME.match(text)
    return _norm_pkg(m.group(1)) if m else ""


def _setup_extras_only(src: str) -> dict[str, set[str]]:
    """setup.py read by AST (nothing run): the packages extras_require names that install_requires does not, as string
    requirements or through a lookup table (`deps["torch"]`, `deps_list("torch")`: transformers' and alignment-handbook's
    setup.py pattern). Empty when setup() or its install_requires cannot be followed."""
    import ast

    try:
        tree = parse_source(src)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    values: dict[str, ast.expr] = {}
    by_extra: dict[str, dict[str, ast.expr]] = {}  # `extras["torch"] = ...` assignments, per dict variable
    call: ast.Call | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            t = node.targets[0]
            if isinstance(t, ast.Name):
                values[t.id] = node.value
            elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and isinstance(t.slice, ast.Constant) and isinstance(t.slice.value, str):
                by_extra.setdefault(t.value.id, {})[t.slice.value] = node.value
        elif isinstance(node, ast.Call) and (getattr(node.func, "id", "") == "setup" or getattr(node.func, "attr", "") == "setup"):
            call = node
    if call is None:
        return {}
    kws = {k.arg: k.value for k in call.keywords if k.arg}
    if "install_requires" not in kws or "extras_require" not in kws:
        return {}

    def names(expr: ast.expr, depth: int = 0) -> set[str] | None:
        if depth > 8:
            return None
        out: set[str] = set()
        if isinstance(expr, ast.Name):
            if expr.id not in values:
                return None
            return names(values[expr.id], depth + 1)
        for node in ast.walk(expr):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (pkg := _req(node.value)):
                out.add(pkg)
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                if isinstance(node.value, ast.Name) and node.value.id in by_extra:  # extras["docs"]: that extra's own list
                    got = names(by_extra[node.value.id].get(node.slice.value, ast.List([])), depth + 1)
                    out |= got or set()
                elif pkg := _req(node.slice.value):
                    out.add(pkg)
            elif isinstance(node, ast.Name) and node is not expr and node.id in values and not isinstance(values[node.id], (ast.Call, ast.DictComp)):
                out |= names(values[node.id], depth + 1) or set()
        return out

    installed = names(kws["install_requires"])
    if installed is None:
        return {}
    extras: dict[str, ast.expr] = {}
    ex = kws["extras_require"]
    if isinstance(ex, ast.Name):
        extras.update(by_extra.get(ex.id, {}))
        ex = values.get(ex.id, ex)
    if isinstance(ex, ast.Dict):
        extras.update({k.value: v for k, v in zip(ex.keys, ex.values, strict=False) if isinstance(k, ast.Constant) and isinstance(k.value, str)})
    out: dict[str, set[str]] = {}
    for extra, expr in extras.items():
        for pkg in (names(expr) or set()) - installed:
            out.setdefault(pkg, set()).add(extra.lower())
    return out


def _asked_extras(folder: Path, names: list[str], roots: list[Path]) -> set[str]:
    """The extras an install line of the folder asks for (`pip install -e ".[torch,metrics]"` in its READMEs,
    Dockerfiles or shell scripts)."""
    out: set[str] = set()
    for n in [n for n in names if _README.fullmatch(n) or _dockerfile(n) or n.endswith(".sh")][:MAX_FILES]:
        body = _read(folder / n, roots) if (folder / n).is_file() else None
        for m in _ASKED.finditer(body or ""):
            out |= {e.strip().lower() for e in m.group(1).split(",") if e.strip()}
    return out


@lru_cache(maxsize=1024)
def _repository_pins(folder_name: str, exact: bool = False) -> dict[str, Pin]:
    """dist -> what the folder and its parents up to the repository root say, by the module's
    precedence: the strongest kind, then the nearest folder, then reading order. The configs of one
    folder share it, so each folder is read once per session."""
    folder = Path(folder_name)
    stop = _root_for(str(folder))
    roots = tree_of(folder / "config")
    best: dict[str, tuple[tuple[int, int, int], Pin]] = {}
    order = 0
    for level in range(MAX_UP + 1):
        for pin in _level_once(str(folder), str(stop) if stop is not None else None, tuple(roots), exact):
            order += 1
            key = ((0 if exact else pin.rank), level, order)
            if pin.dist not in best or key < best[pin.dist][0]:
                best[pin.dist] = (key, pin)
        if stop is None or folder == stop or folder.parent == folder:
            break
        folder = folder.parent
    return {d: p for d, (_k, p) in best.items()}


@lru_cache(maxsize=256)
def set_aside_notes(config: str, dist: str) -> tuple[str, ...]:
    """The README install blocks of the config's folder and its parents that pin `dist` and were not read, and why
    (readme_set_aside): a reading that finds no pin says them."""
    folder = Path(os.path.dirname(os.path.abspath(config)))
    stop = _root_for(str(folder))
    roots = tree_of(folder / "config")
    out: list[str] = []
    for _level_no in range(MAX_UP + 1):
        for f, kind in _files_at(folder, _listing(folder)):
            if kind == "readme" and f.is_file() and (body := _read(f, roots)) is not None:
                out += readme_set_aside(body, _rel(f, stop), dist)
        if stop is None or folder == stop or folder.parent == folder:
            break
        folder = folder.parent
    return tuple(out)


@lru_cache(maxsize=256)
def dropped_variants(config: str) -> tuple[str, ...]:
    """What `_rocm_side` left unread in the config's folder and its parents (and their requirements/, docker/ and
    dependency folders): another accelerator's variant of a file where the folder ships a ROCm one, said with the ROCm
    variant read in its place (review12a #8/#9 milabench benchmarks/llm/requirements.cuda.txt, requirements.hpu.txt
    beside requirements.rocm.txt)."""
    from .variants import rocm_name

    folder = Path(os.path.dirname(os.path.abspath(config)))
    stop = _root_for(str(folder))
    out: list[str] = []
    for _level_no in range(MAX_UP + 1):
        for place in (folder, folder / "requirements", folder / "docker", *(folder / d for d in DEPENDENCY_DIRS)):
            if place.is_symlink() or not place.is_dir():
                continue
            names = _listing(place)
            kept = _rocm_side(place, names)
            dropped = [n for n in names if n not in kept]
            if not dropped:
                continue
            rocm = [n for n in kept if rocm_name(n)] or [n for n in kept if _REQ.fullmatch(n)]
            at = _rel(place, stop) if place != stop else "the repository root"
            out.append(
                f"{', '.join(dropped[:4])} ({at}) not read: another accelerator's variant, where the folder ships a ROCm one "
                f"({', '.join(rocm[:2])}), the one AMD Instinct GPUs run (frameworks/variants.py)"
            )
        if stop is None or folder == stop or folder.parent == folder:
            break
        folder = folder.parent
    return tuple(out)


def _own(text: str, pattern: re.Pattern[str] = _PIN) -> dict[str, Pin]:
    return {
        k: Pin(p.dist, p.version, p.spec, f"the config's own line {p.line}", p.constraint, line=p.line)
        for k, p in _scan(_comment_lines(text), "", pattern).items()
    }


MAX_NOTEBOOKS = 48  # notebooks of one folder looked at, at most (by name)
NOTEBOOK_LIMIT = 2_000_000  # bytes of one notebook
NOTEBOOK_BUDGET = 8_000_000  # bytes of notebooks read in one folder


@lru_cache(maxsize=1024)
def _notebooks(folder_name: str, stop_name: str) -> tuple[tuple[Path, str], ...]:
    """The notebooks of one folder with their text, read once per process (every config of a folder asks)."""
    folder = Path(folder_name)
    roots = tree_of(folder / "x")
    out: list[tuple[Path, str]] = []
    spent = 0
    for nb in [n for n in _listing(folder) if n.endswith(".ipynb")][:MAX_NOTEBOOKS]:
        path = folder / nb
        body = _read(path, roots, NOTEBOOK_LIMIT) if path.is_file() else None
        if body is not None:
            spent += len(body)
            if spent > NOTEBOOK_BUDGET:
                break
            out.append((path, body))
    return tuple(out)


@lru_cache(maxsize=512)
def _root_for(folder: str) -> Path | None:
    """The top of the tree pins are read up to: the git checkout holding the folder, else the root the
    launcher reader uses for a tree without .git (safepath.project_root: the audited folder, the working
    directory, a project file's folder; review2: pins were lost in a ZIP download); once per process."""
    repo = repository_root(Path(folder))
    if repo is not None:
        return repo
    found = project_root(Path(folder) / "config")
    return found[0] if found is not None else None


@lru_cache(maxsize=1024)
def _notebook_pins(config: str, pattern: re.Pattern[str] = _PIN) -> dict[str, Pin]:
    """The `pip install` lines of a notebook that names the config (`%pip install trl==0.13.0` in the
    notebook whose cell runs `... --config receipes/dpo.yaml`): the recipe's own install instructions,
    so they come right after the config's own lines. Notebooks of the config's folder and each parent
    up to the repository root; one that does not mention the config's file name is not this recipe's."""
    from ..notebook import notebook_lines

    here = Path(os.path.abspath(config))
    name = here.name
    stop = _root_for(str(here.parent))
    folder = here.parent
    for _level in range(MAX_UP + 1):
        for path, body in _notebooks(str(folder), str(stop)):
            if name not in body:
                continue
            rel = _rel(path, stop)
            found: dict[str, Pin] = {}
            # each physical line of a `%pip install \` command continued over lines carries its own pins
            going = False
            for line_no, where, line, kind in notebook_lines(body):
                installs = kind == "code" and ("install" in line or going)
                going = installs and line.rstrip().endswith("\\")
                if not installs:
                    continue
                for p in _scan_all(line, f"{rel} {where}", str(path), pattern):
                    found.setdefault(p.dist, Pin(p.dist, p.version, p.spec, f"{rel} {where}", p.constraint, p.kind, str(path), line_no))
            if found:
                return found
        if stop is None or folder == stop or folder.parent == folder:
            break
        folder = folder.parent
    return {}


# A torchtune config names its classes by import path, and torchtune 0.3 moved the checkpointers out of
# `torchtune.utils` (0.2.1 torchtune/utils/__init__.py:7-12 exports FullModel{HF,Meta,TorchTune}Checkpointer;
# 0.3.1 torchtune/utils/__init__.py exports none, they are in torchtune/training/checkpointing/): a config
# that names `torchtune.utils.FullModel...Checkpointer` runs on 0.2.x, whatever the repository pins.
_TUNE_02 = re.compile(r"^[ \t]{0,64}_component_:[ \t]{0,16}torchtune\.utils\.(FullModel(?:HF|Meta|TorchTune)Checkpointer)\b", re.MULTILINE)


def _api_pins(text: str) -> dict[str, Pin]:
    """Releases the config's own component paths imply (`_TUNE_02`)."""
    m = _TUNE_02.search(text)
    if m is None:
        return {}
    line = text.count("\n", 0, m.start()) + 1
    where = f"the config's own line {line} (`torchtune.utils.{m.group(1)}`: torchtune 0.3 moved it to torchtune.training)"
    return {"torchtune": Pin("torchtune", "0.2.1", "torchtune<0.3", where, "<0.3", line=line)}


# Readers of the launch line that names a config (formats/launchers.launched_script registers itself here: it is a
# higher layer): (the repository's Python file that line runs, "launcher line N"), or None.
LAUNCHED_SCRIPT: list[Callable[[str], tuple[str, str] | None]] = []


def _launched_pins(config: str, exact: bool = False) -> dict[str, Pin]:
    """The vendored framework copy the launch line's script belongs to (`accelerate launch ... train/LLaMA-Factory/src/
    train.py config.yaml`): the copy whose package holds the script, from its folder up to the repository root.
    `exact`: the exact pins (bitsandbytes, torch, vllm) of the nearest package above the script, what the blockers
    read (exact_pins), from the same package the framework's version is read from."""
    out: dict[str, Pin] = {}
    for finder in LAUNCHED_SCRIPT:
        got = finder(config)
        if got is None:
            continue
        script, launch = got
        folder = Path(script).parent
        stop = _root_for(str(folder))
        roots = tree_of(Path(script))
        packaged: list[Pin] = []
        package_seen = False
        for _level in range(MAX_UP + 2):
            for p in () if exact else _vendored_at(folder, stop, roots):
                out.setdefault(p.dist, Pin(p.dist, p.version, p.spec, f"{p.where}, run by {launch}", p.constraint, p.kind, p.file, p.line))
            if out or stop is None or folder == stop or folder.parent == folder:
                break
            names = _listing(folder)
            if not package_seen and ("setup.py" in names or "pyproject.toml" in names):
                package_seen = True
                # the nearest package above the script, below the repository root: what installing it installs is what
                # the script runs with (review4 #18, VLM-R1 src/open-r1-multimodal/setup.py above src/open_r1/grpo.py)
                packaged = [
                    Pin(p.dist, p.version, p.spec, f"{p.where}, the package of the script run by {launch}", p.constraint, p.kind, p.file, p.line)
                    for p in _pin_files(folder, names, stop, roots, exact, requirements_only=True)
                ]
            folder = folder.parent
        for p in packaged:  # a vendored framework copy the script belongs to says more
            out.setdefault(p.dist, p)
        break
    return out


# A README's prose that states the environment a script needs (review4 #31, THUDM/LongWriter train/README.md:25
# "**Environment**: `transformers==4.33.0` for `GLM-4-9B` and `transformers==4.43.0` for `Llama-3.1-8B`"): only a line
# that says it is about the environment, outside a section about inference, evaluation or serving.
_ENV_WORDS = re.compile(r"(?i)\b(?:environment|requirements?|requires?|required|install(?:ed|ing)?|tested[ \t]{1,4}(?:with|on)|versions?)\b")
# what one pin of such a line is for: `transformers==4.33.0` for `GLM-4-9B` (up to the next pin, `and`, `;` or `,`)
_FOR_WHAT = re.compile(r"""^[`'"*)\] \t]{0,8}for[ \t]{1,4}[`'"*]{0,2}([\w./-]{2,80})""", re.IGNORECASE)


def _alnum(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _prose_pins(config: str, text: str) -> dict[str, Pin]:
    """Pins a README of the config's own folder (and of the folder of the script its launch line runs) states in prose,
    with the line. A line that pins one framework at several releases, each `for <model>`, gives the one whose model
    the config names; none when it names none of them (which release runs is not known)."""
    here = Path(os.path.abspath(config)).parent
    folders = [here]
    for finder in LAUNCHED_SCRIPT:
        got = finder(config)
        if got is not None and Path(got[0]).parent != here:
            folders.append(Path(got[0]).parent)
        break
    # ... and a README of a folder above that names the script by its file name (review5 #30, nlpxucan/WizardLM
    # WizardCoder/README.md:129 "(Note: `deepspeed==0.9.2` and `transformers==4.29.2`)", :130 names
    # `src/train_wizardcoder.py`, the config)
    above: list[Path] = []
    top = _root_for(str(here))
    up = here
    for _ in range(MAX_UP):
        if top is None or up == top or up.parent == up:
            break
        up = up.parent
        above.append(up)
    own_name = os.path.basename(config)
    named = _alnum(text)
    out: dict[str, Pin] = {}
    for folder in folders + [f for f in above if f not in folders]:
        stop = _root_for(str(folder))
        roots = tree_of(folder / "x")
        for name in [n for n in _listing(folder) if _README.fullmatch(n)][:4]:
            body = _read(folder / name, roots) if (folder / name).is_file() else None
            if body is None or (folder not in folders and not re.search(rf"(?<![\w-]){re.escape(own_name)}(?![\w-])", body)):
                continue
            rel = _rel(folder / name, stop)
            rows = body.splitlines()
            titles = _sections(rows)
            # a README above the script speaks for it only in the sections that name it (goblin's own README quotes
            # `trl==0.8.6` as an example in one section and lists examples/ files in another)
            naming = re.compile(rf"(?<![\w-]){re.escape(own_name)}(?![\w-])")
            own = {titles[i] for i, row in enumerate(rows) if naming.search(row)} if folder not in folders else None
            fenced = False
            fences = _fence_lines(rows)
            for lineno, line in enumerate(rows, 1):
                if fences[lineno - 1]:
                    fenced = not fenced
                    continue
                if own is not None and titles[lineno - 1] not in own:
                    continue
                if fenced or line.strip().lstrip("$>").strip().startswith(_COMMAND) or _off_topic(titles[lineno - 1]):
                    continue  # code blocks and install lines are read as the folder's README already
                if not _ENV_WORDS.search(line):
                    continue
                by_dist: dict[str, list[tuple[Pin, str]]] = {}
                for m in _PIN.finditer(line):
                    dist = canonical(m.group(1))
                    if dist is None or m.group(2) != "==" or m.group(4):
                        continue  # only an exact release is taken from prose
                    target = _FOR_WHAT.match(line[m.end() :])
                    spec = f"{dist}=={m.group(3)}" + (f" (README prose, for {target.group(1)})" if target else " (README prose)")
                    pin = Pin(dist, m.group(3), spec, f"{rel}:{lineno}", f"=={m.group(3)}", file=str(folder / name), line=lineno)
                    by_dist.setdefault(dist, []).append((pin, _alnum(target.group(1)) if target else ""))
                for dist, cands in by_dist.items():
                    if dist in out:
                        continue
                    if len({p.version for p, _t in cands}) == 1:
                        out[dist] = cands[0][0]
                        continue
                    fit = [p for p, t in cands if t and t in named]
                    if len({p.version for p in fit}) == 1:
                        out[dist] = fit[0]
    return out


def _nearer(prose: Pin, repo_pin: Pin | None, config: str) -> bool:
    """Whether a prose pin beside the script wins over what the repository's pin files say: it does over a range and over
    an exact pin of a parent folder; a vendored copy, a commit, or an exact pin of the config's own folder wins over it."""
    if repo_pin is None:
        return True
    if repo_pin.rank < 3:
        return False
    return repo_pin.rank == 4 or Path(repo_pin.file).parent != Path(os.path.abspath(config)).parent


# An environment snapshot: the packages one run's environment had, written out by `pip freeze` or `conda env export`
# (review5 #14/#15, psunlpgroup/FoVer setup/snapshot/environment_llama_factory_snapshot.yml:77 llamafactory==0.9.3.dev0,
# :164 transformers==4.49.0), anywhere in the repository and named by no install line. Text files named as a freeze,
# a snapshot, a full/locked requirements list or `env.txt` / `environment*.txt`; YAML files named as a snapshot or
# export, or a conda export (`prefix:` line). Only its exact pins count; one named for inference, evaluation or serving
# (`llm-inference_snapshot.yml`) is passed over, and snapshots that disagree on a framework say nothing about it.
_SNAPSHOT_TXT = re.compile(
    r"(?i)^(?:(?:pip[_-]?)?(?:freeze|frozen)[\w.-]{0,80}|[\w.-]{0,80}(?:snapshot|pip[_-]?freeze|[_-]frozen)[\w.-]{0,80}|env|environment[\w.-]{0,80}"
    r"|requirements[_-](?:full|all|frozen|freeze|locked|lock|exact|snapshot))\.txt$"
)
_SNAPSHOT_YML = re.compile(r"(?i)^[\w.-]{0,80}(?:snapshot|export|frozen)[\w.-]{0,80}\.ya?ml$")
_ENV_YML = re.compile(r"(?i)^(?:environment|conda|env)[\w.-]{0,80}\.ya?ml$")  # a snapshot only when conda exported it
_CONDA_PREFIX = re.compile(r"(?m)^prefix:[ \t]")
SNAPSHOT_DEPTH = 3  # folders below the repository root searched for a snapshot
SNAPSHOT_FOLDERS = 400  # folders listed in that search, at most
SNAPSHOT_OTHER_YML = 64  # YAML files of other names opened there to look for a conda export (`prefix:`), at most
_SKIP_DIRS = frozenset({"node_modules", "site-packages", "venv", "__pycache__", "build", "dist"})


def _snapshot_files_of(root: Path, accept: Callable[[str], bool], limit: int) -> list[Path]:
    """Up to `limit` files of the tree under `root` whose name `accept`s (the walk of _snapshot_files)."""
    out: list[Path] = []
    todo, seen = [(root, 0)], 0
    while todo and seen < SNAPSHOT_FOLDERS and len(out) < limit:
        folder, depth = todo.pop(0)
        seen += 1
        for name in _listing(folder):
            path = folder / name
            if path.is_symlink():
                continue
            if path.is_dir():
                if depth < SNAPSHOT_DEPTH and not name.startswith(".") and name not in _SKIP_DIRS:
                    todo.append((path, depth + 1))
            elif accept(name) and len(out) < limit:
                out.append(path)
    return out


def _snapshot_files(root: Path) -> list[Path]:
    """The snapshot files of the tree under `root` (breadth first, hidden folders and vendored environments skipped)."""
    others = 0

    def accept(name: str) -> bool:
        nonlocal others
        if _SNAPSHOT_TXT.fullmatch(name) or _SNAPSHOT_YML.fullmatch(name) or _ENV_YML.fullmatch(name):
            return True
        if name.lower().endswith((".yml", ".yaml")) and others < SNAPSHOT_OTHER_YML:
            others += 1  # a conda export of another name (`prefix:` line, checked where it is read)
            return True
        return False

    return _snapshot_files_of(root, accept, sys.maxsize)


# A conda environment file written by hand (no `prefix:`) outside the config's folders (review8b #28,
# sriksmachi/text2sql-slm-finetuning-grpo azure/environments/conda_env.yml:29,33 transformers==4.56.2, trl==0.22.2, the
# environment its Azure ML job runs in, beside pyproject.toml:23,28 `transformers>=4.40.0`, `trl>=0.8.6`): the
# repository's environment, read only to say which release of a range it fits runs (not where nothing pins the
# framework: it may be another sub-project's), and not in a folder with a package of its own (setup.py / pyproject.toml
# between it and the root: another sub-project). Said "(a conda environment file of the repository)".
ENV_FILE = "a conda environment file of the repository"
_PACKAGE_FILES = ("setup.py", "pyproject.toml")


@lru_cache(maxsize=64)
def _snapshot_pins(root_name: str) -> dict[str, Pin]:
    """dist -> the exact pin the repository's environment snapshots agree on (see _SNAPSHOT_TXT), said as from that file."""
    return _environment_pins(root_name)[0]


def _own_package_between(root: Path, f: Path) -> bool:
    """Whether a folder from `f`'s own up to (not including) `root` has a package of its own (setup.py, pyproject.toml)."""
    folder = f.parent
    while folder != root and folder.is_relative_to(root):
        if any((folder / n).is_file() for n in _PACKAGE_FILES):
            return True
        folder = folder.parent
    return False


@lru_cache(maxsize=64)
def _environment_pins(root_name: str) -> tuple[dict[str, Pin], dict[str, Pin]]:
    """(the snapshots' agreed exact pins, the hand-written conda environment files' agreed exact pins: ENV_FILE)."""
    root = Path(root_name)
    roots = tree_of(root / "config")
    got: dict[str, list[Pin]] = {}
    hand: dict[str, list[Pin]] = {}
    for f in _snapshot_files(root):
        rel = _rel(f, root)
        words = re.sub(r"[/_.-]", " ", rel)
        if _OFF_TOPIC.search(words) and not _TRAINING.search(words):
            continue  # the environment of inference, evaluation or serving, not of training
        body = _read(f, roots)
        if body is None:
            continue
        yml = f.suffix.lower() in (".yml", ".yaml")
        into = got
        if yml and not _SNAPSHOT_YML.fullmatch(f.name) and not (_CONDA_PREFIX.search(body) and conda_env_file(body)):
            # `environment.yml` written by hand (not an export): read where it is installed, not as a snapshot; outside
            # the config's folders, only as ENV_FILE
            if not conda_env_file(body) or _own_package_between(root, f):
                continue
            into = hand
        text = without_comments(body, f.name)
        found = _scan_all(text, rel, str(f)) + (_conda(text, rel, str(f)) if yml else _conda_export(text, rel, str(f)))
        for p in found:
            if p.exact and p.dist in DISTS:
                into.setdefault(p.dist, []).append(p)
    agreed = [{}, {}]  # type: list[dict[str, Pin]]
    for out, pins_of, said in ((agreed[0], got, "an environment snapshot"), (agreed[1], hand, ENV_FILE)):
        for dist, found in pins_of.items():
            if len({p.constraint for p in found}) == 1:
                p = found[0]
                out[dist] = dataclasses.replace(p, where=f"{p.where} ({said})")
    return agreed[0], agreed[1]


def _with_snapshot(config: str, found: dict[str, Pin]) -> None:
    """Where the repository pins a framework only by a range, by a commit goblin cannot place, or not at all, its
    environment snapshot says which release ran (the range must allow it; an unplaceable commit is said beside it)."""
    stop = _root_for(os.path.dirname(os.path.abspath(config)))
    if stop is None:
        return
    for dist, snap in _snapshot_pins(str(stop)).items():
        cur = found.get(dist)
        if cur is None:
            found[dist] = snap
        elif cur.kind == "commit" and not cur.version:
            found[dist] = dataclasses.replace(snap, where=f"{snap.where}; the install pins {cur.spec} ({cur.where})")
        elif cur.kind == "pin" and not cur.exact and cur.file and _allows(cur.constraint, snap):
            found[dist] = dataclasses.replace(snap, where=f"{snap.where}; within {cur.spec} ({cur.where})")
    for dist, env in _environment_pins(str(stop))[1].items():
        cur = found.get(dist)
        if cur is not None and cur.kind == "pin" and not cur.exact and cur.file and _allows(cur.constraint, env):
            found[dist] = dataclasses.replace(env, where=f"{env.where}; within {cur.spec} ({cur.where})")


IMAGE_FILES = 400  # files of the tree read for framework images, at most
_IMAGE_SUFFIXES = (".sh", ".bash", ".slurm", ".sbatch", ".py", ".yaml", ".yml")


@lru_cache(maxsize=64)
def repository_images(root_name: str) -> tuple[image_pins.Image, ...]:
    """Every framework image the repository's scripts, configs and Dockerfiles under `root_name` name (not in a file
    named for inference, evaluation or serving)."""
    root = Path(root_name)
    roots = tree_of(root / "config")
    out: list[image_pins.Image] = []
    for f in _snapshot_files_of(root, lambda name: name.lower().endswith(_IMAGE_SUFFIXES) or _dockerfile(name), IMAGE_FILES):
        rel = _rel(f, root)
        words = re.sub(r"[/_.-]", " ", rel)
        if _OFF_TOPIC.search(words) and not _TRAINING.search(words):
            continue
        body = _read(f, roots)
        if body is not None:
            out += image_pins.images_in(body, rel, str(f))
    return tuple(out)


def image_pin(root_name: str, dist: str) -> Pin | None:
    """The pin of `dist` the repository's images agree on (pins.Pin), None where none names a release or two disagree."""
    got: list[Pin] = []
    for img in repository_images(root_name):
        name = img.image.split("@", 1)[0].rsplit(":", 1)[0] if ":" in img.image.split("@", 1)[0].rsplit("/", 1)[-1] else img.image.split("@", 1)[0]
        name = name.lower().removeprefix("docker.io/").removeprefix("index.docker.io/")
        if IMAGE_TAGS.get(name) != dist:
            continue
        via = f"image {name}:{img.tag}" if not img.tag_from else f"image {img.image}, whose tag {img.tag} {img.tag_from} names (assumed)"
        pin = image_tag_pin(dist, img.tag, via, f"{img.where}:{img.line}", img.file, img.line)
        if pin is not None:
            got.append(pin)
    if not got or len({(p.version, p.before, p.kind) for p in got}) != 1:
        return None
    return dataclasses.replace(got[0], where=f"{got[0].where} (a container image of the repository)")


def _with_image(config: str, found: dict[str, Pin]) -> None:
    """Where nothing else pins a framework (or only a commit goblin cannot place does), the release the repository's
    container image names (frameworks/image_pins.py: `axolotlai/axolotl-cloud:0.5.2` in a GCP Batch script)."""
    stop = _root_for(os.path.dirname(os.path.abspath(config)))
    if stop is None:
        return
    for dist in image_pins.IMAGE_DISTS:
        cur = found.get(dist)
        if cur is not None and not (cur.kind == "commit" and not cur.version):
            continue
        got = image_pin(str(stop), dist)
        if got is not None:
            found[dist] = got if cur is None else dataclasses.replace(got, where=f"{got.where}; the install pins {cur.spec} ({cur.where})")


def _allows(constraint: str, pin: Pin) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return Version(pin.constraint.split(",", 1)[0].removeprefix("==")) in SpecifierSet(constraint, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


@lru_cache(maxsize=2048)
def _pins(config: str, text: str) -> tuple[Pin, ...]:
    found = _own(text)
    for dist, pin in _api_pins(text).items():
        found.setdefault(dist, pin)
    for dist, pin in _notebook_pins(config).items():
        found.setdefault(dist, pin)
    repository = _repository_pins(os.path.dirname(os.path.abspath(config)))
    for dist, pin in _launched_pins(config).items():
        if (mine := repository.get(dist)) is None or mine.rank >= pin.rank:  # a vendored copy or a commit the repository names says more
            found.setdefault(dist, pin)
    for dist, pin in _prose_pins(config, text).items():
        if dist not in found and _nearer(pin, repository.get(dist), config):
            found[dist] = pin
    for dist, pin in repository.items():
        found.setdefault(dist, pin)
    if "torchtune" not in found and "_component_" in text and (copied := _vendored_recipe_pin(config, text)) is not None:
        found["torchtune"] = copied
    _with_snapshot(config, found)
    _with_image(config, found)
    return tuple(found.values())


def _vendored_recipe_pin(config: str, text: str) -> Pin | None:
    """A torchtune recipe the repository copied from a release (own_recipe.vendored_recipe: the file's content hash
    against recipe_hashes.json, scripts/gen_recipe_hashes.py), where nothing else pins torchtune: it runs that release's
    recipe (review6a #19, llm-workshop's python_scripts/lora_finetune_distributed.py = torchtune v0.4.0's)."""
    from . import torchtune_recipe
    from .own_recipe import vendored_recipe

    got = vendored_recipe(config, text, torchtune_recipe(config, text)[0])
    if got is None or not got[2]:
        return None
    path, file, versions = got
    roots = tree_of(Path(os.path.abspath(config)))
    shown = os.path.relpath(path, roots[0]) if path.is_relative_to(roots[0]) else path.name
    said = " or ".join(f"v{v}" for v in versions)
    where = f"vendored recipe {shown} identical to torchtune {said} {file}"
    constraint = f"=={versions[0]}" if len(versions) == 1 else f">={versions[0]},<={versions[-1]}"
    return Pin(
        "torchtune", versions[0], f"torchtune{constraint} (vendored recipe)", where, constraint, "vendored" if len(versions) == 1 else "pin", str(path), 0
    )


@lru_cache(maxsize=2048)
def _exact_pins(config: str, text: str) -> tuple[Pin, ...]:
    found = _own(text, _EXACT_PIN)
    for dist, pin in _notebook_pins(config, _EXACT_PIN).items():
        found.setdefault(dist, pin)
    # the package of the script the launch line runs on the config, as for the framework's version (_pins): review6b
    # class 8, a torch blocker reading other pin files than the version it names
    for dist, pin in _launched_pins(config, exact=True).items():
        found.setdefault(dist, pin)
    for dist, pin in _repository_pins(os.path.dirname(os.path.abspath(config)), exact=True).items():
        found.setdefault(dist, pin)
    return tuple(found.values())


# The torch release a pinned package's own wheel requires exactly (its METADATA Requires-Dist), read from the wheel:
# a recipe that pins it installs that torch whatever else it says (review3 #19/#20, uclaml/SPIN: vllm==0.3.0 in
# install_requires). vllm-0.3.0-cp310-cp310-manylinux1_x86_64.whl (sha256 17da0ee992aa2282...) vllm-0.3.0.dist-info/METADATA.
IMPLIED_TORCH: dict[tuple[str, str], tuple[str, str]] = {
    ("vllm", "0.3.0"): ("2.1.2", "vllm 0.3.0 wheel METADATA: Requires-Dist: torch ==2.1.2"),
}


def _framework_deps(config: str, text: str) -> dict[str, Pin]:
    """The bitsandbytes the framework release or commit the recipe runs pins in its own requirements (Axolotl at commit
    55cc214: bitsandbytes==0.43.1, requirements.txt:6, which its setup.py:11-29@55cc214 reads into install_requires;
    frameworks/commits.dep_pins), as an exact pin said as such."""
    from .commits import dep_pins, place

    for dist, fw in pins(config, text).items():
        if fw.kind == "commit" and fw.version:
            sha = re.search(r"commit ([0-9a-f]{7,40})", fw.spec)
            got = dep_pins(dist, placed=place(dist, sha.group(1))) if sha else {}
        elif fw.exact and fw.kind != "vendored":  # a vendored copy's own requirements are already read as the folder's
            got = dep_pins(dist, fw.constraint.split(",", 1)[0].removeprefix("=="))
        else:
            continue
        spec_line = got.get("bitsandbytes")
        if spec_line is None or not spec_line[0].startswith("==") or "*" in spec_line[0]:
            continue
        spec, _line, at = spec_line
        version = spec[2:]
        return {
            "bitsandbytes": Pin(
                "bitsandbytes", version, f"bitsandbytes{spec} (pinned by {fw.spec})", f"{fw.where}; {dist} {at}", spec, "implied", fw.file, fw.line
            )
        }
    return {}


def _installs(file: str, framework: str) -> bool:
    """Whether a pin file is installed with `framework` or after it, so its pin is what the run has: the file names
    the framework (resolved together), or an install script, Dockerfile or README beside it or at the repository root
    installs the framework and then the file (`pip install axolotl` ... `pip install -r requirements.txt`). True when
    the file cannot be read again (the pin is then kept, as before)."""
    named = re.compile(rf"(?i)(?<![\w-]){re.escape(framework)}(?![\w])")
    try:
        body = read_text(Path(file), roots=tree_of(Path(file)), limit=LIMIT)
    except (UnsafePath, OSError):
        return True
    if named.search(body):
        return True
    then = _requirement_install(file)
    for _script, rows, _top in _install_texts(file):
        first = next((i for i, row in enumerate(rows) if "install" in row and named.search(row)), None)
        if first is not None and any(then.search(row) for row in rows[first:]):
            return True
    return False


def _requirement_install(file: str) -> re.Pattern[str]:
    """`-r <the pin file's name>`: a line that installs the pin file."""
    return re.compile(rf"(?i)-r\s*\S*?(?<![\w.-]){re.escape(Path(file).name)}(?![\w.-])")


def _install_texts(file: str) -> Iterator[tuple[Path, list[str], Path | None]]:
    """(script, its lines, the repository root) of the install scripts, READMEs and Dockerfiles beside a pin file and at
    the repository root (at most 50 a folder, read through safepath): where the order of installs is written."""
    pin_file = Path(file)
    roots = tree_of(pin_file)
    top = repository_root(pin_file.parent)
    for folder in sorted({pin_file.parent, *([top] if top is not None else [])}):
        try:
            names = sorted(p for p in folder.iterdir() if p.suffix in (".sh", ".md") or p.name.startswith("Dockerfile"))[:50]
        except OSError:
            continue
        for script in names:
            try:
                yield script, read_text(script, roots=roots, limit=LIMIT).splitlines(), top
            except (UnsafePath, OSError):
                continue


def _installed_after(file: str, framework: str) -> str | None:
    """`README.md:14` where a README, install script or Dockerfile beside the pin file or at the repository root installs
    `framework` after `-r <file>` (review7a #4, appier-research/robust-llm-finetunes README.md:11 then :14): that later
    install replaces the file's pin with the framework's own; None when none does."""
    named = re.compile(rf"(?i)(?<![\w-]){re.escape(framework)}(?![\w])")
    then = _requirement_install(file)
    for script, rows, top in _install_texts(file):
        first = next((i for i, row in enumerate(rows) if then.search(row)), None)
        later = next((i for i in range(first + 1, len(rows)) if "install" in rows[i].lower() and named.search(rows[i])), None) if first is not None else None
        if later is not None:
            return f"{_rel(script, top)}:{later + 1}"
    return None


def _run_bitsandbytes(config: str, text: str, framework: str, repo: Pin) -> dict[str, Pin]:
    """The bitsandbytes the framework's install leaves, where the repository's exact pin comes from a file that does
    not install the framework (review6a #7: requirements.txt:2 `bitsandbytes==0.42.0` serves the repository's own TRL
    script, names no axolotl; installing Axolotl installs its own exact pin, e.g. v0.13.0 requirements.txt:4
    `bitsandbytes==0.48.2`, v0.18.0 pyproject.toml:81 `==0.49.1`). The framework's pin at its known release wins; a
    release whose pin is not exact keeps the repository's when it allows it (Axolotl v0.4.0 requirements.txt:6
    `>=0.41.1`: pip leaves an installed 0.42.0); a release goblin does not know leaves the run's bitsandbytes unknown."""
    from .commits import dep_pins

    implied = _framework_deps(config, text)
    if implied:
        got = implied["bitsandbytes"]
        why = f"not {repo.spec} ({repo.where}): that file does not install {framework}, whose own pin replaces it"
        return {"bitsandbytes": dataclasses.replace(got, where=f"{got.where}; {why}")}
    fw = pins(config, text).get(framework)
    if fw is not None and fw.exact and fw.kind != "vendored":
        spec = dep_pins(framework, fw.constraint.split(",", 1)[0].removeprefix("==")).get("bitsandbytes")
        if spec is not None and _allows(spec[0], repo):
            return {"bitsandbytes": repo}
    return {}


def bitsandbytes_set_aside(config: str, text: str, framework: str) -> str | None:
    """A note when the repository's exact bitsandbytes pin is not the run's (exact_pins with `framework`): which pin,
    why, and what the run has instead (the framework's own pin, or unknown); None when the repository's pin stands."""
    plain = {p.dist: p for p in _exact_pins(config, text)}.get("bitsandbytes")
    if plain is None or plain.kind != "pin" or not plain.file:
        return None
    run = exact_pins(config, text, framework).get("bitsandbytes")
    if run is not None and run.where == plain.where:
        return None
    instead = (
        f"the run's is {run.spec} ({run.where.split('; not ')[0]})"
        if run is not None
        else f"{framework}'s release is not pinned (or its own bitsandbytes pin is not recorded at it), so the run's bitsandbytes is unknown and no bitsandbytes blocker is judged"
    )
    after = _installed_after(plain.file, framework)
    also = f" ({after} installs {framework} after it, which replaces the file's pin)" if after else ""
    return f"{plain.spec} ({plain.where}) is not the run's bitsandbytes: that file does not install {framework}, whose own install pins bitsandbytes{also}; {instead}"


def exact_pins(config: str, text: str, framework: str | None = None) -> dict[str, Pin]:
    """dist -> the exact pin of a package a blocker reads (bitsandbytes, torch, vllm), from the same places as `pins`;
    without a torch pin, the torch an exactly pinned package requires (IMPLIED_TORCH), said as such. With the config's
    `framework`, a bitsandbytes pin comes from the install the run uses (_run_bitsandbytes)."""
    from .commits import pins_deps

    out = {p.dist: p for p in _exact_pins(config, text)}
    repo_bnb = out.get("bitsandbytes")
    if framework and repo_bnb is not None and repo_bnb.kind == "pin" and repo_bnb.file and pins_deps(framework):
        if not _installs(repo_bnb.file, framework):
            del out["bitsandbytes"]
            out.update(_run_bitsandbytes(config, text, framework, repo_bnb))
    elif "bitsandbytes" not in out:
        out.update(_framework_deps(config, text))
    if "torch" not in out and (told := readme_torch(config)) is not None:
        out["torch"] = told
    if "torch" not in out:
        for (dist, version), (torch, source) in IMPLIED_TORCH.items():
            pin = out.get(dist)
            if pin is not None and pin.constraint == f"=={version}":
                spec = f"torch=={torch} (required by {pin.spec})"
                out["torch"] = Pin("torch", torch, spec, f"{pin.where}; {source}", f"=={torch}", "implied", pin.file, pin.line)
                break
    return out


# A README sentence that tells the reader to install one torch release by hand (review13b #29/#30, luchris429/DiscoPOP
# README.md:22 and mathllm/mathllm-finetune README.md:19, the alignment-handbook text: "Next, install PyTorch `v2.1.2` - the
# precise version is important for reproducibility! ... we direct you to the PyTorch Installation Page"): the release the
# run has, though no install line names it (their setup.py lists torch==2.1.2 only in extras["torch"], which
# `pip install .` does not install). An imperative "install PyTorch X.Y.Z" only; "we used torch 2.2.0" stays unread.
_README_TORCH = re.compile(r"(?i)\binstall[ \t]{1,8}pytorch[ \t]{1,8}`?v?([0-9]+\.[0-9]+\.[0-9]+)`?(?![\w.])")


def readme_torch(config: str) -> Pin | None:
    """The torch release a README of the config's folder or a folder above it (up to the repository root) tells the
    reader to install in prose (`_README_TORCH`), nearest first, outside a section the README sets aside; else None."""
    folder = Path(os.path.abspath(config)).parent
    top = repository_root(folder)
    while True:
        for name in ("README.md", "README.rst", "README"):
            path = folder / name
            if not path.is_file():
                continue
            try:
                text = read_text(path, roots=tree_of(path), limit=LIMIT)
            except (UnsafePath, OSError):
                continue
            aside = _set_aside(text)
            for n, line in enumerate(text.splitlines(), 1):
                m = _README_TORCH.search(line)
                if m is None or any(first <= n <= last for first, last, _why in aside):
                    continue
                shown = os.path.relpath(path, top) if top is not None else name
                return Pin(
                    "torch",
                    m.group(1),
                    f"torch=={m.group(1)}",
                    f"{shown}:{n}, in prose: 'install PyTorch {m.group(1)}'",
                    f"=={m.group(1)}",
                    "pin",
                    str(path),
                    n,
                )
        if top is None or folder == top or folder.parent == folder:
            return None
        folder = folder.parent


def pins(config: str, text: str | None = None) -> dict[str, Pin]:
    """dist -> the pin the config or its repository states (see the module's docstring for where and
    which wins). Without `text` the config is read again through safepath (an edit's writer has only its path)."""
    if text is None:
        try:
            text = read_text(Path(config), roots=tree_of(Path(config)))
        except (UnsafePath, OSError):
            text = ""
    out = {p.dist: p for p in _pins(config, text) if p.dist in DISTS}
    tf = out.get("transformers")
    if tf is not None and tf.extras and tf.kind == "pin" and not tf.exact and tf.constraint:
        torch = next((p for p in _exact_pins(config, text) if p.dist == "torch"), None)
        if torch is not None and torch.kind == "pin":
            from .torchreq import torch_cap

            got = torch_cap("transformers", tf.extras, tf.constraint, torch.constraint, torch.where)
            if got is not None:
                out["transformers"] = dataclasses.replace(tf, cap=got[0], capped_by=got[1])
    from .copins import deps

    # a framework's range narrowed by the pin of a package its releases require: a dependency that is itself a framework
    # (TRL's transformers) first takes its own narrowing (transformers' by tokenizers)
    for dist in sorted(out, key=lambda d: deps(d) in DISTS):
        if (narrowed := _copinned(config, text, out[dist], out)) is not None:
            out[dist] = narrowed
    for dist in sorted(d for d in DISTS if d not in out and deps(d) in out):
        if (held := _unpinned_copinned(dist, out[str(deps(dist))])) is not None:
            out[dist] = held
    if "transformers" not in out and (held := _held_by_tokenizers(config, text)) is not None:
        out["transformers"] = held
    script = _script_text(config, text)
    if script is not None:
        for dist in ("trl", "transformers"):
            if dist not in out and (held := _held_by_calls(dist, script[1], script[0])) is not None:
                out[dist] = held
    return out


def _script_text(config: str, text: str) -> tuple[str, str] | None:
    """(how the script is named, its text): a Python config's own text, else the script the launch line of a YAML/JSON
    recipe runs (LAUNCHED_SCRIPT), read through safepath; None for neither."""
    if config.endswith(".py"):
        return "the script", text
    if not config.endswith((".yaml", ".yml", ".json")):
        return None
    for finder in LAUNCHED_SCRIPT:
        got = finder(config)
        if got is None:
            continue
        try:
            return f"{os.path.basename(got[0])} (run on this file by {got[1]})", read_text(Path(got[0]), roots=tree_of(Path(got[0])), limit=LIMIT)
        except (UnsafePath, OSError):
            return None
    return None


def _held_by_calls(dist: str, text: str, shown: str = "the script") -> Pin | None:
    """An unpinned framework that the script's own trainer calls or imports hold below the newest release (review14b #22:
    `SFTTrainer(tokenizer=...)` with no trl pin; SFTTrainer takes `tokenizer` up to trl 0.15.2 only; review15a #14:
    `from trl.commands.cli_utils import TrlParser`, a package trl 0.13.0 removed, frameworks/removed.py): the run starts
    only on a release that takes every literal keyword the script passes and has every module it imports, so defaults
    are read at the newest such release, assumed (kind "calls"), rather than at the newest release, on which it stops at
    start-up (that requirement is still judged at the newest release: blockers._trainer_kwargs_of, modules.runs_without).
    None where no release goblin read takes them all (a script mixing old and new keywords), or the newest already does.
    `text` is the script's (a YAML recipe's: the script its launch line runs, `shown`)."""
    from .read_releases import read_versions
    from .removed import imports
    from .trainer_kwargs import cite, rejects, trainer_calls

    calls = [c for c in trainer_calls(text) if c.dist == dist]
    gone = [i for i in imports(text) if i.removed.dist == dist]
    releases = read_versions(dist)
    if not releases:
        return None
    top = releases[-1]

    def has_imports(release: str) -> bool:
        return all(_older(release, i.removed.gone) for i in gone)

    if all(rejects(top, c.cls, k, dist) is not True for c in calls for k, _ in c.keywords) and has_imports(top):
        return None
    for release in reversed(releases):
        if has_imports(release) and all(rejects(release, c.cls, k, dist) is False for c in calls for k, _ in c.keywords):
            break
    else:
        return None
    reasons: list[str] = []
    line = 0
    lacking = [i for i in gone if not _older(top, i.removed.gone)]
    if lacking:
        first = lacking[0]
        line = first.line
        reasons.append(
            f"{shown} imports {dist}.{first.removed.module} at line {line} (`{first.text}`), which {dist} {first.removed.gone} removed "
            f"({first.removed.sources[0]}; {first.removed.sources[1]})"
        )
    stopped = next(((c, kw) for c in calls for kw in c.keywords if rejects(top, c.cls, kw[0], dist) is True), None)
    if stopped is not None:
        call, (key, at) = stopped
        line = line or at
        whose = "its" if reasons else f"{shown}'s"
        reasons.append(f"{whose} {call.written}({key}=...) at line {at} is taken by {dist} {release} and older, not by {top} ({cite(release, call.cls, dist)})")
    why = f"{'; '.join(reasons)}: the run starts only on {dist} {release} or older"
    return Pin(dist, release, f"{dist} (no version)", f"no {dist} pin", "", kind="calls", line=line, cap=f"<={release}", capped_by=why, unpinned=True)


def _held_by_tokenizers(config: str, text: str) -> Pin | None:
    """An unpinned transformers beside the repository's exact tokenizers pin (review15a #14, MathEDU requirement.txt:178
    `tokenizers==0.19.1`, no transformers): pip installs only a transformers release whose own tokenizers requirement
    admits the pin, so the newest such release is read, assumed (copins.copin_cap over every release of
    copin_requirements.json), said with the pin's file:line. Only an exact tokenizers pin (`==`): a range leaves pip room."""
    from .copins import copin_cap

    tok = next((p for p in _exact_pins(config, text) if p.dist == "tokenizers"), None)
    if tok is None or tok.kind != "pin" or not tok.exact:
        return None
    got = copin_cap("transformers", ">=0", tok.constraint, tok.where)
    if got is None:
        return None
    release = got[0].removeprefix("<=")
    return Pin(
        "transformers",
        release,
        "transformers (no version)",
        "no transformers pin",
        "",
        file=tok.file,
        line=tok.line,
        cap=got[0],
        capped_by=got[1],
        unpinned=True,
    )


def _bare_requirement(dist: str, text: str, listing: bool) -> int:
    """The line (1-based) of a requirement of `dist` with no version in `text` (`pip install trl`, a `trl` line of a
    requirements file, `"trl",` in a pyproject list), else 0. Token by token, comments skipped; outside a requirement
    listing (`listing`: requirements, pyproject, setup, environment files) only on a pip/uv install line."""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0]
        if not listing and not ("pip" in line and "install" in line):
            continue
        for token in line.replace(",", " ").replace("'", " ").replace('"', " ").split():
            if token.lower() == dist or (token.lower().startswith(dist + "[") and token.endswith("]")):
                return n
    return 0


def _unpinned_copinned(dist: str, co: Pin) -> Pin | None:
    """An unpinned `dist` installed beside the repository's pin of the package its releases require (review13b #21,
    fe1ixxu/ALMA install_alma.sh: `pip install transformers==4.51.1` ... `pip install trl`): read at the newest release
    whose own requirement admits that pin (copins.copin_cap over every release), assumed. Only where the co-pin's own
    file asks for `dist` with no version (the same install), and only a requirement pin of the co-package."""
    from .copins import copin_cap

    if co.kind != "pin" or not co.constraint or not co.file:
        return None
    try:
        text = read_text(Path(co.file), roots=tree_of(Path(co.file)))
    except (UnsafePath, OSError):
        return None
    listing = co.file.endswith((".txt", ".toml", ".cfg", "setup.py", ".yml", ".yaml", "Pipfile"))
    line = _bare_requirement(dist, text, listing)
    if not line:
        return None
    constraint = f"{co.constraint},{co.cap}" if co.cap else co.constraint
    got = copin_cap(dist, ">=0", constraint, co.where)
    if got is None:
        return None
    release = got[0].removeprefix("<=")
    shown = co.where.rsplit(":", 1)[0]
    why = got[1]
    if not listing and line > co.line:  # pip's default only-if-needed upgrade: a later separate command moves the co-pin
        why += f" in one resolve (a separate later `pip install {dist}` takes the newest {dist} and upgrades {co.dist} past its pin instead)"
    return Pin(
        dist,
        release,
        f"{dist} (no version)",
        f"{shown}:{line} asks for {dist} with no version",
        "",
        file=co.file,
        line=line,
        cap=got[0],
        capped_by=why,
        unpinned=True,
    )


def _copinned(config: str, text: str, pin: Pin, found: dict[str, Pin]) -> Pin | None:
    """`pin` narrowed by the repository's pin of a package each of its releases requires within bounds (copins.py:
    `tokenizers==0.12.1` beside `transformers>=4.26.1` leaves pip transformers 4.33.3; `transformers==4.36.2` beside
    `trl>=0.7` leaves trl 0.11.4), else None. Only a range, and only a co-pin of the same install: the same file (a
    README's or script's within a few lines), so a docs/ or data-generation requirements file is not taken for the run's
    environment."""
    from .copins import copin_cap, deps

    dep = deps(pin.dist)
    if dep is None or pin.kind != "pin" or pin.exact or not pin.constraint or not pin.file:
        return None
    co = found.get(dep) if dep in DISTS else next((p for p in _exact_pins(config, text) if p.dist == dep), None)
    if co is None or co.kind != "pin" or co.file != pin.file or not co.constraint:
        return None
    if dep in DISTS and co.cap:
        co = dataclasses.replace(co, constraint=f"{co.constraint},{co.cap}")
    if not co.file.endswith((".txt", ".toml", ".cfg", "setup.py", ".yml", ".yaml", "Pipfile")) and abs(co.line - pin.line) > COPIN_SPAN:
        return None  # a README's or script's install lines: the same command or block only
    got = copin_cap(pin.dist, pin.constraint, co.constraint, co.where)
    if got is None:
        return None
    if pin.cap:  # a torch pin narrowed it too: the lower bound of the two
        if Version(pin.cap.removeprefix("<=")) <= Version(got[0].removeprefix("<=")):
            return None
        return dataclasses.replace(pin, cap=got[0], capped_by=f"{pin.capped_by}; {got[1]}")
    return dataclasses.replace(pin, cap=got[0], capped_by=got[1])


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


def too_new(dist: str, key: str, value: object, pin: Pin | None, values_only: bool = False) -> str | None:
    """Why `key: value` cannot be written for a recipe pinned to an older `dist`, or None. `values_only`:
    the key is already in the file (so the release has it); only the value is judged."""
    if pin is None:
        return None
    for (d, k), (since, cite) in KEY_SINCE.items():
        if not values_only and d == dist and k == key and _older(pin.version, since):
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
