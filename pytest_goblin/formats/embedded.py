"""A framework config embedded in a deployment file under a key of any name: a Helm values/overrides file whose
`llamaFactoryConfig:` holds the LLaMA-Factory config (silogen/ai-workloads workloads/llm-finetune-llama-factory/helm:
templates/configmap.yaml writes `toYaml .Values.llamaFactoryConfig` into the file `llamafactory-cli train` runs,
review10a rows 11-12), as a mapping or as a literal block string (`key: |`).

The block is found by what it holds, not by its name: the one top-level key whose mapping, or whose literal block
string parsed as YAML, the format's own detector accepts (two such keys name none). A block named after the framework
(`llamafactory:`) is nested_block.py's. A mapping is read and written as nested_block reads its block: every key under
`<key>.`, lines the outer file's. A literal block string's lines are the outer file's too (each content line is the
file's line after the `key: |` header, its indentation removed: checked line by line, else the string is not read);
an edit is made in the string's own text and put back at the block's indentation, and the patch is read back as any.
A folded (`>`) or quoted string is not mapped to lines and not read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..schemas import FieldSource, ModelShape, WorkloadConfig
from ..yamlio import key_line, load_yaml
from .axolotl import AxolotlAdapter
from .base import Reader
from .llamafactory import LlamaFactoryAdapter
from .nested_block import NESTED_BLOCKS, _Nested

MAX_STRING = 100_000  # a block string longer than any training config is not parsed


def literal_block(text: str, line: int | None, value: str) -> tuple[int, str] | None:
    """(first content line, indentation) of the literal block string `value` whose key is at `line` of `text`: each
    content line is the file's next line less one indentation; None when the string is not laid out so (folded,
    quoted, flow)."""
    if line is None or not value.strip():
        return None
    rows = text.split("\n")
    header = rows[line - 1] if line - 1 < len(rows) else ""
    after = header.split(":", 1)[1].strip() if ":" in header else ""
    if not after.startswith("|"):
        return None
    body = value.split("\n")
    if body and body[-1] == "":
        body.pop()  # the string's final newline
    first = next((r for r in body if r.strip()), None)
    start = line  # 0-based index of the first content line
    if first is None or start + len(body) > len(rows):
        return None
    shown = rows[start + body.index(first)]
    indent = shown[: len(shown) - len(shown.lstrip(" "))]
    if not indent:
        return None
    for offset, want in enumerate(body):
        got = rows[start + offset]
        if (got[len(indent) :] if got.startswith(indent) else None) != want and not (want == "" and not got.strip()):
            return None
    return line + 1, indent


def _parse_string(value: str) -> Any:
    """A multi-line string parsed as YAML (None when it is not YAML, or far longer than a config)."""
    if "\n" not in value.strip() or len(value) > MAX_STRING:
        return None
    try:
        return load_yaml(Path("<string>"), value)
    except ConfigError:
        return None


class _Embedded(_Nested):
    """The one top-level key holding a config of this format; scored 1, below any flat reading and after a named block."""

    block = ""
    _string: tuple[int, str, str] | None = None  # (first content line, indentation, the string) of a read block string
    _cache: tuple[str, Any] | None = None  # (the string, its parse: padded once `_string` is set)
    _top_data: Any = None  # the whole file, for the chart's keys beside the block

    def _inner(self, data: Any) -> Any:
        if not isinstance(data, dict) or not self.block:
            return None
        value = data.get(self.block)
        if not isinstance(value, str):
            return value
        if self._cache is not None and self._cache[0] == value:
            return self._cache[1]
        parsed = _parse_string(value)
        self._cache = (value, parsed)
        return parsed

    def detect(self, data: Any) -> int:
        if not isinstance(data, dict) or any(name in data for name in NESTED_BLOCKS):
            return 0
        found = []
        for key in data:
            if not isinstance(key, str) or not isinstance(data[key], (dict, str)):
                continue
            self.block, self._cache = key, None
            inner = self._inner(data)
            if isinstance(inner, dict) and super(_Nested, self).detect(inner) > 0:
                found.append(key)
        self.block, self._cache = (found[0] if len(found) == 1 else ""), None
        return 1 if len(found) == 1 else 0

    def parse(self, path: Path, data: Any, text: str) -> WorkloadConfig:
        self._top_data = data
        value = data.get(self.block) if isinstance(data, dict) else None
        if isinstance(value, str):
            line = key_line(data, self.block)
            laid = literal_block(text, line, value)
            if laid is None:
                raise ConfigError(
                    str(path),
                    f"`{self.block}:` holds a {self.name} config as a string that is not a literal block (`{self.block}: |`), "
                    "so its keys cannot be placed on the file's lines",
                    line=line,
                    hint=f"write `{self.block}:` as a literal block string or a mapping",
                )
            first, indent = laid
            self._string = (first, indent, value)
            self._cache = (value, load_yaml(path, self._padded()))  # every key's line is the outer file's
        return super().parse(path, data, text)

    def model_shape(self, r: Reader) -> ModelShape:
        """The block's model, or the one the chart's template writes beside it from the values (formats/helm_chart.py):
        keys the template writes that the block does not set are read as set over it, with the values file as source."""
        from .helm_chart import chart_keys

        top = self._top_data
        found = chart_keys(Path(r.path), top, self.block) if isinstance(top, dict) and isinstance(r.data, dict) else {}
        for key, got in found.items():
            if key in r.data:
                continue  # the block's own key comes after the template's in the file it writes, and wins
            note = (
                f"`{key}` is written by the chart's {got.template} line {got.template_line} from `{got.values_key}: {got.value}`"
                f" ({got.values_file}" + (f" line {got.values_line}" if got.values_line else "") + f"), beside the `{self.block}:` config"
            )
            r.over[key] = (got.value, FieldSource(file=got.values_file, key=got.values_key, line=got.values_line, explicit=True, note=note))
            r.notes.append(note)
        shape = super().model_shape(r)
        model = r.sources.get("model")
        if model is not None and model.key in r.over:
            r.sources["model"] = r.over[model.key][1]
        return shape

    def read(self, r: Reader) -> None:
        super().read(r)
        if self._string is not None:  # the keys are inside a string: not `<block>.` paths of the file
            for name, src in list(r.sources.items()):
                if src.key and src.key.startswith(f"{self.block}."):
                    r.sources[name] = src.model_copy(update={"key": src.key[len(self.block) + 1 :]})
            r.notes[-1] = r.notes[-1].replace(f"the `{self.block}:` block", f"the literal block string of `{self.block}:`", 1)

    def writes(self, field: str, value: Any, workload: WorkloadConfig, data: Any) -> dict[str, Any] | None:
        if self._string is None:
            return super().writes(field, value, workload, data)
        inner = self._inner(data) if isinstance(data, dict) and self.block in data else data  # apply passes the string's parse
        return super(_Nested, self).writes(field, value, workload, inner)

    def apply_keys(self, text: str, data: Any, writes: dict[str, Any]) -> tuple[str, list[str]]:
        if self._string is None:
            return super().apply_keys(text, data, writes)
        inner = self._inner(data)
        plain = {k[len(self.block) + 1 :] if k.startswith(f"{self.block}.") else k: v for k, v in writes.items()}
        new, missed = super(_Nested, self).apply_keys(self._padded(), inner, plain)
        return self._spliced(text, new), missed

    def apply(self, path: Path, text: str, data: Any, workload: WorkloadConfig, fields: dict[str, Any]) -> tuple[str, dict[str, str]]:
        if self._string is None:
            return super().apply(path, text, data, workload, fields)
        new, skipped = super(_Nested, self).apply(path, self._padded(), self._inner(data), workload, fields)
        return self._spliced(text, new), skipped

    def _padded(self) -> str:
        assert self._string is not None
        first, _, value = self._string
        return "\n" * (first - 1) + value

    def _spliced(self, text: str, new: str) -> str:
        """The file with the block string's lines replaced by `new`'s (the padded string edited), re-indented."""
        assert self._string is not None
        first, indent, value = self._string
        body = new.split("\n")[first - 1 :]
        if body and body[-1] == "":
            body.pop()
        old = value.split("\n")
        if old and old[-1] == "":
            old.pop()
        rows = text.split("\n")
        put = [indent + row if row.strip() else "" for row in body]
        return "\n".join(rows[: first - 1] + put + rows[first - 1 + len(old) :])


class EmbeddedLlamaFactoryAdapter(_Embedded, LlamaFactoryAdapter):
    pass


class EmbeddedAxolotlAdapter(_Embedded, AxolotlAdapter):
    pass
