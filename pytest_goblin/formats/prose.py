"""The GPU count a README's prose says a config was trained on: "We train Qwen2-VL-72B-Instruct with 64 Nvidia
A800 with 80GB" (review4 #11 Virgo README.md:83), "a single-node cluster with node type having 8 A100 GPUs"
(review4 #27 dolly README.md:91), "8 x H100 80GB", "2 nodes of 8 MI300X", "a single A100 (80GB)".

A count is tied to the config where the README section that states it (from one Markdown heading to the
next) names the config's file, or names a file of the repository whose text names the config (the script or
notebook that launches it: Virgo's `training_scripts/qwen2vl_72b_numina5K_10epoch.sh`, dolly's
`train_dolly.py` running `--module training.trainer`). A section that names other scripts of the repository
(and no placeholder config) and not this one speaks of them: its count is never this config's. A count in a
section tied to no file is read only from the nearest README with a count, where that README states one count,
in a phrase of the forms read before ties were asked for ("4xH100", "across 2 A100s", "on 8 GPUs"), and no
section of it is about another script (review2 SimPO README.md:184 "All training configs are set for 4xH100
GPUs"), or a list item that is the count ("* Four NVIDIA A100 SXM4 80GB GPUs", review5 FoVer README.md:59; "- 1 x A40 (48GB VRAM)"
of any named GPU, review8a #1 axolotl-finetune qlora/README.md:13); a
shell script a section names that runs no training or launch command (an environment setup script) does not make
the section about another script. Where the README states several counts, the one count of its training sections
(a heading, or one above it, saying train / fine-tune / SFT / 训练 / 微调: Firefly README.MD:170 "## 训练细节"
"4*V100", beside other projects' "160\\*A100") is read as an ASSUMED topology (`Prose.assumed`, not explicit), said
with its line. A section under an evaluation, inference, serving, demo or leaderboard heading speaks of another run:
its counts are not read without a tie. Counts are digits or words ("Four", "eight", "dual"), before the GPU or after
it ("A800 * 2"), a Markdown-escaped `\\*` too. "A single A100 GPU node", "2 A100 nodes" count machines, not GPUs: not read.
Everything is read as text through safepath, bounded; nothing is run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

README_LIMIT = 256_000
NAMED_LIMIT = 256_000  # a file a README section names, read to see whether it names the config
MAX_NAMED = 8  # files read per section

_NAMED_GPU = r"(?:A100|H100|H200|H800|H20|GH200|B200|A800|A6000|A40|A30|A10G?|L40S?|L20|L4|V100|T4|RTX\s?\d{4}|MI210|MI250X?|MI300X?|MI325X|MI355X)"
# the phrases goblin read before a tie was asked for (review2 SimPO "set for 4xH100", modal-labs "across 2 A100s"):
# only these give the count of a README that ties it to no file
_PLAIN_GPU = re.compile(r"(?:A100|H100|H200|H800|A800|L40S?|A6000|MI250X?|MI300X?|MI325X|MI355X|GPU)", re.IGNORECASE)
# ... or a list item that is the count itself ("* Four NVIDIA A100 SXM4 80GB GPUs" under "We run our experiments on
# the following environment", review5 #14 FoVer README.md:57-59)
_PLAIN_BEFORE = re.compile(r"(?:\b(?:on|across|with|uses?|using)\s+|^\s*[-*+]\s+)$", re.IGNORECASE)


# a script that runs a training or launch command; a section naming only scripts without one (an environment
# setup script: FoVer README.md:55 `setup/setup.sh`, conda and pip lines) speaks of no other run
def _list_marker(text: str) -> bool:
    """`text` is a Markdown list marker and nothing else (`  - `): a string test, not a `\\s*[-*+]\\s+` regex, which
    runs quadratic over a long run of spaces (tests/test_security.py D2)."""
    rest = text.lstrip()
    return len(rest) >= 2 and rest[0] in "-*+" and rest[1:].isspace()


_RUNS = re.compile(
    r"\b(?:torchrun|accelerate\s+launch|deepspeed\s|llamafactory-cli|lmf\s+train|tune\s+run|axolotl|python3?\s+(?:-m\s+)?[\w./-]*(?:train|finetune|sft|dpo|grpo|main|run)[\w./-]*)",
    re.IGNORECASE,
)
_VENDOR = r"(?:NVIDIA\s+|AMD\s+|Instinct\s+)?"
# "a single A100 GPU node", "2 A100 nodes": a count of machines, not of GPUs
_NOT_NODES = r"(?!-?\w*\s*(?:\(\d+\s*GB?i?B?\)\s*)?(?:GPUs?\s+)?(?:nodes?|instances?|machines?|servers?|VMs?|clusters?)\b)"
# a count written as a word (review5 #14 FoVer README.md:59 "Four NVIDIA A100 SXM4 80GB GPUs"); "one" and
# "single" are read by the "a single A100" form below
_WORDS = {w: n for n, w in enumerate("two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen".split(), 2)}
_WORDS["dual"] = 2
_N = r"(\d{1,4}|" + "|".join(_WORDS) + r")"
_NODES_OF = re.compile(rf"\b(\d{{1,4}})\s*nodes?\s*(?:of|with|x|\*|×)\s*(\d{{1,3}})\s*(?:x\s*)?{_VENDOR}({_NAMED_GPU}|GPU)s?\b", re.IGNORECASE)
# the count of "4*V100" may follow a CJK character (Firefly README.MD:188 "使用了4*V100", where `\b` sees no boundary)
# and its `*` may be escaped for Markdown (README.MD:42 `4\*V100`)
_START = r"(?<![A-Za-z0-9_.])"
_TIMES = r"(?:x|×|\\?\*)"
_COUNTS = (
    re.compile(rf"{_START}(\d{{1,4}})\s*{_TIMES}\s*{_VENDOR}({_NAMED_GPU}|GPU)s?(?![A-Za-z0-9_]){_NOT_NODES}", re.IGNORECASE),  # 8xA100, 8 x H100 80GB, 4*V100
    re.compile(rf"\b{_N}\s+{_VENDOR}({_NAMED_GPU})s?\b{_NOT_NODES}", re.IGNORECASE),  # 64 Nvidia A800, 8 A100 GPUs, 2 A100s, Four A100
    re.compile(rf"\b(?:on|across|with|uses?|using|having)\s+{_N}\s+(GPU)s\b", re.IGNORECASE),  # trained on 8 GPUs, on eight GPUs
    # a single A100 (80GB); a single 32GB V100 GPU (review10b #30 LongQLoRA README.MD:9: the memory before the GPU)
    re.compile(rf"\b(a\s+single|single|one)[\s-]+(?:(\d{{2,3}})\s?G(?:B|iB)?[\s-]+)?{_VENDOR}({_NAMED_GPU})\b{_NOT_NODES}", re.IGNORECASE),
    # the GPU, then the count: "GPU：A800 * 2" (review6b #23 dapo-reproduction README.md:249), "H100 x 8"; not "A100 x 80GB"
    re.compile(rf"(?<![A-Za-z0-9_])(?P<gpu>{_NAMED_GPU}|GPU)s?\s*{_TIMES}\s*(?P<n>\d{{1,3}})(?!\w|\.\d){_NOT_NODES}", re.IGNORECASE),
)
_GPU_FIRST = len(_COUNTS) - 1
_SINGLE = 3  # the "a single [32GB] A100" form: its GPU is group 3, the memory stated before it group 2
# a section (or one under it) whose heading says it is about training; and one about evaluation, inference, serving
# or a leaderboard, whose counts are another run's (Firefly README.MD:81 "## 模型评测" tables "8\*A100" of other models)
_TRAINING_HEADING = re.compile(r"train|fine-?tun|\bsft\b|训练|微调", re.IGNORECASE)
_ASIDE_HEADING = re.compile(
    r"\b(?:infer\w*|eval\w*|benchmark\w*|serv(?:e|ing)|deploy\w*|demo|chat|leaderboard|quantiz\w*)\b|推理|评测|评估|部署|榜单|量化",
    re.IGNORECASE,
)
_MEMORY = re.compile(r"\A[\s(,-]*(?:with\s+)?(\d{2,3})\s*G(?:B|iB)?\b", re.IGNORECASE)  # "80GB" / "(80G)" / "-80GB" / "with 80GB" right after
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_FILE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:py|sh|yaml|yml|json|ipynb|slurm))\b")
_DIGIT_OR_ONE = re.compile(r"\d|single|\b(?:one|" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


class Hit(NamedTuple):
    gpus: int
    line: int
    phrase: str
    gpu: str  # the GPU named ("A800 80GB"), "" for "GPUs"
    nodes: int | None = None
    per_node: int | None = None
    plain: bool = True  # a phrase of the forms read without a tie ("4xH100", "across 2 A100s", "on 8 GPUs")


class Prose(NamedTuple):
    """A README's statement of the GPUs a config ran on, and why it is this config's."""

    gpus: int
    file: str
    line: int
    phrase: str
    gpu: str
    why: str  # how the statement is tied to the config
    nodes: int | None = None
    per_node: int | None = None
    assumed: bool = False  # a project-wide training statement tied to no file: an assumption, said so

    def note(self) -> str:
        gpu = f"; the GPU named: {self.gpu}" if self.gpu else ""
        said = "; assumed for this config, which the README does not name" if self.assumed else ""
        return f"{Path(self.file).name}:{self.line} says `{self.phrase}` ({self.why}){gpu}{said}"


def hits_of(line: str, n: int) -> list[Hit]:
    """Every GPU count a prose line states, with the GPU it names and that GPU's memory where stated."""
    if not _DIGIT_OR_ONE.search(line):
        return []
    out: list[Hit] = []
    taken: list[tuple[int, int]] = []
    for m in _NODES_OF.finditer(line):
        nodes, per = int(m.group(1)), int(m.group(2))
        if 1 <= nodes <= 1024 and 1 <= per <= 64:
            out.append(Hit(nodes * per, n, m.group(0).strip(), _gpu(m.group(3), line[m.end() :]), nodes, per))
            taken.append(m.span())
    for i, pat in enumerate(_COUNTS):
        for m in pat.finditer(line):
            if any(a <= m.start() < b or a < m.end() <= b for a, b in taken):
                continue
            raw, gpu = (m.group("n"), m.group("gpu")) if i == _GPU_FIRST else (m.group(1), m.group(3 if i == _SINGLE else 2))
            after = f"{m.group(2)}GB" if i == _SINGLE and m.group(2) else line[m.end() :]
            count = int(raw) if raw.isdigit() else _WORDS.get(raw.lower(), 1)
            if 1 <= count <= 1024:
                plain = _PLAIN_GPU.fullmatch(gpu) is not None and (i in (0, 2, _GPU_FIRST) or (i == 1 and _PLAIN_BEFORE.search(line[: m.start()]) is not None))
                # a list item that is the count itself, "N x GPU" of any named GPU ("- 1 x A40 (48GB VRAM)" under "GPU-Used:",
                # review8a #1 axolotl-finetune qlora/README.md:13)
                plain = plain or (i == 0 and _list_marker(line[: m.start()]))
                out.append(Hit(count, n, m.group(0).strip(), _gpu(gpu, after), plain=plain))
                taken.append(m.span())
    return out


def _gpu(name: str, after: str) -> str:
    if name.upper().startswith("GPU"):
        return ""
    m = _MEMORY.match(after)
    name = re.sub(r"\s+", " ", name.upper())
    return f"{name} {m.group(1)}GB" if m else name


class _Section(NamedTuple):
    start: int
    level: int  # its heading's level (0: the text before the first heading)
    hits: tuple[Hit, ...]
    files: tuple[str, ...]
    headings: tuple[str, ...] = ()  # its heading and the headings above it, outermost first

    @property
    def aside(self) -> bool:
        """About evaluation, inference, serving or a leaderboard (its heading or one above it says so)."""
        return any(_ASIDE_HEADING.search(h) for h in self.headings)

    @property
    def training(self) -> bool:
        return not self.aside and any(_TRAINING_HEADING.search(h) for h in self.headings)


@lru_cache(maxsize=256)
def _sections(file: str, roots: tuple[Path, ...]) -> tuple[_Section, ...]:
    """The README's heading-delimited sections: the counts each states and the files each names."""
    from ..safepath import read_text

    text = read_text(Path(file), roots=list(roots), limit=README_LIMIT)
    out: list[_Section] = []
    start, level = 1, 0
    hits: list[Hit] = []
    files: list[str] = []
    above: list[tuple[int, str]] = []  # the open headings (level, title), outermost first
    for n, line in enumerate(text.splitlines(), 1):
        if _HEADING.match(line):
            if n > 1:
                out.append(_Section(start, level, tuple(hits), tuple(dict.fromkeys(files)), tuple(t for _, t in above)))
            start, level, hits, files = n, len(line.strip()) - len(line.strip().lstrip("#")), [], []
            above = [*[(lv, t) for lv, t in above if lv < level], (level, line.strip().lstrip("#").strip())]
        hits.extend(hits_of(line, n))
        files.extend(m.group(1) for m in _FILE.finditer(line))
    out.append(_Section(start, level, tuple(hits), tuple(dict.fromkeys(files)), tuple(t for _, t in above)))
    # the document's title (its first heading, the one `#` heading) names the project, not a section's subject:
    # "# Firefly: 一站式大模型训练工具" ("a one-stop training tool", review5 #25 Firefly README.md:1) makes no section about training
    if out and sum(1 for s in out if s.level == 1) == 1 and (out[0].level == 1 or (len(out) > 1 and out[1].level == 1 and out[0].level == 0)):
        title = next(s for s in out if s.level == 1).headings[0]
        out = [s._replace(headings=s.headings[1:]) if s.headings[:1] == (title,) else s for s in out]
    return tuple(out)


def _names_of(config: Path, root: Path) -> tuple[str, tuple[str, ...]]:
    """The config's file name, and the words a launcher's text names it by: the name, its path from the
    repository root, and for a Python file its dotted module (`training.trainer`)."""
    try:
        rel = config.relative_to(root)
    except ValueError:
        rel = Path(config.name)
    words = [config.name, rel.as_posix()]
    if config.suffix == ".py":
        words.append(".".join(rel.with_suffix("").parts))
    return config.name, tuple(dict.fromkeys(words))


_SCRIPTS = (".py", ".sh", ".slurm", ".ipynb")


def _ties(section: _Section, readme: Path, config: Path, root: Path, roots: tuple[Path, ...]) -> tuple[bool, str, bool]:
    """(whether the section speaks of this config, how, whether it speaks of another script instead): it names
    the config, or a file of the repository whose text names it; else it is about another script where it names
    one the repository has (`train_70b.py`) and no placeholder config (`your_config_name.yaml`, a file the
    repository lacks: a template for every recipe, review3 magpie recipes/README.md:63)."""
    name, words = _names_of(config, root)
    # a path is read from the README's folder, the repository root or a folder above the config (a README at
    # the root whose block does `cd LLaMA-Factory` first: Virgo README.md:79-80)
    bases = dict.fromkeys([readme.parent, root, *[p for p in config.parents if p == root or root in p.parents]])
    real = config.resolve()
    for f in section.files:
        # a bare name is this file's; a path must lead to it (notus README.md:67 names configs/dpo/full/a100_40gb.yaml,
        # not configs/dpo/lora/a100_40gb.yaml)
        if Path(f).name == name and ("/" not in f or any((base / f).resolve() == real for base in bases)):
            return True, f"its section names `{f}`", False
    from ..safepath import UnsafePath, read_text

    scripts, placeholder = False, False
    for f in section.files[:MAX_NAMED]:
        found = next((base / f for base in bases if (base / f).is_file()), None)
        if found is None:
            placeholder = placeholder or not f.endswith(_SCRIPTS)
            continue
        if found.resolve() == real:
            continue
        try:
            text = read_text(found, roots=list(roots), limit=NAMED_LIMIT)
        except (UnsafePath, OSError):
            continue
        said = next((w for w in words if re.search(rf"(?<![\w.-]){re.escape(w)}(?![\w-])", text)), None)
        if said is not None:
            return True, f"its section names `{f}`, which names `{said}`", False
        scripts = scripts or (f.endswith(_SCRIPTS) and (not f.endswith((".sh", ".slurm")) or _RUNS.search(text) is not None))
    return False, "", scripts and not placeholder


def _one_count(tied: list[tuple[Hit, str, int]], readme: Path) -> Prose | None:
    """The count the sections about this config state; where they disagree, the count of the sections at the
    shallowest heading (the main instructions, dolly README.md:88 "## Getting Started with Training") when they
    agree, the deeper ones (variants: "#### A10 GPUs", README.md:112) named in the note; None otherwise."""
    counts = {h.gpus for h, _, _ in tied}
    main = [t for t in tied if t[2] == min(lv for _, _, lv in tied)]
    if len({h.gpus for h, _, _ in main}) != 1:
        return None  # the sections about this config state several counts
    h, why, _ = min(main, key=lambda t: t[0].line)
    if len(counts) > 1:
        others = sorted({f"`{o.phrase}` (line {o.line})" for o, _, _ in tied if o.gpus != h.gpus})
        why += f"; its main section, over the deeper sections that state {', '.join(others)}"
    return Prose(h.gpus, str(readme), h.line, h.phrase, h.gpu, why, h.nodes, h.per_node)


def _training_count(sections: tuple[_Section, ...]) -> tuple[Hit, str] | None:
    """The one count the README's training sections state (review6b #31 Firefly README.MD:170 "## 训练细节":
    "我们最多仅使用了4*V100 GPU", beside a comparison with other projects' "160\\*A100" and a leaderboard), and that
    section's heading; None where no training section states a count or they state several."""
    trained = [(h, s.headings[-1]) for s in sections if s.training for h in s.hits]
    if not trained or len({h.gpus for h, _ in trained}) != 1:
        return None
    return min(trained, key=lambda t: t[0].line)


def readme_prose(config: str) -> Prose | None:
    """The GPU count a README from the config's folder up to the repository root ties to this config
    (its section names the config or a file that names it; nearest README first), else the one count of the
    nearest README with a count that speaks of no other file; None otherwise (several counts, or a count
    stated for another script or config)."""
    return _readme_prose(str(Path(config).resolve()))


@lru_cache(maxsize=512)
def _readme_prose(config_path: str) -> Prose | None:
    from ..frameworks.pins import vendored_copy
    from ..safepath import UnsafePath, repository_root, tree_of

    config = Path(config_path)
    roots = tuple(tree_of(config))
    stop = repository_root(config.parent)
    root = stop if stop is not None else config.parent
    untied: Prose | None = None
    seen_counts = False
    for here, readme in readmes_upward(config, stop, vendored_copy(config.parent, stop, list(roots))):
        try:
            sections = _sections(str(readme), roots)
        except (UnsafePath, OSError):
            sections = ()
        tied: list[tuple[Hit, str, int]] = []
        other = False
        for s in sections:
            if not s.hits:
                continue
            yes, why, elsewhere = _ties(s, readme, config, root, roots)
            if yes:
                tied.extend((h, why, s.level) for h in s.hits)
            other = other or elsewhere
        if tied:
            return _one_count(tied, readme)
        # a section about evaluation, inference or serving speaks of another run: its counts are not read
        hits = [h for s in sections if not s.aside for h in s.hits]
        if hits and not seen_counts:
            seen_counts = True
            plain = [h for h in hits if h.plain]
            own = "the README of the config's own folder" if here == config.parent else "the nearest README"
            if not other and plain and len({h.gpus for h in hits}) == 1:
                h = min(plain, key=lambda x: x.line)
                untied = Prose(h.gpus, str(readme), h.line, h.phrase, h.gpu, f"{own}, its only GPU count", h.nodes, h.per_node)
            elif not other and (trained := _training_count(sections)) is not None:
                h, title = trained
                why = f"{own}, the only GPU count of its training section `{title}`"
                untied = Prose(h.gpus, str(readme), h.line, h.phrase, h.gpu, why, h.nodes, h.per_node, assumed=True)
    return untied


README_NAMES = ("README.md", "readme.md", "README.MD", "README.rst", "README")


def readmes_upward(config: Path, stop: Path | None, vendored: Path | None) -> Iterator[tuple[Path, Path]]:
    """(folder, README) from the config's folder up to the repository root `stop`, nearest first, at most 8 levels. A
    README inside a vendored framework copy that holds the config is the framework's documentation (review12a #12
    InternSVG: LLaMA-Factory/examples/README.md:115 "on 4 GPUs" is LLaMA-Factory's example, not how the repository runs
    its edited examples/train_full/stage_1.yaml), so it is passed over."""
    here = config.parent
    for _ in range(8):
        readme = next((here / n for n in README_NAMES if (here / n).is_file()), None)
        if readme is not None and not (vendored is not None and here.is_relative_to(vendored)):
            yield here, readme
        if stop is None or here == stop or here.parent == here:
            return
        here = here.parent


def launching_readme_count(config: str, readme: str, line: int) -> Prose | None:
    """The one GPU count a README states whose code block (at `line`) launches the config, in any form (`a single 32GB
    V100`, review10b #30 LongQLoRA README.MD:9 beside its `deepspeed train.py --train_args_file ...` blocks at :63,:68),
    where `readme_prose` ties none: its sections other than evaluation, inference or serving state that one count and
    none of them is about another script. It is the run's count where that code block's launch line states none (every
    visible GPU), as a README count tied to the config is (semantics.read_world_size); None otherwise."""
    return _launching_readme_count(str(Path(config).resolve()), str(Path(readme).resolve()), line)


@lru_cache(maxsize=256)
def _launching_readme_count(config_path: str, readme_path: str, line: int) -> Prose | None:
    from ..safepath import UnsafePath, repository_root, tree_of

    config, readme = Path(config_path), Path(readme_path)
    roots = tuple(tree_of(config))
    stop = repository_root(config.parent)
    root = stop if stop is not None else config.parent
    try:
        sections = _sections(str(readme), roots)
    except (UnsafePath, OSError):
        return None
    hits: list[Hit] = []
    for s in sections:
        if not s.hits or s.aside:
            continue
        _, _, elsewhere = _ties(s, readme, config, root, roots)
        if elsewhere:
            return None  # a section speaks of another script: its count may be that script's
        hits.extend(s.hits)
    if not hits or len({h.gpus for h in hits}) != 1:
        return None
    h = min(hits, key=lambda x: x.line)
    why = f"the README whose code block at line {line} launches this config, its only GPU count"
    return Prose(h.gpus, str(readme), h.line, h.phrase, h.gpu, why, h.nodes, h.per_node)
