"""Read an input file safely: a regular file only, within a size limit, as UTF-8 text.

Whatever sits where a table or a TOML file should be, reading it never hangs and never
takes more memory than the limit: a folder, a pipe (FIFO), a device such as ``/dev/zero``
(directly or through a link), an unreadable or over-large file is a ``FileProblem``, and so
is text that is not UTF-8 (naming the line where decoding failed). A UTF-8 byte order mark
is accepted and dropped, as spreadsheets write one.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_CHUNK = 1 << 20


class FileProblem(Exception):
    """A file that cannot be read as text; ``line`` is where decoding failed, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


class FileMissing(FileProblem):
    """There is no file at the path (and no link to one)."""

    def __init__(self) -> None:
        super().__init__("file is missing")


def read_text(path: Path, limit: int) -> str:
    """Return the text of the regular file ``path``, at most ``limit`` bytes of UTF-8.

    Raises FileProblem saying why the file cannot be read.
    """
    return decode_utf8(read_bytes(path, limit))


def read_bytes(path: Path, limit: int) -> bytes:
    """Return the bytes of the regular file ``path``; FileProblem if it is none or too large.

    The file is opened without blocking (a pipe with no writer would otherwise wait
    forever) and checked on the open descriptor, so it cannot be swapped in between.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        if path.is_symlink():
            raise FileProblem("is a link to a missing file") from None
        raise FileMissing from None
    except IsADirectoryError:
        raise FileProblem(_NOT_A_FILE["folder"]) from None
    except PermissionError:
        raise FileProblem("cannot be read: permission denied") from None
    except OSError as exc:
        raise FileProblem(f"cannot be opened: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        kind = file_kind(info.st_mode)
        if kind != "file":
            raise FileProblem(_NOT_A_FILE.get(kind, _NOT_A_FILE["other"]))
        if info.st_size > limit:
            raise FileProblem(too_large(info.st_size, limit))
        return _read_at_most(fd, limit)
    except OSError as exc:
        raise FileProblem(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


_NOT_A_FILE = {
    "folder": "is a folder, not a file",
    "pipe": "is a pipe (FIFO), not a regular file; only regular files are read",
    "device": "is a device, not a regular file; only regular files are read",
    "socket": "is a socket, not a regular file; only regular files are read",
    "other": "is not a regular file; only regular files are read",
}


def file_kind(mode: int) -> str:
    """Return ``file``, ``folder``, ``pipe``, ``device``, ``socket`` or ``other``."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


def too_large(size: int, limit: int) -> str:
    """Return the message for a file of ``size`` bytes (at least) over ``limit``."""
    return (f"is larger than {_size(limit)} ({_size(size)} or more); inputs files are far "
            "smaller: is this the right file?")


def _size(n: int) -> str:
    """Return ``n`` bytes in MB, or in bytes below a MB."""
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def _read_at_most(fd: int, limit: int) -> bytes:
    """Read the whole file, or raise FileProblem once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while chunk := os.read(fd, _CHUNK):
        total += len(chunk)
        if total > limit:
            raise FileProblem(too_large(total, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def decode_utf8(data: bytes) -> str:
    """Return ``data`` decoded as UTF-8 (a leading byte order mark dropped).

    Raises FileProblem naming the line and the byte that is not UTF-8.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileProblem(f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} cannot "
                          f"be decoded ({exc.reason}); save the file as UTF-8", line) from None
