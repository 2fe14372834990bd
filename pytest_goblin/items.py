"""ConfigFile (pytest.File) and AuditItem (pytest.Item).

The audit runs in the item's setup, so an audit that cannot finish is reported as an ERROR
(like a broken fixture), while the verdict is the test's outcome: fail, pass, or pass with
a GoblinWarning.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from .errors import GoblinError
from .events import Event
from .formats import LoadedConfig
from .redact import redact
from .reporting.text import masked_failure_text, speedup_text, trajectory_text
from .schemas import Report
from .settings import Settings
from .stash import SETTINGS_KEY, VALUES_KEY


class GoblinWarning(UserWarning):
    """Recoverable speedup above goblin_warn_at but below goblin_fail_at."""


class GoblinFailure(Exception):
    def __init__(self, report: Report):
        super().__init__(report.reason)
        self.report = report


class AuditError(Exception):
    """The audit could not finish; the message says why."""


class ConfigFile(pytest.File):
    config_error: GoblinError | None = None
    loaded: LoadedConfig | None = None  # the parse collection made, handed to the audit
    # a shell/slurm launcher named on the command line: the config it launches (audited) and its own real path
    target: Path | None = None
    launcher: Path | None = None

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
        from .service import audit_file, display_path

        parent = self.parent
        own = parent if isinstance(parent, ConfigFile) else None
        result = audit_file(
            (own.target if own is not None else None) or self.path,  # a named launcher: the run it launches
            self.settings,
            shown_as=display_path(self.path, self.config.rootpath),
            config_error=own.config_error if own is not None else None,
            loaded=own.loaded if own is not None else None,
            launcher=own.launcher if own is not None else None,
            fix=bool(self.config.stash[VALUES_KEY]["fix"]),
            on_event=self._progress(),
            progress=self._live_line,  # one line per measured run of goblin_command
        )
        # The trajectory is shown only in verbose failure reports; a session of hundreds of items
        # should not keep every audit's events alive (pytest's closing garbage collection walks them).
        self.events = result.events if self.config.get_verbosity() > 0 else []
        self.report = result.report
        if isinstance(parent, ConfigFile):
            # The parse served its one audit; hundreds of parsed documents kept alive to the end of
            # the session only make pytest's closing garbage collection walk them.
            parent.loaded = None
        if result.report is None:
            self._record_error(result.error or "the audit ended without a report")
            raise AuditError(self.error)
        r = result.report
        self.user_properties += [
            ("goblin.verdict", "inconclusive" if r.inconclusive else r.verdict),
            *([("goblin.inconclusive", r.inconclusive)] if r.inconclusive else []),
            ("goblin.speedup", f"{r.speedup.point:.3f}" if r.speedup else ""),
            ("goblin.speedup_low", f"{r.speedup.low:.3f}" if r.speedup else ""),
            ("goblin.evidence", r.evidence or ""),
            ("goblin.target", r.target),
            *([("goblin.measured_on", r.measured_on)] if r.measured_on else []),
            ("goblin.rules", ",".join(r.patch.rule_ids) if r.patch else ""),
        ]

    def _progress(self) -> Any:
        """Live progress lines for long, measured audits (shown with -v, or when not projecting)."""
        from .runners import resolve_runner_name

        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        measured = resolve_runner_name(self.settings) != "projection"
        if tr is None or (not measured and self.config.get_verbosity() < 1):
            return None
        from .loop import progress_text

        def show(event: Event) -> None:
            text = progress_text(event)
            if text:
                self._live_line(text)

        return show

    def _live_line(self, text: str) -> None:
        """A progress line shown now, past pytest's capture (as live logging does); from an xdist
        worker on stderr, which the controller's terminal shows."""
        line = f"    goblin {self.path.name}: {text}"
        capman = self.config.pluginmanager.get_plugin("capturemanager")
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        with capman.global_and_fixture_disabled() if capman is not None else nullcontext():
            if tr is not None and getattr(self.config, "workerinput", None) is None:
                tr.ensure_newline()
                tr.write_line(line)
            else:
                err = sys.__stderr__ or sys.stderr
                err.write(line + "\n")  # one write: lines of two workers do not interleave
                err.flush()

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
            line = next((f.line for f in r.findings if f.line and not f.file), 1)  # a line of another file is not this one's
            # Attributed to the config line, so the warnings summary points where the fix goes.
            text = r.reason if r.inconclusive else f"{speedup_text(r)} recoverable: {r.reason}"
            warnings.warn_explicit(GoblinWarning(text), GoblinWarning, str(self.path), line)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        verbose = self.config.get_verbosity() > 0
        # the report's strings masked, then rendered; a rendered block is never masked (red team round 8)
        if isinstance(excinfo.value, GoblinFailure):
            text = masked_failure_text(excinfo.value.report)
        elif isinstance(excinfo.value, AuditError):
            text = f"{self.path}: audit error: {redact(str(excinfo.value))}"
        else:
            return str(super().repr_failure(excinfo))
        if verbose and self.events:
            text += "\n\ntrajectory:\n" + "\n".join(redact(line) for line in trajectory_text(self.events).splitlines())
        from .reporting.escape import terminal

        return terminal(text)

    def _repr_failure_py(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """Setup errors too: the one-line reason, not 500 lines of pluggy traceback (D24)."""
        if isinstance(excinfo.value, (AuditError, GoblinFailure)):
            return self.repr_failure(excinfo)
        return super()._repr_failure_py(excinfo, style)
