"""A YAML file that is a Jinja template (`{{ name }}` / `{% ... %}`) a repository script renders into
the config a run reads: not a config yet, so not collected, with the renderer named where a script
in the config's folders renders Jinja. Asked only when the YAML loader refused the file: a valid
document that merely holds quoted `{{ }}` strings is read as the config it is."""

from __future__ import annotations

import os
import re
from pathlib import Path

# no brace (or %) inside and bounded: each start fails at once on a megabyte line of braces (tests/test_security.py census)
_EXPR = re.compile(r"\{\{[^{}\n]{0,512}\}\}|\{%[^%\n]{0,512}%\}")
_RENDER = re.compile(r"\.render\s*\(")
_JINJA = re.compile(r"\bjinja2\b|\bfrom\s+jinja2\b|\bTemplate\s*\(")
MAX_SCRIPT_BYTES = 256_000
MAX_NAMED = 3


def template_mark(text: str) -> tuple[int, str] | None:
    """(line, expression) of the first Jinja expression or tag outside a `#` comment line."""
    for number, row in enumerate(text.split("\n"), 1):
        if row.lstrip().startswith("#"):
            continue
        m = _EXPR.search(row)
        if m:
            return number, m.group(0)
    return None


def _render_line(text: str) -> int | None:
    """The line of the first `.render(` call of a script that uses jinja2, else None."""
    if not _JINJA.search(text):
        return None
    m = _RENDER.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def renderers(config: Path) -> tuple[list[str], bool]:
    """(`script:line` of the `.render(` call of each Python file in the config's folders, its parents
    and their script folders that renders Jinja, whether those listed name the config's file).
    Files that name the config come first; when some do, only they are listed."""
    from .launch_walk import folder_scripts

    naming: list[str] = []
    other: list[str] = []
    real = Path(os.path.realpath(os.path.abspath(config)))
    for script, text, root in folder_scripts(config, MAX_SCRIPT_BYTES):
        line = _render_line(text)
        if line is None:
            continue
        shown = f"{os.path.relpath(script, root)}:{line}"
        (naming if real.name in text else other).append(shown)
    return (naming, True) if naming else (other, False)


def template_reason(path: Path, text: str) -> str | None:
    """Why a file the YAML loader refused is not collected, when it is a Jinja template; else None."""
    mark = template_mark(text)
    if mark is None:
        return None
    line, expr = mark
    found, names_it = renderers(path)
    if found and names_it:
        by = f"{', '.join(found[:MAX_NAMED])} render{'s' if len(found) == 1 else ''} it with Jinja"
    elif len(found) == 1:
        by = f"{found[0]} beside it renders Jinja templates (which file it renders is set at run time)"
    elif found:
        more = f" and {len(found) - MAX_NAMED} more" if len(found) > MAX_NAMED else ""
        by = f"scripts beside it render Jinja templates ({', '.join(found[:MAX_NAMED])}{more}; which one renders this file is set at run time)"
    else:
        by = "no Python file in its folders renders it (a script elsewhere or a tool fills it in)"
    return (
        f"a Jinja template, not a config until rendered: `{expr}` at line {line} is filled in before the run; {by};"
        " goblin audits rendered configs: render it and audit the result"
    )
