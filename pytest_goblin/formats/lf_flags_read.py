"""The LLaMA-Factory reader of a run given as a launcher's flags alone (the document: formats/lf_flags.py): the keys the
flags set, at their lines; every edit said as the flag to change in the launch line, never written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..schemas import WorkloadConfig
from .base import IN_LAUNCH_LINE, Reader, set_elsewhere
from .lf_flags import FlagsDocument
from .llamafactory import LlamaFactoryAdapter, _unread


def _flag_word(key: str, value: Any) -> str:
    if value is None:
        return f"no `--{key}`"
    if isinstance(value, bool):
        return f"`--{key} {'true' if value else 'false'}`"
    return f"`--{key} {value}`"


class LlamaFactoryFlagsAdapter(LlamaFactoryAdapter):
    """LLaMA-Factory read from a launch line's flags: the keys the flags set, at their lines; every edit is a flag of
    that line, said and never written (the shell file is not rewritten)."""

    suffixes = frozenset({".sh", ".bash", ".slurm", ".sbatch"})
    _doc: FlagsDocument | None = None

    def with_document(self, doc: FlagsDocument) -> LlamaFactoryFlagsAdapter:
        out = LlamaFactoryFlagsAdapter()
        out._doc = doc
        return out

    def env(self, data: Any) -> dict[str, Any] | None:
        return None  # `--env` is no LLaMA-Factory flag: the run's environment is the launcher's (launch_env)

    def read(self, r: Reader) -> None:
        super().read(r)
        if self._doc is None:
            return
        for key, why in self._doc.unresolved:
            _unread(r, key, why)
            r.notes.append(f"{why}: the fields it feeds are not judged")
        first, *rest = self._doc.notes
        r.notes[:0] = [f"{first}; edits go {IN_LAUNCH_LINE}", *rest]

    def apply_keys(self, text: str, data: Any, writes: dict[str, Any]) -> tuple[str, list[str]]:
        return text, list(writes)  # a flag of the launch line: never written into the shell file

    def _reason(self, writes: dict[str, Any]) -> str:
        """Where and how the launch line changes: "`--key value` is passed by x.sh line N: change it in the launch line"
        for one flag the line passes with a value (patching.launch_change adds the new value and the rule's other edits),
        else "set `--a v`, `--b w` on x.sh line N ...: change it in the launch line"."""
        doc = self._doc
        shown = doc.shown if doc is not None else ""
        by_key = {f.key: f for f in doc.flags} if doc is not None else {}
        if len(writes) == 1:
            key = next(iter(writes))
            flag = by_key.get(key)
            if flag is not None and flag.value is not None:
                return f"`--{key} {flag.value}` is passed by {shown} line {flag.line}: change it {IN_LAUNCH_LINE}"
        lines = sorted({by_key[k].line for k in writes if k in by_key}) or ([doc.line.line] if doc is not None else [])
        at = ", ".join(str(n) for n in lines)
        said = ", ".join(_flag_word(k, v) for k, v in writes.items())
        return f"set {said} on {shown} line{'s' if len(lines) > 1 else ''} {at} (goblin does not rewrite a shell file): change it {IN_LAUNCH_LINE}"

    def apply(self, path: Path, text: str, data: Any, workload: WorkloadConfig, fields: dict[str, Any]) -> tuple[str, dict[str, str]]:
        skipped: dict[str, str] = {}
        for field, value in fields.items():
            if (elsewhere := set_elsewhere(workload, field)) is not None:
                skipped[field] = elsewhere
                continue
            w = self.writes(field, value, workload, data)
            skipped[field] = self.unwritable_reason(field) if w is None else self._reason(w)
        return text, skipped
