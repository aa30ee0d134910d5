"""tfparse in a supervised child process: a Go crash or a runaway evaluation costs one module.

tfparse runs trivy's Terraform evaluator (Go) through cffi. Inside our process a Go panic or a
Go stack overflow aborts everything (SIGABRT: no Python ``except`` sees it), and a runaway
evaluation (a module that calls itself, ``count = 1000000``) can neither be interrupted nor
freed. So tfparse runs in one child process that the parent watches: a crash, the time limit
or the memory limit (resident memory, read from ``/proc`` a few times a second) ends only that
request, which raises ``WorkerFailure`` with a message for the user, and the next request
starts a fresh child.

One child serves the whole process, one request at a time: the CLI's modules and the language
server's validations reuse it while it lives. A parallel load (``set_workers(n)``) runs up to n
children, each serving one request at a time, for threads that evaluate at once. They die with us: ``atexit`` kills it, it exits
when its stdin closes, and a thread in it exits when its parent is gone (a parent killed with
SIGKILL runs no ``atexit``).

This module is the parent side and imports only the standard library; the child is the script
``tfparse_child.py`` beside it (protocol there), which imports tfparse and nothing of kds-iac.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Optional, Sequence

DEFAULT_TIME_LIMIT_SECONDS = 60.0  # 1,000 generated files (200k lines) take ~3 s
DEFAULT_MEMORY_LIMIT_MIB = 2048
# The limits can also be set from the environment (tests of the command line use short ones).
TIME_LIMIT_ENV = "KDS_IAC_TFPARSE_TIME_LIMIT"
MEMORY_LIMIT_ENV = "KDS_IAC_TFPARSE_MEMORY_MIB"
POLL_SECONDS = 0.2  # how often the parent looks at the child's memory while it waits


class TfparseError(Exception):
    """tfparse itself refused the input (a ``ParseError`` and the like): its message."""


class WorkerFailure(Exception):
    """The evaluation crashed or hit a limit; ``str()`` is a sentence for a diagnostic and
    ``kind`` says which: "crash", "time" or "memory"."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


# --------------------------------------------------------------------------- the parent side


class _Limits:
    def __init__(self) -> None:
        self.time: Optional[float] = None  # None: the environment, else the default
        self.memory_mib: Optional[int] = None

    def seconds(self) -> float:
        return self.time if self.time is not None else _env_number(TIME_LIMIT_ENV, DEFAULT_TIME_LIMIT_SECONDS)

    def mebibytes(self) -> float:
        return self.memory_mib if self.memory_mib is not None else _env_number(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT_MIB)


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


_limits = _Limits()


def set_limits(time_limit: Optional[float] = None, memory_mib: Optional[int] = None) -> None:
    """Set the time limit (seconds) and memory limit (MiB) of each evaluation; ``None``
    restores the setting from the environment or the default."""
    _limits.time = time_limit
    _limits.memory_mib = memory_mib


def limits() -> tuple[float, float]:
    """(seconds, MiB) that the next evaluation gets."""
    return _limits.seconds(), _limits.mebibytes()


class _Spawned:
    """A child process with pipes on its stdin, stdout and stderr, started with posix_spawn:
    importing ``subprocess`` (and ``selectors``, ``math``...) costs the command 3-9 ms of
    start-up. The methods that the worker uses have ``subprocess.Popen``'s names."""

    def __init__(self, command: Optional[list[str]]):
        """``command``: run it; None: fork this process into ``tfparse_child.serve``."""
        ends = [os.pipe() for _ in range(3)]  # (read, write) each; not inherited unless dup2'd
        theirs = (ends[0][0], ends[1][1], ends[2][1])
        try:
            if command is None:
                self.pid = _fork_into_worker(theirs)
            else:
                actions = [(os.POSIX_SPAWN_DUP2, fd, i) for i, fd in enumerate(theirs)]
                self.pid = os.posix_spawn(command[0], command, _environment(), file_actions=actions)
        except BaseException:
            for fd in (*theirs, ends[0][1], ends[1][0], ends[2][0]):
                os.close(fd)
            raise
        for fd in theirs:
            os.close(fd)
        self.stdin = os.fdopen(ends[0][1], "wb", buffering=0)
        self.stdout = os.fdopen(ends[1][0], "rb", buffering=0)
        self.stderr = os.fdopen(ends[2][0], "rb", buffering=0)
        self.returncode: Optional[int] = None

    def poll(self) -> Optional[int]:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = -9
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> Optional[int]:
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 9)  # SIGKILL (the signal module is not loaded for this)
            except ProcessLookupError:
                pass


def _fork_into_worker(fds: tuple[int, int, int]) -> int:
    """Fork; the child serves requests on ``fds`` (stdin, stdout, stderr) and never returns."""
    from kds_iac.loaders import tfparse_child

    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: only our pipes stay open, and nothing of the parent runs at exit
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
        os.closerange(3, _MAX_FD)
        tfparse_child.serve(parent)
    finally:
        os._exit(70)


_MAX_FD = 65536


def _can_fork() -> bool:
    """Fork rather than start an interpreter (10-20 ms sooner, less CPU) only where it is
    safe and cheap: Linux, one thread, tfparse (Go) not loaded, a small process (the resident
    pages it shares with the worker count in the worker's memory)."""
    if not sys.platform.startswith("linux") or threading.active_count() != 1 or "tfparse" in sys.modules:
        return False
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE_SIZE < 64 * 1024 * 1024
    except (OSError, ValueError, IndexError):
        return False


def _spawn(command: list[str]):
    # with 0-2 open, the pipes get higher descriptors (dup2 onto itself would keep close-on-exec)
    if hasattr(os, "posix_spawn") and _standard_streams_open():
        return _Spawned(command)
    import subprocess  # Windows, or a process without standard streams

    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0, env=_environment()
    )


# Go's garbage collector in a started worker, unless the user's environment says otherwise:
# collecting when the heap has grown by 300 % instead of 100 % cuts tfparse's CPU by about a
# quarter on the benchmark tree (peak memory of a worker there: 95 MB instead of 79 MB); the
# soft limit makes it collect as often as needed again well below the worker's memory limit.
# Go reads them from the environment the process started with: a forked worker keeps ours.
GO_SETTINGS = {"GOGC": "300", "GOMEMLIMIT": "768MiB"}


def _environment() -> dict[str, str]:
    """A started worker's environment: ours, Go's settings unless ours has them, and our pid
    (the worker watches that it is still its parent: ``tfparse_child.serve``)."""
    return {**GO_SETTINGS, **os.environ, "KDS_IAC_TFPARSE_PARENT": str(os.getpid())}


def _standard_streams_open() -> bool:
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return False
    return True


class _Child:
    """One running worker process and the threads that drain its output."""

    def __init__(self, fork: bool = False) -> None:
        self.forked = fork and _can_fork() and _standard_streams_open()
        self.process = _Spawned(None) if self.forked else _spawn(_command())
        self.owner = os.getpid()  # a forked copy of this process must not share the pipes
        # one request at a time: the reader leaves each answer here (None: the child is gone)
        self.answer: Optional[tuple[str, bytes]] = None
        self.arrived = threading.Event()
        self.stderr_head = bytearray()  # since the last request: a Go panic prints its reason first
        self.ended: Optional[BaseException] = None  # why the answers' reader stopped, if it failed
        threading.Thread(target=self._read_answers, name="kds-iac-tfparse-out", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="kds-iac-tfparse-err", daemon=True).start()

    def _read_answers(self) -> None:
        """The reader owns its end of the pipe and closes it when it is done: a descriptor
        closed under a reading thread could be reused at once by another worker's pipe (the
        workers of a parallel load start and stop while others run), and this thread would
        then read that worker's answers."""
        stream = self.process.stdout
        try:
            while True:
                header = stream.readline()
                if not header:
                    break
                kind, _, length = header.decode("ascii", "replace").partition(" ")
                size = int(length)
                chunks, left = [], size
                while left:
                    chunk = stream.read(left)
                    if not chunk:
                        raise EOFError
                    chunks.append(chunk)
                    left -= len(chunk)
                self.answer = (kind, b"".join(chunks))
                self.arrived.set()
        except (OSError, ValueError, EOFError) as error:
            self.ended = error
        finally:
            _close(stream)
        self.answer = None
        self.arrived.set()

    def _read_stderr(self) -> None:
        stream = self.process.stderr
        try:
            while True:
                chunk = stream.read(65536)
                if not chunk:
                    break
                if len(self.stderr_head) < 16384:
                    self.stderr_head.extend(chunk[: 16384 - len(self.stderr_head)])
        except (OSError, ValueError):
            pass
        finally:
            _close(stream)

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mib(self) -> Optional[float]:
        """Resident memory of the child, from /proc (None where there is no /proc)."""
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as handle:
                resident = int(handle.read().split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return resident * _PAGE_SIZE / (1024 * 1024)

    def kill(self) -> None:
        try:
            self.process.kill()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except Exception:  # pragma: no cover - subprocess.TimeoutExpired: it ignores SIGKILL
            pass
        _close(self.process.stdin)  # its output pipes: their readers close them at the end of file

    def close(self) -> None:
        """Ask the child to stop (stdin closed) and make sure it does."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=2)
        except Exception:  # subprocess.TimeoutExpired
            pass
        self.kill()

    def crash_reason(self) -> str:
        """How the child ended: the signal or exit code, and Go's panic line if it printed one."""
        try:
            code = self.process.wait(timeout=5)
        except Exception:  # subprocess.TimeoutExpired
            code = None
        if code is None:
            self.kill()
            code = self.process.returncode
        if code is not None and code < 0:
            import signal

            try:
                how = signal.Signals(-code).name
            except ValueError:
                how = f"signal {-code}"
        else:
            how = f"exit code {code}"
        time.sleep(0.05)  # let the stderr reader take the last bytes
        for line in bytes(self.stderr_head).decode("utf-8", "replace").splitlines():
            line = line.strip()
            if line.startswith(("panic: ", "fatal error: ")):
                detail = line if len(line) <= 160 else line[:157] + "..."
                return f"{how}, {detail}"
        return how


def _close(stream) -> None:
    try:
        stream.close()
    except OSError:
        pass


def _command() -> list[str]:
    """The child script. Without ``site`` (-S: ~10-15 ms less start-up in a virtualenv with
    editable installs) when the parent can tell the child where tfparse and cffi live."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tfparse_child.py")
    try:
        from importlib.util import find_spec

        places = []
        for name in ("tfparse", "_cffi_backend"):
            spec = find_spec(name)
            origin = spec.origin if spec is not None else None
            if not origin:
                return [sys.executable, script]
            place = os.path.dirname(origin)
            if spec.submodule_search_locations:  # a package: its parent directory
                place = os.path.dirname(place)
            if place not in places:
                places.append(place)
    except (ImportError, ValueError):
        return [sys.executable, script]
    return [sys.executable, "-S", script, *places]


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_lock = threading.Lock()  # guards the slots below (never held while a worker evaluates)
_free = threading.Condition(_lock)  # notified when a slot is released
_child: Optional[_Child] = None  # slot 0: the worker every process has
_others: list[Optional[_Child]] = []  # slots 1..: extra workers while a scan loads in parallel
_busy: set[int] = set()  # slots evaluating now
_slots = 1


def start(fork: bool = False) -> None:
    """Start the worker now if it is not running, so that its start-up (Python, tfparse, the Go
    runtime: 60-80 ms of CPU) overlaps the caller's; later evaluations find it ready. The
    language server can call it when it starts, to have a warm worker for the first file.
    ``fork``: fork this process rather than start an interpreter, where that is safe (the
    command's early start: one thread, little memory)."""
    global _child
    with _lock:
        if _child is None or _child.owner != os.getpid() or not _child.alive():
            _child = _Child(fork)


def set_workers(count: int, replace_forked: bool = False) -> None:
    """How many worker processes may evaluate at once: 1 (the default) is one worker serving
    every request in turn; a parallel load raises it for its duration, and the extra workers
    start now (their start-up overlaps the caller's work). Lowering it stops the extra workers
    (a busy one once it is done).
    ``replace_forked``: replace an idle forked worker (it runs with our Go settings, not
    ``GO_SETTINGS``) by a started one, for a load large enough to make up for a cold start."""
    global _slots, _child
    count = max(1, int(count))
    closing = []
    with _lock:
        if replace_forked and _child is not None and _child.forked and 0 not in _busy:
            closing.append(_child)
            _child = None
        _slots = count
        while len(_others) < count - 1:
            _others.append(None)
        for slot in range(count, len(_others) + 1):
            if slot not in _busy and _others[slot - 1] is not None:
                closing.append(_others[slot - 1])
                _others[slot - 1] = None
        if count > 1:
            try:
                if _child is None:
                    _child = _Child(fork=False)
                for slot in range(1, count):
                    if slot not in _busy and _others[slot - 1] is None:
                        _others[slot - 1] = _Child(fork=False)
            except OSError:  # no process now: the next evaluation tries again, and reports it
                pass
        _free.notify_all()
    for child in closing:  # idle: nothing to finish
        if child.owner == os.getpid():
            child.kill()


def workers() -> int:
    """How many workers may evaluate at once (``set_workers``)."""
    return _slots


def _take_slot() -> int:
    with _free:
        while True:
            for slot in range(_slots):
                if slot not in _busy:
                    _busy.add(slot)
                    return slot
            _free.wait()


def _give_slot(slot: int) -> None:
    """Free ``slot``; its worker stops if the slot is no longer wanted (``set_workers``)."""
    closing = None
    with _free:
        _busy.discard(slot)
        if slot >= _slots and slot - 1 < len(_others):
            closing, _others[slot - 1] = _others[slot - 1], None
        _free.notify()
    if closing is not None and closing.owner == os.getpid():
        closing.kill()


def _worker_in(slot: int) -> _Child:
    """The live worker of ``slot``, started if needed: slot 0's first worker of a process is
    forked where that is safe (start() was not called early, e.g. Terraform found deeper than
    the preload looks); a replacement after a crash, or an extra worker, starts a fresh
    interpreter."""
    global _child
    with _lock:
        child = _child if slot == 0 else _others[slot - 1]
        if child is None or child.owner != os.getpid() or not child.alive():
            child = _Child(fork=slot == 0 and _child is None)
            if slot == 0:
                _child = child
            else:
                _others[slot - 1] = child
        return child


def _forget(slot: int, child: _Child) -> None:
    """Drop a worker that crashed or went over a limit: the slot's next request starts another."""
    global _child
    with _lock:
        if slot == 0 and _child is child:
            _child = None
        elif 0 < slot <= len(_others) and _others[slot - 1] is child:
            _others[slot - 1] = None
    child.kill()


def shutdown() -> None:
    """Stop the workers (they start again on the next evaluation)."""
    global _child
    with _lock:
        children = [_child, *_others]
        _child = None
        _others[:] = [None] * len(_others)
    for child in children:
        if child is not None and child.owner == os.getpid():
            child.close()


def _kill_at_exit() -> None:
    # No lock: a thread may be waiting for an answer, and the process is ending anyway. No
    # wait either: SIGKILL cannot be refused, and the system reaps the children once we are gone.
    for child in (_child, *_others):
        if child is not None and child.owner == os.getpid():
            try:
                child.process.kill()
            except OSError:
                pass


atexit.register(_kill_at_exit)


def _forget_after_fork() -> None:
    """A forked copy of this process starts its own workers: the parent's are not its to use,
    and a lock held by a thread that did not come along would never be released."""
    global _child, _lock, _free, _others, _busy, _slots
    children = [_child, *_others]
    _child, _others, _busy, _slots = None, [], set(), 1
    _lock = threading.Lock()
    _free = threading.Condition(_lock)
    for child in children:
        if child is None:
            continue
        for stream in (child.process.stdin, child.process.stdout, child.process.stderr):
            try:
                stream.close()  # this copy's descriptors only: the parent keeps its own
            except (OSError, ValueError):
                pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def evaluate(
    directory: str, stop_on_hcl_error: bool, vars_paths: Sequence[str], time_limit: Optional[float] = None
) -> dict:
    """``tfparse.load_from_path`` in the worker: its result, or ``TfparseError`` with its
    message, ``RecursionError`` for a result nested too deeply for Python, or
    ``WorkerFailure`` when the worker crashed or went over a limit (it is then replaced).
    ``time_limit`` overrides the process-wide one for this call."""
    global _child
    request = json.dumps(
        {
            "cwd": os.getcwd(),  # relative paths are ours: the worker may have started elsewhere
            "directory": str(directory),
            "stop": bool(stop_on_hcl_error),
            "vars_paths": [str(p) for p in vars_paths],
        }
    ).encode("utf-8") + b"\n"
    seconds, mebibytes = limits()
    seconds = time_limit if time_limit else seconds
    slot = _take_slot()
    try:
        child = _worker_in(slot)
        answer = _ask(slot, child, request, seconds, mebibytes)
    finally:
        _give_slot(slot)
    kind, payload = answer
    if kind == "ok":
        try:
            raw = json.loads(payload)
        except RecursionError:
            raise RecursionError("tfparse's result is nested too deeply") from None
        return raw if isinstance(raw, dict) else {}
    if kind == "deep":
        raise RecursionError("tfparse's result is nested too deeply")
    raise TfparseError(payload.decode("utf-8", "replace"))


def _ask(slot: int, child: _Child, request: bytes, seconds: float, mebibytes: float) -> tuple[str, bytes]:
    """Send one request to ``child`` and wait for its answer, watching its memory and the time."""
    child.stderr_head = bytearray()
    child.arrived.clear()
    try:
        child.process.stdin.write(request)
        child.process.stdin.flush()
    except OSError:
        pass  # it died meanwhile: the reader says so below
    deadline = time.monotonic() + seconds
    while True:
        child.arrived.wait(max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
        # is_set(), not wait()'s result: an answer arriving just after the wait timed out is
        # an answer (taking it for a crash killed healthy workers on a busy machine)
        if child.arrived.is_set():
            answer = child.answer
            if answer is not None:
                return answer
        if child.arrived.is_set() or not child.alive():
            reason = child.crash_reason()
            _forget(slot, child)
            raise WorkerFailure(f"Terraform evaluation crashed ({reason})", "crash")
        used = child.rss_mib()
        if used is not None and used > mebibytes:
            _forget(slot, child)
            raise WorkerFailure(f"Terraform evaluation used more than {mebibytes:g} MiB of memory", "memory")
        if time.monotonic() >= deadline:
            _forget(slot, child)
            raise WorkerFailure(f"Terraform evaluation did not finish within {seconds:g} s", "time")
