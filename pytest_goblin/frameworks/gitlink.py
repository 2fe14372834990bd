"""The commit a git submodule is pinned at, read from the repository's own git index (never by running git).

A clone made without `--recurse-submodules` leaves a submodule's folder empty, but its commit is recorded in the
superproject: an index entry of mode 160000 (a "gitlink") whose object name is the submodule's commit. The index
format (git Documentation/gitformat-index.txt, "The Git index file has the following format"): a 12-byte header
("DIRC", version 2, 3 or 4, entry count), then per entry 40 bytes of stat data of which bytes 24-27 are the mode, a
20-byte object name (SHA-1), 2 bytes of flags (bit 0x4000: an extended flags word follows, version 3 and up; low 12
bits: the name's length), the path NUL-terminated and, before version 4, padded with NULs to a multiple of 8 bytes;
version 4 prefix-compresses each path against the previous one (a varint of bytes to drop, then the rest) with no
padding. A repository in SHA-256 mode (32-byte names) is not read.
"""

from __future__ import annotations

import struct
from pathlib import Path

from .. import repoindex, safepath

GITLINK = 0o160000
INDEX_LIMIT = 64_000_000  # bytes of .git/index read at most


def gitlinks(index: bytes) -> dict[str, str]:
    """path -> commit (40 hex) of every gitlink in an index file's bytes; {} when the bytes are not an index read here."""
    if len(index) < 12 or index[:4] != b"DIRC":
        return {}
    version, count = struct.unpack(">II", index[4:12])
    if version not in (2, 3, 4):
        return {}
    out: dict[str, str] = {}
    pos, previous = 12, b""
    for _ in range(count):
        start = pos
        if pos + 62 > len(index):
            return out
        mode = struct.unpack(">I", index[pos + 24 : pos + 28])[0]
        sha = index[pos + 40 : pos + 60].hex()
        flags = struct.unpack(">H", index[pos + 60 : pos + 62])[0]
        pos += 62
        if version >= 3 and flags & 0x4000:
            pos += 2
        if version == 4:
            drop, pos = _varint(index, pos)
            end = index.find(b"\0", pos)
            if end < 0 or drop > len(previous):
                return out
            name = previous[: len(previous) - drop] + index[pos:end]
            pos = end + 1
        else:
            end = index.find(b"\0", pos)
            if end < 0:
                return out
            name = index[pos:end]
            pos = start + ((end - start) // 8 + 1) * 8  # 1 to 8 NULs end the entry on a multiple of 8
        previous = name
        if mode == GITLINK:
            out[name.decode("utf-8", "replace")] = sha
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """git's offset varint (varint.c decode_varint): 7 bits a byte, high bit continues, +1 per continuation."""
    if pos >= len(data):
        return 0, pos
    c = data[pos]
    pos += 1
    value = c & 127
    while c & 128 and pos < len(data):
        c = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (c & 127)
    return value, pos


def submodule_commit(root: Path, path: str, roots: list[Path]) -> str | None:
    """The commit the repository at `root` records for its submodule at `path` (relative to root), or None: no `.git`
    folder there (a `.git` file, a worktree, is not followed), no index, or no gitlink at that path."""
    index = root / ".git" / "index"
    if not index.is_file():
        return None

    def read() -> dict[str, str]:
        try:
            return gitlinks(safepath.read_bytes(index, roots=roots, limit=INDEX_LIMIT))
        except (OSError, safepath.UnsafePath, struct.error):
            return {}

    links = repoindex.memo("gitlinks", (str(index), tuple(roots)), read)
    return links.get(path.strip("/"))
