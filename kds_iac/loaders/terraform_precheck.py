"""What must be refused before tfparse sees a Terraform module: inputs known to crash or run away.

tfparse (Go) aborts on some inputs and spins on others; the worker process contains that, but
each costs a crash and a restart, or the whole time limit, and says nothing of where the
problem is. These checks read the text (linear scans of the masked source) and name file and
line:

- brackets nested deeper than ``MAX_NESTING`` (Go overflows its stack at ~80k levels; far
  less already makes tfparse's JSON too deep for Python);
- a variable ``type`` that is not a type constraint (``strin``, ``"strin"``, ``5``,
  ``foo(1)``, ``list(optional(string))``: tfparse panics on them; Terraform 0.11's quoted
  ``"string"`` or ``"map"`` is read as the type inside, by tfparse as well);
- module calls that form a cycle through local ``source`` paths (tfparse expands them until
  memory runs out).

The modules are walked from the root module through local ``source`` paths, so a child
module's files are checked as well; the root's var files get the nesting check.
"""

from __future__ import annotations

import json
import os
import re
from typing import Iterator, Optional, Sequence

from kds_iac.loaders.discovery import MAX_FILE_BYTES, is_terraform_file
from kds_iac.loaders.hcl_syntax import FILL, SourceFile, mask
from kds_iac.loaders.terraform_files import FileCache
from kds_iac.model import DiagnosticCode

MAX_NESTING = 200  # deeper brackets than this make tfparse's JSON too deep for Python

_BRACKET = re.compile(r"[\[\](){}]")
_TOKEN = re.compile(r'\s*([A-Za-z_][\w-]*|"\x01*"|[^\s])', re.S)
_LOCAL = ("./", "../", ".\\", "..\\")
_PRIMITIVES = ("string", "number", "bool", "any")


class Problem:
    """One refusal: where, and the sentence (without the "module not checked" tail)."""

    __slots__ = ("file", "line", "message", "code")

    def __init__(self, file: str, line: int, message: str, code: str = DiagnosticCode.INVALID):
        self.file, self.line, self.message, self.code = file, line, message, code


def check_module(directory: str, files: FileCache, var_files: Sequence[tuple[str, str]] = ()) -> list[Problem]:
    """Problems of the root module in ``directory`` and of the local modules it calls.

    ``files`` is the loader's cache (names relative to ``directory``); ``var_files`` are
    (path as shown, path relative to ``directory``).
    """
    problems: list[Problem] = []
    for shown, relative in var_files:
        source = _read(files, relative)
        if source is not None:
            depth = too_deep(source)
            if depth:
                problems.append(Problem(shown, depth, _NESTED, DiagnosticCode.SIZE))
    problems.extend(_Walk(directory, files).run())
    return sorted(problems, key=lambda p: (p.file, p.line))


_NESTED = f"expressions are nested more than {MAX_NESTING} levels deep"


def too_deep(source: SourceFile) -> int:
    """The line where brackets first go deeper than ``MAX_NESTING`` (0: they never do)."""
    masked = source.masked
    if _deepest(masked) <= MAX_NESTING:  # nearly every file: the depth without a Python loop
        return 0
    depth = 0
    for match in _BRACKET.finditer(masked):
        if match.group(0) in "[({":
            depth += 1
            if depth > MAX_NESTING:
                return source.line_of(match.start())
        else:
            depth -= 1
    return 0


# bytes.translate keeps only the bracket bytes (UTF-8 puts no ASCII byte inside another
# character) and turns each into its step plus one: opening 2, closing 0
_STEPS = bytes.maketrans(b"[({])}", b"\x02\x02\x02\x00\x00\x00")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[({])}")


def _deepest(masked: str) -> int:
    """How deep brackets go, counted by C code (the brackets picked out by ``bytes.translate``,
    summed by ``accumulate``) rather than a Python loop over each: the same running sum as
    ``too_deep``'s loop. A depth can be no more than the number of openings."""
    from itertools import accumulate, repeat
    from operator import sub

    steps = masked.encode("utf-8", "surrogatepass").translate(_STEPS, _NOT_BRACKETS)
    if steps.count(2) <= MAX_NESTING:
        return 0
    return max(accumulate(map(sub, steps, repeat(1))))


def _read(files: FileCache, relative: str) -> Optional[SourceFile]:
    try:
        if os.path.getsize(files.path_of(relative)) > MAX_FILE_BYTES:
            return None  # the loader reports sizes of its own files; tfparse refuses the others
    except OSError:
        return None
    return files.get(relative)


class _Walk:
    """Depth-first over the module directories that local ``source`` paths reach."""

    def __init__(self, directory: str, files: FileCache):
        self.root = os.path.normpath(directory)
        self.files = files
        self.problems: list[Problem] = []

    def run(self) -> list[Problem]:
        done: set[str] = set()
        # each frame: (directory, its module calls not yet followed, address of the module)
        path: list[str] = [self.root]
        stack = [(self.root, iter(self._calls(self.root)), "")]
        while stack:
            directory, calls, address = stack[-1]
            call = next(calls, None)
            if call is None:
                stack.pop()
                path.pop()
                done.add(directory)
                continue
            file, line, name, source = call
            target = os.path.normpath(os.path.join(directory, source))
            called = f"{address}.module.{name}" if address else f"module.{name}"
            if target in path:
                chain = path[path.index(target) :] + [target]
                shown = [self._shown(d) for d in chain]
                self.problems.append(
                    Problem(
                        file,
                        line,
                        f"Module cycle: {shown[0]} calls {', which calls '.join(shown[1:])} "
                        f'({called}, source "{source}")',
                    )
                )
                continue
            if target in done or not os.path.isdir(target):
                continue  # already checked through another call; a missing one is reported later
            path.append(target)
            stack.append((target, iter(self._calls(target)), called))
        return self.problems

    def _shown(self, directory: str) -> str:
        relative = os.path.relpath(directory, self.root).replace(os.sep, "/")
        return "." if relative == "." else relative if relative.startswith("../") else f"./{relative}"

    def _calls(self, directory: str) -> list[tuple[str, int, str, str]]:
        """Checks the files of one module; returns its calls with a local source: (file,
        line, name, source). A file too deeply nested is not read any further."""
        try:
            names = sorted(n for n in os.listdir(directory) if is_terraform_file(n))
        except OSError:
            return []
        calls: list[tuple[str, int, str, str]] = []
        for name in names:
            relative = os.path.relpath(os.path.join(directory, name), self.root)
            if not os.path.isfile(self.files.path_of(relative)):
                continue
            source = _read(self.files, relative)
            if source is None:
                continue
            depth = too_deep(source)
            if depth:
                self.problems.append(Problem(source.path, depth, _NESTED, DiagnosticCode.SIZE))
                continue
            found = _json_blocks(source) if source.is_json else _hcl_blocks(source)
            for kind, label, line, value in found:
                if kind == "variable":
                    problem = _type_problem(*value)
                    if problem:
                        self.problems.append(Problem(source.path, line, f'variable "{label}": {problem}'))
                elif isinstance(value, str) and (value.startswith(_LOCAL) or value in (".", "..")):
                    calls.append((source.path, line, label, value))
        return calls


# --------------------------------------------------------------------------- reading blocks

# (kind, label, line, value): for a variable, its type as (masked HCL text, text), a value
# from JSON that is no string as (value, None); for a module call, its plain string source


def _hcl_blocks(source: SourceFile) -> Iterator[tuple[str, str, int, object]]:
    # the file's depth-0 blocks, indented or not (a scan anchored at the line start missed an
    # indented `variable` whose bad type then crashed tfparse)
    for block in source.top_level().items:
        if block.kind != "block" or block.name not in ("module", "variable") or len(block.labels) != 1:
            continue
        label = block.labels[0]
        body = source.body_of(block)
        item = body.attribute("type" if block.name == "variable" else "source")
        if item is None:
            continue
        if block.name == "variable":
            yield "variable", label, source.line_of(item.offset), (source.expression(item), source.source_text(item))
            continue
        text = _inside_quotes(source.expression(item), source.source_text(item))
        if text is not None and "\\" not in text:
            yield "module", label, source.line_of(block.offset), text


def _json_blocks(source: SourceFile) -> Iterator[tuple[str, str, int, object]]:
    try:
        document = json.loads(source.text)
    except (ValueError, RecursionError):
        return  # tfparse reports the syntax
    if not isinstance(document, dict):
        return
    for kind, key in (("variable", "type"), ("module", "source")):
        blocks = document.get(kind)
        if not isinstance(blocks, dict):
            continue
        at = source.text.find(f'"{kind}"')
        for label, body in blocks.items():
            if not isinstance(body, dict) or key not in body:
                continue
            found = source.text.find(json.dumps(label), max(at, 0))
            at = found if found >= 0 else at
            line = source.line_of(max(at, 0))
            value = body[key]
            if kind == "variable":
                yield kind, label, line, (mask(value), value) if isinstance(value, str) else (value, None)
            elif isinstance(value, str):
                yield kind, label, line, value


# --------------------------------------------------------------------------- type constraints


def _type_problem(expression: object, text: Optional[str]) -> str:
    """Why a variable's ``type`` (masked ``expression``, source ``text``) is not a type
    constraint ("" when it is one)."""
    if not isinstance(expression, str) or text is None:
        return f"type = {json.dumps(expression)} is not a type constraint" + _KINDS
    tokens = [m.group(1) for m in _TOKEN.finditer(expression)]
    inner = _inside_quotes(expression, text)
    if inner is not None and "\\" not in inner and not _type_problem(mask(inner), inner):
        return ""  # Terraform 0.11's quoted types ("string", "map"): tfparse reads the text inside
    parser = _TypeParser(tokens)
    if parser.type_() and parser.at_end():
        return ""
    shown = " ".join(text[: len(expression.rstrip())].split())  # without a comment after it
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"type = {shown} is not a type constraint" + _KINDS


def _inside_quotes(masked: str, text: str) -> Optional[str]:
    """The text of an expression that is one plain string (no interpolation), else None;
    ``masked`` and ``text`` have the same offsets, comments are spaces in ``masked``."""
    start, end = masked.find('"'), masked.rfind('"')
    if start < 0 or end <= start or masked[:start].strip() or masked[end + 1 :].strip():
        return None
    if masked[start + 1 : end].strip(FILL):
        return None
    return text[start + 1 : end]


_KINDS = " (string, number, bool, any, list(T), set(T), map(T), object({...}), tuple([...]))"


class _TypeParser:
    """Terraform's type constraint grammar over masked tokens; ``optional`` only as the type
    of an object attribute. Every method returns whether what it read was well formed."""

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self, expected: str) -> bool:
        if self.peek() == expected:
            self.at += 1
            return True
        return False

    def at_end(self) -> bool:
        return self.at >= len(self.tokens)

    def type_(self) -> bool:
        word = self.peek()
        self.at += 1
        if word in _PRIMITIVES:
            return True
        if word in ("list", "set", "map"):
            if self.peek() != "(":
                return word != "set"  # bare `list` and `map` are the old spelling of list(any), map(any)
            self.at += 1
            return self.type_() and self.close(")")
        if word == "object":
            return self.take("(") and self.take("{") and self.attributes() and self.close(")")
        if word == "tuple":
            if not (self.take("(") and self.take("[")):
                return False
            while not self.take("]"):
                if not self.type_():
                    return False
                if not self.take(",") and self.peek() != "]":
                    return False
            return self.close(")")
        return False

    def attributes(self) -> bool:
        while not self.take("}"):
            name = self.peek()
            if not re.fullmatch(r"[A-Za-z_][\w-]*", name):
                return False
            self.at += 1
            if not (self.take("=") or self.take(":")):
                return False
            if self.take("optional"):
                if not (self.take("(") and self.type_()):
                    return False
                if self.take(",") and self.peek() != ")" and not self.skip_expression():
                    return False
                if not self.close(")"):
                    return False
            elif not self.type_():
                return False
            self.take(",")
        return True

    def close(self, bracket: str) -> bool:
        """A closing bracket, after an optional trailing comma."""
        self.take(",")
        return self.take(bracket)

    def skip_expression(self) -> bool:
        """An attribute's default: any expression up to the ``,`` or ``)`` that ends it."""
        depth = 0
        while not self.at_end():
            token = self.peek()
            if depth == 0 and token in (",", ")"):
                return True
            if token in ("(", "[", "{"):
                depth += 1
            elif token in (")", "]", "}"):
                depth -= 1
            self.at += 1
        return False
