"""The keys a Helm chart's template writes beside an embedded config block, from the values the chart is given.

silogen/ai-workloads workloads/llm-finetune-llama-factory/helm/templates/configmap.yaml writes, into the ConfigMap
entry `llama_factory_config.yaml: |`, `model_name_or_path: "{{ .Values.modelName }}"` (under `{{- if .Values.modelRemote
}} ... {{- else }}`) and then `{{ toYaml .Values.llamaFactoryConfig | indent 4 }}`: the config `llamafactory-cli train`
runs is the block plus those keys, the block's own winning (it comes after them; LLaMA-Factory reads the file with
`yaml.safe_load`, which keeps a repeated key's last value). A values or overrides file inside a chart (a `Chart.yaml` in
its folder or up to `MAX_UP` folders above) is read over the chart's `values.yaml`, as `helm install -f` merges them.

Only a plain `key: {{ .Values.name }}` line (quoted or not, no pipe or function) at the entry's own indentation, in the
same entry as the block's `toYaml`, is taken; a line under a condition is taken only where the condition is one of
`.Values.x`, `not .Values.x`, `eq|ne (int .Values.x) N` (an `else` branch too) and holds for these values; `range`,
`with` and any other condition leave their lines untaken. Read through safepath, nothing rendered or run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..safepath import text_or_empty, tree_of, within
from ..yamlio import key_line, load_yaml

MAX_UP = 3  # folders above a values file its chart's Chart.yaml may be in (helm/overrides/x.yaml -> helm/)
MAX_TEMPLATES = 40
MAX_BYTES = 200_000
_ACTION = re.compile(r"\{\{-?\s*(if|else if|else|end|range|with|define|block)\b([^}]{0,300}?)-?\}\}")
_SET = re.compile(r"^( *)([A-Za-z_][\w.-]{0,100}):[ \t]*\"?\{\{-?[ \t]*\$?\.Values\.([A-Za-z_]\w{0,100})[ \t]*-?\}\}\"?[ \t]*$")
_ENTRY = re.compile(r"^ *[\w.-]{1,200}:[ \t]*\|[-+]?[ \t]*$")  # a ConfigMap data entry holding a file: `name.yaml: |`
_TRUTH = re.compile(r"^\s*(not\s+)?\$?\.Values\.(\w{1,100})\s*$")
_COMPARE = re.compile(r"^\s*(eq|ne)\s+\(int\s+\$?\.Values\.(\w{1,100})\)\s+(-?\d{1,9})\s*$")


@dataclass(frozen=True)
class ChartSet:
    """A key the template writes beside the block, with the value the chart's values give it."""

    value: Any
    values_key: str
    values_file: str  # the file that sets it (the audited file, or the chart's values.yaml)
    values_line: int | None
    template: str  # the template, from the chart's folder
    template_line: int


def _chart_root(values: Path, roots: list[Path]) -> Path | None:
    folder = values.parent
    for _ in range(MAX_UP + 1):
        if (folder / "Chart.yaml").is_file() and within(folder / "Chart.yaml", roots):
            return folder
        if folder.parent == folder or not within(folder.parent, roots):
            return None
        folder = folder.parent
    return None


def _load(path: Path, roots: list[Path]) -> Any:
    text = text_or_empty(path, roots=roots, limit=MAX_BYTES)
    try:
        return load_yaml(path, text) if text else None
    except ConfigError:
        return None


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", {}, [])


def _holds(condition: str, values: dict[Any, Any]) -> bool | None:
    """A template condition over the values: True, False, or None when goblin does not evaluate it."""
    if m := _TRUTH.match(condition):
        truth = _truthy(values.get(m.group(2)))
        return not truth if m.group(1) else truth
    if m := _COMPARE.match(condition):
        raw = values.get(m.group(2))
        try:
            number = int(raw) if raw is not None and not isinstance(raw, (dict, list)) else 0
        except (TypeError, ValueError):
            return None
        return (number == int(m.group(3))) == (m.group(1) == "eq")
    return None


def chart_keys(values_file: Path, top: dict[Any, Any], block: str) -> dict[str, ChartSet]:
    """The keys the chart's template writes beside `block` in the entry that dumps it, with their values; {} when the
    file is in no chart or no template dumps the block."""
    absolute = Path(os.path.abspath(values_file))
    roots = tree_of(absolute)
    chart = _chart_root(absolute, roots) if roots else None
    if chart is None:
        return {}
    defaults = _load(chart / "values.yaml", roots) if absolute != chart / "values.yaml" else None
    merged: dict[Any, Any] = {**(defaults if isinstance(defaults, dict) else {}), **top}
    folder = chart / "templates"
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith((".yaml", ".yml", ".tpl")))[:MAX_TEMPLATES]
    except OSError:
        return {}
    dump = re.compile(r"\{\{-?\s*toYaml\s+\$?\.Values\." + re.escape(block) + r"\b")
    for name in names:
        text = text_or_empty(folder / name, roots=roots, limit=MAX_BYTES)
        rows = text.split("\n")
        at = next((i for i, row in enumerate(rows) if dump.search(row)), None)
        if at is None:
            continue
        start = next((i for i in range(at - 1, -1, -1) if _ENTRY.match(rows[i])), None)
        if start is None:
            return {}
        return _entry_keys(rows, start, at, merged, top, defaults, (values_file, chart / "values.yaml"), f"templates/{name}")
    return {}


def _entry_keys(
    rows: list[str], start: int, at: int, merged: dict[Any, Any], top: dict[Any, Any], defaults: Any, files: tuple[Path, Path], shown: str
) -> dict[str, ChartSet]:
    """The plain `key: {{ .Values.x }}` lines between the entry's header (`start`) and the block's dump (`at`)."""
    out: dict[str, ChartSet] = {}
    branches: list[bool | None] = []  # per open action: does its current branch hold (None: not evaluated)
    taken: list[bool | None] = []  # per open `if`: has an earlier branch held
    indent: int | None = None
    for index in range(start + 1, at):
        row = rows[index]
        for m in _ACTION.finditer(row):
            word, rest = m.group(1), m.group(2)
            if word == "if":
                held = _holds(rest, merged)
                branches.append(held)
                taken.append(held)
            elif word in ("else", "else if") and branches:
                before = taken[-1]
                if word == "else" and before is not None:
                    branches[-1] = not before
                else:
                    branches[-1] = taken[-1] = None
            elif word == "end" and branches:
                branches.pop()
                taken.pop()
            elif word in ("range", "with", "define", "block"):
                branches.append(None)
                taken.append(None)
        if _ACTION.search(row) or not row.strip():
            continue
        width = len(row) - len(row.lstrip(" "))
        indent = width if indent is None else indent
        plain = _SET.match(row)
        if plain is None or width != indent or not all(b is True for b in branches):
            continue
        key, name = plain.group(2), plain.group(3)
        value = merged.get(name)
        if value is None or isinstance(value, (dict, list)) or value == "":
            continue
        own = name in top
        file = str(files[0] if own else files[1])
        line = key_line(top, name) if own else (key_line(defaults, name) if isinstance(defaults, dict) else None)
        out[key] = ChartSet(value, name, file, line, shown, index + 1)
    return out
