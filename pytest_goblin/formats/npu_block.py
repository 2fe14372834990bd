"""README code blocks for another accelerator: a block that sets `ASCEND_RT_VISIBLE_DEVICES`, imports or uses
`torch_npu`, passes `--device npu`, or sits under an "Ascend"/"NPU" heading (one that names no GPU) launches the run on
Huawei Ascend NPUs, not on GPUs. Its launch line is not the GPU run's (launchers.find_launch reads a GPU block over it,
and says an NPU-only recipe's topology is assumed: launchers.npu_launch)."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s")
# what only an Ascend launch writes: its device mask, the torch_npu package, the npu device on the command line
_NPU_TEXT = re.compile(r"ASCEND_RT_VISIBLE_DEVICES|\btorch_npu\b|--device(?:=|\s+)[\"']?npu\b")
_NPU_HEADING = re.compile(r"(?i:\bascend\b)|\bNPUs?\b|昇腾")
_GPU_HEADING = re.compile(r"(?i:\bgpus?\b|\bcuda\b|\brocm\b|\bnvidia\b|\bamd\b)")


def npu_lines(text: str) -> frozenset[int]:
    """The (1-based) lines of a Markdown file's fenced code blocks that launch on Ascend NPUs (the module's rule)."""
    out: set[int] = set()
    headings: list[tuple[int, bool]] = []  # (level, names an NPU and no GPU) of the headings above
    block: list[int] = []
    npu_text = False
    inside = False
    for n, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            if inside and (npu_text or any(npu for _, npu in headings)):
                out.update(block)
            inside, block, npu_text = not inside, [], False
            continue
        if inside:
            block.append(n)
            npu_text = npu_text or _NPU_TEXT.search(line) is not None
            continue
        if m := _HEADING.match(line):
            level = len(m.group(1))
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, _NPU_HEADING.search(line) is not None and _GPU_HEADING.search(line) is None))
    return frozenset(out)
