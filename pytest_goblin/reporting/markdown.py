"""The Markdown summary: a table of configs, then a section per finding with its diff."""

from __future__ import annotations

from ..outcome import SessionReport

_ICON = {"fail": "❌ fail", "warn": "⚠️ warn", "pass": "✅ pass", "error": "💥 error"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


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
    for item in session.items:
        r = item.report
        if r is None or item.verdict == "pass" or not r.findings:
            continue
        lines += ["", f"### `{item.path}`: {item.verdict}", "", r.reason, ""]
        for f in r.findings:
            where = f"line {f.line}" if f.line else "not set in the file"
            kind = " (footgun: guidance only)" if f.footgun else ""
            lines.append(f"- **{f.rule_id}** ({where}){kind}: {f.title}. {f.message} [source]({f.citation})")
        if r.patch and r.patch.diff:
            lines += ["", "<details><summary>patch</summary>", "", "```diff", r.patch.diff.rstrip(), "```", "", "</details>"]
        if r.patch and r.patch.env:
            lines += ["", "Environment: " + " ".join(f"`{k}={v}`" for k, v in sorted(r.patch.env.items()))]
        lines += ["", "<sub>" + " · ".join(f"{k}: {v}" for k, v in r.footer.items()) + "</sub>"]
        for note in r.notes:
            lines.append(f"<sub>note: {note}</sub>")
    return "\n".join(lines) + "\n"
