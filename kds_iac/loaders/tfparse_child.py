"""The tfparse worker process (``tfparse_worker`` starts and watches it): a script, not a module.

It imports only the standard library and tfparse, so that it is ready soon after it starts
(the parent passes where tfparse and cffi are installed, and starts it without ``site``).

Protocol: one JSON request per line on stdin, ``{"cwd", "directory", "stop", "vars_paths"}``;
each answer is a header line ``KIND LENGTH`` and ``LENGTH`` bytes on stdout: ``ok`` and
tfparse's result as JSON (the Go side's own bytes), ``error`` and tfparse's error message, or ``deep`` (the result is
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


PARENT_ENV = "KDS_IAC_TFPARSE_PARENT"  # the parent's pid, set by the parent when it starts us


def serve(parent: int = 0) -> None:
    """Answer requests from fd 0 on fd 1 until fd 0 closes (also the entry of a forked worker).
    ``parent``: the pid of the process that started us, as it told us: asking ``getppid()``
    here would give the reaper's pid if the parent was gone before we got this far (seen on
    a busy machine), and the worker would then never notice."""
    try:
        parent = parent or int(os.environ.get(PARENT_ENV, ""))
    except ValueError:
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
            kind, payload = b"ok", _parse(tfparse, request)
        except RecursionError:
            kind, payload = b"deep", b""
        except Exception as error:
            kind, payload = b"error", str(error).encode("utf-8", "replace")
        out.write(b"%s %d\n" % (kind, len(payload)))
        out.write(payload)
        out.flush()


def _parse(tfparse, request: dict) -> bytes:
    """tfparse's result as JSON bytes. The Go side writes JSON, which ``load_from_path`` decodes:
    where the library's cffi entry point is as we know it, its bytes are passed on as they are
    (decoding and encoding again cost ~5 % of a large scan); the parent decodes them once."""
    lib, ffi = getattr(tfparse, "lib", None), getattr(tfparse, "ffi", None)
    if lib is None or ffi is None or not hasattr(lib, "Parse") or not hasattr(lib, "free"):
        import json

        raw = tfparse.load_from_path(
            request["directory"],
            stop_on_hcl_error=request["stop"],
            allow_downloads=False,
            vars_paths=request["vars_paths"],
        )
        return json.dumps(raw, separators=(",", ":")).encode("utf-8")
    keep = [ffi.new("char[]", str(p).encode("utf-8")) for p in request["vars_paths"]]
    result = lib.Parse(
        ffi.new("char[]", str(request["directory"]).encode("utf-8")),
        bool(request["stop"]),
        False,  # debug
        False,  # allow_downloads
        ffi.new("char[]", b"default"),
        len(keep),
        keep,
    )
    if result.err != ffi.NULL:
        message = ffi.string(result.err).decode("utf-8")
        if sys.platform != "win32":  # as tfparse does: there the library's memory is not ours to free
            lib.free(result.err)
        raise tfparse.ParseError(message)
    payload = ffi.string(result.json)
    if sys.platform != "win32":
        lib.free(result.json)
    return payload


if __name__ == "__main__":
    main()
