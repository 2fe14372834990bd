"""Everything that executes or models a training step: base.py holds the Runner contract,
registry.py the factories by name."""

from .base import BaseRunner, Runner, VariantFiles
from .registry import RUNNERS, make_runner, resolve_runner_name, runner_for

__all__ = ["RUNNERS", "BaseRunner", "Runner", "VariantFiles", "make_runner", "resolve_runner_name", "runner_for"]
