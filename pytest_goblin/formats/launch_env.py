"""The environment the launched process gets from the launcher goblin found for a config (`launchers.find_launch`):
the exports before the launch line in the same script, in order (`unset` removes one), those of a file it sources
inside the repository (read through safepath), and the line's own `NAME=value` prefix and `env NAME=value` words
(`launcher_text.Line.exported`). Each value is sourced at its file and line (`WorkloadConfig.sources["env.NAME"]`), so a
finding names where to change it. A value the shell computes (`$VAR`, `$(...)`, backticks) or an export goblin cannot
tell runs (inside an `if`, a loop, a function, after `&&`/`||`) is unknown: `FieldSource.unread`, so no rule judges
that variable (rules.applicable).

The config's own `env:` and a Python script's `os.environ[X] = v` win over the launcher's value: the launcher's
export is in the environment the process starts with, and the script's assignment runs after it. A script's
`os.environ.setdefault(X, v)` does not (pyscript.ENV_SETDEFAULT): the launcher's value stays."""

from __future__ import annotations

import os
from pathlib import Path

from ..redact import redact_env
from ..schemas import FieldSource, WorkloadConfig
from .pyscript import ENV_SETDEFAULT

# TORCH_DISTRIBUTED_DEBUG=DETAIL wraps each process group in a ProcessGroupWrapper (torch 2.13.0
# torch/distributed/distributed_c10d.py:2282-2301 `if get_debug_level() == DebugLevel.DETAIL: ...
# _create_process_group_wrapper(...)`), whose checks run before every collective; torch's docs: "DETAIL may impact the
# application performance and thus should only be used when debugging issues" (pytorch docs/source/distributed.md
# @05382727fd08, section `TORCH_DISTRIBUTED_DEBUG`). review13a #6/#7 interpolation-of-experts-torchtune.
DISTRIBUTED_DEBUG_AT = (
    "torch 2.13.0 torch/distributed/distributed_c10d.py:2282-2301; pytorch docs/source/distributed.md@05382727fd08"
    " `TORCH_DISTRIBUTED_DEBUG`: DETAIL 'may impact the application performance and thus should only be used when debugging issues'"
)
# the variables whose unknown value is said in the notes (the rest, `PATH=$PATH:...`, are only sourced as unread)
RUNTIME_PREFIXES = (
    "NCCL_",
    "RCCL_",
    "HSA_",
    "HIP_",
    "AMD_",
    "GPU_",
    "ROCR_",
    "PYTORCH_",
    "TORCH_",
    "TORCHINDUCTOR_",
    "MIOPEN_",
    "ROCBLAS_",
    "HIPBLASLT_",
    "CUDA_",
)


def _shown(file: str, launch_file: str, launch_shown: str) -> str:
    """`file` as a reader would name it, beside the launcher's own shown path."""
    if os.path.realpath(file) == os.path.realpath(launch_file):
        return launch_shown
    rel = os.path.relpath(os.path.realpath(file), os.path.dirname(os.path.realpath(launch_file)))
    return os.path.normpath(os.path.join(os.path.dirname(launch_shown), rel))


def launcher_env(w: WorkloadConfig, path: Path) -> WorkloadConfig:
    """`w` with the variables its launch line's process gets from the launcher, where the config's own do not win."""
    from .launchers import find_launch

    launch = find_launch(path)
    if launch is None or launch.commented or launch.beside or not launch.env:
        return w
    env = dict(w.env)
    sources = dict(w.sources)
    notes = list(w.notes)
    for name, value, file, line, known in launch.env:
        own = w.sources.get(f"env.{name}")
        if name in w.env and (own is None or own.note != ENV_SETDEFAULT):
            continue  # the config's env / the script's os.environ, set after the launcher's export: the process sees it
        if own is not None and own.unread:
            continue  # the script sets it under an `if` goblin cannot evaluate: unknown either way
        where = f"{_shown(file, launch.file, launch.shown)} line {line}"
        if not known:
            env.pop(name, None)
            sources[f"env.{name}"] = FieldSource(file=file, key=name, line=line, unread=True, note=f"set by the launcher at {where}")
            if name.startswith(RUNTIME_PREFIXES):  # a variable the GPU runtime or torch reads: say why no rule judges it
                notes.append(
                    f"{where} sets {name} to a value goblin cannot read (a variable, a command substitution, or under a condition"
                    f" it cannot evaluate): its value in the run is unknown, and no rule judges it"
                )
            continue
        env[name] = value
        said = f"set by the launcher at {where}"
        if name in launch.env_defaults:
            said += f", its default `${{{name}:-{value}}}`: {value} unless the caller's environment sets {name}"
        sources[f"env.{name}"] = FieldSource(file=file, key=name, line=line, explicit=True, note=said)
    debug = list(w.debug_modes)
    if env.get("TORCH_DISTRIBUTED_DEBUG") == "DETAIL" and launch.world > 1 and not w.env.get("TORCH_DISTRIBUTED_DEBUG"):
        src = sources["env.TORCH_DISTRIBUTED_DEBUG"]
        said = (src.note or "").removeprefix("set by the launcher at ")
        debug.append(
            f"TORCH_DISTRIBUTED_DEBUG=DETAIL ({said}) wraps every process group in one that runs a monitored barrier and a shape"
            f" check before each collective ({DISTRIBUTED_DEBUG_AT}); unset it or set it to OFF in the launcher"
        )
        if "debug_modes" not in sources:
            sources["debug_modes"] = FieldSource(file=src.file, key="TORCH_DISTRIBUTED_DEBUG", line=src.line, explicit=True)
    if env == w.env and sources == w.sources:
        return w
    update = {"env": redact_env(env), "sources": sources, "notes": list(dict.fromkeys(notes)), "debug_modes": debug}
    return w.model_copy(update=update)
