"""The tfparse worker process (``tfparse_worker`` starts and watches it): a script, not a module.

It imports only the standard library and tfparse, so that it is ready soon after it starts
(the parent passes where tfparse and cffi are installed, and starts it without ``site``).

Protocol: one JSON request per line on stdin, ``{"cwd", "directory", "stop", "vars_paths"}``;
each answer is a header line ``KIND LENGTH`` and ``LENGTH`` bytes on stdout: ``ok`` and
tfparse's result as JSON, ``error`` and tfparse's error message, or ``deep`` (the result is
nested too deeply for Python's JSON). Answers go over a copy of the original stdout; fd 1 is
pointed at stderr so that nothing the Go side prints can corrupt them. The worker exits when
stdin closes, and a thread exits it when the parent is gone (even mid-evaluation).
"""

import os
import sys

_PARENT_CHECK_SECONDS = 0.5


def _watch_parent(parent: int) -> None:
    import time

    while True:
        time.sleep(_PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(3)


def main() -> None:
    """As a script: our directory off the path, tfparse's on it, then serve."""
    here = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != here]  # kds_iac.loaders is no top level
    sys.path.extend(sys.argv[1:])  # where tfparse and cffi are, when started without site
    serve()


def serve() -> None:
    """Answer requests from fd 0 on fd 1 until fd 0 closes (also the entry of a forked worker)."""
    parent = os.getppid()
    try:
        import tfparse  # first: the Go runtime initialises on its own thread meanwhile
    except Exception as error:  # every request gets the reason; the loader reports it per module
        tfparse, missing = None, f"tfparse could not be loaded ({type(error).__name__}: {error})"
    import json
    import threading

    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    for line in os.fdopen(0, "rb"):
        try:
            request = json.loads(line)
            if tfparse is None:
                raise ImportError(missing)
            os.chdir(request["cwd"])
            raw = tfparse.load_from_path(
                request["directory"],
                stop_on_hcl_error=request["stop"],
                allow_downloads=False,
                vars_paths=request["vars_paths"],
            )
            kind, payload = b"ok", json.dumps(raw, separators=(",", ":")).encode("utf-8")
        except RecursionError:
            kind, payload = b"deep", b""
        except Exception as error:
            kind, payload = b"error", str(error).encode("utf-8", "replace")
        out.write(b"%s %d\n" % (kind, len(payload)))
        out.write(payload)
        out.flush()


if __name__ == "__main__":
    main()
