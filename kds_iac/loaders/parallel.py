"""Loading independent units at once, with the same result as one after the other.

A Terraform module directory is the unit that pays: most of its time is tfparse's Go
evaluation in a worker process (``tfparse_worker``), during which our thread waits without the
GIL. So modules load in threads, each thread's evaluations going to a worker of its own
(``tfparse_worker.set_workers``): the workers' Go and our conversion of the previous module
run on different cores. The results are put back in the order of the units, and progress is
reported from the calling thread in that order, so that nothing downstream can tell a parallel
load from a serial one.

Small scans stay serial: an extra worker starts cold (an interpreter, tfparse and the Go
runtime: ~0.1 s of CPU, more in wall time on a busy machine) while the first one is warm
from the command's early start; a few modules are done by the warm one sooner, and the
on-save path (one file, one module) must not pay for any of it.

CloudFormation templates are all Python work, so threads would not help: the templates are
cut in runs, the first loaded here and each other in a forked copy of this process that sends
its models back pickled (``kds_iac.forked``). A template is a unit of its own (a nested stack
is read with its parent, a ``Ref`` stays within its template), so the models are the ones a
serial load makes; the caller puts them back in the templates' order.
"""

from __future__ import annotations

import os
from typing import Callable, Iterator, Optional, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Terraform below this many bytes in all loads serially (about 15,000 lines). Measured on a
# shared 2-core machine (load average 5): 4 modules, 500 KB, 1.96 s serial against 2.10 s with
# 2 jobs; 10 modules, 1.3 MB, 4.61 s against 4.42 s; 30 modules, 3.7 MB, 11.7 s against 10.2 s.
MIN_PARALLEL_TERRAFORM_BYTES = 512 * 1024
# From this size on, a worker forked by the command's early start (Go's default collector) is
# worth replacing by a started one (``tfparse_worker.GO_SETTINGS``): ~25 % less of its Go CPU.
REPLACE_FORKED_BYTES = 2 * 1024 * 1024
# CloudFormation templates below this many bytes in all load serially: a forked child costs a
# few milliseconds to start and to send its models back (measured in benchmarks/README.md).
MIN_PARALLEL_CLOUDFORMATION_BYTES = 256 * 1024
# What a template costs a child against this process: its load, plus pickling its model.
_CHILD_COST = 1.2


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's cpuset), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def terraform_plan(jobs: int, directories: Sequence[str]) -> tuple[int, bool]:
    """(How many Terraform modules to load at once: ``jobs`` at most, one per module at most,
    and 1 for a small scan (see the module's docstring); whether a forked worker is worth
    replacing)."""
    jobs = min(max(1, jobs), len(directories))
    if jobs < 2:
        return 1, False
    total = 0
    for directory in directories:
        total += _terraform_bytes(directory)
        if total >= REPLACE_FORKED_BYTES:
            break
    if total < MIN_PARALLEL_TERRAFORM_BYTES:
        return 1, False
    return jobs, total >= REPLACE_FORKED_BYTES


def cloudformation_shares(jobs: int, paths: Sequence[str]) -> list[list[int]]:
    """The indexes of ``paths`` in runs of neighbours: the first to load here, each other in a
    forked child; one run when ``jobs`` is 1 or the templates are small in all. A child also
    pickles its models (about a fifth of their load's CPU) while this process unpickles them
    (a twelfth), so the first run is the larger."""
    count = min(max(1, jobs), len(paths))
    everything = [list(range(len(paths)))]
    if count < 2:
        return everything
    sizes = [_file_bytes(path) for path in paths]
    total = sum(sizes)
    if total < MIN_PARALLEL_CLOUDFORMATION_BYTES:
        return everything
    first_weight = total * _CHILD_COST / (_CHILD_COST + count - 1)
    done = cut = 0
    while cut < len(paths) - 1 and done + sizes[cut] <= first_weight:
        done += sizes[cut]
        cut += 1
    from kds_iac.forked import shares

    rest = list(range(max(cut, 1), len(paths)))
    return [list(range(max(cut, 1))), *shares(rest, [sizes[i] for i in rest], count - 1)]


def _file_bytes(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _terraform_bytes(directory: str) -> int:
    from kds_iac.files import is_terraform_file

    total = 0
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if is_terraform_file(entry.name):
                    try:
                        total += entry.stat().st_size
                    except OSError:
                        pass
    except OSError:
        pass
    return total


def ordered_map(
    function: Callable[[T], R], items: Sequence[T], jobs: int, before: Optional[Callable[[T], None]] = None
) -> Iterator[R]:
    """``function(item)`` for every item in ``jobs`` threads, yielded in the order of ``items``;
    ``before(item)`` is called in the caller's thread, in that order, before each result is
    waited for (a serial loop calls it before each item: the progress bar sees the same calls).
    An exception from ``function`` is raised when its result is reached, as in a serial loop."""
    if jobs < 2 or len(items) < 2:
        for item in items:
            if before is not None:
                before(item)
            yield function(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="kds-iac-load") as pool:
        futures = [pool.submit(function, item) for item in items]
        try:
            for item, future in zip(items, futures):
                if before is not None:
                    before(item)
                yield future.result()
        finally:
            for future in futures:  # on an early exit (an error, ^C): start nothing new
                future.cancel()

