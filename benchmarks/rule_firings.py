"""How often each KB rule fires over folders of configs, with its premises and its rendered text on a few
configs (issue 24: which findings speak of the config's own numbers). Usage:

    python benchmarks/rule_firings.py [--top N] [--samples K] [--target mi300x] PATH...
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path


def main() -> int:
    from pytest_goblin.cli import config_files
    from pytest_goblin.errors import GoblinError
    from pytest_goblin.formats import load_config
    from pytest_goblin.hardware import get_hardware
    from pytest_goblin.rules import applicable, cached_rules, render_finding

    p = argparse.ArgumentParser()
    p.add_argument("paths", nargs="+")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--samples", type=int, default=2)
    p.add_argument("--target", default="mi300x")
    args = p.parse_args()
    hw = get_hardware(args.target)
    rules = cached_rules()
    hits: Counter[str] = Counter()
    samples: dict[str, list[tuple[str, str]]] = defaultdict(list)
    audited = 0
    for path in config_files(args.paths):
        try:
            loaded = load_config(path)
        except GoblinError:
            continue
        audited += 1
        for rule in applicable(loaded.workload, hw, rules, host={}):
            hits[rule.id] += 1
            if len(samples[rule.id]) < args.samples:
                samples[rule.id].append((str(Path(path)), render_finding(rule, loaded.workload, hw)))
    by_id = {r.id: r for r in rules}
    print(f"{audited} training configs, target {hw.id}\n")
    for rid, n in hits.most_common(args.top):
        rule = by_id[rid]
        kind = "footgun" if rule.footgun else "patch"
        print(f"## {rid} ({kind}): {n} configs")
        for pred in rule.applies_when:
            print(f"- premise: {pred.fact} {pred.op} {pred.value!r}")
        for where, text in samples[rid]:
            print(f"- {where}:\n  {text}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
