"""One audit service for both front ends: pytest items and `goblin audit` call the same code,
from finding the files to the outcome of each, so the two can only differ in how they show it.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError, GoblinError, NotATrainingConfig
from .events import Event
from .formats import LoadedConfig
from .outcome import ItemOutcome
from .redact import redact
from .schemas import Report
from .settings import Settings

# The folders pytest does not recurse into by default (its `norecursedirs`), so that
# `goblin audit DIR` finds the files `pytest --goblin DIR` collects.
SKIPPED_DIRS = (".*", "*.egg", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")


def screen(path: Path, roots: Sequence[Path], named: bool = False) -> str | None:
    """Whether collection looks at a file: None to read it; "" to pass it over in silence (not a
    config suffix, goblin's own patched copy, met while walking a folder); else why it is not
    collected (a hostile name, a symlink out of the audited tree). A file the user `named` itself
    is never passed over in silence: it gets the reason (review5 #25-#27: `goblin parse x.json`
    printed nothing)."""
    from .formats import candidate_suffixes
    from .runners.command import is_goblin_copy
    from .safepath import unsafe_name, within

    if is_goblin_copy(path):
        return "a patched copy goblin writes beside a config while measuring, not a config itself" if named else ""
    from .formats.launch_target import is_shell_launcher, walked_flags_run

    walked_shell = not named and is_shell_launcher(path)  # a folder walk's launcher: collected only as below
    if path.suffix.lower() not in candidate_suffixes() and not (named and is_shell_launcher(path)) and not walked_shell:
        # a shell/slurm launcher is audited as the run it launches where the user names it (check_config)
        if not named:
            return ""
        known = ", ".join(sorted(candidate_suffixes()))
        return f"{path.suffix or 'no'} suffix is not a config format goblin reads ({known})"
    bad = unsafe_name(path)
    if bad is not None:
        return "" if walked_shell else bad
    if not within(path, roots):  # a symlinked file, or one under a symlinked folder, leading out
        return "" if walked_shell else "a symlink (or under one) to a file outside the audited paths; not followed"
    if walked_shell and not walked_flags_run(path):
        # met in a folder walk, the config a launcher runs is collected itself; only a LLaMA-Factory run on the
        # launcher's flags alone, which no other file holds, is the launcher's own item (launch_target.walked_flags_run)
        return ""
    return None


def audited_roots(paths: Sequence[str | Path]) -> list[Path]:
    """Every audited root, absolute as written, each checked to stay inside its repository
    (safepath.audited_root): the first that does not raises UnsafePath naming it, before any
    folder is walked or any file read."""
    from .safepath import audited_root

    return [audited_root(p) for p in paths]


def config_files(paths: Sequence[str | Path], on_skip: Callable[[Path, str], None] | None = None) -> Iterator[Path]:
    """The files under `paths` that collection reads, in a stable order, as pytest collects them:
    the same skipped folders, directory symlinks never descended, the same screen().

    Every root is checked (`audited_roots`) when this is called, not when the first file is
    asked for: a root that leads out of its repository fails the command before anything is read.
    """
    checked = audited_roots(paths)
    # The walk takes each root as the check saw it: `..` folded lexically against the working
    # directory as the user reached it (`x/..` through a link `x`, or `..` from inside one, would
    # otherwise be walked by the kernel from the link's target). A relative root without `..`
    # stays relative, so reports show paths as the user wrote them.
    walked = []
    for raw, root in zip(paths, checked, strict=True):
        folded = Path(os.path.normpath(raw))
        walked.append(folded if not folded.is_absolute() and ".." not in folded.parts else root)
    return _walk(walked, on_skip)


def _walk(paths: Sequence[str | Path], on_skip: Callable[[Path, str], None] | None) -> Iterator[Path]:
    from .safepath import registered_roots, repository_root, set_roots

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            roots = [Path(os.path.abspath(p))]
            set_roots([*registered_roots(), *roots])
            found = []
            for root, dirs, files in os.walk(p):  # does not follow directory symlinks
                dirs[:] = sorted(d for d in dirs if not any(fnmatch.fnmatch(d, pat) for pat in SKIPPED_DIRS))
                found += [Path(root) / name for name in sorted(files)]
        else:
            repo = repository_root(p.parent)
            roots = [*([repo] if repo else []), Path(os.path.abspath(p)).parent]
            found = [p]
        for f in found:
            why = screen(f, roots, named=f is p)
            if why is None:
                yield f
            elif why and on_skip is not None:
                on_skip(f, why)


def display_path(path: Path, root: Path) -> str:
    """The path as reports show it: relative to the root (pytest's rootdir, the CLI's working
    directory) when under it, else as given."""
    absolute = Path(os.path.abspath(path))
    base = Path(os.path.abspath(root))
    return absolute.relative_to(base).as_posix() if absolute.is_relative_to(base) else str(path)


@dataclass
class Audited:
    """One config's audit: its events, the report (None on error) and the error text."""

    path: str  # as reports show it
    events: list[Event] = field(default_factory=list)
    report: Report | None = None
    error: str | None = None

    @property
    def verdict(self) -> str:
        return self.report.verdict if self.report is not None else "error"

    def outcome(self) -> ItemOutcome:
        message = self.report.reason if self.report is not None else (self.error or "the audit ended without a report")
        return ItemOutcome(nodeid=f"{self.path}::audit", path=self.path, verdict=self.verdict, message=message, report=self.report)  # type: ignore[arg-type]


def audit_file(
    path: Path,
    settings: Settings,
    *,
    shown_as: str,
    config_error: GoblinError | None = None,
    loaded: LoadedConfig | None = None,
    fix: bool = False,
    on_event: Callable[[Event], None] | None = None,
    progress: Callable[[str], None] | None = None,
    launcher: Path | None = None,
) -> Audited:
    """Audit one config: the loop, then the baseline comparison and `--fix`, in that order.

    `progress` gets one line per measured run of the user's training command (it outlives
    pytest's capture: the item writes it through the terminal reporter).
    `config_error` is what collection found wrong with the file (it becomes the outcome) and
    `loaded` the parse it made (the audit reads the file no second time); `shown_as` is the
    path reports use. `launcher`, a shell/slurm launcher the user named whose run `path` is
    (check_config), is the launcher every launch-line search reads first. Nothing here raises for a bad config or a failed run:
    the outcome says what happened.
    """
    from .backends import make_backend_or_planner
    from .loop import audit_sync, final_report, last_error

    result = Audited(path=shown_as)
    if config_error is not None:
        if isinstance(config_error, ConfigError):  # name the file as the reports do
            config_error = ConfigError(shown_as, config_error.message, line=config_error.line, hint=config_error.hint)
        result.error = redact(str(config_error))
        return result
    allow_hub(settings)
    try:
        backend, notes = make_backend_or_planner(settings.backend)
    except GoblinError as exc:
        result.error = redact(str(exc))
        return result
    if loaded is not None:
        from .formats.semantics import loaded_with_world_size

        # collection parsed the file without the settings: the stated world size applies here, as
        # parse_config applies it to a file it reads itself
        loaded = loaded_with_world_size(loaded, settings.world_size)
    from .runners.command import PROGRESS

    if fix and settings.command and settings.runner_name == "command" and not settings.attribution:
        # the fix writes only what won: on the command path that takes leave-one-out attribution
        settings = settings.model_copy(update={"attribution": True})
    from .formats.launch_walk import launched_by

    token = PROGRESS.set(progress)
    try:
        with launched_by(launcher):
            result.events = audit_sync(path, backend=backend, settings=settings, on_event=on_event, notes=notes, loaded=loaded)
    finally:
        PROGRESS.reset(token)
    report = final_report(result.events)
    if report is None:
        result.error = redact(last_error(result.events))
        return result
    report = report.model_copy(update={"path": shown_as})
    if launcher is not None:
        report = config_lines_placed(report, path, launcher)
    if settings.baseline:
        from .baseline import compare, load_baseline

        report = compare(report, load_baseline(settings.baseline).get(shown_as))
    if fix:
        report = _write_fix(path, report, loaded)
    result.report = report
    return result


def config_lines_placed(report: Report, config: Path, launcher: Path) -> Report:
    """A launcher item's report (`pytest --goblin run.sh`) is shown as the launcher's, but a finding's `line` without a
    `file` is the config's own (audit_tools._anchor, blockers.raw_key): name the config there, as formats.base.shown_file
    names another file, so every output says `config.yaml:9`, never the launcher's path with the config's line (review15a
    class 4: `run2node.sh:35` on a 19-line shell file, `scripts/sft.sh:1273` for a line of train.py). A line the launch
    line passes already names its file (blockers.key_file)."""
    from .formats.base import elsewhere, shown_file

    if not elsewhere(str(launcher), str(config)):  # a launcher that is its own config (formats/lf_flags.py)
        return report
    own = shown_file(str(config), str(config))
    placed = [f.model_copy(update={"file": own}) if f.line and not f.file else f for f in report.findings]
    return report.model_copy(update={"findings": placed})


def _write_fix(path: Path, report: Report, audited: LoadedConfig | None) -> Report:
    """--goblin-fix: a patch that won (patching.fix_allowed) and the blockers' one-edit fixes
    (whatever the speedup: the run does not start without them), into the file as it was audited."""
    from .patching import blocker_writes, fix_allowed, fix_note, unfixed_blockers

    writes = blocker_writes(report)  # a blocker's one-edit fix is written whatever the speedup
    won = report.patch is not None and fix_allowed(report)
    held = unfixed_blockers(report) if report.patch is not None and report.patch.edits and not won else []
    withheld = (
        f"--goblin-fix did not write the speedup patch: the file would still not start ({', '.join(held)}: no edit goblin writes fixes it); "
        "fix those by hand and audit again"
        if held
        else None
    )
    if not won and not writes:
        return report.model_copy(update={"notes": [*report.notes, withheld]}) if withheld else report
    note = fix_note(path, report.patch if won else None, audited, writes)
    if withheld:
        note = f"{note}; {withheld}" if note else withheld
    unattributed = next((n for n in report.notes if n.startswith("not attributed")), None)
    if note and unattributed and won and not note.startswith("--goblin-fix did not write"):
        note += f"; {unattributed}"
    return report.model_copy(update={"notes": [*report.notes, note]}) if note else report


def allow_hub(settings: Settings) -> None:
    """--goblin-hub: the shape lookup (hubconfig) may download config.json. Read from the
    environment, so that xdist workers and every parse see it; the parse is made at collection,
    so this is set before any file is read (check_settings), not only when an audit starts."""
    if settings.hub:
        os.environ["GOBLIN_HUB"] = "1"


def check_settings(settings: Settings) -> None:
    """Fail early, before any file is read, on a setting that would fail every audit: an unknown
    GPU, a broken rule file, an unreadable baseline report. Raises GoblinError. Also puts into
    effect the settings that collection's parse reads (allow_hub)."""
    from .hardware import get_hardware
    from .rules import cached_rules

    allow_hub(settings)
    get_hardware(settings.target)
    cached_rules(settings.kb_paths)
    if settings.baseline:
        from .baseline import load_baseline

        load_baseline(settings.baseline)


@dataclass(frozen=True)
class Checked:
    """What collection decides about a file, with the parse it made: the audit reuses it."""

    loaded: LoadedConfig | None = None  # a training config, read
    error: GoblinError | None = None  # a broken config: one item that errors
    skip: str | None = None  # not a training config: why it is not collected
    # a shell/slurm launcher named on the command line: the config (or script) it launches, audited with its launch
    # line (formats/launch_target.py), and the launcher's real path (formats/launch_walk.launched_by)
    target: Path | None = None
    launcher: Path | None = None


def check_config(path: Path) -> Checked:
    from .formats import load_config
    from .formats.launch_target import is_shell_launcher

    if is_shell_launcher(path):
        return _check_launcher(path)
    try:
        return Checked(loaded=load_config(path))
    except NotATrainingConfig as exc:
        return Checked(skip=exc.reason)
    except ConfigError as exc:
        return Checked(error=exc)


def _check_launcher(path: Path) -> Checked:
    """A launcher the user named: the first launch line whose target goblin reads, read with this file's lines first;
    its parse (or its error) is the item's, the launcher's notes added. Skipped with the reason naming the target
    where none is read."""
    from .formats import load_config
    from .formats.launch_target import choose
    from .formats.launch_walk import launched_by

    real = Path(os.path.realpath(path))
    parsed: dict[Path, Checked] = {}
    audited: dict[Path, Path] = {}  # a launched wrapper -> the module it calls, audited in its place
    wrapper_notes: dict[Path, list[str]] = {}

    def reads(target: Path) -> str | None:
        with launched_by(real):
            try:
                parsed[target] = Checked(loaded=load_config(target))
            except NotATrainingConfig as exc:
                return _through_wrapper(target, real, exc.reason, parsed, audited, wrapper_notes)
            except ConfigError as exc:
                parsed[target] = Checked(error=exc)
        return None

    chosen = choose(path, reads)
    if chosen.target is None:
        return Checked(skip=chosen.why)
    got = parsed[chosen.target]
    target = audited.get(chosen.target, chosen.target)
    notes = [*chosen.notes, *wrapper_notes.get(chosen.target, [])]
    if got.loaded is not None:
        w = got.loaded.workload
        loaded = replace(got.loaded, workload=w.model_copy(update={"notes": [*notes, *w.notes]}))
        return Checked(loaded=loaded, target=target, launcher=real)
    return Checked(error=got.error, target=target, launcher=real)


def _through_wrapper(
    target: Path, launcher: Path, reason: str, parsed: dict[Path, Checked], audited: dict[Path, Path], notes: dict[Path, list[str]]
) -> str | None:
    """A launched script that only calls the entry point of a module of its repository (LLaVA-style `train_mem.py`,
    formats/pywrapper.py): that module read with the launcher's lines first, in the wrapper's place, where its
    arguments come from a launch line that runs this wrapper; what else the wrapper runs said as not modelled.
    Returns `reason` (the target is not read) otherwise. Called inside `launched_by(launcher)`."""
    from .formats import load_config
    from .formats.launch_walk import config_tree
    from .formats.pywrapper import script_wrapper

    wrapped = script_wrapper(target)
    if wrapped is None:
        return reason
    _, root, _ = config_tree(Path(os.path.abspath(launcher)))
    shown = os.path.relpath(target, root) if target.is_relative_to(root) else target.name
    try:
        loaded = load_config(wrapped.module)
    except NotATrainingConfig as exc:
        return f"{reason}; {wrapped.shown} is not read either: {exc.reason}"
    except ConfigError as exc:
        parsed[target], audited[target] = Checked(error=exc), wrapped.module
        return None
    ran = [n for n in loaded.workload.notes if n.startswith(f"run through {shown},")]
    if not ran:
        return f"{reason}; {wrapped.shown} takes no arguments from a launch line that runs {shown} (the wrapper is not beside it or one folder up)"
    said = [
        f"{shown} is a wrapper: it calls {wrapped.said}, audited here as the run, with this launch line's flags and topology"
        + (f"; {shown} also runs {', '.join(wrapped.unmodelled)} before or around that call, which goblin does not model" if wrapped.unmodelled else "")
    ]
    parsed[target], audited[target], notes[target] = Checked(loaded=loaded), wrapped.module, said
    return None


def parse_shard(text: str, flag: str = "--goblin-shard") -> tuple[int, int]:
    """`K/N` (1-based) as (K, N); errors name the flag as the user wrote it."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise GoblinError(f"{flag} {text!r}: expected K/N such as 2/4") from None
    if not 1 <= k <= n:
        raise GoblinError(f"{flag} {text!r}: K must be between 1 and N")
    return k, n


def shard_of(nodeid: str, n: int) -> int:
    """1-based shard of a node id: a hash, so shards stay stable as configs come and go."""
    import hashlib

    return int(hashlib.sha256(nodeid.encode()).hexdigest(), 16) % n + 1
