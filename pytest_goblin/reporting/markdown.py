"""The Markdown summary: a table, a chart of the speedups, then per config its findings (each
collapsible) and one diff a reviewer can apply, with the evidence behind the numbers.

Every string of the report is untrusted: it quotes config values and file names, and a report read
from an artifact may be forged whole. So each is escaped (`md_text`, `md_code`, `md_fence`), and the
only Markdown rendered as written is rule text taken from the installed knowledge base by rule id:
a finding's title, advice and source come from the KB, and of its message only the KB's own words
are kept as Markdown; the config's values around them are escaped (N3, N6).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import GoblinError
from ..outcome import ItemOutcome, SessionReport
from ..schemas import Blocker, Finding, Report, Rule
from .escape import md_code, md_fence, md_text, md_text_spans, md_trusted
from .text import interval_text, throughput_text, widened_lines

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
    note = [f"<sub>{undecided} inconclusive result(s) not charted</sub>"] if undecided else []
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


# a guidance's placeholder, which rules.render_finding replaces with the config's own values
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class KBEntry:
    """What the installed knowledge base says of one rule or blocker: the only text rendered as
    written. `words` are the KB's own parts of a finding's message, in order."""

    title: str
    words: tuple[str, ...]
    citation: str
    category: str
    footgun: bool

    @classmethod
    def of_rule(cls, rule: Rule) -> KBEntry:
        text = rule.guidance if rule.footgun and rule.guidance else rule.title  # as rules.render_finding writes it
        # every `{name}` of a guidance (collectives, hierarchical, lower_stage, small_batch, ...) is the config's own text
        return cls(rule.title, tuple(part for part in _PLACEHOLDER.split(text) if part), rule.citation, rule.category, rule.footgun)

    @classmethod
    def of_blocker(cls, b: Blocker) -> KBEntry:
        # blockers.findings writes the symptom, then the guidance, around the config's own values
        category = "blocker" if b.severity == "blocker" else "requirement"
        return cls(b.title, (b.symptom, b.guidance), b.citation, category, b.severity == "requirement")


def installed_rules() -> dict[str, KBEntry]:
    """The installed knowledge base by id (bundled rules, `goblin_rules` hooks, the bundled
    blockers and the online RL memory and offload findings); empty when it cannot load, so that every finding is then shown as escaped text."""
    from ..blockers import cached_blockers
    from ..rollout import (
        EVAL_CITATION,
        EVAL_ID,
        EVAL_TITLE,
        EVAL_WORDS,
        FINDING_CITATION,
        FINDING_ID,
        FINDING_TITLE,
        FINDING_WORDS,
        GENERATE_CITATION,
        GENERATE_ID,
        GENERATE_TITLE,
        GENERATE_WORDS,
        OFFLOAD_CITATION,
        OFFLOAD_ID,
        OFFLOAD_TITLE,
        OFFLOAD_WORDS,
    )
    from ..rollout_onpolicy import CHUNK_CITATION, CHUNK_ID, CHUNK_TITLE, CHUNK_WORDS
    from ..rules import OFFLOAD_BOUND_CITATION, OFFLOAD_BOUND_ID, OFFLOAD_BOUND_TITLE, OFFLOAD_BOUND_WORDS, cached_rules

    try:
        out = {r.id: KBEntry.of_rule(r) for r in cached_rules()}
        out.update({b.id: KBEntry.of_blocker(b) for b in cached_blockers()})
        out[FINDING_ID] = KBEntry(FINDING_TITLE, FINDING_WORDS, FINDING_CITATION, "memory", True)  # rollout.py's memory finding
        out[OFFLOAD_ID] = KBEntry(OFFLOAD_TITLE, OFFLOAD_WORDS, OFFLOAD_CITATION, "memory", True)  # rollout.py's online RL offload finding
        out[EVAL_ID] = KBEntry(EVAL_TITLE, EVAL_WORDS, EVAL_CITATION, "job", True)  # rollout.py's GRPO evaluation finding
        out[GENERATE_ID] = KBEntry(GENERATE_TITLE, GENERATE_WORDS, GENERATE_CITATION, "efficiency", True)  # rollout.py's generate finding
        out[CHUNK_ID] = KBEntry(CHUNK_TITLE, CHUNK_WORDS, CHUNK_CITATION, "efficiency", True)  # rollout_onpolicy.py's rollout chunk finding
        out[OFFLOAD_BOUND_ID] = KBEntry(OFFLOAD_BOUND_TITLE, OFFLOAD_BOUND_WORDS, OFFLOAD_BOUND_CITATION, "memory", True)  # rules.offload_bound's finding
    except GoblinError:
        return {}
    return out


def render(session: SessionReport, *, untrusted: bool = False, rules: Mapping[str, KBEntry] | None = None) -> str:
    """The summary. `untrusted` (a report read from an artifact, `goblin comment`): a finding whose
    rule the installed KB lacks, or whose message does not hold the KB's text, says so."""
    kb = installed_rules() if rules is None else rules
    devices = sorted({i.report.measured_on for i in session.items if i.report is not None and i.report.measured_on})
    measured = f" Measured numbers come from {md_text(', '.join(devices))}, not from {md_text(session.target)}." if devices else ""
    lines = [
        "## pytest-goblin",
        "",
        f"{len(session.items)} configs audited for **{md_text(session.target)}**: {session.counts_text()}.{measured}",
        "",
        "| config | verdict | speedup | tokens/s/GPU before → after | evidence | top rules |",
        "|---|---|---|---|---|---|",
    ]
    for item in session.items:
        r = item.report
        if r is None or r.speedup is None:
            lines.append(f"| {md_code(item.path, in_table=True)} | {_ICON[item.shown_verdict]} | n/a | n/a | n/a | {_cell(item.message[:120])} |")
            continue
        s = r.speedup
        blocked = [f.rule_id for f in r.findings if f.blocker]  # what stops the run comes before any patch
        shown = blocked or (r.patch.rule_ids if r.patch else [])
        top = ", ".join(md_code(rid, in_table=True) for rid in shown[:3]) or _unpatched(r.findings)
        h = r.hand_speedup  # the verdict rests on edits made by hand: their projection, said so
        speed = (f"{h.point:.2f}x [{h.low:.2f}-{h.high:.2f}] with hand edits" if h else f"{s.point:.2f}x [{s.low:.2f}-{s.high:.2f}]") + (
            ", not decided" if r.inconclusive else ""
        )
        speed += f", {md_text(r.straddles.split(':', 1)[0])} (interval straddles a threshold)" if r.straddles else ""
        evidence = str(r.evidence) + (f" on {r.measured_on}" if r.measured_on else "")  # the numbers' device, not the target
        lines.append(f"| {md_code(item.path, in_table=True)} | {_ICON[item.shown_verdict]} | {speed} | {_rates(r)} | {md_text(evidence)} | {top} |")
    graph = chart(session.items)
    if graph:
        lines += ["", *graph]
    for item in session.items:
        lines += _section(item, kb, untrusted) or _collapsed_findings(item, kb, untrusted)
    return "\n".join(lines) + "\n"


def _rates(r: Report) -> str:
    """The table's throughput cell: projected tokens/s per GPU with intervals, else the runs' own figures.
    Built from the reports' floats only (validated numbers), so nothing in it needs escaping. An online RL
    item's rate would be of its training step alone: its split (below the table) is shown instead."""
    if r.rollout is not None:
        return "online RL: see its split"
    if throughput_text(r):
        return " → ".join(interval_text(m) for m in (r.before, r.after) if m is not None) + " projected"
    sides = [f"{m.tokens_per_s:,.0f}" if m is not None and m.tokens_per_s is not None else "n/a" for m in (r.before, r.after)]
    return " → ".join(sides) if any(s != "n/a" for s in sides) else "n/a"


def _unpatched(findings: list[Finding]) -> str:
    """The table's rules cell when nothing was patched: how many findings the item still has."""
    return f"none; {len(findings)} finding{'s' if len(findings) != 1 else ''} below" if findings else "none"


def _kind(f: Finding, patched: list[str]) -> str:
    if f.blocker:
        return "blocker: will not start"
    if f.footgun:
        return "footgun, guidance only"
    return "patched" if f.rule_id in patched else "not patched"


def _collapsed_findings(item: ItemOutcome, kb: Mapping[str, KBEntry], untrusted: bool) -> list[str]:
    """A PASS item's findings (footguns and guidance first), one line each in one collapsed block:
    a passing config can still need a ROCm build or carry advice that was not worth patching."""
    r = item.report
    if r is None or not r.findings:
        return []
    patched = r.patch.rule_ids if r.patch else []
    out = ["", f"<details><summary><b>{md_text(item.path)}</b>: {item.shown_verdict}, {len(r.findings)} finding(s) to read</summary>", ""]
    for f in sorted(r.findings, key=lambda f: not f.footgun):
        where = f"{md_text(f.file) + ' ' if f.file else ''}line {f.line}" if f.line else "not set in the file"
        title = _finding(f, kb.get(f.rule_id), untrusted)[0]
        out.append(f"- <b>{md_text(f.rule_id)}</b> ({where}, {_kind(f, patched)}): {title}")
    return [*out, "", "</details>"]


def _message(f: Finding, rule: KBEntry, partial: bool = False) -> str | None:
    """The message with the KB's words as Markdown and everything between them (config values,
    line numbers, estimates) escaped; None when the KB's words are not all in it. `partial`: a report
    goblin wrote this session whose message says some KB words in the run's terms (a citation moved to
    `file:line@version` by frameworks.history.in_run_terms): the words found are Markdown, the rest of the
    message escaped text, said once (review14a #12 showed the blocker's KB text, then the whole message again)."""
    out: list[str] = []
    at = 0
    for words in rule.words:
        found = f.message.find(words, at)
        if found < 0:
            if partial:
                continue
            return None
        out += [md_text_spans(f.message[at:found]), md_trusted(words)]
        at = found + len(words)
    out.append(md_text_spans(f.message[at:]))
    return "".join(out)


def _finding(f: Finding, rule: KBEntry | None, untrusted: bool) -> tuple[str, str, str]:
    """(title, message, source line) of one finding, as Markdown."""
    if rule is None:
        if untrusted:  # a team rule, or a forged one: only its id (escaped) is shown
            return "<sub>(not a rule of the installed knowledge base)</sub>", "<sub>The report's text for this rule is not shown.</sub>", ""
        return md_text(f.title), md_text(f.message), f"Source: {md_text(f.citation)}"
    message = _message(f, rule)
    if message is None and untrusted:
        message = md_trusted(" ".join(rule.words)) + " <sub>(the report's text for this finding is not the installed knowledge base's; not shown)</sub>"
    elif message is None:
        message = _message(f, rule, partial=True) or md_text(f.message)
    return md_trusted(rule.title), message, f"Source: {md_trusted(rule.citation)}"


def _section(item: ItemOutcome, kb: Mapping[str, KBEntry], untrusted: bool) -> list[str]:
    r = item.report
    if r is None or item.verdict == "pass" or not (r.findings or r.inconclusive):
        return []
    if r.inconclusive:
        s = r.speedup
        measured = f"{s.point:.2f}x [{s.low:.2f}-{s.high:.2f}]" if s else "n/a"
        head = [
            f"**Inconclusive**: the {'projection' if r.evidence == 'projected' else 'measurement'} ({measured}) did not decide between pass and fail, "
            "so this config neither passes nor fails.",
            "",
            f"Why, and what to change: {md_text(r.inconclusive)}",
        ]
    else:
        head = [md_text(r.reason)]
    out = ["", f"### {md_code(item.path)}: {item.shown_verdict}", "", *head, "", *_rollout_table(r)]
    for f in r.findings:
        where = f"{md_text(f.file) + ' ' if f.file else ''}line {f.line}" if f.line else "not set in the file"
        kind = _kind(f, r.patch.rule_ids if r.patch else [])
        own = r.patch.rule_diffs.get(f.rule_id) if r.patch else None
        title, message, source = _finding(f, kb.get(f.rule_id), untrusted)
        out += [
            f"<details><summary><b>{md_text(f.rule_id)}</b> ({where}, {kind}): {title}</summary>",
            "",
            message,
            "",
            *([source, ""] if source else []),
            *(["This edit alone:", "", *md_fence(own.rstrip("\n"), "diff"), ""] if own else []),
            "</details>",
        ]
    if r.patch and r.patch.diff:
        name = item.path.rsplit("/", 1)[-1]
        what = "The patch that was measured (undecided: measure again before applying it)" if r.inconclusive else "The whole patch"
        out += ["", f"{what} for {md_code(name)} (apply from the file's folder with `git apply`):", "", *md_fence(r.patch.diff.rstrip("\n"), "diff")]
    for other in r.patch.other_files if r.patch else []:
        where = "the repository root" if other.from_root else "the config's folder"
        out += [
            "",
            f"And in {md_code(other.path)}, the file the config names (apply from {where} with `git apply`):",
            "",
            *md_fence(other.diff.rstrip("\n"), "diff"),
        ]
        if other.note:
            out += ["", md_text(other.note)]
    if r.patch and r.patch.conflicts:
        for cf in r.patch.conflicts:
            out.append(f"- {md_code(cf.field)}: {md_text(cf.winner)} won over {md_text(', '.join(cf.losers))}: {md_text(cf.reason)}")
    if r.patch and r.patch.env:
        out += ["", "Environment for the job: " + " ".join(md_code(f"{k}={v}") for k, v in sorted(r.patch.env.items()))]
    out += ["", "<sub>" + " · ".join(f"{md_text(str(k))}: {md_text(str(v))}" for k, v in r.footer.items()) + "</sub>"]
    out += [f"<sub>note: {md_text(note)}</sub>" for note in r.notes]
    out += [f"<sub>{md_text(line.strip())}</sub>" for line in widened_lines(r)]
    return out


def _rollout_table(r: Report) -> list[str]:
    """An online RL item's projected split (schemas.RolloutSplit) as a table; built from the report's
    numbers, its free text escaped."""
    s = r.rollout
    if s is None:
        return []

    def ms(v: float | None) -> str:
        return "not projected" if v is None else f"{v:,.0f}"

    mem = f"training state {s.training_memory_gb:.1f} GB"
    if s.vllm_reserved_gb is not None:
        mem += f" + colocated vLLM {s.vllm_reserved_gb:.1f} GB = {s.training_memory_gb + s.vllm_reserved_gb:.1f} GB"
    return [
        f"Online RL step ({md_text(s.method)}, {md_text(s.trainer)}), projected per GPU and optimizer step: "
        f"{s.completions_per_step:g} completions of {s.prompt_tokens} prompt + {s.completion_tokens} completion tokens, "
        f"generation on {md_text(s.generation_on)}.",
        "",
        "| generation ms | reference ms | log-prob forward ms | training ms | total ms | memory |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {ms(s.generation_ms)} | {ms(s.reference_ms)} | {ms(s.logprob_ms)} | {ms(s.training_ms)} | {ms(s.total_ms)} | {mem} of {s.hbm_phrase or f'{s.hbm_gb:.0f} GB'} |",
        "",
        *(f"- not modelled: {md_text(n)}" for n in s.not_modelled),
        "",
    ]


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
