"""Jupyter notebooks read as text: the code cells of an `.ipynb` file (nbformat 4 JSON), never run.

One small reader shared by everything that looks into a notebook: the launchers reader takes its
`!torchrun ...` lines, `%%bash` cells and Markdown cells' code blocks (formats/launchers.py), a pins reader can take its
`%pip install trl==0.13.0` lines. Bounded: the caller reads the file through safepath with a size
limit; here at most MAX_CELLS cells are looked at and a cell longer than MAX_CELL_CHARS is skipped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .pysource import parse as parse_source

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


# A Databricks notebook exported as source: `# Databricks notebook source` on its first line, cells parted by
# `# COMMAND ----------`, a magic cell's lines written `# MAGIC %sh` / `# MAGIC %md` / `# MAGIC text`
# (databrickslabs/dolly e2d664dd train_dolly.py:1, :49, :147-148: the format as Databricks writes it).
DATABRICKS_HEAD = "# Databricks notebook source"
_COMMAND = re.compile(r"^# COMMAND -{4,}\s*$")
_MAGIC = re.compile(r"^# MAGIC ?(.*)$")


def is_databricks(text: str) -> bool:
    """True for a Databricks notebook exported as a `.py` file (its first line says so)."""
    return text.lstrip("\ufeff").startswith(DATABRICKS_HEAD)


def databricks_lines(text: str) -> list[tuple[int, str, str, str]]:
    """Every line of a Databricks `.py` notebook as `notebook_lines` gives an `.ipynb`'s: (file line, "cell N line M",
    the line, the cell type); a magic cell's lines without their `# MAGIC ` prefix, a `%md` cell typed "markdown"
    (its `%md` line dropped), every other cell "code". [] when the text is no Databricks notebook."""
    if not is_databricks(text):
        return []
    out: list[tuple[int, str, str, str]] = []
    cell, m, kind = 1, 0, ""
    for n, line in enumerate(text.splitlines()[: MAX_CELLS * 200], 1):
        if n == 1:
            continue
        if _COMMAND.match(line):
            cell, m, kind = cell + 1, 0, ""
            continue
        magic = _MAGIC.match(line)
        body = magic.group(1) if magic else line
        if m == 0 and not line.strip():  # the blank lines that follow a `# COMMAND` separator
            continue
        m += 1
        if m == 1:
            kind = "markdown" if magic and re.match(r"^%md\b", body) else "code"
            if kind == "markdown":
                continue
        out.append((n, f"cell {cell} line {m}", body, kind))
    return out


def _ipython_only(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("!", "%")) or bool(_MAGIC.match(line))


def python_literals(cells: list[str]) -> dict[str, str]:
    """The names a notebook's Python cells bind once, at a cell's top level, to a literal string or number, with the
    text IPython puts for `{name}` in a `!` line (str of the value); a name bound anywhere else too (an `if` branch, a
    loop, a function, twice) is not known. Nothing is run: the cells are parsed (ast), `!`/`%` lines and the lines a
    `!` line continues with `\\` blanked; a cell that does not parse makes every name it seems to assign unknown."""
    import ast

    stores: dict[str, int] = {}
    literal: dict[str, str] = {}
    for code in cells:
        kept: list[str] = []
        continued = False
        for line in code.splitlines():
            blank = continued or _ipython_only(line)
            continued = blank and line.rstrip().endswith("\\")
            kept.append("" if blank else line)
        try:
            tree = parse_source("\n".join(kept))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            for name in re.findall(r"(?m)^\s*([A-Za-z_]\w*)\s*(?:[-+*/|&]?=)(?!=)", "\n".join(kept)):
                stores[name] = stores.get(name, 0) + 2
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                stores[node.id] = stores.get(node.id, 0) + 1
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                stores[node.name] = stores.get(node.name, 0) + 2
            elif isinstance(node, ast.alias):
                name = (node.asname or node.name).split(".", 1)[0]
                stores[name] = stores.get(name, 0) + 2
            elif isinstance(node, ast.Global | ast.Nonlocal):
                for name in node.names:
                    stores[name] = stores.get(name, 0) + 2
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                value = stmt.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str | int | float) and "\n" not in str(value.value):
                    literal[stmt.targets[0].id] = str(value.value)
    return {name: value for name, value in literal.items() if stores.get(name) == 1}
