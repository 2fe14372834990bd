"""Jupyter notebooks read as text: the code cells of an `.ipynb` file (nbformat 4 JSON), never run.

One small reader shared by everything that looks into a notebook: the launchers reader takes its
`!torchrun ...` lines, `%%bash` cells and Markdown cells' code blocks (formats/launchers.py), a pins reader can take its
`%pip install trl==0.13.0` lines. Bounded: the caller reads the file through safepath with a size
limit; here at most MAX_CELLS cells are looked at and a cell longer than MAX_CELL_CHARS is skipped.
"""

from __future__ import annotations

import json
from typing import Any

MAX_CELLS = 2_000
MAX_CELL_CHARS = 200_000


def _source(cell: Any) -> str | None:
    src = cell.get("source") if isinstance(cell, dict) else None
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return src if isinstance(src, str) else None


def notebook_cells(text: str) -> list[tuple[str, str, str]]:
    """(location, cell type, source) of each code and Markdown cell: "cell N" (1-based over all the
    notebook's cells, in order, as a reader counts them in Jupyter); [] when `text` is not a
    notebook (not JSON, no `cells` list)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return []
    out: list[tuple[str, str, str]] = []
    for n, cell in enumerate(cells[:MAX_CELLS], 1):
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        if kind not in ("code", "markdown"):
            continue
        code = _source(cell)
        if code is not None and len(code) <= MAX_CELL_CHARS:
            out.append((f"cell {n}", str(kind), code))
    return out


def notebook_code(text: str) -> list[tuple[str, str]]:
    """(location, code) of each code cell, as `notebook_cells` numbers them."""
    return [(where, code) for where, kind, code in notebook_cells(text) if kind == "code"]


def notebook_lines(text: str) -> list[tuple[int, str, str, str]]:
    """Every line of every code and Markdown cell as (line of the `.ipynb` file it is written on,
    "cell N line M", the line, the cell type): the file line is found by looking for the line's JSON text from the previous one on
    (nbformat writes one source line per file line); the previous line when it is not found."""
    file_lines = text.splitlines()
    at, nxt = 0, 0  # the last line found and where the next search starts: forward only
    out: list[tuple[int, str, str, str]] = []
    for where, kind, code in notebook_cells(text):
        for m, line in enumerate(code.splitlines(), 1):
            for ascii_only in (False, True):
                needle = json.dumps(line, ensure_ascii=ascii_only)[:-1]  # the opening quote and the text
                hit = next((i for i in range(nxt, min(len(file_lines), nxt + 400)) if needle in file_lines[i]), None)
                if hit is not None:
                    at, nxt = hit, hit + 1
                    break
            out.append((at + 1, f"{where} line {m}", line, kind))
    return out
