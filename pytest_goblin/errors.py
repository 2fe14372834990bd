"""Errors that name the file, the line and what to do."""

from __future__ import annotations


class GoblinError(Exception):
    """Base class: anything the user can act on."""


class ConfigError(GoblinError):
    """A config file that cannot be read as a training config."""

    def __init__(self, path: str, message: str, *, line: int | None = None, hint: str | None = None):
        self.path = path
        self.line = line
        self.message = message
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class NotATrainingConfig(GoblinError):
    """The file is readable but is not a training config (inference, merge, accelerate...)."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: not a training config: {reason}")


class KBError(GoblinError):
    """A malformed rule or hardware file."""


class BenchmarkFailed(GoblinError):
    """A measured benchmark crashed, ran out of memory, hung or produced a NaN loss."""

    fatal = True  # the audit's outcome, not something a backend should route around


class StartupRefused(BenchmarkFailed):
    """The training command stopped before training began, with an exception (argument
    validation, an unsupported dtype on this device): `said` is the framework's own line."""

    def __init__(self, message: str, *, variant: str, said: str, device: str):
        super().__init__(message)
        self.variant = variant
        self.said = said
        self.device = device
