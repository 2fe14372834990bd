"""The DeepSpeed JSON the script whose launch line names a config writes above that line (formats/heredoc.py reads
the text; this finds the line through launchers, which the DeepSpeed reader cannot import: formats/__init__ registers
it into deepspeed.WRITTEN_BY_LAUNCHER)."""

from __future__ import annotations

from pathlib import Path

from .heredoc import Written


def written_before_launch(config_path: Path, ref: str) -> Written | None:
    """What the script whose launch line names the config writes to `ref` above that line; None when
    no launcher names the config or it writes no such file."""
    from ..safepath import read_text, tree_of
    from .heredoc import SHELL_SUFFIXES, written_in
    from .launchers import find_launch

    if Path(ref).is_absolute() or any(c in ref for c in "$`*?"):
        return None
    launch = find_launch(config_path)
    if launch is None or launch.place or launch.commented or not launch.file or Path(launch.file).suffix.lower() not in SHELL_SUFFIXES:
        return None
    try:
        text = read_text(Path(launch.file), roots=tree_of(config_path), limit=1_000_000)
    except Exception:
        return None
    got = written_in(text.splitlines(), ref, launch.line)
    if got is None:
        return None
    body, at, first, words, conditional = got
    return Written(text=body, file=launch.file, shown=launch.shown, line=at, first=first, launch_line=launch.line, unexpanded=words, conditional=conditional)
