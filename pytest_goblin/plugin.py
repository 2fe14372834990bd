"""pytest hooks only: options, collection, report plumbing and the terminal summary.

Without `--goblin` every hook returns at once and nothing heavy is imported.
"""

from __future__ import annotations

import gc
import itertools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .stash import SETTINGS_KEY, VALUES_KEY

if TYPE_CHECKING:  # pydantic costs ~60 ms to import: only a --goblin run pays for it
    from .settings import Settings


STATE_KEY: pytest.StashKey[GoblinSession] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    from .options import add_to_pytest  # a dataclass table: no pydantic, so an idle plugin stays cheap

    group = parser.getgroup("goblin", "pytest-goblin: audit training configs for wasted GPU time")
    group.addoption(
        "--goblin",
        nargs="*",
        metavar="PATH",
        dest="goblin",
        default=None,
        help="audit the training configs under PATH (default: the goblin_paths ini option or the positional args)",
    )
    parser.addini("goblin_paths", "paths audited by --goblin when none are given", type="args", default=[])
    add_to_pytest(group, parser)


def _is_worker(config: pytest.Config) -> bool:
    return getattr(config, "workerinput", None) is not None


def _enabled(config: pytest.Config) -> bool:
    return config.getoption("goblin", None) is not None


def _values(config: pytest.Config) -> dict[str, Any]:
    from .errors import GoblinError
    from .options import from_pytest

    try:
        return from_pytest(config.getoption, config.getini, str(config.inipath or "the ini file"))
    except GoblinError as exc:
        raise pytest.UsageError(f"pytest-goblin: {exc}") from None


def _settings(values: dict[str, Any]) -> Settings:
    from pydantic import ValidationError

    from .errors import GoblinError
    from .options import build_settings
    from .settings import explain

    try:
        return build_settings(values)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise pytest.UsageError("pytest-goblin: " + explain(exc)) from None
    except GoblinError as exc:
        raise pytest.UsageError(f"pytest-goblin: {exc}") from None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """`pytest --goblin PATH` hands PATH to the option, leaving pytest no positional path: it would then look for its
    initial conftest.py files in the invocation folder and every `test*` folder in it, importing a repository's own
    test set-up that has nothing to do with the audited configs (review12a #8/#9: milabench's tests/conftest.py, which
    imports milabench). The audited paths anchor that search instead, as `pytest PATH` would (_pytest/config
    Config.pytest_load_initial_conftests reads `file_or_dir`); conftest.py beside and above them still loads."""
    ns = early_config.known_args_namespace
    paths = getattr(ns, "goblin", None)
    if paths and not getattr(ns, "file_or_dir", None):
        ns.file_or_dir = [str(p) for p in paths]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not _enabled(config):
        return
    values = _values(config)
    settings = _settings(values)
    config.stash[VALUES_KEY] = values
    from .errors import GoblinError
    from .service import check_settings, parse_shard

    try:
        check_settings(settings)
        shard = parse_shard(values["shard"]) if values["shard"] else None
    except GoblinError as exc:
        raise pytest.UsageError(f"pytest-goblin: {exc}") from None
    config.stash[SETTINGS_KEY] = settings
    from .runners.cache import PREFIX, set_store

    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    if cache is not None and values["cache_clear"] and not _is_worker(config):
        import shutil

        cachedir = getattr(cache, "_cachedir", None)  # pytest's Cache has no delete; its values live in <cachedir>/v/<key>
        if cachedir is not None:
            shutil.rmtree(Path(cachedir) / "v" / PREFIX, ignore_errors=True)
    set_store(cache)
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        from .devices import gpu_count, pin_worker

        pin_worker(str(worker.get("workerid", "")), gpu_count())
    paths = list(config.getoption("goblin") or [])
    if not paths and config.args_source == pytest.Config.ArgsSource.ARGS:
        paths = list(config.args)
    if not paths:
        paths = list(config.getini("goblin_paths"))
    if not paths:
        raise pytest.UsageError("pytest-goblin: --goblin needs paths: `pytest --goblin configs/` or goblin_paths in the ini file")
    base = Path(config.invocation_params.dir)
    from .service import audited_roots

    try:  # each root as written, inside its repository: a symlinked root leading out is refused here
        # a relative root is written against the logical working directory (safepath.as_written)
        # when pytest runs where it was started, so that a symlink the user stands in is seen
        here = base.samefile(os.getcwd()) if base.exists() else False
        roots = audited_roots([Path(p) if Path(p).is_absolute() or here else base / p for p in paths])
    except GoblinError as exc:
        raise pytest.UsageError(f"pytest-goblin: {exc}") from None
    # pytest resolves a relative argument against the physical working directory: a root with `..`
    # is handed over as the checked absolute path, so `..` from inside a link collects what was checked
    config.args = [
        p if not Path(os.path.normpath(p)).is_absolute() and ".." not in Path(os.path.normpath(p)).parts else str(r) for p, r in zip(paths, roots, strict=True)
    ]
    from .safepath import set_roots

    # the roots as pytest sees them (its arguments made absolute against its invocation folder,
    # links unresolved), so that the session's text comparisons match the paths pytest collects:
    # with a logical working directory ($PWD through a link) they differ from the checked ones
    collected = [Path(os.path.abspath(base / a)) for a in config.args]
    set_roots([*roots, *collected])
    from . import repoindex

    repoindex.begin()  # until unconfigure, each repository question is answered once (repoindex.py)
    _warn_split_value_paths(config, collected)
    state = GoblinSession(settings, collected, shard)
    state.rootpath = config.rootpath
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(state, "goblin-session")
    if not _is_worker(config):
        state.sigterm.install()
    _freeze_heap(state)


def _warn_split_value_paths(config: pytest.Config, collected: list[Path]) -> None:
    """`--goblin-json /tmp/x.json` as two words: pytest chooses its rootdir (and searches for the ini file) from the
    command line before any plugin has added its options (_pytest/config Config._preparse: determine_setup runs on
    the known-args parse, then load_setuptools_entrypoints), so an existing file named there counts as a test path and
    can move the rootdir out of the repository (`/tmp` here). goblin cannot undo that choice; it says so and how to
    write the option so that pytest skips the value."""
    from .options import OPTIONS

    flags = {f"--goblin-{o.flag}" for o in OPTIONS if o.kind != "bool" and "pytest" in o.surfaces}
    args = [str(a) for a in config.invocation_params.args]
    base = Path(config.invocation_params.dir)
    dirs = [p if p.is_dir() else p.parent for p in collected]
    try:
        anchor = Path(os.path.commonpath([str(d) for d in dirs])) if dirs else None
    except ValueError:  # different drives
        anchor = None
    for flag, value in itertools.pairwise(args):
        if flag not in flags or value.startswith("-"):
            continue
        path = Path(os.path.abspath(base / value))
        if not path.exists() or config.option.rootdir:
            continue
        where = path if path.is_dir() else path.parent
        if anchor is not None and where.is_relative_to(anchor):
            continue  # inside the audited paths' common folder: the rootdir is the one they give
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"pytest-goblin: `{flag} {value}` is written as two words, and {value} exists: pytest picks its rootdir "
                f"before plugins add their options, so it counted {value} as a test path (rootdir {config.rootpath}; the "
                f"ini file is looked for from there). Write `{flag}={value}` to keep the rootdir the audited paths give."
            ),
            stacklevel=2,
        )


def _freeze_heap(state: GoblinSession) -> None:
    """Move every object alive now (pytest, the plugins, goblin's modules, tables and rules) out of
    the garbage collector's reach: audits allocate many short-lived objects, and each full
    collection walked the whole start-up heap again (about a sixth of a projected session).
    Undone by the cleanup pytest_cmdline_main registers, so an in-process run leaves the heap as it
    found it."""
    gc.freeze()
    state.froze = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if _enabled(config):
        from .runners.cache import set_store

        set_store(None)
        state = config.stash.get(STATE_KEY, None)
        if state is not None:
            state.sigterm.uninstall()
            from . import repoindex

            repoindex.end()


def pytest_cmdline_main(config: pytest.Config) -> None:
    """Registered before any plugin's configure, this cleanup runs after theirs (cleanups run last
    in, first out): pytest's closing garbage collections still skip the frozen heap, and an
    in-process run gives it back afterwards."""
    if _enabled(config):

        def unfreeze() -> None:
            state = config.stash.get(STATE_KEY, None)
            if state is not None and state.froze:
                gc.unfreeze()
                state.froze = False

        config.add_cleanup(unfreeze)


class SigtermAsInterrupt:
    """SIGTERM (a CI cancel, `timeout`) ends a goblin session as Ctrl-C does, and exits 128 + 15.

    Without it SIGTERM kills pytest where it stands: no pytest_sessionfinish, so no report of the
    configs that finished. The handler raises runners.command.Terminated, a KeyboardInterrupt, so
    pytest's own interrupt path runs (_pytest/main.py wrap_session: KeyboardInterrupt sets
    ExitCode.INTERRUPTED, then pytest_sessionfinish runs and its session.exitstatus is returned);
    GoblinSession.pytest_sessionfinish writes the reports and sets the exit status to 128 + the
    signal. A measured run in flight has its own handler raising the same exception (its process
    group is killed, its patched copy removed). Once the session is closing a SIGTERM is recorded,
    not raised, so the reports are written whole. Main thread, controller only (an xdist worker is
    stopped by its controller)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.closing = False
        self._previous: Any = None
        self._installed = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.signum = signum
        if not self.closing:
            from .runners.command import Terminated

            raise Terminated(signum)

    def install(self) -> None:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread() and not self._installed:
            self._previous = signal.signal(signal.SIGTERM, self)
            self._installed = True

    def uninstall(self) -> None:
        import signal

        if self._installed:
            signal.signal(signal.SIGTERM, self._previous if self._previous is not None else signal.SIG_DFL)
            self._installed = False


class GoblinSession:
    """Session state: which files were skipped and why, and every item's outcome."""

    def __init__(self, settings: Settings, roots: list[Path], shard: tuple[int, int] | None = None):
        self.settings = settings
        self.roots = roots
        self.shard = shard
        self.rootpath: Path | None = None
        self.written: list[str] = []  # one line per report file written at session finish
        self.not_collected: dict[str, str] = {}
        self.outcomes: dict[str, Any] = {}
        self.finished = False  # after session finish no outcome arrives: the report can be kept
        self._report: Any = None
        self.froze = False  # gc.freeze() was called for this session (undone at unconfigure)
        self.sigterm = SigtermAsInterrupt()

    def _under_roots(self, path: Path) -> bool:
        """Under an audited path as written, symlinks not followed."""
        absolute = Path(os.path.abspath(path))
        return any(absolute.is_relative_to(r) for r in self.roots)  # a root is relative to itself

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        """Never descend into a directory symlink: outside targets leak, `..` targets loop."""
        from .safepath import pruned_dir

        if Path(os.path.abspath(collection_path)) in self.roots or not self._under_roots(collection_path) or not collection_path.is_dir():
            return None
        why = pruned_dir(collection_path, self.roots)
        if why is None:
            return None
        self.not_collected[str(collection_path)] = why
        return True

    def _above_roots(self, path: Path) -> bool:
        """A directory the session passes through on its way down to a root (Session collects every
        parent of an argument, from the confcutdir down)."""
        absolute = Path(os.path.abspath(path))
        return any(r.is_relative_to(absolute) for r in self.roots)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        """A plain Dir for every directory at, under or above a root, never a Package: pytest's
        python plugin makes a directory with an `__init__.py` a Package (_pytest/python.py:201-212),
        and Package.setup imports that file before any item under it runs (python.py:697-698).
        The hook is firstresult (_pytest/hookspec.py:335), so the first non-None answer wins.
        pytest_configure set config.args to the roots, so nothing else is collected here."""
        if self._under_roots(path) or self._above_roots(path):
            return pytest.Dir.from_parent(parent, path=path)
        return None

    @pytest.hookimpl(wrapper=True)
    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        """Under the roots only goblin's own nodes survive. pytest_collect_file is not firstresult
        (_pytest/hookspec.py:365): every plugin's collector is gathered into a list, so the veto is
        a wrapper that filters that list before any node collects. Without it the python plugin's
        Module imports `test_*.py` (python.py:215-231; Module._getobj imports it, python.py:580-581) and the
        doctest plugin runs `test*.txt` (doctest.py:127-138)."""
        nodes = yield
        if not self._under_roots(file_path):
            return nodes
        own = self._config_file(file_path, parent)
        return [own] if own is not None else []

    def _config_file(self, file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        from .items import ConfigFile
        from .service import check_config, screen

        why = screen(file_path, self.roots, named=Path(os.path.abspath(file_path)) in self.roots)
        if why is not None:
            if why:
                self.not_collected[str(file_path)] = why
            return None
        checked = check_config(file_path)
        if checked.skip is not None:
            self.not_collected[str(file_path)] = checked.skip
            return None
        node = ConfigFile.from_parent(parent, path=file_path)
        node.config_error, node.loaded = checked.error, checked.loaded
        node.target, node.launcher = checked.target, checked.launcher
        return node

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        from .items import AuditItem
        from .service import display_path

        if isinstance(item, AuditItem) and (call.when == "call" or (call.when == "setup" and report.failed)):
            outcome = {
                "nodeid": item.nodeid,
                "path": display_path(item.path, item.config.rootpath),
                "verdict": item.report.verdict if item.report else "error",
                "message": item.report.reason if item.report else (item.error or str(call.excinfo.value if call.excinfo else "")),
                "report": item.report,
            }
            if _is_worker(item.config):
                # the controller gets it as JSON on the report (pytest_runtest_logreport there)
                # masked here, where the config was read: the values learned under its secret names
                # (redact.learn) live in this worker only
                from .outcome import ItemOutcome
                from .redact import redact_model

                report.goblin = redact_model(ItemOutcome.model_validate(outcome)).model_dump(mode="json")  # type: ignore[attr-defined]
            else:
                # kept as objects: the session report validates instances for free, and a TestReport
                # stays plain data for plugins that serialize it (pytest-reportlog)
                self.outcomes[item.nodeid] = outcome
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "goblin", None)
        if data:
            self.outcomes[data["nodeid"]] = data

    def session_report(self) -> Any:
        """The session's report; built once, at session finish, and reused by the summary."""
        if self._report is not None:
            return self._report
        from . import __version__
        from .outcome import ItemOutcome, SessionReport

        items = [ItemOutcome.model_validate(self.outcomes[k]) for k in sorted(self.outcomes)]
        rel = {self._relative(p): why for p, why in self.not_collected.items()}
        report = SessionReport(version=__version__, target=self.settings.target, items=items, not_collected=dict(sorted(rel.items())))
        if self.finished:
            self._report = report
        return report

    def _relative(self, path: str) -> str:
        base = Path(os.path.abspath(self.rootpath)) if self.rootpath else None
        p = Path(path)
        return p.relative_to(base).as_posix() if base is not None and p.is_relative_to(base) else path

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from .items import AuditItem

        if self.froze and all(isinstance(item, AuditItem) for item in session.items):
            gc.freeze()  # the collected nodes and their parses outlive every audit; see _freeze_heap

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.shard is None:
            return
        from .service import shard_of

        k, n = self.shard
        keep = [it for it in items if shard_of(it.nodeid, n) == k]
        dropped = [it for it in items if shard_of(it.nodeid, n) != k]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist controller: collect each worker's not-collected files (workers do the collecting)."""
        self.not_collected.update(getattr(node, "workeroutput", {}).get("goblin_not_collected", {}))

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """A SIGTERM raised by a measured run's own handler is a SIGTERM too."""
        from .runners.command import Terminated

        if isinstance(excinfo.value, Terminated):
            self.sigterm.signum = excinfo.value.signum

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Reports are written here, on the controller only, so an interrupted run still writes
        what finished and xdist workers never race on one file. Stopped by SIGTERM, the session
        exits 128 + 15 after the reports are written (SigtermAsInterrupt)."""
        config = session.config
        worker_output = getattr(config, "workeroutput", None)
        if worker_output is not None:
            worker_output["goblin_not_collected"] = dict(self.not_collected)
            return
        from .reporting.outputs import write_outputs

        self.sigterm.closing = True
        self.finished = True
        self.written = write_outputs(
            self.session_report(),
            md=config.stash[VALUES_KEY]["md"],
            json=config.stash[VALUES_KEY]["json"],
            sarif=config.stash[VALUES_KEY]["sarif"],
        )
        if self.sigterm.signum is not None:
            n = len(self.session_report().items)
            self.written.insert(0, f"stopped by SIGTERM: {n} config(s) finished; the reports hold those")
            session.exitstatus = 128 + self.sigterm.signum

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        from .reporting.escape import one_line, terminal
        from .reporting.github import in_actions, workflow_commands
        from .reporting.text import masked_failure_text, summary_line

        # the strings masked, then rendered; a rendered line is never masked (round 8, M5)
        session = self.session_report()
        tr = terminalreporter
        tr.write_sep("=", "pytest-goblin summary")
        show_warned = config.get_verbosity() > 0 or bool(config.stash[VALUES_KEY]["diff"])
        for item in session.items:
            if show_warned and item.verdict == "warn" and item.report is not None:
                # a warning's findings and diff, as a failure shows them, through the same escaping (N7)
                tr.write_line(terminal(masked_failure_text(item.report)))
        for item in session.items:
            tr.write_line(one_line(summary_line(item)))
            if config.get_verbosity() > 0 and item.verdict == "pass" and item.report is not None:
                from .reporting.text import findings_lines

                for line in findings_lines(item.report):  # a PASS's footguns and guidance, one line each
                    tr.write_line(one_line(line))
        if self.shard:
            tr.write_line(f"shard {self.shard[0]}/{self.shard[1]}: {len(session.items)} configs; combine shards with `goblin merge`")
        if self.not_collected:
            tr.write_line(f"not collected: {len(self.not_collected)} files that are not training configs (goblin parse FILE says why)")
            # a file named on the command line gets its reason without -v: pytest's own "ERROR: not found" follows
            # and says nothing of why
            named = {str(root) for root in self.roots}
            for path, why in sorted(self.not_collected.items()):
                if config.get_verbosity() > 0 or path in named:
                    tr.write_line(one_line(f"  - {path}: {why}"))
        for line in self.written:
            tr.write_line(f"goblin: {line}")
        if in_actions():
            for line in workflow_commands(session):
                tr.write_line(line)
