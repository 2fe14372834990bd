"""The Markdown summary: a table, a chart of the speedups, then per config its findings (each
collapsible) and one diff a reviewer can apply, with the evidence behind the numbers."""

from __future__ import annotations

from ..outcome import ItemOutcome, SessionReport
from .escape import md_code, md_fence, md_text, md_trusted

_ICON = {"fail": "❌ fail", "warn": "⚠️ warn", "inconclusive": "❔ inconclusive", "pass": "✅ pass", "error": "💥 error"}
MAX_CHART_BARS = 30


def _cell(text: str) -> str:
    return md_text(text)  # `|` is among the escaped characters


def _label(path: str) -> str:
    """A short bar label for mermaid: one line, only characters a quoted label cannot escape from."""
    name = path.rsplit("/", 1)[-1]
    return "".join(ch if ch.isalnum() or ch in " ._-+" else "_" for ch in name)[:40]


def chart(items: list[ItemOutcome]) -> list[str]:
    """A mermaid bar chart of the speedups, largest first; projected and measured are labelled.
    Inconclusive measurements are left out: a bar would show a figure that decided nothing."""
    rated = sorted((i for i in items if i.report and i.report.speedup and not i.inconclusive), key=lambda i: -i.report.speedup.point)  # type: ignore[union-attr]
    undecided = sum(1 for i in items if i.inconclusive)
    note = [f"<sub>{undecided} inconclusive measurement(s) not charted</sub>"] if undecided else []
    if not rated:
        return note
    shown = rated[:MAX_CHART_BARS]
    kinds = sorted({i.report.evidence or "projected" for i in shown})  # type: ignore[union-attr]
    top = max(i.report.speedup.point for i in shown)  # type: ignore[union-attr]
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "Recoverable speedup per config ({" and ".join(kinds)})"',
        "    x-axis [" + ", ".join(f'"{_label(i.path)}"' for i in shown) + "]",
        f'    y-axis "speedup (x)" 1 --> {max(1.5, round(top + 0.25, 1))}',
        "    bar [" + ", ".join(f"{i.report.speedup.point:.2f}" for i in shown) + "]",  # type: ignore[union-attr]
        "```",
    ]
    if len(rated) > len(shown):
        lines.append(f"<sub>the {len(shown)} largest of {len(rated)} shown</sub>")
    return lines + note


def render(session: SessionReport) -> str:
    devices = sorted({i.report.measured_on for i in session.items if i.report is not None and i.report.measured_on})
    measured = f" Measured numbers come from {md_text(', '.join(devices))}, not from {session.target}." if devices else ""
    lines = [
        "## pytest-goblin",
        "",
        f"{len(session.items)} configs audited for **{session.target}**: {session.counts_text()}.{measured}",
        "",
        "| config | verdict | speedup | evidence | top rules |",
        "|---|---|---|---|---|",
    ]
    for item in session.items:
        r = item.report
        if r is None or r.speedup is None:
            lines.append(f"| {md_code(item.path, in_table=True)} | {_ICON[item.shown_verdict]} | n/a | n/a | {_cell(item.message[:120])} |")
            continue
        s = r.speedup
        rules = ", ".join(md_code(rid, in_table=True) for rid in (r.patch.rule_ids if r.patch else [])[:3]) or "none"
        speed = f"{s.point:.2f}x [{s.low:.2f}-{s.high:.2f}]" + (", not decided" if r.inconclusive else "")
        speed += f", {md_text(r.straddles.split(':', 1)[0])} (interval straddles a threshold)" if r.straddles else ""
        evidence = str(r.evidence) + (f" on {r.measured_on}" if r.measured_on else "")  # the numbers' device, not the target
        lines.append(f"| {md_code(item.path, in_table=True)} | {_ICON[item.shown_verdict]} | {speed} | {md_text(evidence)} | {rules} |")
    graph = chart(session.items)
    if graph:
        lines += ["", *graph]
    for item in session.items:
        lines += _section(item)
    return "\n".join(lines) + "\n"


def _section(item: ItemOutcome) -> list[str]:
    r = item.report
    if r is None or item.verdict == "pass" or not (r.findings or r.inconclusive):
        return []
    if r.inconclusive:
        s = r.speedup
        measured = f"{s.point:.2f}x [{s.low:.2f}-{s.high:.2f}]" if s else "n/a"
        head = [
            f"**Inconclusive**: the measurement ({measured}) did not decide between pass and fail, so this config neither passes nor fails.",
            "",
            f"Why, and what to change: {md_text(r.inconclusive)}",
        ]
    else:
        head = [md_text(r.reason)]
    out = ["", f"### {md_code(item.path)}: {item.shown_verdict}", "", *head, ""]
    for f in r.findings:
        where = f"line {f.line}" if f.line else "not set in the file"
        kind = "footgun, guidance only" if f.footgun else "patched" if r.patch and f.rule_id in r.patch.rule_ids else "not patched"
        own = r.patch.rule_diffs.get(f.rule_id) if r.patch else None
        out += [
            f"<details><summary><b>{md_text(f.rule_id)}</b> ({where}, {kind}): {md_text(f.title)}</summary>",
            "",
            md_trusted(f.message),
            "",
            f"Source: {md_trusted(f.citation)}",
            "",
            *(["This edit alone:", "", *md_fence(own.rstrip("\n"), "diff"), ""] if own else []),
            "</details>",
        ]
    if r.patch and r.patch.diff:
        name = item.path.rsplit("/", 1)[-1]
        what = "The patch that was measured (undecided: measure again before applying it)" if r.inconclusive else "The whole patch"
        out += ["", f"{what} for {md_code(name)} (apply from the file's folder with `git apply`):", "", *md_fence(r.patch.diff.rstrip("\n"), "diff")]
    if r.patch and r.patch.conflicts:
        for cf in r.patch.conflicts:
            out.append(f"- {md_code(cf.field)}: {md_text(cf.winner)} won over {md_text(', '.join(cf.losers))}: {md_text(cf.reason)}")
    if r.patch and r.patch.env:
        out += ["", "Environment for the job: " + " ".join(md_code(f"{k}={v}") for k, v in sorted(r.patch.env.items()))]
    out += ["", "<sub>" + " · ".join(f"{md_text(str(k))}: {md_text(str(v))}" for k, v in r.footer.items()) + "</sub>"]
    out += [f"<sub>note: {md_text(note)}</sub>" for note in r.notes]
    return out


def truncate(markdown: str, limit_bytes: int, notice: str) -> str:
    """`markdown` cut at a line boundary to fit `limit_bytes` (UTF-8) with `notice` after it.

    An open code fence or `<details>` at the cut is closed first, so the notice renders as text
    and stays visible (a cut inside a ```diff block would show it as code).
    """
    if len(markdown.encode("utf-8")) <= limit_bytes:
        return markdown
    budget = limit_bytes - len(notice.encode("utf-8")) - 200
    kept: list[str] = []
    used = 0
    fence = ""
    details = 0
    for line in markdown.split("\n"):
        size = len(line.encode("utf-8")) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
        stripped = line.strip()
        run = len(stripped) - len(stripped.lstrip("`"))
        if fence:
            if run >= len(fence) and not stripped.strip("`"):
                fence = ""
        elif run >= 3:
            fence = "`" * run
        elif not fence:
            details += stripped.count("<details>") - stripped.count("</details>")
    closing = ([fence] if fence else []) + ["</details>"] * max(details, 0)
    return "\n".join([*kept, *closing, "", notice])
