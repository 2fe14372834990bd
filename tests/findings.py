"""What an audit shows for one config, without the loop: the blind-review tests check findings and patches this way."""

from __future__ import annotations

from pathlib import Path

from pytest_goblin import rules as kb
from pytest_goblin.formats import load_config
from pytest_goblin.hardware import get_hardware
from pytest_goblin.patching import build_patch, patched_text
from pytest_goblin.schemas import Patch

from .repo_files import write_tree

HW = get_hardware("mi300x")


def audit(path: Path) -> tuple[set[str], Patch, str]:
    """Rules shown as findings (as the audit shows them), the patch, and the text --goblin-fix would write."""
    loaded = load_config(path)
    fired = [r for r in kb.applicable(loaded.workload, HW, kb.cached_rules()) if r.id not in loaded.workload.ignored_rules]
    patch = build_patch(loaded, [r for r in fired if not r.footgun], HW, "p1")
    shown = {r.id for r in fired if r.footgun or not kb.unactionable(patch.skipped.get(r.id))}
    return shown, patch, patched_text(loaded, patch)


def write_config(tmp_path: Path, name: str, text: str) -> Path:
    """A config in a folder marked as a repository root (so pins and referenced files resolve there)."""
    return write_tree(tmp_path, {name: text}, git=True) / name
