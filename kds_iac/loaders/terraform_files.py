"""Terraform's file functions, confined to the scanned tree, and the module's source files.

tfparse evaluates ``file()``, ``templatefile()`` and the other file functions wherever a path
points, ``../..`` included. The loader checks each call first (``file_reading_calls``) and
withholds what a call outside the allowed directories read (``kds_iac.files.inside``); a file it does read
itself is read within the size limit (``read_limited``). ``FileCache`` holds a module
evaluation's ``.tf`` files, read once, and the directories where file functions may read.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable, Optional

from kds_iac.files import MAX_FILE_BYTES
from kds_iac.loaders.hcl_syntax import SourceFile, mask
from kds_iac.model import Unknown

MAX_READ_BYTES = MAX_FILE_BYTES  # the limit for templates, for the files they read


class FileCache:
    """Files of one module evaluation, read once, keyed by tfparse's filename.

    ``roots`` are the directories the user named (for a file named alone, its directory):
    with the module's own directory, where file functions may read (see ``Evaluation``).
    """

    def __init__(self, directory: str, roots: Iterable[str] = ()):
        self.directory = directory
        self.roots: tuple[str, ...] = ()
        self.allow([directory, *roots])
        self._files: dict[str, Optional[SourceFile]] = {}
        self._paths: dict[str, str] = {}

    def allow(self, roots: Iterable[str]) -> None:
        """Add scanned paths to ``roots`` (a file stands for its directory)."""
        paths = [str(p) if os.path.isdir(str(p)) else os.path.dirname(str(p)) for p in roots]
        self.roots = real_directories([*self.roots, *paths])

    def path_of(self, filename: str) -> str:
        path = self._paths.get(filename)
        if path is None:
            path = self._paths[filename] = os.path.normpath(os.path.join(self.directory, filename))
        return path

    def get(self, filename: str) -> Optional[SourceFile]:
        if filename not in self._files:
            path = self.path_of(filename)
            try:
                with open(path, "rb") as handle:
                    self._files[filename] = SourceFile(path, handle.read())
            except OSError:
                self._files[filename] = None
        return self._files[filename]

    def release(self) -> None:
        """The evaluation is over: each file's parsed bodies are dropped (``SourceFile.release``)."""
        for source in self._files.values():
            if source is not None:
                source.release()


# Terraform's functions that read the file system (a path's content, digest, existence or listing)
FILE_READING_FUNCTIONS = frozenset(
    {
        "file",
        "fileexists",
        "fileset",
        "filebase64",
        "filebase64sha256",
        "filebase64sha512",
        "filemd5",
        "filesha1",
        "filesha256",
        "filesha512",
        "templatefile",
    }
)
_FILE_READING_CALL = re.compile(
    r"(?<![\w.-])(templatefile|file(?:exists|set|base64sha256|base64sha512|base64|md5|sha1|sha256|sha512)?)[ \t]*\("
)
WITHHELD = "comes from a file outside the scanned tree, or at a path known only from other values, which is not read"


def real_directories(paths: Iterable[str]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for path in paths:
        out.setdefault(os.path.realpath(path or "."), None)
    return tuple(out)


def file_reading_calls(masked: str) -> Iterable[tuple[int, int, str]]:
    """(offset of the name, offset after ``(``, function) of each file-reading call in masked text."""
    for match in _FILE_READING_CALL.finditer(masked):
        yield match.start(), match.end(), match.group(1)


def without_file_calls(text: str) -> str:
    """HCL text whose file-reading calls name no function (``file(`` -> ``____(``): an unknown
    function evaluates to null. For var files, which Terraform does not let call functions,
    before tfparse evaluates them for us."""
    masked = mask(text)
    if "file" not in masked:
        return text
    out = list(text)
    for start, _, function in file_reading_calls(masked):
        out[start : start + len(function)] = "_" * len(function)
    return "".join(out)


def read_limited(path: str, function: str, shown: str) -> Any:
    """The bytes of a file a template function reads, or ``Unknown`` when it cannot be read
    or is over the size limit."""
    try:
        with open(path, "rb") as handle:
            content = handle.read(MAX_READ_BYTES + 1)
    except OSError:
        return Unknown(f"{function}(): {shown} cannot be read")
    if len(content) > MAX_READ_BYTES:
        return Unknown(f"{function}(): {shown} is too large")
    return content
