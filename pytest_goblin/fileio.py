"""Writing files so that no reader ever sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import repoindex


def write_atomic(path: str | Path, text: str | bytes, *, like: os.stat_result | None = None) -> None:
    """Write through a temporary file and a rename, so no reader sees half a file.

    The new file gets the mode and owner of `like` (the file it replaces, for --goblin-fix), else
    the mode a plain `open()` would give (0666 less the umask), never mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if like is not None:
            os.fchmod(fd, like.st_mode & 0o7777)
            try:
                os.fchown(fd, like.st_uid, like.st_gid)
            except PermissionError:  # not root: the owner stays the writer, as with any editor
                pass
        else:
            mask = os.umask(0)
            os.umask(mask)
            os.fchmod(fd, 0o666 & ~mask)
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        repoindex.forget()  # what the session kept about the tree may have named this file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
