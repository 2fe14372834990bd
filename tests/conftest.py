from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"
# The reference corpus (../shared/corpus in development checkouts) is vendored under
# tests/data/reference_corpus, unchanged and with its README and licenses, so CI walks it too.
SHARED_CORPUS = DATA / "reference_corpus"


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def corpus_sample() -> Path:
    return DATA / "corpus"


def _import_everything() -> None:
    """pytester's in-process runs drop modules first imported inside them; importing the whole
    package here keeps one copy of every class across runs (pydantic checks class identity)."""
    import importlib
    import pkgutil

    import pytest_goblin

    for info in pkgutil.walk_packages(pytest_goblin.__path__, prefix="pytest_goblin."):
        importlib.import_module(info.name)
    # numpy (under bm25s and torch, imported by some tests) refuses to be imported twice per process.
    # Only the test extra installs it; a plain `pip install .` has none (`pytest --goblin examples/` no longer
    # loads this file: plugin.pytest_load_initial_conftests anchors pytest's conftest search at the audited paths).
    try:
        importlib.import_module("numpy")
    except ImportError:
        pass


_import_everything()


@pytest.fixture(autouse=True)
def _no_learned_secrets() -> Iterator[None]:
    """Values learned under secret names (redact.learn) last for the process, as in a session; each
    test starts without the ones an earlier test's configs taught it."""
    from pytest_goblin import redact

    yield
    redact.forget_learned()
