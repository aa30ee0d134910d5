"""Read input files without ever blocking, and decode them by their byte-order mark.

Only regular files are read. A FIFO named ``main.tf`` or ``stack.yaml`` would block an
``open`` until someone writes to it, a device may never end, and a socket cannot be opened
at all: each raises ``NotRegularFile`` (an ``OSError``, so existing handlers catch it) with
what the path is. The check is made before opening (``stat``) and again on the open handle
(``fstat``), and the open itself is non-blocking, so a file swapped for a FIFO in between
cannot hang the scan either.

Text is UTF-8 (with or without a BOM), or UTF-16/UTF-32 when a BOM says so: editors on
Windows and PowerShell's ``>`` write UTF-16 with a BOM, and such a file must be read or
named in a diagnostic, never skipped as "not a template". Without a BOM, UTF-16/UTF-32 is
recognized by where the zero bytes of its first (ASCII) characters fall, as JSON readers do.
"""

from __future__ import annotations

import codecs
import os
import stat
from typing import Iterable, Optional

# Larger inputs are named in a diagnostic, not read: templates, Terraform files, plans, and the
# files a template reads (file(), an S3 object's source, a nested stack's template).
MAX_FILE_BYTES = 10 * 1024 * 1024
TERRAFORM_SUFFIXES = (".tf", ".tf.json")


def is_terraform_file(name: str) -> bool:
    """A Terraform configuration file by its name (``.tf`` or ``.tf.json``); var files are not."""
    return name.endswith(TERRAFORM_SUFFIXES)


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_BINARY = getattr(os, "O_BINARY", 0)

# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


class NotRegularFile(OSError):
    """The path is a FIFO, socket, device or directory: it is not read."""

    def __init__(self, path: str, kind: str):
        super().__init__(f"not a regular file ({kind})")
        self.strerror = f"not a regular file ({kind})"
        self.filename = path
        self.kind = kind


class DecodeError(ValueError):
    """Bytes that are not text in the encoding the file declares (or UTF-8); 1-based position."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def kind_of(mode: int) -> Optional[str]:
    """What a ``stat`` mode describes, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISDIR(mode):
        return "directory"
    return "special file"


def special_kind(path: str) -> Optional[str]:
    """What ``path`` is when it exists and is not a regular file (symlinks followed), else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return kind_of(mode)


def read_bytes(path: str, limit: Optional[int] = None) -> bytes:
    """The bytes of a regular file (at most ``limit``); ``NotRegularFile``/``OSError`` otherwise."""
    kind = kind_of(os.stat(path).st_mode)
    if kind is not None:
        raise NotRegularFile(path, kind)
    descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY | _BINARY)
    try:
        kind = kind_of(os.fstat(descriptor).st_mode)  # replaced after the stat above?
        if kind is not None:
            raise NotRegularFile(path, kind)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return handle.read() if limit is None else handle.read(limit)
    finally:
        os.close(descriptor)


def bom_encoding(raw: bytes) -> tuple[Optional[str], str, int]:
    """(codec, name for messages, BOM length) of a BOM at the start of ``raw``, or of the zero
    bytes of UTF-16/UTF-32 text without one (length 0); (None, "", 0) for UTF-8."""
    for mark, codec, name in BOMS:
        if raw.startswith(mark):
            return codec, name, len(mark)
    if len(raw) >= 4 and 0 in raw[:4]:
        a, b, c, d = raw[:4]
        if a and not (b or c or d):
            return "utf-32-le", "UTF-32", 0
        if d and not (a or b or c):
            return "utf-32-be", "UTF-32", 0
        if a and c and not (b or d):
            return "utf-16-le", "UTF-16", 0
        if b and d and not (a or c):
            return "utf-16-be", "UTF-16", 0
    return None, "", 0


def decode(raw: bytes) -> str:
    """UTF-8 (BOM optional), or UTF-16/UTF-32 with a BOM; ``DecodeError`` at the first bad character."""
    codec, name, skip = bom_encoding(raw)
    body = raw[skip:]
    try:
        return body.decode(codec or "utf-8")
    except UnicodeDecodeError as error:
        if codec is None or codec == "utf-8":
            start = error.start
            line_start = body.rfind(b"\n", 0, start) + 1
            raise DecodeError(
                f"not UTF-8 text: byte 0x{body[start]:02x} cannot be decoded ({error.reason})",
                body.count(b"\n", 0, start) + 1,
                start - line_start + 1,
            ) from None
        good = body[: error.start].decode(codec, errors="ignore")
        line = good.count("\n") + 1
        how = f"the file starts with a {name} byte-order mark" if skip else f"read as {name} from its zero bytes"
        raise DecodeError(
            f"not valid {name} text ({how}): {error.reason}",
            line,
            len(good) - (good.rfind("\n") + 1) + 1,
        ) from None


def decode_head(raw: bytes) -> bytes:
    """The first bytes of a file as UTF-8, for sniffing what it is (a cut character is dropped)."""
    codec, _, skip = bom_encoding(raw)
    if codec is None or codec == "utf-8":
        return raw[skip:]
    return raw[skip:].decode(codec, errors="ignore").encode("utf-8", errors="ignore")


def inside(real_path: str, directories: Iterable[str]) -> bool:
    """Whether ``real_path`` (resolved: symlinks followed) is one of ``directories`` (resolved
    too) or under one: the confinement test of everything kds-iac reads or writes by a path a
    template or a fix names."""
    for directory in directories:
        if real_path == directory or real_path.startswith(directory.rstrip(os.sep) + os.sep):
            return True
    return False
