"""What one session learns about the trees it reads, kept while the session runs.

Every config of a folder asks the same questions about its repository: which folder holds `.git`,
which root its files may be read from, what a README or a pin file says. A session (`pytest
--goblin`, `goblin audit`) opens a scope (`session()`, or `begin()`/`end()` from pytest's hooks);
inside it `memo(kind, key, compute)` answers each question once. Outside a scope nothing is kept:
`memo` just computes, so a library call or a unit test sees the tree as it is at that moment.

A key holds everything the answer depends on besides the tree itself (the path as written, the
working directory, the registered roots). The tree is taken as fixed for the session, with two
exceptions: file contents are checked against the file's identity on every hit (`read_cached`:
device, inode, size, modification time), and `fileio.write_atomic` and `safepath.set_roots` forget
everything. Each process has its own scope (pytest-xdist workers run their own session hooks).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_depth = 0  # open scopes in this process (pytester runs a session inside a session)
_memo: dict[tuple[str, Hashable], Any] = {}
_stats = {"hits": 0, "misses": 0}
KEEP_FILE = 256_000  # a file larger than this is read again when asked again (a dataset, a notebook)
KEEP_TOTAL = 32_000_000  # bytes of file contents kept at most per scope: a tree of data files is not held in memory
_kept_bytes = 0
# a reading of the tree under an assumption every answer may depend on (a launcher the user named: formats/launch_walk.launched_by);
# part of every memo key, so answers given under one never serve another
_VARIANT: ContextVar[Hashable] = ContextVar("goblin_memo_variant", default=None)


def begin() -> None:
    """Open a scope: from here on answers are kept (an inner scope starts from an empty memo)."""
    global _depth
    _depth += 1
    forget()


def end() -> None:
    """Close a scope; the last one closed forgets everything."""
    global _depth
    _depth = max(0, _depth - 1)
    forget()


@contextmanager
def session() -> Iterator[None]:
    begin()
    try:
        yield
    finally:
        end()


def active() -> bool:
    return _depth > 0


def forget() -> None:
    """Drop every kept answer (a file was written, the roots changed); the scope stays open."""
    global _kept_bytes
    _memo.clear()
    _kept_bytes = 0


def stats() -> dict[str, int]:
    """Hits and misses since the process started (for tests and benchmarks)."""
    return dict(_stats)


def memo(kind: str, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), once per (kind, key) while a scope is open. An exception is raised every time
    (nothing kept). The answer is shared: return immutable values, or copy them at the call site."""
    if not _depth:
        return compute()
    k = (kind, (key, _VARIANT.get()))
    try:
        value: T = _memo[k]
    except KeyError:
        _stats["misses"] += 1
        value = compute()
        _memo[k] = value
        return value
    _stats["hits"] += 1
    return value


@contextmanager
def variant(tag: Hashable) -> Iterator[None]:
    """Answers computed inside are kept apart from those outside (and under another tag)."""
    token = _VARIANT.set(tag)
    try:
        yield
    finally:
        _VARIANT.reset(token)


def identity(st: os.stat_result) -> tuple[int, int, int, int]:
    """What tells one version of a file from another without reading it."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def read_cached(real: str, key: Hashable, read: Callable[[], tuple[tuple[int, int, int, int], bytes]]) -> bytes:
    """The bytes `read()` returned for `real` earlier in this scope when the file's identity (a
    stat of the resolved path) is unchanged, else read() again; `read` returns (identity of the
    file it opened, bytes). Outside a scope, read() every time. Files over KEEP_FILE bytes, and any
    once KEEP_TOTAL bytes are kept, are read every time."""
    global _kept_bytes
    if not _depth:
        return read()[1]
    k = ("bytes", key)
    kept = _memo.get(k)
    if kept is not None:
        try:
            now = identity(os.stat(real))
        except OSError:
            now = None
        if now == kept[0]:
            _stats["hits"] += 1
            return kept[1]  # type: ignore[no-any-return]
    _stats["misses"] += 1
    ident, data = read()
    if kept is not None:
        _kept_bytes -= len(kept[1])
        del _memo[k]
    if len(data) <= KEEP_FILE and _kept_bytes + len(data) <= KEEP_TOTAL:
        _memo[k] = (ident, data)
        _kept_bytes += len(data)
    return data
