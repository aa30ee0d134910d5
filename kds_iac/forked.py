"""Shares of independent work done in forked copies of this process, with the answers sent back.

Two steps of a large scan are independent per file and run on one core otherwise: loading
CloudFormation templates (``kds_iac.loaders``) and computing the fix edits a JSON or SARIF
report shows (``kds_iac.fixes.apply``). A forked child computes a share from its copy of
memory and sends back the answers, pickled; a thread would not help, the work being Python.

Only where forking is sound and cheap: Linux (forking is unsafe with macOS system frameworks,
and Windows has none) and a process where no other thread runs Python. Threads blocked
reading a pipe (the tfparse workers' readers) hold no lock the child takes. A child that fails
in any way (an exception, a signal, an answer that cannot be read) only costs time: its share
is computed here, as a serial run would.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
from typing import Callable, Optional, Sequence, TypeVar

LOG = logging.getLogger("kds_iac.fixes")

T = TypeVar("T")

# Threads of ours that only wait on a pipe: a fork copies none of them, and they hold no lock
# the child could need.
_PIPE_READERS = ("kds-iac-tfparse-out", "kds-iac-tfparse-err")


def can_fork() -> bool:
    """Whether this process may fork a helper copy of itself (see the module's docstring)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    return all(
        thread is threading.main_thread() or thread.name.startswith(_PIPE_READERS)
        for thread in threading.enumerate()
    )


def shares(items: Sequence[T], weights: Sequence[int], count: int) -> list[list[T]]:
    """``items`` cut in at most ``count`` runs of neighbours with about equal total weight."""
    total = sum(weights)
    out: list[list[T]] = [[]]
    done = 0
    for item, weight in zip(items, weights):
        if out[-1] and len(out) < count and done >= total * len(out) / count:
            out.append([])
        out[-1].append(item)
        done += weight
    return out


def run_shared(
    parts: list[list[T]], work: Callable[[list[T]], dict], here: Optional[Callable[[list[T]], dict]] = None
) -> dict:
    """``work(part)`` of every part merged into one dict: the first part here, each other one in
    a forked child at the same time (or here, if its child fails). ``work`` must give a dict of
    picklable keys and values, and must not depend on what another part's ``work`` did.
    ``here``, if given, computes the first part instead of ``work`` (the same answers, plus
    what only this process may do, such as reporting progress)."""
    children = [_start(part, work) for part in parts[1:]]
    out = (here or work)(parts[0]) if parts else {}
    for part, child in zip(parts[1:], children):
        answer = _finish(child)
        out.update(answer if answer is not None else work(part))
    return out


def _start(part: list, work: Callable[[list], dict]) -> Optional[tuple[int, int]]:
    """(pid, read end) of a child computing ``work(part)``, or None when it could not start."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid:
        os.close(write_end)
        return pid, read_end
    code = 1  # the child: never returns into the caller's code, whatever happens
    try:
        os.close(read_end)
        data = pickle.dumps(work(part), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as out:
            out.write(data)
        code = 0
    except BaseException:  # noqa: BLE001 - reported by the exit code; the parent redoes the share
        pass
    finally:
        os._exit(code)


def _finish(child: Optional[tuple[int, int]]) -> Optional[dict]:
    """The child's answer once it has exited well, else None."""
    if child is None:
        return None
    pid, read_end = child
    try:
        with os.fdopen(read_end, "rb") as answer:
            data = answer.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        LOG.debug("kds-iac: a forked helper failed (status %d); its share is computed here", status)
        return None
    try:
        return pickle.loads(data)
    except Exception:  # noqa: BLE001 - as a failed child
        LOG.debug("kds-iac: a forked helper's answer could not be read", exc_info=True)
        return None
