"""`goblin`: the same audits without pytest, plus `parse` and `kb lint|list`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import GoblinError
from .options import BY_NAME, add_one_to_argparse, add_to_argparse
from .redact import redact, redact_model
from .service import config_files

if TYPE_CHECKING:
    from .schemas import WorkloadConfig


def cmd_parse(args: argparse.Namespace) -> int:
    from .formats.base import source_place
    from .formats.launch_target import is_shell_launcher
    from .formats.record import not_collected_record, parse_record
    from .formats.semantics import with_world_size
    from .options import BY_NAME as OPTS
    from .options import convert
    from .redact import redact_obj
    from .reporting.escape import one_line
    from .service import check_config, display_path

    world = convert(OPTS["world_size"], getattr(args, OPTS["world_size"].dest, None), "--world-size")
    status = 0

    def skipped(path: Path, why: str) -> None:  # a file named on the command line that goblin does not read: said, never silence
        if args.json:
            print(json.dumps(redact_obj(not_collected_record(path, why))))
        else:
            print(one_line(redact(f"{path}: not collected: {why}")))

    if args.json:  # JSON Lines: one object per file, the documented record
        for path in config_files(args.paths, on_skip=skipped):
            record, ok = _launcher_record(path, world) if is_shell_launcher(path) else parse_record(path, world_size=world)
            status |= 0 if ok else 1
            # every string masked once it is JSON (D14), not the JSON text as a whole: that would mask
            # each `"key": "bf16"` of the sources as if `key` named a credential
            print(json.dumps(redact_obj(json.loads(json.dumps(record, default=str)))))
        return status
    for path in config_files(args.paths, on_skip=skipped):
        checked = check_config(path)  # a named shell/slurm launcher: the run it launches (formats/launch_target.py)
        if checked.skip is not None:
            print(one_line(f"{path}: not collected: {checked.skip}"))
            continue
        if checked.error is not None or checked.loaded is None:
            print(one_line(f"error: {checked.error}"), file=sys.stderr)
            status = 1
            continue
        loaded = checked.loaded
        if checked.target is not None and checked.target == checked.launcher:  # formats/lf_flags.py
            print(one_line(redact(f"{path}: launches LLaMA-Factory on the flags of its launch line, read as its config")))
        elif checked.target is not None:
            print(one_line(redact(f"{path}: launches {display_path(checked.target, Path.cwd())}")))
        w = with_world_size(loaded.workload, world, "--world-size")
        known = w.model.inferred or "known shape"
        shape = f"{w.model.params_b or '?'}B, {known if w.model.known else 'shape unknown'}"
        print(one_line(redact(f"{path}: {loaded.adapter.name}, model {w.model.name} ({shape})")))
        for name, src in sorted(w.sources.items(), key=lambda kv: (kv[1].line or 10**9, kv[0])):
            if name == "token_lengths":  # not a field: what the sample lengths are, and where they came from
                place = f"{source_place(src, w)}: {src.key}: " if src.explicit and src.key else ""
                print(one_line(redact(f"  sample lengths, in tokens: {place}{src.note or 'not stated'}")))
                continue
            # a value read from no key (a trainer named by the file's path) says where it came from, never `: None`
            where = (f"{source_place(src, w)}: {src.key}" if src.key else source_place(src, w)) if src.explicit else f"default: {src.note}"
            print(one_line(redact(f"  {name}{_shown_value(w, name)}  ({where})")))
    return status


def _launcher_record(path: Path, world: int | None) -> tuple[dict[str, Any], bool]:
    """`goblin parse --json` of a named shell/slurm launcher: the record of the run it launches, under its own path."""
    from .formats.record import SUMMARY, not_collected_record, workload_record
    from .formats.semantics import with_world_size
    from .service import check_config

    checked = check_config(path)
    if checked.skip is not None:
        return not_collected_record(path, checked.skip), True
    if checked.loaded is None:
        return {**dict.fromkeys(SUMMARY), "path": str(path), "format": None, "reason": None, "error": str(checked.error)}, False
    return workload_record(str(path), with_world_size(checked.loaded.workload, world, "--world-size")), True


def _shown_value(w: WorkloadConfig, name: str) -> str:
    """` = value` of a workload field as `goblin parse` lists it; a field left unset says so, and a source that is no
    field (`deepspeed_file`, `cpu_offload_in.0`) or an environment variable without a value shows none: never `None`."""
    if name == "model":
        return f" = {w.model.name!r}"
    if name.startswith("env."):
        value = (w.env or {}).get(name[4:])
        return f" = {value!r}" if value is not None else ""
    if name not in type(w).model_fields:
        return ""
    value = getattr(w, name)
    return " unset" if value is None else f" = {value!r}"


def cmd_audit(args: argparse.Namespace) -> int:
    """The same audits as `pytest --goblin`, through the same service and options (options.py)."""
    from .options import build_settings, from_argparse
    from .outcome import SessionReport
    from .reporting.escape import one_line, terminal
    from .reporting.text import findings_lines, masked_failure_text, summary_line
    from .service import check_settings, display_path, parse_shard

    values = from_argparse(args)
    settings = build_settings(values)
    check_settings(settings)
    shard = parse_shard(values["shard"], "--shard") if values["shard"] else None
    root = Path.cwd()
    audited: list[Any] = []
    skipped: dict[str, str] = {}
    show_progress = not values["events"] and sys.stderr.isatty()

    def not_collected(f: Path, why: str) -> None:  # a symlink out of the tree, a hostile name: in the report, and said
        skipped[display_path(Path(os.path.abspath(f)), root)] = why
        print(one_line(f"goblin: skip {f}: {why}"), file=sys.stderr)

    try:
        with _terminate_as_interrupt():
            _audit_each(args, values, settings, shard, root, audited, skipped, not_collected, show_progress)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the report of what finished, no traceback
        from .runners.command import Terminated

        signum = exc.signum if isinstance(exc, Terminated) else 2
        name = "SIGTERM" if signum == 15 else "SIGINT" if signum == 2 else f"signal {signum}"
        session = SessionReport(
            version=__version__, target=settings.target, items=sorted(audited, key=lambda o: o.nodeid), not_collected=dict(sorted(skipped.items()))
        )
        print(f"goblin: stopped by {name}: {len(audited)} config(s) finished; the reports hold those", file=sys.stderr)
        _finish(session, args)
        return 128 + signum
    outcomes = sorted(audited, key=lambda o: o.nodeid)
    session = SessionReport(version=__version__, target=settings.target, items=outcomes, not_collected=dict(sorted(skipped.items())))
    if not values["events"]:
        for item in session.items:  # the strings masked, then rendered; never a rendered line (round 8, M5)
            r = item.report
            in_full = bool(item.verdict == "fail" or (item.verdict == "warn" and values["diff"])) and bool(values["diff"] or args.verbose)
            if r is not None and in_full:
                print(terminal(masked_failure_text(r)))
            print(one_line(summary_line(item)))
            if r is not None and args.verbose and not in_full and item.verdict in ("pass", "warn"):
                for line in findings_lines(r):  # footguns and guidance of a PASS or WARN, one line each
                    print(one_line(line))
    return _finish(session, args)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises runners.command.Terminated for the whole audit loop (a measured run sets the
    same handler around itself), so a CI cancel ends like Ctrl-C: cleanly, with the report."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from .runners.command import raise_terminated

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _audit_each(
    args: argparse.Namespace,
    values: dict[str, Any],
    settings: Any,
    shard: tuple[int, int] | None,
    root: Path,
    audited: list[Any],
    skipped: dict[str, str],
    not_collected: Any,
    show_progress: bool,
) -> None:
    """Audit every config under the paths, appending each outcome as it finishes."""
    from .redact import redact_obj
    from .reporting.escape import one_line
    from .service import audit_file, check_config, config_files, display_path, shard_of

    for given in config_files(args.paths, on_skip=not_collected):
        path = Path(os.path.abspath(given))  # as pytest items hold it, so both write the same report
        shown = display_path(path, root)
        if shard is not None and shard_of(f"{shown}::audit", shard[1]) != shard[0]:
            continue
        checked = check_config(path)
        if checked.skip is not None:
            skipped[shown] = checked.skip
            if args.verbose:
                print(one_line(f"skip {path}: {checked.skip}"), file=sys.stderr)
            continue
        with _progress(path, enabled=show_progress) as on_event:
            result = audit_file(
                checked.target or path,  # a named launcher: the run it launches, shown as the launcher
                settings,
                shown_as=shown,
                config_error=checked.error,
                loaded=checked.loaded,
                launcher=checked.launcher,
                fix=values["fix"],
                on_event=on_event,
                progress=None if values["events"] else _stderr_line(path.name),
            )
        if values["events"]:
            for e in result.events:
                # each string masked, then serialized: a mask over the JSON text could eat a quote (round 7, M3)
                event = json.loads(json.dumps({"path": shown, **e.model_dump(mode="json")}, default=str))
                print(json.dumps(redact_obj(event)), flush=True)
        fixed = [n for n in (result.report.notes if result.report else []) if n.startswith("--goblin-fix")]
        for note in fixed:
            print(one_line(f"{path}: {note}"), file=sys.stderr)
        audited.append(result.outcome())


def _stderr_line(name: str) -> Any:
    """Measured-run progress on stderr: visible in a terminal and in CI logs alike."""

    def write(text: str) -> None:
        print(f"goblin {name}: {text}", file=sys.stderr, flush=True)

    return write


@contextmanager
def _progress(path: Path, *, enabled: bool, console: Any = None) -> Iterator[Any]:
    """A rich spinner with the audit's current step on a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .loop import progress_text

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True, console=console) as bar:
        task = bar.add_task(f"{path.name}: starting", total=None)

        def on_event(event: Any) -> None:
            text = progress_text(event)
            if text:
                bar.update(task, description=f"{path.name}: {text}")
                bar.refresh()

        yield on_event


def _finish(session: Any, args: argparse.Namespace) -> int:
    """Write the requested reports, annotate in GitHub Actions; exit 1 on any fail or error."""
    from .reporting.github import in_actions, workflow_commands
    from .reporting.outputs import write_outputs

    for line in write_outputs(session, md=args.goblin_md, json=args.goblin_json, junit=getattr(args, "goblin_junit", None), sarif=args.goblin_sarif):
        print(f"goblin: {line}", file=sys.stderr)
    if in_actions():
        for line in workflow_commands(session):
            print(line)
    counts = session.counts()
    return 1 if counts["fail"] or counts["error"] else 0


def cmd_merge(args: argparse.Namespace) -> int:
    """One report from the JSON reports of several shards (or machines)."""
    from .baseline import read_report
    from .outcome import SessionReport
    from .reporting.escape import one_line

    sessions = []
    for path in args.reports:
        try:
            sessions.append(read_report(path))
        except GoblinError as exc:
            print(one_line(f"goblin merge: {exc}"), file=sys.stderr)
            return 2
    targets = {s.target for s in sessions}
    if len(targets) > 1:
        shown = one_line(", ".join(sorted(t[:40] for t in targets)))
        print(f"goblin merge: the reports target different GPUs ({shown}); merge one target at a time", file=sys.stderr)
        return 2
    items: dict[str, Any] = {}
    for path, s in zip(args.reports, sessions, strict=True):
        for item in s.items:
            if item.nodeid in items:
                print(one_line(f"goblin merge: {item.nodeid} is in more than one report (last: {path}); were the shards overlapping?"), file=sys.stderr)
                return 2
            items[item.nodeid] = item
    skipped = {path: why for s in sessions for path, why in s.not_collected.items()}
    merged = SessionReport(
        version=sessions[0].version, target=sessions[0].target, items=[items[k] for k in sorted(items)], not_collected=dict(sorted(skipped.items()))
    )
    print(f"merged {len(args.reports)} reports: {len(merged.items)} configs, {merged.counts_text()}")
    return _finish(merged, args)


def cmd_comment(args: argparse.Namespace) -> int:
    """Create or update the sticky PR comment from a JSON report; a 403 (fork) is a warning."""
    import os

    from .baseline import read_report
    from .github_comment import CommentError, GitHub, body_for, provenance
    from .hardware import hardware_table
    from .reporting.escape import one_line
    from .reporting.markdown import render

    try:
        session = read_report(args.report)
    except GoblinError as exc:
        print(f"goblin comment: {exc}", file=sys.stderr)
        return 2
    if "/" not in args.repo:
        print(f"goblin comment: --repo {one_line(args.repo)!r}: expected OWNER/NAME", file=sys.stderr)
        return 2
    # The report is an artifact (N3): its target must be a GPU this goblin knows, and its text is
    # rendered as untrusted (rule text from the installed KB, everything else escaped).
    if session.target.lower().replace(" ", "").replace("-", "") not in hardware_table():
        print(
            f"goblin comment: {one_line(args.report)}: target {one_line(session.target)[:80]!r} is not a GPU in goblin's hardware table; not rendered",
            file=sys.stderr,
        )
        return 2
    try:
        header, run_url = provenance(
            args.repo, run_id=args.run_id, head_sha=args.head_sha, head_repo=args.head_repo, server=os.environ.get("GITHUB_SERVER_URL")
        )
    except CommentError as exc:
        print(f"goblin comment: {exc}", file=sys.stderr)
        return 2
    if args.run_id is None:  # run by hand or from the run itself: link this run, as before
        server, repo_env, run_id = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_RUN_ID")
        run_url = f"{server}/{repo_env}/actions/runs/{run_id}" if server and repo_env and run_id else None
    # masked before rendering, never after (a mask would eat the Markdown around a value)
    body = body_for(render(redact_model(session), untrusted=True), run_url=run_url, header=header)
    try:
        action, comment = GitHub(os.environ.get(args.token_env, ""), api_url=args.api_url).upsert(args.repo, args.pr, body)
    except CommentError as exc:
        if exc.forbidden:
            # A pull request from a fork gets a read-only token: say so, do not fail the job.
            from .reporting.github import _escape_data

            print(
                f"::warning title=pytest-goblin::{_escape_data(f'could not comment on #{args.pr}: {exc} (a fork token is read-only; post from a workflow_run job)')}"
            )
            return 0
        print(f"goblin comment: {exc}", file=sys.stderr)
        return 1
    print(one_line(f"{action} comment {str(comment.get('id', '?'))[:20]} on {args.repo}#{args.pr}: {str(comment.get('html_url', ''))[:200]}"))
    return 0


def cmd_kb(args: argparse.Namespace) -> int:
    from .blockers import check_blockers
    from .hardware import hardware_table
    from .rules import check_rules

    try:
        rules, problems = check_rules(tuple(args.kb_paths))
        blockers, blocker_problems = check_blockers()
        problems += blocker_problems
        gpus = hardware_table()
    except GoblinError as exc:
        print(f"kb error: {exc}", file=sys.stderr)
        return 1
    if problems:
        for problem in problems:
            print(f"kb error: {problem}", file=sys.stderr)
        print(f"{len(problems)} problem(s); fix them or remove the rule file from goblin_kb_paths", file=sys.stderr)
        return 1
    if args.action == "lint":
        print(f"ok: {len(rules)} rules, {len(blockers)} blockers, {len(gpus)} GPUs")
        return 0
    if args.action == "coverage":
        return _kb_coverage(args, rules)
    if args.json:
        print(json.dumps([_rule_row(r) for r in rules] + [_blocker_row(b) for b in blockers], indent=2))
    else:
        for r in rules:
            print(f"{r.id:45} {r.category:13} {r.symptom[:70]:70} {r.citation}")
        for b in blockers:
            print(f"{b.id:45} {b.severity:13} {b.symptom[:70]:70} {b.citation}")
    return 0


def _blocker_row(b: Any) -> dict[str, Any]:
    """A blocker in `goblin kb list --json`: its kind is `blocker` or `requirement` (a footgun)."""
    return {
        "id": b.id,
        "category": b.severity,
        "title": b.title,
        "symptom": b.symptom,
        "footgun": b.severity == "requirement",
        "blocker": b.severity == "blocker",
        "fix": None if b.fix is None else {k: b.fix for k in b.keys[:1]},
        "sources": b.sources,
        "citation": b.citation,
    }


def _rule_row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "category": r.category,
        "title": r.title,
        "symptom": r.symptom,
        "footgun": r.footgun,
        "impact": [r.impact.low, r.impact.high],
        "citation": r.citation,
    }


def _kb_coverage(args: argparse.Namespace, rules: list[Any]) -> int:
    """How many of the given configs each rule applies to: a check of the KB against real files."""
    from collections import Counter

    from .formats import load_config
    from .hardware import get_hardware, resolve_target
    from .rules import applicable

    hw = get_hardware(resolve_target(args.target))
    hits: Counter[str] = Counter()
    audited = 0
    for path in config_files(args.paths or ["."]):
        try:
            loaded = load_config(path)
        except GoblinError:
            continue
        audited += 1
        hits.update(r.id for r in applicable(loaded.workload, hw, rules, host={}))
    print("| rule | kind | configs | share |\n|---|---|---:|---:|")
    for r in sorted(rules, key=lambda r: (-hits[r.id], r.id)):
        share = hits[r.id] / audited if audited else 0.0
        print(f"| `{r.id}` | {'footgun' if r.footgun else 'patch'} | {hits[r.id]} | {share:.0%} |")
    print(f"\n{audited} training configs, target {hw.id}")
    return 0


def _report_options(p: argparse.ArgumentParser) -> None:
    """The report outputs of `goblin merge`, named as in `goblin audit` (options.py)."""
    for name in ("junit", "md", "json", "sarif"):
        option = BY_NAME[name]
        p.add_argument(f"--{option.flag}", dest=option.dest, metavar=option.metavar, help=option.help)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="goblin", description="Audit fine-tuning configs for wasted AMD Instinct GPU time.")
    p.add_argument("--version", action="version", version=f"pytest-goblin {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("audit", help="audit configs and print verdicts (exit 1 on fail or error)")
    a.add_argument("paths", nargs="+", metavar="PATH")
    add_to_argparse(a)  # every option of `pytest --goblin-*`, declared once in options.py
    a.add_argument("-v", "--verbose", action="store_true", help="say which files are skipped and why; print failures with their findings")
    a.set_defaults(func=cmd_audit)
    pa = sub.add_parser("parse", help="show how a config is read, field by field, or why it is not collected")
    pa.add_argument("paths", nargs="+", metavar="PATH")
    pa.add_argument("--json", action="store_true", help="one JSON object per file per line (the documented record; see README)")
    add_one_to_argparse(pa, "world_size")  # the same --world-size as `goblin audit`, applied to what is shown
    pa.set_defaults(func=cmd_parse)
    m = sub.add_parser("merge", help="merge the JSON reports of shards into one report")
    m.add_argument("reports", nargs="+", metavar="REPORT.json")
    _report_options(m)
    m.set_defaults(func=cmd_merge)
    c = sub.add_parser("comment", help="create or update the sticky pull-request comment from a JSON report")
    c.add_argument("--report", required=True, metavar="REPORT.json")
    c.add_argument("--repo", required=True, metavar="OWNER/NAME")
    c.add_argument("--pr", required=True, type=int, metavar="N")
    c.add_argument("--api-url", default=None, help="REST API root (default $GITHUB_API_URL, else https://api.github.com)")
    c.add_argument("--token-env", default="GITHUB_TOKEN", help="environment variable holding the token (default GITHUB_TOKEN)")
    c.add_argument("--run-id", default=None, help="the workflow run that uploaded the report (workflow_run.id): named and linked in the comment")
    c.add_argument("--head-sha", default=None, help="the commit that run audited (workflow_run.head_sha)")
    c.add_argument(
        "--head-repo",
        default=None,
        help="the repository that commit is from (workflow_run.head_repository.full_name); unless it is --repo, the comment says the report is advisory",
    )
    c.set_defaults(func=cmd_comment)
    k = sub.add_parser("kb", help="lint or list the knowledge base, or count which rules fire on a set of configs")
    k.add_argument("action", choices=("lint", "list", "coverage"))
    k.add_argument("paths", nargs="*", metavar="PATH", help="configs or folders for `coverage`")
    k.add_argument("--target", default="auto", help="GPU for `coverage` (default auto)")
    k.add_argument("--json", action="store_true")
    k.add_argument("--kb-path", dest="kb_paths", action="append", default=[], help="extra rule file or folder")
    k.set_defaults(func=cmd_kb)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError

    from . import repoindex

    args = build_parser().parse_args(argv)
    try:
        with repoindex.session():  # each repository question answered once per command (repoindex.py)
            return int(args.func(args))
    except BrokenPipeError:  # `goblin parse --json ... | head`
        sys.stdout = open(os.devnull, "w")
        return 0
    except ValidationError as exc:
        from .settings import explain

        print("goblin: " + explain(exc), file=sys.stderr)
        return 2
    except GoblinError as exc:
        print(f"goblin: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
