"""`python -m pytest_goblin.runners.worker`: one measured benchmark in its own process, JSON in, JSON out.

A crash, an out-of-memory or a hang kills this process, never the pytest session that
started it. Input (stdin): {"workload": ..., "device": "cpu", "steps": 5, "warmup": 1,
"run_id": ..., "variant": ...}. Output (stdout): {"ok": true, "metrics": RunMetrics} or
{"ok": false, "error": "..."}.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pytest_goblin.schemas import WorkloadConfig


def run(request: dict[str, Any]) -> dict[str, Any]:
    from pytest_goblin.runners.torch_runner import measure, measure_pair

    try:
        if "pair" in request:  # before and after interleaved in this one process
            pair = request["pair"]
            before, after = measure_pair(
                WorkloadConfig.model_validate(pair["before"]),
                WorkloadConfig.model_validate(pair["after"]),
                device=request.get("device", "cpu"),
                rounds=int(request.get("rounds", 3)),
                steps=int(request.get("steps", 2)),
                warmup=int(request.get("warmup", 1)),
                run_ids=(pair["run_ids"][0], pair["run_ids"][1]),
                variants=(pair["variants"][0], pair["variants"][1]),
                target_half_width=request.get("target_half_width"),  # type: ignore[arg-type]
                max_seconds=float(request.get("max_seconds", 0.0)),
            )
            return {"ok": True, "before": before.model_dump(), "after": after.model_dump()}
        metrics = measure(
            WorkloadConfig.model_validate(request["workload"]),
            device=request.get("device", "cpu"),
            steps=int(request.get("steps", 5)),
            warmup=int(request.get("warmup", 1)),
            run_id=request["run_id"],
            variant=request["variant"],
            profile=bool(request.get("profile", False)),
        )
    except FloatingPointError as exc:
        return {"ok": False, "error": f"NaN loss: {exc}"}
    except RuntimeError as exc:
        if "out of memory" in str(exc).lower():
            return {"ok": False, "error": f"out of memory: {exc}"}
        raise
    return {"ok": True, "metrics": metrics.model_dump()}


def main() -> int:
    request = json.loads(sys.stdin.read())
    try:
        reply = run(request)
    except Exception as exc:  # reported to the parent as data, not as a traceback on stderr only
        reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(reply))
    return 0 if reply["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
