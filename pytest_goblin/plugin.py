"""pytest hooks only: options, collection, report plumbing and the terminal summary.

Without `--goblin` every hook returns at once and nothing heavy is imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .stash import SETTINGS_KEY, STATE_KEY

if TYPE_CHECKING:  # pydantic costs ~60 ms to import: only a --goblin run pays for it
    from .settings import Settings


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("goblin", "pytest-goblin: audit training configs for wasted GPU time")
    group.addoption(
        "--goblin",
        nargs="*",
        metavar="PATH",
        dest="goblin",
        default=None,
        help="audit the training configs under PATH (default: the goblin_paths ini option or the positional args)",
    )
    group.addoption(
        "--goblin-backend", dest="goblin_backend", default=None, metavar="NAME", help="planner (default), or an LLM backend; also GOBLIN_AGENT_BACKEND"
    )
    group.addoption(
        "--goblin-runner",
        dest="goblin_runner",
        default="auto",
        choices=("auto", "projection", "torch", "command"),
        help="auto: command when goblin_command is set, else torch when a ROCm/CUDA device is present, else projection",
    )
    group.addoption(
        "--goblin-target",
        dest="goblin_target",
        default="auto",
        metavar="GPU",
        help="GPU the audit targets: mi300x, mi325x, mi355x, mi250x, mi210 or h100; default auto: the local AMD GPU, else mi300x",
    )
    group.addoption("--goblin-md", dest="goblin_md", default=None, metavar="PATH", help="write the Markdown summary to PATH")
    group.addoption("--goblin-json", dest="goblin_json", default=None, metavar="PATH", help="write the full JSON report to PATH")
    group.addoption(
        "--goblin-hub",
        dest="goblin_hub",
        action="store_true",
        default=False,
        help="download config.json from the Hugging Face Hub for models the shape table and the local HF cache do not know",
    )
    group.addoption(
        "--goblin-attribution",
        dest="goblin_attribution",
        action="store_true",
        default=False,
        help="measured runs only: time the patch without each rule and drop rules that recover under 2%%",
    )
    group.addoption(
        "--goblin-cache-clear",
        dest="goblin_cache_clear",
        action="store_true",
        default=False,
        help="forget measured runs cached from earlier sessions (they are reused while workload, device and torch build are unchanged)",
    )
    group.addoption(
        "--goblin-fix", dest="goblin_fix", action="store_true", default=False, help="write each proposed patch into its config file (comments and layout kept)"
    )
    group.addoption("--goblin-sarif", dest="goblin_sarif", default=None, metavar="PATH", help="write SARIF 2.1.0 for GitHub code scanning to PATH")
    group.addoption(
        "--goblin-shard",
        dest="goblin_shard",
        default=None,
        metavar="K/N",
        help="run only shard K of N (1-based, stable by node id); merge the JSON reports with `goblin merge`",
    )
    group.addoption(
        "--goblin-baseline",
        dest="goblin_baseline",
        default=None,
        metavar="JSON",
        help="a --goblin-json report from the base branch: fail only on configs this change made worse or introduced",
    )
    parser.addini("goblin_paths", "paths audited by --goblin when none are given", type="args", default=[])
    parser.addini("goblin_fail_at", "fail when the speedup's lower bound reaches this (default 1.10)", default="1.10")
    parser.addini("goblin_warn_at", "warn when the speedup reaches this (default 1.03)", default="1.03")
    parser.addini("goblin_budget_s", "time limit of one measured benchmark, seconds (default 300)", default="300")
    parser.addini("goblin_kb_paths", "extra KB rule files or folders", type="paths", default=[])
    parser.addini(
        "goblin_command",
        "your training command, run before and after each patch, e.g. accelerate launch train.py --config {config} --max_steps {steps}",
        default="",
    )
    parser.addini("goblin_command_steps", "training steps per goblin_command run, passed as {steps} and GOBLIN_STEPS (default 20)", default="20")
    parser.addini(
        "goblin_command_metric", "regex with one (group) around the throughput in the command's log (default: tokens/s, samples/s or it/s)", default=""
    )


def _enabled(config: pytest.Config) -> bool:
    return config.getoption("goblin", None) is not None


def parse_shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--goblin-shard {text!r}: expected K/N such as 2/4") from None
    if not 1 <= k <= n:
        raise pytest.UsageError(f"--goblin-shard {text!r}: K must be between 1 and N")
    return k, n


def shard_of(nodeid: str, n: int) -> int:
    """1-based shard of a node id: a hash, so shards stay stable as configs come and go."""
    import hashlib

    return int(hashlib.sha256(nodeid.encode()).hexdigest(), 16) % n + 1


def _settings(config: pytest.Config) -> Settings:
    from pydantic import ValidationError

    from .hardware import resolve_target
    from .settings import Settings, backend_from_env, explain

    def ini_float(name: str) -> float:
        import math

        raw = config.getini(name)
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):  # nan / inf would reach int() or a comparison (D25)
            raise pytest.UsageError(f"{name} = {str(raw)[:40]!r} in {config.inipath or 'the ini file'}: expected a number such as 1.10 (finite)")
        return value

    try:
        return Settings(
            backend=backend_from_env(config.getoption("goblin_backend")),
            runner=config.getoption("goblin_runner"),
            target=resolve_target(config.getoption("goblin_target")),
            fail_at=ini_float("goblin_fail_at"),
            warn_at=ini_float("goblin_warn_at"),
            budget_s=ini_float("goblin_budget_s"),
            kb_paths=tuple(str(p) for p in config.getini("goblin_kb_paths")),
            baseline=config.getoption("goblin_baseline"),
            attribution=config.getoption("goblin_attribution"),
            command=config.getini("goblin_command") or None,
            command_steps=int(ini_float("goblin_command_steps")),
            command_metric=config.getini("goblin_command_metric") or None,
        )
    except ValidationError as exc:
        raise pytest.UsageError("pytest-goblin: " + explain(exc)) from None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not _enabled(config):
        return
    settings = _settings(config)
    from .errors import GoblinError
    from .hardware import get_hardware
    from .rules import cached_rules

    try:
        get_hardware(settings.target)
        cached_rules(settings.kb_paths)
    except GoblinError as exc:
        raise pytest.UsageError(f"pytest-goblin: {exc}") from None
    config.stash[SETTINGS_KEY] = settings
    from pytest_goblin.runners.cache import PREFIX, set_store

    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    if cache is not None and config.getoption("goblin_cache_clear") and getattr(config, "workerinput", None) is None:
        import shutil

        cachedir = getattr(cache, "_cachedir", None)  # pytest's Cache has no delete; its values live in <cachedir>/v/<key>
        if cachedir is not None:
            shutil.rmtree(Path(cachedir) / "v" / PREFIX, ignore_errors=True)
    set_store(cache)
    if config.getoption("goblin_hub"):
        os.environ["GOBLIN_HUB"] = "1"  # read by the shape lookup, also in xdist workers
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        from pytest_goblin.devices import gpu_count, pin_worker

        pin_worker(str(worker.get("workerid", "")), gpu_count())
    if settings.baseline:
        from .baseline import load_baseline

        try:
            load_baseline(settings.baseline)
        except GoblinError as exc:
            raise pytest.UsageError(f"pytest-goblin: {exc}") from None
    shard = parse_shard(config.getoption("goblin_shard")) if config.getoption("goblin_shard") else None
    paths = list(config.getoption("goblin") or [])
    if not paths and config.args_source == pytest.Config.ArgsSource.ARGS:
        paths = list(config.args)
    if not paths:
        paths = list(config.getini("goblin_paths"))
    if not paths:
        raise pytest.UsageError("pytest-goblin: --goblin needs paths: `pytest --goblin configs/` or goblin_paths in the ini file")
    base = Path(config.invocation_params.dir)
    roots = []
    for p in paths:
        full = (base / p) if not Path(p).is_absolute() else Path(p)
        if not full.exists():
            raise pytest.UsageError(f"pytest-goblin: {p} does not exist")
        roots.append(Path(os.path.abspath(full)))
    config.args = [str(p) for p in paths]
    from .safepath import set_roots

    set_roots(roots)
    state = GoblinSession(settings, roots, shard)
    state.rootpath = config.rootpath
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(state, "goblin-session")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _enabled(config):
        from pytest_goblin.runners.cache import set_store

        set_store(None)


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

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        from .errors import ConfigError, NotATrainingConfig
        from .formats import CANDIDATE_SUFFIXES, load_config
        from .items import ConfigFile

        suffix = file_path.suffix.lower()
        if not self._under_roots(file_path):
            return None
        if suffix not in CANDIDATE_SUFFIXES:
            return None
        from .safepath import unsafe_name, within

        bad_name = unsafe_name(file_path)
        if bad_name is not None:
            self.not_collected[str(file_path)] = bad_name
            return None
        if not within(file_path, self.roots):  # a symlinked file, or one under a symlinked folder, leading out
            self.not_collected[str(file_path)] = "a symlink (or under one) to a file outside the audited paths; not followed"
            return None
        node = ConfigFile.from_parent(parent, path=file_path)
        try:
            load_config(file_path)
        except NotATrainingConfig as exc:
            self.not_collected[str(file_path)] = exc.reason
            return None
        except ConfigError as exc:
            node.config_error = exc
        return node

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        from .items import AuditItem

        if isinstance(item, AuditItem) and (call.when == "call" or (call.when == "setup" and report.failed)):
            report.goblin = {  # type: ignore[attr-defined]
                "nodeid": item.nodeid,
                "path": item.path.relative_to(item.config.rootpath).as_posix() if item.path.is_relative_to(item.config.rootpath) else str(item.path),
                "verdict": item.report.verdict if item.report else "error",
                "message": item.report.reason if item.report else (item.error or str(call.excinfo.value if call.excinfo else "")),
                "report": item.report.model_dump(mode="json") if item.report else None,
            }
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "goblin", None)
        if data:
            self.outcomes[data["nodeid"]] = data

    def session_report(self) -> Any:
        from . import __version__
        from .outcome import ItemOutcome, SessionReport

        items = [ItemOutcome.model_validate(self.outcomes[k]) for k in sorted(self.outcomes)]
        rel = {self._relative(p): why for p, why in self.not_collected.items()}
        return SessionReport(version=__version__, target=self.settings.target, items=items, not_collected=dict(sorted(rel.items())))

    def _relative(self, path: str) -> str:
        base = Path(os.path.abspath(self.rootpath)) if self.rootpath else None
        p = Path(path)
        return p.relative_to(base).as_posix() if base is not None and p.is_relative_to(base) else path

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.shard is None:
            return
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

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Reports are written here, on the controller only, so an interrupted run still writes
        what finished and xdist workers never race on one file."""
        config = session.config
        worker_output = getattr(config, "workeroutput", None)
        if worker_output is not None:
            worker_output["goblin_not_collected"] = dict(self.not_collected)
            return
        from .reporting.outputs import write_outputs

        self.written = write_outputs(
            self.session_report(),
            md=config.getoption("goblin_md"),
            json=config.getoption("goblin_json"),
            sarif=config.getoption("goblin_sarif"),
        )

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        from .reporting.escape import one_line
        from .reporting.github import in_actions, workflow_commands

        session = self.session_report()
        tr = terminalreporter
        tr.write_sep("=", "pytest-goblin summary")
        for item in session.items:
            r = item.report
            speed = f"{r.speedup.point:.2f}x [{r.speedup.low:.2f}-{r.speedup.high:.2f}] {r.evidence}" if r and r.speedup else item.message[:100]
            tr.write_line(one_line(f"{item.verdict.upper():5} {item.path}  {speed}"))
        if self.shard:
            tr.write_line(f"shard {self.shard[0]}/{self.shard[1]}: {len(session.items)} configs; combine shards with `goblin merge`")
        if self.not_collected:
            tr.write_line(f"not collected: {len(self.not_collected)} files that are not training configs (goblin parse FILE says why)")
            if config.get_verbosity() > 0:
                for path, why in sorted(self.not_collected.items()):
                    tr.write_line(one_line(f"  - {path}: {why}"))
        for line in self.written:
            tr.write_line(f"goblin: {line}")
        if in_actions():
            for line in workflow_commands(session):
                tr.write_line(line)
