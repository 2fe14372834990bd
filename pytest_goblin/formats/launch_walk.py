"""The repository walk that finds launcher files: the config's folder, each parent up to the repository
root and their script folders, then the rest of the repository within a budget of files and bytes
(`MAX_REPO_FILES` / `MAX_REPO_BYTES`); each folder and file read once per process (keyed by its mtime)
through safepath."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from ..redact import shell_secret_values
from ..repoindex import variant
from ..safepath import UnsafePath, read_text, tree_of
from ..yamlio import learn_secrets
from .cloud import is_dstack
from .container import is_compose, is_dockerfile
from .launcher_text import CONFIG_SUFFIXES, MAX_BYTES, NOTEBOOK_BYTES, LauncherFile, parse_launcher

# The rest of the repository, after the config's own folders: read once per repository root per process.
MAX_REPO_FILES = 300  # launcher files (scripts, notebooks, Markdown) taken from it, nearest the root first
MAX_REPO_BYTES = 4_000_000  # their total size
MAX_REPO_DIRS = 1_500  # folders listed
MAX_DIR_ENTRIES = 2_000  # a folder with more entries than this (a data dump) is not looked into
SKIP_DIRS = frozenset(
    {
        "node_modules", "site-packages", "__pycache__", "venv", "env", "third_party", "third-party", "3rdparty",
        "vendor", "vendored", "external", "externals", "build", "dist", "wandb", "mlruns", "outputs", "output",
        "checkpoints", "logs", "data", "datasets",
    }
)  # fmt: skip
COMMANDS_TXT = re.compile(r"(command|cmd|launch|train|run|job)")  # a .txt file named as one of launch commands (not requirements.txt)
MAX_FILES = 40  # launcher candidates per folder (by name order)
MAX_DEPTH = 12  # parent folders walked up to the repository root
SCRIPT_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".slurm", ".sbatch", ".job", ".pbs"})
# the last five hold cloud launcher files (formats/cloud.py: dstack, SkyPilot, Kubeflow PyTorchJob YAML)
SCRIPT_FOLDERS = ("scripts", "script", "launch", "launcher", "launchers", "slurm", "jobs", "run", "bin", "k8s", "kubernetes", "skypilot", "sky", "dstack")


# ------------------------------------------------------------------ the walk, cached
_FOLDERS: dict[str, tuple[int, tuple[Path, ...], tuple[Path, ...]]] = {}
_FILES: dict[str, tuple[tuple[int, int], LauncherFile | None]] = {}
# a YAML named as a job (`grpo_train_job.yaml`, `job.yml`): read in the repository walk as a possible cloud launcher file
_JOB_YAML = re.compile(r"(?i)(?:^|[_.-])jobs?\.ya?ml$")
_TREES: dict[tuple[str, tuple[Path, ...], str], tuple[list[Path], Path, str]] = {}


def launcher_rank(name: str) -> int | None:
    """Where a file stands among a folder's launchers: scripts, notebooks, READMEs, other Markdown;
    None for a file that is none of them."""
    low = name.lower()
    suffix = Path(low).suffix
    if suffix in SCRIPT_SUFFIXES or is_dstack(low):
        return 0
    if suffix == ".ipynb":
        return 1
    if suffix in (".md", ".markdown"):
        return 2 if low.startswith("readme") else 3
    if suffix == ".txt" and COMMANDS_TXT.search(low):  # `training_commands_x.txt` (formats/launcher_text.py reads its command lines)
        return 4
    if is_dockerfile(name):  # the command its image runs (formats/container.py: CMD/ENTRYPOINT)
        return 4
    return None


def folder_listing(folder: Path) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(launcher files, script folders) of one folder, read with one scandir and kept until its
    mtime changes: scripts by suffix, notebooks, README files, other Markdown, by name, at most
    MAX_FILES; script folders that are real folders (a symlinked one is never descended)."""
    key = str(folder)
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return (), ()
    hit = _FOLDERS.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1], hit[2]
    found: list[Path] = []
    subs: list[Path] = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                low = entry.name.lower()
                if low in SCRIPT_FOLDERS:
                    if entry.is_dir(follow_symlinks=False):
                        subs.append(Path(entry.path))
                elif launcher_rank(entry.name) is not None or low.endswith((".yaml", ".yml")):  # a YAML: a cloud launcher file (formats/cloud.py) or nothing
                    found.append(Path(entry.path))
    except OSError:
        return (), ()
    files = tuple(
        sorted(found, key=lambda p: (launcher_rank(p.name) if launcher_rank(p.name) is not None else 4, p.name))[:MAX_FILES]
    )  # scripts before READMEs, YAMLs last
    folders = tuple(sorted(subs, key=lambda p: SCRIPT_FOLDERS.index(p.name.lower())))
    _FOLDERS[key] = (mtime, files, folders)
    return files, folders


_PYFILES: dict[str, tuple[int, tuple[Path, ...]]] = {}


def folder_scripts(config: Path, limit: int) -> Iterator[tuple[Path, str, Path]]:
    """Each Python file of the config's folders, its parents and their script folders, once, with its text read
    within the repository (safepath: inside the tree, a regular file, at most `limit` bytes; others are passed
    over) and the root it is shown from: formats/nested_ta.py and formats/templates.py look for who reads the config."""
    real, roots, root = real_tree(config)
    seen: set[Path] = set()
    for folder in config_folders(real, root):
        for script in _python_files(folder):
            if script in seen:
                continue
            seen.add(script)
            try:
                text = read_text(script, roots=roots, limit=limit)
            except (UnsafePath, OSError):
                continue
            yield script, text, root


def _python_files(folder: Path) -> tuple[Path, ...]:
    """The .py files of one of the config's own folders (at most MAX_FILES, by name), read as launchers
    for the commands they build (formats/pylaunch.py); not taken from the rest of the repository."""
    key = str(folder)
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return ()
    hit = _PYFILES.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    try:
        with os.scandir(folder) as it:
            found = sorted(Path(e.path) for e in it if e.name.endswith(".py") and e.is_file(follow_symlinks=False))
    except OSError:
        found = []
    files = tuple(found[:MAX_FILES])
    _PYFILES[key] = (mtime, files)
    return files


def read_launcher(path: Path, roots: list[Path]) -> LauncherFile | None:
    try:
        st = os.stat(path)  # follows a link; safepath decides below whether its target may be read
    except OSError:
        return None
    key = str(path)
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _FILES.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        text = read_text(path, roots=roots, limit=NOTEBOOK_BYTES if path.suffix.lower() == ".ipynb" else MAX_BYTES)
        # a value it assigns to a secret name may reach a note through `$NAME` (red team round 9)
        learn_secrets(path, shell_secret_values(text))
        parsed: LauncherFile | None = parse_launcher(Path(os.path.realpath(path)), text, source=lambda word: _sourced(path, word, roots))
    except UnsafePath:
        parsed = None  # outside the tree, too large, not a regular file or not UTF-8: not read
    _FILES[key] = (stamp, parsed)
    return parsed


def _sourced(launcher: Path, word: str, roots: list[Path]) -> tuple[str, str] | None:
    """A file a launcher sources (`source setup.sh`): a relative path from the launcher's own folder, else from the
    repository root (where a job is submitted from is not known; those are the two places it is looked for), read
    through safepath; None when it is absolute, not in the tree, or not readable. (The launcher's parse is kept by the
    launcher's own mtime: a sourced file edited during one process is not re-read.)"""
    if not word or word.startswith(("/", "~")):
        return None
    for folder in (launcher.parent, *roots):
        candidate = Path(os.path.normpath(folder / word))
        if not candidate.is_file():
            continue
        try:
            text = read_text(candidate, roots=roots, limit=MAX_BYTES)
            learn_secrets(candidate, shell_secret_values(text))  # its values may reach a note through `$NAME`
            return os.path.realpath(candidate), text
        except UnsafePath:
            return None
    return None


def config_folders(config: Path, root: Path) -> list[Path]:
    """The config's folder, each parent up to `root`, and their script folders (not symlinked ones)."""
    out: list[Path] = []
    folder = config.parent
    for _ in range(MAX_DEPTH):
        out.append(folder)
        out.extend(folder_listing(folder)[1])
        if folder == root or folder.parent == folder or not folder.is_relative_to(root):
            break
        folder = folder.parent
    return out


@dataclass(frozen=True)
class RepoFiles:
    """The launcher files of a repository outside the config's own folders, nearest the root first."""

    files: tuple[Path, ...]
    folders: int  # folders listed
    stopped: str  # why the walk stopped early ("" when it saw the whole tree)
    named: dict[str, int] = field(default_factory=dict)  # how many config files (CONFIG_SUFFIXES) of each name the walk saw
    complete: bool = False  # every folder the walk enters was listed (`named` counts them all)
    config_dirs: dict[str, list[str]] = field(default_factory=dict)  # the folders (relative, posix) holding each config name


def tail_count(root: Path, parts: tuple[str, ...]) -> int | None:
    """How many config files of the repository have a path ending in `parts` (folders then the file name); None when
    the walk did not list the whole tree."""
    found = _repository_files(root)
    if not found.complete or not parts:
        return None
    want = parts[:-1]
    n = 0
    for folder in found.config_dirs.get(parts[-1], []):
        have = tuple(x for x in folder.split("/") if x)
        if len(have) >= len(want) and (not want or have[-len(want) :] == want):
            n += 1
    return n


def unique_name(root: Path, name: str) -> bool:
    """True when the repository holds exactly one file called `name` (in the folders the walk enters)."""
    found = _repository_files(root)
    return found.complete and found.named.get(name, 0) == 1


_REPOS: dict[str, tuple[int, RepoFiles]] = {}


def _repository_files(root: Path) -> RepoFiles:
    """Scripts, notebooks and Markdown files anywhere in the repository, breadth first from its root
    by name; hidden folders, SKIP_DIRS, a nested checkout (its own `.git`), a symlinked folder and a
    folder of more than MAX_DIR_ENTRIES entries are not entered. Bounded by MAX_REPO_FILES,
    MAX_REPO_BYTES and MAX_REPO_DIRS; kept per root until the root folder's mtime changes."""
    key = str(root)
    try:
        mtime = os.stat(root).st_mtime_ns
    except OSError:
        return RepoFiles((), 0, "")
    hit = _REPOS.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    files: list[Path] = []
    named: dict[str, int] = {}
    dirs: dict[str, list[str]] = {}
    total, listed, stopped, full = 0, 0, "", ""
    queue = [root]
    while queue and not stopped:
        folder = queue.pop(0)
        if listed >= MAX_REPO_DIRS:
            stopped = f"{MAX_REPO_DIRS} folders listed"
            break
        listed += 1
        try:
            with os.scandir(folder) as it:
                entries = []
                for entry in it:
                    entries.append(entry)
                    if len(entries) > MAX_DIR_ENTRIES:
                        break
        except OSError:
            continue
        if len(entries) > MAX_DIR_ENTRIES and folder != root:
            continue
        entries.sort(key=lambda e: e.name)
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    low = entry.name.lower()
                    if not low.startswith(".") and low not in SKIP_DIRS and not os.path.lexists(os.path.join(entry.path, ".git")):
                        queue.append(Path(entry.path))
                    continue
                if entry.name.lower().endswith(CONFIG_SUFFIXES):
                    named[entry.name] = named.get(entry.name, 0) + 1
                    dirs.setdefault(entry.name, []).append(folder.relative_to(root).as_posix() if folder != root else "")
                rank = launcher_rank(entry.name)
                if rank is None and (_JOB_YAML.search(entry.name) or is_compose(entry.name)):
                    rank = 4  # a job YAML anywhere (an Azure ML command job, azure/ml_jobs/train_job.yaml): a cloud launcher or nothing; a compose file
                if rank is None or not entry.is_file(follow_symlinks=False):
                    continue  # a symlinked file is not taken from the walk (the config's own folders still name it)
                size = entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
            if size > (NOTEBOOK_BYTES if rank == 1 else MAX_BYTES):
                continue
            if full:
                continue  # the budget is spent: the walk goes on only to count config names
            if len(files) >= MAX_REPO_FILES or total + size > MAX_REPO_BYTES:
                full = f"the budget of {MAX_REPO_FILES} files / {MAX_REPO_BYTES // 1_000_000} MB was reached"
                continue
            files.append(Path(entry.path))
            total += size
    found = RepoFiles(tuple(files), listed, stopped or full, named, complete=not stopped, config_dirs=dirs)
    _REPOS[key] = (mtime, found)
    return found


MAX_CONFIG_FILES = 400  # YAML/JSON configs `config_files` gives, nearest the root first


def config_files(root: Path) -> list[Path]:
    """The YAML and JSON files of the repository the walk saw (in the folders it enters), nearest the root first,
    at most MAX_CONFIG_FILES (formats/built_model.py reads them for the folder a config writes)."""
    found = _repository_files(root)
    out = [root / folder / name for name, folders in found.config_dirs.items() if name.lower().endswith((".yaml", ".yml", ".json")) for folder in folders]
    out.sort(key=lambda p: (len(p.parts), str(p)))
    return out[:MAX_CONFIG_FILES]


# the shell/slurm launcher the user named on the command line (`pytest --goblin run.sh`): its lines are looked at first
CHOSEN_LAUNCHER: ContextVar[Path | None] = ContextVar("goblin_chosen_launcher", default=None)


@contextmanager
def launched_by(launcher: Path | None) -> Iterator[None]:
    """Inside, every launch-line search looks at `launcher` (a real path) before any other file, and the session's
    memo keeps its answers apart (repoindex.variant); nothing changes for None."""
    if launcher is None:
        yield
        return
    token = CHOSEN_LAUNCHER.set(launcher)
    try:
        with variant(("launched_by", str(launcher))):
            yield
    finally:
        CHOSEN_LAUNCHER.reset(token)


def launcher_candidates(config: Path, root: Path) -> list[tuple[Path, Path]]:
    """(folder, file) of every launcher file to look at, in order: the launcher the user named (`launched_by`), the
    config's folder, each parent up to `root` and their script folders (closest first), then the rest of the repository."""
    out: list[tuple[Path, Path]] = []
    seen: set[str] = set()
    chosen = CHOSEN_LAUNCHER.get()
    if chosen is not None and chosen.is_relative_to(root):
        seen.add(str(chosen))
        out.append((chosen.parent, chosen))
    for folder in config_folders(config, root):
        for path in (*folder_listing(folder)[0], *_python_files(folder)):
            if str(path) not in seen:
                seen.add(str(path))
                out.append((folder, path))
    for path in _repository_files(root).files:
        if str(path) not in seen:
            out.append((path.parent, path))
    return out


def searched(config_path: str | Path) -> str:
    """Where the launcher search looked for this file, for a message that says none runs it."""
    absolute = Path(os.path.abspath(config_path))
    config = Path(os.path.realpath(absolute))
    _, root, how = config_tree(absolute)
    if not config.is_relative_to(root):
        root = config.parent
    near = [os.path.relpath(f, root) for f in config_folders(config, root)]
    shown = ", ".join("the root" if f == "." else f + "/" for f in near[:6]) + (f" and {len(near) - 6} more" if len(near) > 6 else "")
    rest = _repository_files(root)
    tail = f"; stopped early: {rest.stopped}" if rest.stopped else ""
    return (
        f"searched shell/slurm scripts, cloud launcher YAML (dstack, SkyPilot, PyTorchJob), Dockerfiles and compose files, notebooks and Markdown code blocks in {shown}, then the rest of the repository {root}"
        f"{' (' + how + ')' if how else ''}: {len(rest.files)} such file(s) in {rest.folders} folder(s){tail}"
    )


def real_tree(path: Path | str) -> tuple[Path, list[Path], Path]:
    """(the file's real path, its tree's roots, the root it is shown from): the tree of the path as written, with the
    file's real folder as the root where a link leads outside it."""
    absolute = Path(os.path.abspath(path))
    real = Path(os.path.realpath(absolute))
    roots, root, _ = config_tree(absolute)
    return real, roots, root if real.is_relative_to(root) else real.parent


def config_tree(absolute: Path) -> tuple[list[Path], Path, str]:
    """(the roots a config's files may be read from, the folder the walk stops at: its repository,
    else the audited root that holds it, else its own folder, and how that root was chosen when
    it is no git checkout), once per folder and session roots."""
    from ..safepath import registered_roots, root_note

    key = (str(absolute.parent), tuple(registered_roots()), os.getcwd())
    hit = _TREES.get(key)
    if hit is None:
        roots = tree_of(absolute)
        hit = _TREES[key] = (roots, Path(os.path.realpath(roots[0])), root_note(absolute))
    return hit
