"""ConfigFile (pytest.File) and AuditItem (pytest.Item).

The audit runs in the item's setup, so an audit that cannot finish is reported as an ERROR
(like a broken fixture), while the verdict is the test's outcome: fail, pass, or pass with
a GoblinWarning.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from .backends import make_backend_or_planner
from .errors import ConfigError, GoblinError
from .loop import audit_sync, final_report
from .redact import redact
from .reporting.text import failure_text, speedup_text, trajectory_text
from .schemas import Event, Report
from .settings import Settings
from .stash import SETTINGS_KEY


class GoblinWarning(UserWarning):
    """Recoverable speedup above goblin_warn_at but below goblin_fail_at."""


class GoblinFailure(Exception):
    def __init__(self, report: Report):
        super().__init__(report.reason)
        self.report = report


class AuditError(Exception):
    """The audit could not finish; the message says why."""


class ConfigFile(pytest.File):
    config_error: ConfigError | None = None

    def collect(self) -> Iterator[pytest.Item]:
        yield AuditItem.from_parent(self, name="audit")


class AuditItem(pytest.Item):
    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.events: list[Event] = []
        self.report: Report | None = None
        self.error: str | None = None

    @property
    def settings(self) -> Settings:
        return self.config.stash[SETTINGS_KEY]

    def reportinfo(self) -> tuple[Any, int | None, str]:
        from .reporting.escape import one_line

        return self.path, None, f"goblin audit of {one_line(self.path.name)}"

    def setup(self) -> None:
        parent = self.parent
        if isinstance(parent, ConfigFile) and parent.config_error is not None:
            self._record_error(str(parent.config_error))
            raise AuditError(self.error)
        try:
            backend, notes = make_backend_or_planner(self.settings.backend)
        except GoblinError as exc:
            self._record_error(str(exc))
            raise AuditError(str(exc)) from None
        self.events = audit_sync(self.path, backend=backend, settings=self.settings, on_event=self._progress(), notes=notes)
        self.report = final_report(self.events)
        if self.report is None:
            errors = [e.data.get("message", "") for e in self.events if e.type == "error"]
            self._record_error(errors[-1] if errors else "the audit ended without a report")
            raise AuditError(self.error)
        if self.settings.baseline:
            from .baseline import compare, load_baseline

            rel = self.path.relative_to(self.config.rootpath).as_posix() if self.path.is_relative_to(self.config.rootpath) else str(self.path)
            self.report = compare(self.report, load_baseline(self.settings.baseline).get(rel))
        if self.config.getoption("goblin_fix", False) and self.report.patch is not None:
            from .patching import fix_note

            note = fix_note(self.path, self.report.patch)
            if note:
                self.report = self.report.model_copy(update={"notes": [*self.report.notes, note]})
        r = self.report
        self.user_properties += [
            ("goblin.verdict", r.verdict),
            ("goblin.speedup", f"{r.speedup.point:.3f}" if r.speedup else ""),
            ("goblin.speedup_low", f"{r.speedup.low:.3f}" if r.speedup else ""),
            ("goblin.evidence", r.evidence or ""),
            ("goblin.target", r.target),
            ("goblin.rules", ",".join(r.patch.rule_ids) if r.patch else ""),
        ]

    def _progress(self) -> Any:
        """Live progress lines for long, measured audits (shown with -v, or when not projecting)."""
        from pytest_goblin.devices import gpu_present

        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        runner = self.settings.runner_name
        measured = runner in ("torch", "command") or (runner == "auto" and gpu_present())
        if tr is None or (not measured and self.config.get_verbosity() < 1):
            return None
        from .loop import progress_text

        def show(event: Event) -> None:
            text = progress_text(event)
            if text:
                tr.write_line(f"    goblin {self.path.name}: {text}")

        return show

    def _record_error(self, message: str) -> None:
        message = redact(message)
        self.error = message
        self.user_properties += [("goblin.verdict", "error"), ("goblin.error", message)]

    def runtest(self) -> None:
        r = self.report
        assert r is not None
        if r.verdict == "fail":
            raise GoblinFailure(r)
        if r.verdict == "warn":
            line = next((f.line for f in r.findings if f.line), 1)
            # Attributed to the config line, so the warnings summary points where the fix goes.
            warnings.warn_explicit(GoblinWarning(f"{speedup_text(r)} recoverable: {r.reason}"), GoblinWarning, str(self.path), line)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        verbose = self.config.get_verbosity() > 0
        if isinstance(excinfo.value, GoblinFailure):
            text = failure_text(excinfo.value.report)
        elif isinstance(excinfo.value, AuditError):
            text = f"{self.path}: audit error: {excinfo.value}"
        else:
            return str(super().repr_failure(excinfo))
        if verbose and self.events:
            text += "\n\ntrajectory:\n" + trajectory_text(self.events)
        from .reporting.escape import terminal

        return terminal(redact(text))

    def _repr_failure_py(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """Setup errors too: the one-line reason, not 500 lines of pluggy traceback (D24)."""
        if isinstance(excinfo.value, (AuditError, GoblinFailure)):
            return self.repr_failure(excinfo)
        return super()._repr_failure_py(excinfo, style)
