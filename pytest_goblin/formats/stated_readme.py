"""The training GPU a README names for a config where `prose.readme_prose` ties no count to it (issue 23): a Markdown
table row of the README that names the config (`| Training hardware | Google Colab T4 (16GB VRAM) |`, review13b #25
finance-phi3-qlora README.md:43), and the sentences of a README section tied to the config (`prose._ties`) that say the
config trained there, sentence by sentence, so that a section naming a training GPU and an inference GPU in separate
sentences gives the training one. A GPU named for inference, serving, evaluation or a demo (the sentence, the row's
first cell or the section's heading says so) is never the training GPU; several training GPUs give none, said in a note.
Read as text through safepath, bounded; nothing run."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .prose import _ASIDE_HEADING, _HEADING, _NAMED_GPU, README_LIMIT, _sections, _ties, hits_of, readmes_upward

# the first cell of a table row that says it is the training hardware ("Training hardware", "GPU (training)", "训练硬件")
_TRAIN_CELL = re.compile(r"train|fine-?tun|\bsft\b|训练|微调", re.IGNORECASE)
_HW_CELL = re.compile(r"hardware|\bgpus?\b|accelerator|device|硬件|显卡", re.IGNORECASE)
_ROW = re.compile(r"^\s*\|([^|\n]{1,80})\|([^|\n]{1,200})\|")
# a GPU named in a cell, with the memory stated right after it ("T4 (16GB VRAM)", "A100 80GB", "H100-80G")
_CELL_GPU = re.compile(rf"(?<![A-Za-z0-9_])({_NAMED_GPU})(?![A-Za-z0-9_])(?:[\s(,-]{{0,3}}(\d{{2,3}})\s?G(?:B|iB)?\b)?", re.IGNORECASE)
# the words of a sentence that say the config trained there, and those that make it another run's or a condition
_TRAINED = re.compile(r"\b(?:train\w*|fine-?tun\w*|tested|ran|measured|benchmarked)\b|训练|微调", re.IGNORECASE)
_ASIDE = re.compile(r"\b(?:infer\w*|serv(?:e|es|ed|ing)|deploy\w*|demo|eval\w*|generat\w*)\b|推理|部署|评测", re.IGNORECASE)
_IF = re.compile(r"\b(?:if|when|unless|otherwise|recommend\w*|should|can|could|may|at least|minimum)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?。；;])\s+")


class Named(NamedTuple):
    gpu: str  # "T4 16GB"
    phrase: str  # the words as written
    file: str
    line: int


class ReadmeGpus(NamedTuple):
    named: tuple[Named, ...]  # each distinct training GPU named, first statement of each


def _cell_gpus(cell: str) -> list[tuple[str, str]]:
    out = []
    for m in _CELL_GPU.finditer(cell):
        name = re.sub(r"\s+", " ", m.group(1).upper())
        out.append((f"{name} {m.group(2)}GB" if m.group(2) else name, m.group(0).strip()))
    return out


def _table_rows(readme: Path, text: str) -> list[Named]:
    """The GPUs the training-hardware rows of the README's tables name, outside sections about another run."""
    out: list[Named] = []
    aside = False
    for n, line in enumerate(text.splitlines(), 1):
        if _HEADING.match(line):
            aside = _ASIDE_HEADING.search(line) is not None
            continue
        m = _ROW.match(line)
        if aside or m is None:
            continue
        head, value = m.group(1), m.group(2)
        if not (_TRAIN_CELL.search(head) and _HW_CELL.search(head)) or _ASIDE.search(head) or _ASIDE.search(value):
            continue
        out.extend(Named(gpu, value.strip(), str(readme), n) for gpu, _ in _cell_gpus(value))
    return out


def _sentences(readme: Path, text: str, lines: set[int]) -> list[Named]:
    """The GPUs the sentences of `lines` (a tied section's counts) say the config trained on, sentence by sentence."""
    out: list[Named] = []
    all_lines = text.splitlines()
    for n in sorted(lines):
        for sentence in _SENTENCE.split(all_lines[n - 1]):
            if not _TRAINED.search(sentence) or _ASIDE.search(sentence) or _IF.search(sentence):
                continue
            out.extend(Named(h.gpu, h.phrase, str(readme), n) for h in hits_of(sentence, n) if h.gpu)
    return out


def readme_gpus(config: Path) -> ReadmeGpus | None:
    """The training GPUs the nearest README naming the config states (its sections tied to the config, else its
    training-hardware table rows); None where it states none."""
    return _readme_gpus(str(config.resolve()))


@lru_cache(maxsize=256)
def _readme_gpus(config_path: str) -> ReadmeGpus | None:
    from ..frameworks.pins import vendored_copy
    from ..safepath import UnsafePath, read_text, repository_root, tree_of

    config = Path(config_path)
    roots = tuple(tree_of(config))
    stop = repository_root(config.parent)
    root = stop if stop is not None else config.parent
    # the nearest README decides, as written: the walk stops there (prose.readmes_upward)
    found = next(readmes_upward(config, stop, vendored_copy(config.parent, stop, list(roots))), None)
    if found is None:
        return None
    readme = found[1]
    try:
        text = read_text(readme, roots=list(roots), limit=README_LIMIT)
        sections = _sections(str(readme), roots)
    except (UnsafePath, OSError):
        return None
    if re.search(rf"(?<![\w.-]){re.escape(config.name)}(?![\w-])", text) is None:
        return None  # the nearest README does not name the config: its statements may be another's
    tied = {h.line for s in sections if s.hits and not s.aside and _ties(s, readme, config, root, roots)[0] for h in s.hits}
    named = _sentences(readme, text, tied) or _table_rows(readme, text)
    if not named:
        return None
    distinct = {n.gpu: n for n in reversed(named)}
    return ReadmeGpus(tuple(sorted(distinct.values(), key=lambda n: n.line)))
