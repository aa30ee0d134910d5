"""The fuzz loop: build a case from a seed, scan it in the worker, judge it, keep reproducers.

The oracle: the scan returns (no exception), within ``CASE_SECONDS``, without killing its
process, without using more than ``MAX_RSS_BYTES``, and without a diagnostic that is really a
caught bug (a loader's catch-all turned a Python exception such as ``TypeError`` into
"cannot load template: TypeError: ..."). Each case is rebuilt from ``(seed, loader,
iteration)`` alone, so a reproducer can always be regenerated.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Collection, Optional

from tests.fuzz import mutators
from tests.fuzz.corpus import REPO, WHOLE_SCAN, Seed, seeds_for

CASE_SECONDS = 10.0
STARTUP_SECONDS = 120.0
MAX_RSS_BYTES = 3 * 1024**3
RESTART_EVERY = 400  # cases per worker: abandoned evaluator threads and caches do not pile up
KEEP_PER_SIGNATURE = 3
DEFAULT_FINDINGS = REPO / "fuzz-findings"

# Exception names that mean a bug in our code, not a fault in the input, when a loader's
# catch-all puts them in a diagnostic ("cannot load template: KeyError: 'x'").
BUG_TYPES = (
    "TypeError", "AttributeError", "KeyError", "IndexError", "ValueError", "UnboundLocalError", "NameError",
    "AssertionError", "RecursionError", "ZeroDivisionError", "OverflowError", "NotImplementedError",
    "UnicodeDecodeError", "UnicodeEncodeError", "MemoryError", "StopIteration", "SystemError",
)
_BUG_IN_MESSAGE = re.compile(r"(?:^|[(:]\s*)(%s):" % "|".join(BUG_TYPES))


class Outcome:
    """What one scan did. ``kind`` is "ok" or the symptom of a failure."""

    def __init__(self, kind: str, detail: str = "", reply: Optional[dict] = None, exit_status: Optional[int] = None):
        self.kind = kind  # ok | exception | internal-error | crash | timeout | memory | worker-start
        self.detail = detail  # traceback, or the tail of the worker's stderr
        self.reply = reply or {}
        self.exit_status = exit_status

    @property
    def failed(self) -> bool:
        return self.kind != "ok"

    def signature(self) -> str:
        """Groups failures of one cause: the symptom and where it comes from."""
        return f"{self.kind}: {describe(self)}"


def _where(text: str) -> str:
    """The innermost frame of our own code in a Python traceback, or the first Go panic line."""
    frames = re.findall(r'File "([^"]+)", line \d+, in (\S+)', text)
    ours = [(f, fn) for f, fn in frames if "/kds_iac/" in f or "/tests/fuzz/" in f]
    last_exception = ""
    lines = [line for line in text.strip().splitlines() if line and not line.startswith(" ")]
    if lines:
        last_exception = lines[-1].split(":", 1)[0][:80]
    if ours:
        file, function = ours[-1]
        return f"{last_exception} in {file.split('/kds_iac/')[-1] if '/kds_iac/' in file else file}:{function}"
    go = re.search(r"^(panic: .*|fatal error: .*|runtime: .*)$", text, re.M)
    if go:
        stack = re.search(r"goroutine \d+ \[running[^\]]*\]:\n((?:.*\n){0,80})", text)
        lines = [line.split(" ")[0] for line in stack.group(1).splitlines() if line and line[0] not in " \t"] if stack else []
        functions = [re.sub(r"\([^()]*\)?$", "", line) for line in lines]
        functions = [f for f in functions if not f.startswith(("runtime.", "panic"))]
        vendor = [f for f in functions if "trivy" in f or "tfparse" in f]
        where = "".join(f" at {f}" for f in dict.fromkeys(functions[:1] + vendor[:1]))
        return re.sub(r"0x[0-9a-f]+|\d{3,}", "N", go.group(1))[:160] + where
    return last_exception or "no traceback"


def describe(outcome: Outcome) -> str:
    if outcome.kind == "crash":
        status = outcome.exit_status
        how = f"signal {-status} ({signal.Signals(-status).name})" if status and status < 0 else f"exit {status}"
        return f"{how}; {_where(outcome.detail)}"
    if outcome.kind == "internal-error":
        traceback_part, _, summary = outcome.detail.rpartition(_SUMMARY)
        if "Traceback" in traceback_part:
            return _where(traceback_part)
        return _anonymous(summary.strip().splitlines()[0])[:200]
    if outcome.kind == "timeout":  # faulthandler's dump; the main thread ("Current thread") says what hangs
        main = outcome.detail.split("Current thread", 1)[-1]
        stack = re.findall(r'File "([^"]+)", line \d+ in (\S+)', main)
        ours = [f"{f.split('/kds_iac/')[-1]}:{fn}" for f, fn in stack if "/kds_iac/" in f]
        top = f"{os.path.basename(stack[0][0])}:{stack[0][1]}" if stack else "unknown"
        return "hung in " + (ours[0] if ours and ours[0].endswith(top) else f"{top} via {ours[0] if ours else '?'}")
    return _where(outcome.detail)


_SUMMARY = "\n-- diagnostics --\n"


def _anonymous(text: str) -> str:
    """Without the case's temporary paths and numbers, so one cause gives one signature."""
    text = re.sub(r"/\S*kds-fuzz-[^/\s]+/\S*", "<file>", text)
    return re.sub(r"\d+", "N", text)


def internal_errors(reply: dict) -> list[list]:
    """Diagnostics that are caught bugs rather than faults in the input."""
    return [d for d in reply.get("diagnostics", []) if _BUG_IN_MESSAGE.search(str(d[3]))]


_EOF = object()
_DEADLINE = object()


class Supervisor:
    """Runs scans in a long-lived worker process, restarted after each crash or hang."""

    def __init__(self, command: Optional[list[str]] = None, case_seconds: float = CASE_SECONDS):
        self.command = command or [sys.executable, "-m", "tests.fuzz.worker"]
        self.case_seconds = case_seconds
        self.process: Optional[subprocess.Popen] = None
        self.stderr: Any = None
        self.buffer = b""
        self.cases = 0

    def __enter__(self) -> "Supervisor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ, AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            self.command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env,
            start_new_session=True,  # its own process group: helpers it starts (an evaluator worker) die with it
        )
        self.buffer = b""
        self.cases = 0
        line = self._read_line(time.monotonic() + STARTUP_SECONDS)
        if not isinstance(line, str) or json.loads(line).get("status") != "ready":
            detail = self._stderr_since(0)
            self.stop()
            raise RuntimeError(f"fuzz worker did not start: {detail[-4000:]}")

    def stop(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    pipe.close()
            self.process = None
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None

    def run(self, paths: list[str], trace: bool = False) -> Outcome:
        if self.process is None or self.process.poll() is not None or self.cases >= RESTART_EVERY:
            self.stop()
            try:
                self.start()
            except RuntimeError as error:
                return Outcome("worker-start", str(error))
        assert self.process is not None and self.process.stdin is not None
        self.cases += 1
        offset = os.fstat(self.stderr.fileno()).st_size
        try:
            self.process.stdin.write((json.dumps({"paths": paths, "trace": trace}) + "\n").encode())
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        deadline = time.monotonic() + self.case_seconds * (3 if trace else 1)
        line = self._read_line(deadline, watch_memory=True)
        if isinstance(line, Outcome):  # over the memory limit
            return line
        if isinstance(line, str):
            reply = json.loads(line)
            if reply["status"] == "exception":
                return Outcome("exception", reply["traceback"], reply)
            return Outcome("ok", reply=reply)
        if line is _DEADLINE:  # still running: a hang
            if hasattr(signal, "SIGUSR1"):
                self.process.send_signal(signal.SIGUSR1)
                time.sleep(0.5)
            detail = self._stderr_since(offset)
            self.stop()
            return Outcome("timeout", detail)
        try:  # the worker closed its end: it is exiting, or gone already
            status = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            status = self.process.wait()
        detail = self._stderr_since(offset)
        self.stop()
        return Outcome("crash", detail, exit_status=status)

    def _stderr_since(self, offset: int) -> str:
        if self.stderr is None:
            return ""
        self.stderr.flush()
        self.stderr.seek(offset)
        data = self.stderr.read()
        self.stderr.seek(0, os.SEEK_END)
        text = data.decode("utf-8", "replace")
        return text if len(text) < 30000 else text[:15000] + "\n[...]\n" + text[-15000:]

    def _rss(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm") as handle:  # type: ignore[union-attr]
                return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError, AttributeError):
            return 0

    def _read_line(self, deadline: float, watch_memory: bool = False):
        """One line from the worker; ``_EOF``, ``_DEADLINE``, or an Outcome when memory runs over."""
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return _DEADLINE
            ready, _, _ = select.select([fd], [], [], min(left, 0.25))
            if watch_memory and self._rss() > MAX_RSS_BYTES:
                detail = f"worker used more than {MAX_RSS_BYTES} bytes"
                self.stop()
                return Outcome("memory", detail)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return _EOF
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8")


def judge(supervisor: Supervisor, paths: list[str]) -> Outcome:
    """Run one case through the oracle; re-run an internal-error case traced for its traceback."""
    outcome = supervisor.run(paths)
    if outcome.kind == "ok":
        bugs = internal_errors(outcome.reply)
        if bugs:
            traced = supervisor.run(paths, trace=True)
            names = {m.group(1) for d in bugs for m in [_BUG_IN_MESSAGE.search(str(d[3]))] if m}
            tracebacks = [t for t in traced.reply.get("raised", []) if any(f"{n}:" in t.splitlines()[-1] for n in names)]
            summary = "\n".join(f"{d[0]}:{d[1]}: {d[2]}: {d[3]}" for d in bugs)
            return Outcome("internal-error", (tracebacks[0] if tracebacks else "") + _SUMMARY + summary, outcome.reply)
    return outcome


# -- cases ---------------------------------------------------------------------------------


class Case:
    """The files of one mutated case under ``root``, the paths to scan, and how they were made."""

    def __init__(self, root: Path):
        self.root = root
        self.paths: list[str] = []
        self.notes: list[dict] = []  # seed, file, mutators per mutated file


SPECIAL_FILES = ("fifo", "symlink-loop", "dangling-symlink", "directory", "symlink-to-parent")


def add_special_file(directory: Path, kind: str, name: str) -> Path:
    """A file that is not a regular file, named like a template: reading one must not block."""
    path = directory / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink-loop":
        os.symlink(name, path)
    elif kind == "dangling-symlink":
        os.symlink("does-not-exist", path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink-to-parent":
        os.symlink("..", path)
    return path


def copy_tree(source: Path, target: Path) -> None:
    """Like ``shutil.copytree`` but FIFOs are re-created (copying one would block) and links kept."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(source):
        to = target / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), to)
        elif entry.is_dir():
            copy_tree(Path(entry.path), to)
        elif stat.S_ISFIFO(entry.stat().st_mode):
            os.mkfifo(to)
        else:
            shutil.copyfile(entry.path, to)


def _copy_seed(seed: Seed, into: Path) -> Path:
    """Copy a seed under ``into``; return the copy (directory or file)."""
    into.mkdir(parents=True, exist_ok=True)
    target = into / seed.path.name
    if seed.path.is_dir():
        shutil.copytree(seed.path, target, ignore=shutil.ignore_patterns(".terraform", "__pycache__"))
    else:
        shutil.copyfile(seed.path, target)
    return target


def _mutate_copy(seed: Seed, copy: Path, rng: random.Random, partners: list[Seed], case: Case) -> Path:
    files = seed.mutable_files()
    if not files:
        return copy
    chosen = rng.choice(files)
    relative = chosen.relative_to(seed.path) if seed.path.is_dir() else Path()
    target = copy / relative if seed.path.is_dir() else copy
    partner = rng.choice(partners)
    partner_files = partner.mutable_files()
    other = rng.choice(partner_files).read_bytes() if partner_files else b""
    data, applied = mutators.mutate(target.read_bytes(), target.name, rng, other)
    target.write_bytes(data)
    case.notes.append({"seed": seed.name, "file": str(target.relative_to(case.root)), "mutators": applied})
    return target


def build_case(loader: str, seeds: list[Seed], seed: int, iteration: int, root: Path) -> Case:
    """The case of ``(seed, loader, iteration)`` written under ``root`` (emptied first)."""
    rng = random.Random(f"{seed}:{loader}:{iteration}")
    if root.exists():
        shutil.rmtree(root)
    case = Case(root)
    if loader == WHOLE_SCAN:  # one seed of each kind in one tree, one or two of them mutated
        by_kind: dict[str, list[Seed]] = {}
        for s in seeds:
            by_kind.setdefault(s.loader, []).append(s)
        picked = [rng.choice(group) for _, group in sorted(by_kind.items())]
        copies = [_copy_seed(s, root / f"{i}-{s.loader}") for i, s in enumerate(picked)]
        for i in rng.sample(range(len(picked)), k=min(len(picked), rng.choice((1, 2)))):
            _mutate_copy(picked[i], copies[i], rng, seeds, case)
        case.paths = [str(root)]
        return case
    chosen = rng.choice(seeds)
    copy = _copy_seed(chosen, root / "in")
    target = _mutate_copy(chosen, copy, rng, seeds, case)
    if rng.random() < 0.1:  # a second, mutated template beside the first (sibling-file scope)
        sibling = rng.choice(seeds)
        if sibling.path.is_file() and chosen.path.is_file():
            sibling_copy = root / "in" / ("sibling-" + sibling.path.name)
            shutil.copyfile(sibling.path, sibling_copy)
            _mutate_copy(sibling, sibling_copy, rng, seeds, case)
    if rng.random() < 0.03:  # a FIFO, a link or a directory where a template or .tf file would be
        kind = rng.choice(SPECIAL_FILES)
        directory = copy if copy.is_dir() else copy.parent
        name = rng.choice(("special.yaml", "special.tf", "special.json", "special.template"))
        add_special_file(directory, kind, name)
        case.notes.append({"special": kind, "file": str((directory / name).relative_to(case.root))})
    # Sometimes name the file itself: discovery's explicit-file path and the focus filter.
    explicit = rng.random() < 0.25 and target.is_file()
    case.paths = [str(target if explicit else root / "in")]
    return case


# -- findings ------------------------------------------------------------------------------


def save_reproducer(findings_dir: Path, loader: str, seed: int, iteration: int, case: Case, outcome: Outcome) -> Path:
    digest = hashlib.sha1(outcome.signature().encode()).hexdigest()[:10]
    target = findings_dir / loader / f"{digest}-seed{seed}-it{iteration}"
    if target.exists():
        shutil.rmtree(target)
    copy_tree(case.root, target / "input")
    record = {
        "loader": loader,
        "seed": seed,
        "iteration": iteration,
        "symptom": outcome.kind,
        "signature": outcome.signature(),
        "exit_status": outcome.exit_status,
        "scanned": [os.path.relpath(p, case.root) for p in case.paths],
        "mutations": case.notes,
        "diagnostics": outcome.reply.get("diagnostics"),
        "replay": f"python -m tests.fuzz --replay {os.path.relpath(target, REPO)}",
        "regenerate": f"python -m tests.fuzz --loader {loader} --seed {seed} --only-iteration {iteration}",
    }
    (target / "case.json").write_text(json.dumps(record, indent=2) + "\n")
    (target / "detail.txt").write_text(outcome.detail)
    return target


class Stats:
    def __init__(self, loader: str):
        self.loader = loader
        self.iterations = 0
        self.seconds = 0.0
        self.failures: dict[str, list[Path]] = {}  # signature -> reproducers kept
        self.counts: dict[str, int] = {}
        self.without_errors = 0  # cases the scan read without an error diagnostic: how deep cases get

    @property
    def per_minute(self) -> float:
        return 60.0 * self.iterations / self.seconds if self.seconds else 0.0


def fuzz(
    loader: str,
    seed: int,
    *,
    iterations: Optional[int] = None,
    seconds: Optional[float] = None,
    findings_dir: Path = DEFAULT_FINDINGS,
    only_iteration: Optional[int] = None,
    supervisor: Optional[Supervisor] = None,
    report: Callable[[str], None] = lambda line: None,
    stop_on_failure: bool = False,
    known: Collection[str] = (),
) -> Stats:
    """Fuzz one loader for ``iterations`` cases or ``seconds``, whichever is given.

    With ``stop_on_failure``, stop at the first failure whose signature is not in ``known``."""
    stats = Stats(loader)
    seeds = seeds_for(loader)
    if not seeds:
        report(f"{loader}: no seeds under examples/ or tests/fixtures/; skipped")
        return stats
    own = supervisor is None
    supervisor = supervisor or Supervisor()
    work = Path(tempfile.mkdtemp(prefix=f"kds-fuzz-{loader}-"))
    started = time.monotonic()
    try:
        iteration = only_iteration if only_iteration is not None else 0
        while True:
            if only_iteration is not None and iteration > only_iteration:
                break
            if iterations is not None and iteration >= iterations:
                break
            if seconds is not None and time.monotonic() - started >= seconds:
                break
            case = build_case(loader, seeds, seed, iteration, work / "case")
            outcome = judge(supervisor, case.paths)
            stats.iterations += 1
            if outcome.kind == "ok" and not any(d[2] == "error" for d in outcome.reply.get("diagnostics", [])):
                stats.without_errors += 1
            if outcome.failed:
                signature = outcome.signature()
                stats.counts[signature] = stats.counts.get(signature, 0) + 1
                findings_dir.joinpath(loader).mkdir(parents=True, exist_ok=True)
                with open(findings_dir / loader / "failures.tsv", "a", encoding="utf-8") as log:  # every one, regenerable
                    log.write(f"{seed}\t{iteration}\t{signature}\n")
                kept = stats.failures.setdefault(signature, [])
                if len(kept) < KEEP_PER_SIGNATURE:
                    path = save_reproducer(findings_dir, loader, seed, iteration, case, outcome)
                    kept.append(path)
                    if len(kept) == 1:
                        report(f"{loader}: iteration {iteration}: {signature}\n    reproducer: {path}")
                if stop_on_failure and signature not in known:
                    break
            iteration += 1
    finally:
        stats.seconds = time.monotonic() - started
        shutil.rmtree(work, ignore_errors=True)
        if own:
            supervisor.stop()
    return stats


def replay(directory: Path, supervisor: Optional[Supervisor] = None) -> Outcome:
    """Scan a saved reproducer's input again (from a temporary copy) and judge it."""
    record = json.loads((directory / "case.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="kds-fuzz-replay-"))
    try:
        copy_tree(directory / "input", work / "case")
        own = supervisor is None
        supervisor = supervisor or Supervisor()
        try:
            return judge(supervisor, [str(work / "case" / p) for p in record["scanned"]])
        finally:
            if own:
                supervisor.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)



def run_regression(directory: Path, supervisor: Supervisor) -> tuple[Outcome, list[tuple[str, int, str]]]:
    """Scan a regression case (``input/`` and ``case.json``) from a temporary copy, as its test does;
    return the outcome and the diagnostics as (file relative to the case, line, level)."""
    case = json.loads((directory / "case.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="kds-fuzz-regression-"))
    try:
        copy_tree(directory / "input", work / "input")
        for fifo in case.get("fifos", []):
            os.mkfifo(work / fifo)
        outcome = judge(supervisor, [str(work / p) for p in case["scan"]])
        got = sorted({(os.path.relpath(d[0], work), d[1], d[2]) for d in outcome.reply.get("diagnostics", [])})
        return outcome, got
    finally:
        shutil.rmtree(work, ignore_errors=True)


def save_regression(reproducer: Path, name: str, regressions: Path, supervisor: Supervisor) -> Path:
    """Turn a reproducer into ``regressions/<loader>/<name>/``: its input, and a ``case.json`` with
    today's diagnostics when the scan completes, or ``xfail`` naming the failure when it does not."""
    record = json.loads((reproducer / "case.json").read_text())
    target = regressions / record["loader"] / name
    if target.exists():
        shutil.rmtree(target)
    copy_tree(reproducer / "input", target / "input")
    fifos = [str(p.relative_to(target)) for p in sorted(target.rglob("*")) if not p.is_symlink() and stat.S_ISFIFO(p.lstat().st_mode)]
    for fifo in fifos:  # git cannot hold a FIFO: the test makes it
        os.unlink(target / fifo)
    found = Outcome(record["symptom"], (reproducer / "detail.txt").read_text(), exit_status=record["exit_status"])
    case: dict[str, Any] = {
        "scan": [f"input/{p}" for p in record["scanned"]],
        "fifos": fifos,
        "symptom": record["signature"],
        "raises_in": describe(found),
        "found_by": record["regenerate"],
        "xfail": None,
        "diagnostics": None,
    }
    (target / "case.json").write_text(json.dumps(case, indent=2) + "\n")
    outcome, got = run_regression(target, supervisor)
    if outcome.failed:
        case["xfail"] = f"not fixed yet: {outcome.signature()}"
    else:
        case["diagnostics"] = [list(d) for d in got]
    (target / "case.json").write_text(json.dumps(case, indent=2) + "\n")
    return target
