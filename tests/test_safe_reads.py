"""Every file goblin opens on a config's behalf goes through safepath (docs/trust-model.md): a pull request's FIFO
must not hang the audit, a link out of the tree must not be read, an unbounded file must not be loaded. A raw
`Path.read_text()` / `open()` in the package is allowed only where the list below says why."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import pytest_goblin
from pytest_goblin import safepath

PACKAGE = Path(pytest_goblin.__file__).parent

# (module, function) -> why a raw read is not a read of the audited tree
ALLOWED = {
    ("cli.py", "main"): "os.devnull for --quiet output",
    ("devices.py", "properties"): "the KFD topology under /sys, the host's own",
    ("frameworks/attention.py", "_classes"): "the installed transformers package, by the table generator",
    ("frameworks/attention.py", "build_installed"): "the installed transformers package, by the table generator",
    ("frameworks/attention.py", "table"): "goblin's own shipped data",
    ("frameworks/trainer_kwargs.py", "_table"): "goblin's own shipped data",
    ("frameworks/read_releases.py", "history"): "goblin's own shipped data",
    ("frameworks/own_recipe.py", "recipe_hashes"): "goblin's own shipped data",
    ("frameworks/shipped.py", "table"): "goblin's own shipped data",
    ("frameworks/tables.py", "optional_table"): "goblin's own shipped data",
    ("frameworks/tables.py", "build_installed"): "an installed framework package, by the table generator",
    ("frameworks/tables.py", "_shipped"): "goblin's own shipped data",
    ("frameworks/torch_rocm.py", "table"): "goblin's own shipped data",
    ("github_comment.py", "_request"): "an HTTP request, not a file",
    ("reporting/github.py", "append_step_summary"): "appends to $GITHUB_STEP_SUMMARY, the runner's own file",
    ("rules.py", "host_facts"): "/proc/sys, the host's own",
    ("runners/command.py", "command_python"): "the shebang of the launcher on PATH the measured run will execute",
    ("runners/command.py", "_cpu_name"): "/proc/cpuinfo, the host's own",
}


class _Reads(ast.NodeVisitor):
    """The (module, function) of every raw file read in one module."""

    def __init__(self, rel: str) -> None:
        self.rel, self.stack, self.found = rel, [], set()  # type: ignore[var-annotated]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        method = isinstance(f, ast.Attribute) and f.attr in ("read_text", "read_bytes", "open")
        owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
        if (method and owner not in ("safepath", "os", "self")) or (isinstance(f, ast.Name) and f.id == "open"):
            self.found.add((self.rel, self.stack[-1] if self.stack else "<module>"))
        self.generic_visit(node)


def _raw_reads() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel != "safepath.py":
            visitor = _Reads(rel)
            visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
            found |= visitor.found
    return found


def test_every_raw_read_in_the_package_is_one_the_list_explains() -> None:
    reads = _raw_reads()
    assert reads - ALLOWED.keys() == set(), "read these through safepath (read_text, text_or_empty) or say why here"
    assert ALLOWED.keys() - reads == set(), "an entry no code needs any more: remove it"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_text_or_empty_refuses_a_fifo_a_link_out_and_an_oversized_file(tmp_path: Path) -> None:
    tree, outside = tmp_path / "repo", tmp_path / "secret.txt"
    tree.mkdir()
    outside.write_text("token=abc")
    os.mkfifo(tree / "torchtune_registry.py")  # would block a plain read_text forever
    (tree / "link.py").symlink_to(outside)
    (tree / "big.py").write_text("x" * 2048)
    (tree / "ok.py").write_bytes(b"Recipe(name='a', file_path='b.py')\xff")
    assert safepath.text_or_empty(tree / "torchtune_registry.py", roots=[tree]) == ""
    assert safepath.text_or_empty(tree / "link.py", roots=[tree]) == ""
    assert safepath.text_or_empty(tree / "big.py", roots=[tree], limit=1024) == ""
    assert safepath.text_or_empty(tree / "missing.py", roots=[tree]) == ""
    assert safepath.text_or_empty(tree / "ok.py", roots=[tree]).startswith("Recipe(name='a'")


def test_a_fork_registry_linked_from_outside_the_tree_is_not_read(tmp_path: Path) -> None:
    """A pull request that turns the fork's registry into a link to a file outside the checkout lends it nothing."""
    from pytest_goblin.formats.launch_naming import tune_registry_name, tune_registry_recipe

    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere.py"
    (repo / "torchtune").mkdir(parents=True)
    (repo / "recipes" / "configs").mkdir(parents=True)
    (repo / "recipes" / "own.py").write_text("print()\n")
    config = repo / "recipes" / "configs" / "x.yaml"
    config.write_text("a: 1\n")
    elsewhere.write_text("Recipe(name='own_sft', file_path='own.py')\nConfig(name='x_cfg', file_path='x.yaml')\n")
    registry = repo / "torchtune" / "_recipe_registry.py"
    registry.symlink_to(elsewhere)
    assert tune_registry_recipe("own_sft", repo) is None
    assert tune_registry_name(config, repo) == ""
    registry.unlink()
    registry.write_text(elsewhere.read_text())  # the same text inside the tree is read
    assert tune_registry_recipe("own_sft", repo) == repo / "recipes" / "own.py"
    assert tune_registry_name(config, repo) == "x_cfg"
