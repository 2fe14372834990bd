"""Launch lines that are not the GPU run: a CPU/debug line (`CUDA_VISIBLE_DEVICES=""`, accelerate `--cpu` or a config file
with `use_cpu: true`: `launch_line.hidden_gpus`, `Launch.cpu`) and a template line whose words are placeholders
(`--model_name_or_path <PATH-TO-Qwen2-VL-2B-Instruct>`, `/path/to/model`, `YOUR_MODEL`: `modelzoo.placeholder`).
Where several lines launch the same config or script, such a line loses to a complete GPU one (`launchers._find_launch`,
`launchers._script_lines`; blind review 14a #11 trl_tool scripts/debug_grpo_tool.sh:8, 14b #23/#24 VisualThinker
run_sft.sh:4); a CPU line left alone gives no topology, and where it runs a script its arguments are read, said as a debug run's
(`launchers.find_script_launch`)."""

from __future__ import annotations

from ..modelzoo import placeholder
from .launch_line import hidden_gpus
from .launch_mode import mode_demotion
from .launcher_text import Line

CPU_RUN = "runs on the CPU"
MAX_PASSED_OVER = 8  # demoted lines passed over before the first plain one is taken (each a fresh walk)


def placeholder_words(tokens: tuple[str, ...]) -> list[str]:
    """The words of a launch line that stand for a value the user is to supply (`<OUTPUT_DIR>`, `/path/to/model`,
    `YOUR_MODEL_PATH`); a `$VAR` word is a value set at run time, not a placeholder."""
    out: list[str] = []
    for tok in tokens:
        value = tok.partition("=")[2] if tok.startswith("-") and "=" in tok else tok
        if value and "$" not in value and not value.startswith("-") and placeholder(value):
            out.append(value)
    return out


def demotion(line: Line, cpu: str = "", script: str = "") -> str:
    """Why this launch line is not the GPU run's ("runs on the CPU (...)", "passes placeholders (...)", a flag or
    subcommand word of `script` that takes another code path than its training: `launch_mode.mode_demotion`); "" for a
    plain line. `cpu`: `Launch.cpu` where the line was read into a Launch (its accelerate config's `use_cpu` too)."""
    cpu = cpu or hidden_gpus(dict(line.env))
    if cpu:
        return f"{CPU_RUN} ({cpu})"
    held = placeholder_words(line.tokens)
    if held:
        return f"passes placeholder values ({', '.join(repr(w) for w in held[:3])})"
    return mode_demotion(line.tokens, script) if script else ""


def passed_over_note(where: str, why: str, chosen: str) -> str:
    return f"{where} also launches it but {why}: {chosen}, a complete GPU launch line, is read"


def cpu_only_note(where: str, why: str) -> str:
    """A script only CPU/debug lines launch: its arguments are read from the first (the script has no others), its GPU
    count is not (`launchers._plain_over_demoted` gives no topology), and the run it describes is a debug run's."""
    return (
        f"the only launch line, {where}, {why}: a CPU/debug run; the script's arguments are read from it, as it has no other, "
        "but its GPU count is not taken, and its precision and batch are a debug run's, not necessarily the GPU run's"
    )
