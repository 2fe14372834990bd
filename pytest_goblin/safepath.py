"""Reading stays inside the tree: one place that decides whether goblin may open a path.

A pull request controls every file in its checkout, including symlinks, FIFOs and the paths a
config names (`deepspeed: ../../etc/shadow`). Everything goblin opens on a config's behalf (the
config itself, referenced DeepSpeed / FSDP files, rule files, baselines) goes through
`read_bytes`: the path is resolved (symlinks and loops included), must lie under an allowed root,
must be a regular file under a size limit, and is opened with O_NONBLOCK so a FIFO or a device
never blocks the audit. A refusal names the path and the reason, never any of the content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from . import repoindex
from .errors import GoblinError

DEFAULT_LIMIT = 2_000_000
_ROOTS: list[Path] = []  # audited roots registered by the session (pytest or the CLI)


class UnsafePath(GoblinError):
    """A path goblin refuses to open; the message names the path, never its content."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class MissingPath(UnsafePath):
    """Nothing is there (and no dangling link): for lookups that try several places in turn."""


def set_roots(roots: Iterable[str | Path]) -> None:
    """Register the audited roots of this session (resolved), in addition to repository roots."""
    _ROOTS[:] = [r for r in (_resolve(Path(p)) for p in roots) if r is not None]
    repoindex.forget()  # every kept answer depended on the roots


def registered_roots() -> list[Path]:
    return list(_ROOTS)


def _resolve(path: Path) -> Path | None:
    """The real path, or None when it does not exist or loops."""
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, permission, ELOOP (RuntimeError before 3.13)
        return None


def logical_cwd() -> Path:
    """The working directory as the user reached it: the shell's `$PWD` when it names the same
    folder as `os.getcwd()` (which has every symlink resolved). A relative root is written against
    this path, so that `cd configs/exp && goblin audit .` sees the link `exp` it went through."""
    cwd = os.getcwd()
    pwd = os.environ.get("PWD", "")
    return repoindex.memo("logical_cwd", (cwd, pwd), lambda: _logical_cwd(cwd, pwd))


def _logical_cwd(cwd: str, pwd: str) -> Path:
    if pwd and os.path.isabs(pwd):
        try:
            if os.path.samefile(pwd, cwd):
                return Path(os.path.normpath(pwd))
        except OSError:
            pass
    return Path(cwd)


def as_written(path: str | Path) -> Path:
    """`path` made absolute against the logical working directory, `..` folded lexically (as
    pytest and os.path.abspath fold it): the path every check and the walk then share."""
    p = Path(path)
    return Path(os.path.normpath(p if p.is_absolute() else logical_cwd() / p))


def repository_root(path: Path) -> Path | None:
    """The repository that holds `path`, found from the path as written (absolute, not resolved):
    the innermost folder on it that holds `.git`, looking from `/` down.

    A symlink met below a repository ends the search: a pull request that turns `configs` into
    a link to another checkout (`configs -> /home/runner/work/other/other`) must not make that
    checkout's `.git` the boundary. So does, before any repository, a link that points straight at
    a checkout (`c3 -> ../other`) or lies below the working directory (a tarball's own links).
    A symlink above the working directory (`/tmp -> /private/tmp`, `~/code -> /mnt/ssd/code`
    while you stand in a project under it) is the user's own and is looked through.
    """
    start = as_written(path)
    here = logical_cwd()
    return repoindex.memo("repository_root", (start, here), lambda: _repository_root(start, here))


def _repository_root(start: Path, here: Path) -> Path | None:
    found: Path | None = None
    for folder in (*reversed(start.parents), start):  # from / down
        if folder.is_symlink() and (
            found is not None  # a link below a repository is its content
            or (folder / ".git").exists()  # a link straight at another checkout lends it nothing
            or _points_up(folder)  # `c5 -> ..`: every path below it is a path beside it
            or (folder != here and folder.is_relative_to(here))  # a link below where the user stands is the tree's
        ):
            break
        if (folder / ".git").exists():
            found = folder
    return found


def _above_last_link(path: Path) -> Path:
    """The folder that holds the last symlinked component of `path` as written (the root's own
    folder when none is a link). Without a repository goblin cannot tell the user's links from the
    tree's, so the root must resolve under the part of its path that no link has redirected: a
    tarball's `configs -> ../host` is refused for `configs/team`, for `.` inside it and for
    `configs` itself, and a project folder that is itself a link is named by its real path."""
    holder = path.parent
    for folder in (*reversed(path.parents), path):
        if folder.is_symlink():
            holder = folder.parent
    return holder


def _points_up(link: Path) -> bool:
    """A link whose target is its own folder or one above it (`c5 -> ..`): looking through it
    would reach a neighbouring checkout's `.git` from inside a tree that has none."""
    target, holder = _resolve(link), _resolve(link.parent)
    return target is not None and holder is not None and holder.is_relative_to(target)


def audited_root(path: str | Path) -> Path:
    """An audited root (a folder or a file the user named), absolute as written, once it is known
    to stay inside its repository; UnsafePath (naming it) otherwise, before anything is walked.

    The repository is found from the path as written (`repository_root`). A root that is, or
    passes through, a symlink leading out of it (`configs -> ../../host/secrets`, `configs -> /`)
    is refused: walking it would audit, report and `--fix`-rewrite files outside the checkout.
    A root that is itself a symlink is never its own repository (its target's `.git` proves
    nothing); without any repository, it must resolve inside the folder that holds it.
    """
    absolute = as_written(path)
    if not os.path.lexists(absolute):
        raise UnsafePath(path, "does not exist")
    real = _resolve(absolute)
    if real is None:
        raise UnsafePath(path, "a symlink that loops or points nowhere")
    linked = absolute.is_symlink()
    repo = repository_root(absolute.parent if linked else absolute)
    if repo is not None:
        boundary = _resolve(repo)
    else:  # no repository: the folder above the root's last symlinked component, as written
        boundary = _resolve(_above_last_link(absolute))
    if boundary is None or not real.is_relative_to(boundary):
        where = f"its repository {repo}" if repo is not None else "the folder that holds it (no repository found)"
        raise UnsafePath(
            path,
            f"a symlink (or under one) leading out of {where}; goblin audits nothing outside it (remove the link, or name a folder inside the repository)",
        )
    return absolute


def repository_tree(path: Path) -> list[Path]:
    """Where `--fix` may write: the real path of the repository that holds `path` (found as
    written), else the config's tree (`tree_of`)."""
    repo = repository_root(as_written(path).parent)
    real = _resolve(repo) if repo is not None else None
    return [real] if real is not None else tree_of(path)


MAX_UP = 4  # folders above a config looked at for a project file when there is no `.git`
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "README.md", "README.rst", "README")


def project_root(config: Path) -> tuple[Path, str] | None:
    """Where a config's tree is read from when no folder above it holds `.git` (a ZIP download, a
    `git archive` export, a Docker build context): the outermost audited root that holds it (the
    folder the user gave to `goblin audit` / `pytest --goblin`), else the working directory when it
    holds it (not `/` nor the home folder itself), else the outermost folder at most MAX_UP above
    the config's that holds a project file (PROJECT_MARKERS), not passing a symlink, `/` or the home
    folder. (root, how it was chosen); None when none applies (then the config's folder alone)."""
    absolute = as_written(config)
    home = Path(os.path.expanduser("~"))
    here = logical_cwd()
    return repoindex.memo("project_root", (absolute, tuple(_ROOTS), home, here), lambda: _project_root(absolute, home, here))


def _project_root(absolute: Path, home: Path, here: Path) -> tuple[Path, str] | None:
    real = _resolve(absolute) or absolute
    held = [r for r in _ROOTS if r.is_dir() and (absolute.is_relative_to(r) or real.is_relative_to(r))]
    if held:
        return min(held, key=lambda r: len(r.parts)), "no .git; the audited folder"
    if len(here.parts) > 1 and here != home and absolute.is_relative_to(here):
        return here, "no .git; the working directory"
    best: Path | None = None
    folder = absolute.parent
    for _ in range(MAX_UP + 1):
        if folder.parent == folder or folder == home or folder.is_symlink():
            break
        if any((folder / m).is_file() for m in PROJECT_MARKERS):
            best = folder
        folder = folder.parent
    if best is not None:
        return (
            best,
            f"no .git; the outermost folder up to {MAX_UP} above the config that holds a project file (pyproject.toml, setup.py, requirements.txt, README)",
        )
    return None


def root_note(config: Path) -> str:
    """How the tree a config is read from was chosen, when it is no git checkout; "" when it is."""
    absolute = Path(os.path.abspath(config))
    if repository_root(absolute.parent) is not None:
        return ""
    found = project_root(absolute)
    return found[1] if found is not None else "no .git and no audited folder, working directory or project file above it: only the config's folder"


def tree_of(config: Path) -> list[Path]:
    """Where a config's referenced files may live: its repository, else the root `project_root`
    chooses; the registered roots that hold it; else its own folder."""
    absolute = Path(os.path.abspath(config))
    return list(repoindex.memo("tree_of", (absolute, tuple(_ROOTS), logical_cwd()), lambda: tuple(_tree_of(absolute))))


def _tree_of(absolute: Path) -> list[Path]:
    out: list[Path] = []
    repo = repository_root(absolute.parent)
    if repo is not None:
        out.append(repo.resolve())
    else:
        found = project_root(absolute)
        if found is not None and (real := _resolve(found[0])) is not None:
            out.append(real)
    out += [r for r in _ROOTS if absolute.is_relative_to(r) or (_resolve(absolute) or absolute).is_relative_to(r)]
    if not out:
        out.append(absolute.parent.resolve())
    return out


def within(path: Path, roots: Iterable[Path]) -> bool:
    """True when the real path (symlinks resolved) lies under one of the roots (also resolved)."""
    real = _resolve(path)
    if real is None:
        return False
    return any(real.is_relative_to(r) for r in (_resolve(Path(x)) or Path(os.path.abspath(x)) for x in roots))


def _real_root(root: str | Path) -> Path:
    """os.path.realpath of an allowed root, once per session (every read names the same roots)."""
    key = os.path.abspath(root)
    return repoindex.memo("real_root", key, lambda: Path(os.path.realpath(key)))


def real_folder(path: str | Path) -> str:
    """os.path.realpath of a folder the session walks (a config's folder and its parents, a tree's
    top, the working directory), once per session. Never for a file about to be opened: `check`
    resolves those every time."""
    key = os.path.abspath(path)
    return repoindex.memo("real_folder", key, lambda: os.path.realpath(key))


def check(path: Path, *, roots: Iterable[Path] | None = None) -> Path:
    """The resolved path when it may be opened; UnsafePath otherwise. No content is read."""
    if roots is not None:
        allowed = [_real_root(x) for x in roots]
        target = Path(os.path.realpath(path))  # resolved as far as it exists: the same answer either way
        if not any(target.is_relative_to(r) for r in allowed):
            raise UnsafePath(path, "outside the audited tree; goblin reads nothing outside it")
    real = _resolve(path)
    if real is None:
        if path.is_symlink():
            raise UnsafePath(path, "a symlink that loops or points nowhere")
        raise MissingPath(path, "no such file")
    return real


def read_bytes(path: Path, *, roots: Iterable[Path] | None = None, limit: int = DEFAULT_LIMIT, head: bool = False) -> bytes:
    """The file's bytes, if it is a regular file under `limit` bytes inside `roots` (when given).

    Opened with O_NONBLOCK | O_NOFOLLOW on the resolved path: a FIFO, a device or a symlink
    swapped in after the check is refused instead of blocking or being followed. With `head`, a
    larger file is not refused: its first `limit` bytes are returned (a safetensors header).
    """
    real = check(path, roots=roots)
    # in a session, a file read before and unchanged since (the same inode, size and mtime at its
    # resolved path, checked above) is not opened again: every config of a folder reads its README
    return repoindex.read_cached(str(real), (str(real), limit, head), lambda: _read_bytes(path, real, limit, head))


def _read_bytes(path: Path, real: Path, limit: int, head: bool) -> tuple[tuple[int, int, int, int], bytes]:
    """(identity of the file opened, its bytes): read_bytes once the path is checked."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise UnsafePath(path, f"cannot be opened: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(path, "not a regular file (a FIFO, device or folder); not read")
        if st.st_size > limit and not head:
            raise UnsafePath(path, f"file is {st.st_size} bytes, above the {limit}-byte limit")
        want = limit if head else limit + 1  # one byte past the limit tells a file that grew
        chunks: list[bytes] = []
        total = 0
        while total < want:
            try:
                chunk = os.read(fd, min(1 << 20, want - total))
            except BlockingIOError:
                raise UnsafePath(path, "would block; not read") from None
            except OSError as exc:
                raise UnsafePath(path, f"cannot be read: {exc.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise UnsafePath(path, f"file grew above the {limit}-byte limit while read")
        return repoindex.identity(st), b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Path, *, roots: Iterable[Path] | None = None, limit: int = DEFAULT_LIMIT) -> str:
    """`read_bytes` decoded as UTF-8 (a BOM is dropped); UnsafePath on undecodable bytes."""
    raw = read_bytes(path, roots=roots, limit=limit)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsafePath(path, "not valid UTF-8") from None


def text_or_empty(path: Path, *, roots: Iterable[Path] | None = None, limit: int = DEFAULT_LIMIT) -> str:
    """The file as text (undecodable bytes replaced), or "" where `read_bytes` refuses it: for the lookups that try a
    repository file and go on without it (a registry, a module, a launcher), which must still never block on a FIFO,
    follow a link out of the tree or read an unbounded file."""
    try:
        return read_bytes(path, roots=roots, limit=limit).decode("utf-8-sig", errors="replace")
    except UnsafePath:
        return ""


def pruned_dir(path: Path, roots: Iterable[Path]) -> str | None:
    """Why a folder must not be descended into, or None: a directory symlink is never followed
    (one pointing outside leaks files, one pointing up loops or repeats every config)."""
    if not path.is_symlink():
        return None
    real = _resolve(path)
    if real is None:
        return "a directory symlink that loops or points nowhere; not followed"
    if not any(real.is_relative_to(r) for r in (_resolve(Path(x)) or Path(x) for x in roots)):
        return "a directory symlink to a folder outside the audited paths; not followed"
    return "a directory symlink inside the audited paths (its files are audited where they live); not followed"


# Invisible characters GitHub's runner may trim before `::` besides str.isspace() ones (U+180E is
# whitespace to older .NET); see reporting/escape.py.
_INVISIBLE = "\u180e\u200b\ufeff"


def unsafe_name(path: Path) -> str | None:
    """Why a file name cannot be audited safely, or None.

    Control characters: a newline in a name would start a workflow command in CI logs and breaks
    pytest's JUnit XML. A name (file or folder) that starts with whitespace or `::`, or holds
    `##[`: pytest prints node ids at the start of a line (`-v`), where GitHub's runner trims every
    Unicode space and then reads `::cmd` (or `##[cmd]` anywhere) as a workflow command; goblin's own
    outputs escape such lines, pytest's do not."""
    text = str(path)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\u2028\u2029\u0085" for ch in text):
        return "the file name contains control characters (a line break, ESC, ...); not audited"
    parts = Path(os.path.abspath(path)).parts
    if "##[" in text or any(p[:1].isspace() or p[:1] in _INVISIBLE or p.lstrip(_INVISIBLE).lstrip().startswith("::") for p in parts):
        return "a file or folder name starts with whitespace or `::`, or holds `##[` (a CI log would read it as a workflow command); not audited"
    return None
