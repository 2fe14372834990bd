"""The Markdown summary: a table, a chart of the speedups, then per config its findings (each
collapsible) and one diff a reviewer can apply, with the evidence behind the numbers."""

from __future__ import annotations

from ..outcome import ItemOutcome, SessionReport

_ICON = {"fail": "❌ fail", "warn": "⚠️ warn", "pass": "✅ pass", "error": "💥 error"}
MAX_CHART_BARS = 30


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _label(path: str) -> str:
    """A short, quote-free bar label for mermaid."""
    return path.rsplit("/", 1)[-1].replace('"', "'")[:40]


def chart(items: list[ItemOutcome]) -> list[str]:
    """A mermaid bar chart of the speedups, largest first; projected and measured are labelled."""
    rated = sorted((i for i in items if i.report and i.report.speedup), key=lambda i: -i.report.speedup.point)  # type: ignore[union-attr]
    if not rated:
        return []
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
    return lines


def render(session: SessionReport) -> str:
    c = session.counts()
    lines = [
        "## pytest-goblin",
        "",
        f"{len(session.items)} configs audited for **{session.target}**: {c['fail']} fail, {c['warn']} warn, {c['pass']} pass, {c['error']} error.",
        "",
        "| config | verdict | speedup | evidence | top rules |",
        "|---|---|---|---|---|",
    ]
    for item in session.items:
        r = item.report
        if r is None or r.speedup is None:
            lines.append(f"| `{_cell(item.path)}` | {_ICON[item.verdict]} | n/a | n/a | {_cell(item.message[:120])} |")
            continue
        s = r.speedup
        rules = ", ".join(f"`{rid}`" for rid in (r.patch.rule_ids if r.patch else [])[:3]) or "none"
        lines.append(f"| `{_cell(item.path)}` | {_ICON[item.verdict]} | {s.point:.2f}x [{s.low:.2f}-{s.high:.2f}] | {r.evidence} | {rules} |")
    graph = chart(session.items)
    if graph:
        lines += ["", *graph]
    for item in session.items:
        lines += _section(item)
    return "\n".join(lines) + "\n"


def _section(item: ItemOutcome) -> list[str]:
    r = item.report
    if r is None or item.verdict == "pass" or not r.findings:
        return []
    out = ["", f"### `{item.path}`: {item.verdict}", "", r.reason, ""]
    for f in r.findings:
        where = f"line {f.line}" if f.line else "not set in the file"
        kind = "footgun, guidance only" if f.footgun else "patched" if r.patch and f.rule_id in r.patch.rule_ids else "not patched"
        own = r.patch.rule_diffs.get(f.rule_id) if r.patch else None
        out += [
            f"<details><summary><b>{f.rule_id}</b> ({where}, {kind}): {f.title}</summary>",
            "",
            f"{f.message}",
            "",
            f"Source: {f.citation}",
            "",
            *(["This edit alone:", "", "```diff", own.rstrip("\n"), "```", ""] if own else []),
            "</details>",
        ]
    if r.patch and r.patch.diff:
        name = item.path.rsplit("/", 1)[-1]
        out += ["", f"The whole patch for `{name}` (apply from the file's folder with `git apply`):", "", "```diff", r.patch.diff.rstrip("\n"), "```"]
    if r.patch and r.patch.conflicts:
        for cf in r.patch.conflicts:
            out.append(f"- `{cf.field}`: {cf.winner} won over {', '.join(cf.losers)}: {cf.reason}")
    if r.patch and r.patch.env:
        out += ["", "Environment for the job: " + " ".join(f"`{k}={v}`" for k, v in sorted(r.patch.env.items()))]
    out += ["", "<sub>" + " · ".join(f"{k}: {v}" for k, v in r.footer.items()) + "</sub>"]
    out += [f"<sub>note: {note}</sub>" for note in r.notes]
    return out
