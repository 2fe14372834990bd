"""No edit goblin offers makes the run stop: a patch's edits judged against the blockers (issue 24).

`build_patch` is the audit's way to a patch: `patching.build_patch` forms it, then the blockers
(`blockers.findings`, pins read from the repository included) are judged once on the config read back with the
patch's edits (its environment and its edits of the files the config names too), against the config read back
without edits. Only where one fires there that does not fire on the config as it is are the rules added one at a
time, in rank order; each whose addition makes a new one fire is left out (`Patch.skipped`, in the config's own
words and the blocker's), and the patch is formed again without it, so its gain is not in the projection.
patching cannot do this itself: rules imports patching, and blockers imports rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from .blockers import findings as blocker_findings
from .errors import GoblinError
from .formats import LoadedConfig, parse_text
from .patching import _KEPT, _TOPOLOGY, _order, _said, as_audited, offload_in_referenced_file
from .patching import build_patch as form_patch
from .repoindex import memo
from .rules import BLOCKED_EDIT
from .schemas import Finding, Hardware, Patch, Rule

Judge = Callable[[frozenset[str]], list[Finding] | None]

_LINE = re.compile(r" \(line \d+\)")  # the patched file's line numbers: not the config's own


def build_patch(loaded: LoadedConfig, rules: list[Rule], hw: Hardware, patch_id: str, *, other_files: bool = True) -> Patch:
    """`patching.build_patch`, less every rule whose edits would make a blocker fire that the config as it is does not
    have (its reason in `Patch.skipped`)."""
    patch = form_patch(loaded, rules, hw, patch_id, other_files=other_files)
    left: dict[str, str] = {}
    for _ in range(len(rules)):
        editing = [r.id for r in _order(rules) if r.id in patch.rule_ids]
        blocked = blocked_rules(editing, _judge(loaded, patch, rules, hw), partial(edits_said, loaded, patch))
        if not blocked:
            break
        left.update(blocked)
        rules = [r for r in rules if r.id not in blocked]
        patch = form_patch(loaded, rules, hw, patch_id, other_files=other_files)
    patch.skipped.update(left)
    return patch


def _stopping(found: list[Finding] | None) -> set[tuple[str, str | None]]:
    """The blockers (not build requirements) among `found`, by rule and key: lines move when a patch adds a key."""
    return {(f.rule_id, f.key) for f in found or [] if f.blocker}


def _why(found: list[Finding], fresh: set[tuple[str, str | None]], edits: str) -> str:
    """What the new blockers say, up to their guidance, without the patched file's line numbers, nor the edit's own
    key and value where a message opens with them (`edits` says them already)."""
    out: dict[str, None] = {}
    for f in found:
        if not f.blocker or (f.rule_id, f.key) not in fresh:
            continue
        message = _LINE.sub("", f.message.split(". What to change:", 1)[0])
        end = message.find("`", 1) if message.startswith("`") else -1
        if end > 0 and message[: end + 1] in edits:
            message = message[end + 1 :].lstrip(";: ")
        out[message] = None
    return "; ".join(out)


def blocked_rules(editing: list[str], judge: Judge, said: Callable[[str], str]) -> dict[str, str]:
    """Rule id -> why its edits are not offered: with them the run would stop at start-up on a blocker that the config
    as it is does not have. `editing`: the patch's rules that edit something, ranked; `judge(rule ids)`: the blocker
    findings with those rules' edits; `said(rule id)`: its edits in the config's own keys."""
    if not editing:
        return {}
    whole = _stopping(judge(frozenset(editing)))  # once per patch
    if not whole:
        return {}
    before = _stopping(judge(frozenset()))  # the config as it is, read back the same way: like against like
    if not whole - before:
        return {}
    out: dict[str, str] = {}
    kept: list[str] = []
    for rid in editing:  # per edit, only now that a conflict is found
        found = judge(frozenset([*kept, rid]))
        fresh = _stopping(found) - before
        if found is not None and fresh:
            edits = said(rid)
            out[rid] = f"{BLOCKED_EDIT}{edits} the run would stop at start-up: {_why(found, fresh, edits)}"
        else:
            kept.append(rid)
    return out


def _judge(loaded: LoadedConfig, patch: Patch, rules: list[Rule], hw: Hardware) -> Judge:
    """The blocker findings of the config with the edits (and environment, and edits of the files it names) of some
    of the patch's rules, read back as the patch's read-back reads it; None where it no longer reads."""
    by_id = {r.id: r for r in rules}

    def judge(ids: frozenset[str]) -> list[Finding] | None:
        fields = {e.field: e.new for e in patch.edits if e.rule_id in ids}
        env = {k: v for rid in sorted(ids) if rid in by_id for k, v in by_id[rid].transform.env.items()}
        others = [o for o in (offload_in_referenced_file(loaded, f.rule_id) for f in patch.other_files if f.rule_id in ids) if o is not None]
        text = loaded.adapter.apply(loaded.path, loaded.text, loaded.data, loaded.workload, fields)[0] if fields else loaded.text
        placed = {o.real_path: new for o, new in others}
        w0 = loaded.workload
        # a session judges one patched text once (an audit forms the same patch again: not worth patching, leave-one-out)
        key = (str(loaded.path), text, tuple(sorted(env.items())), tuple(sorted(placed.items())), hw.id, w0.model_dump_json(include=_KEPT_BY_AUDIT))
        found = memo("patch_blockers", key, lambda: _judged(loaded, text, env, placed, hw))
        return None if found is None else list(found)

    return judge


# what as_audited keeps from the audit's reading, which the blockers may read: part of a judged text's memo key
_KEPT_BY_AUDIT = {*_TOPOLOGY, *_KEPT, "token_quantiles", "mean_tokens", "pad_to_max", "env"}


def _judged(loaded: LoadedConfig, text: str, env: dict[str, str], placed: dict[str, str], hw: Hardware) -> tuple[Finding, ...] | None:
    """The blocker findings of `text` read as the audit read the config, with `placed` in place of those files."""
    from .formats.deepspeed import files_in_place

    try:
        with files_in_place(placed):
            data, adapter = parse_text(loaded.path, text)
            if adapter.name != loaded.adapter.name:
                return None
            w = as_audited(loaded.workload, adapter.parse(loaded.path, data, text), env)
            return tuple(blocker_findings(LoadedConfig(path=loaded.path, text=text, data=data, adapter=adapter, workload=w), hw))
    except GoblinError:
        return None


def edits_said(loaded: LoadedConfig, patch: Patch, rule_id: str) -> str:
    """A rule's edits in the config's own keys and values (`optim: adamw_torch_fused`; a script's `optim='adamw_torch_fused'`)."""
    out: list[str] = []
    for e in patch.edits:
        if e.rule_id != rule_id:
            continue
        writes = loaded.adapter.writes(e.field, e.new, loaded.workload, loaded.data) or {e.field: e.new}
        for key, value in writes.items():
            out.append(f"`{key}={value!r}`" if loaded.adapter.name == "python" else f"`{key}: {_said(value)}`")
    for other in patch.other_files:
        if other.rule_id == rule_id:
            out.extend(f"`{k}: {_said(v)}` in {other.path}" for k, v in other.edits.items())
    return ", ".join(dict.fromkeys(out)) or rule_id
