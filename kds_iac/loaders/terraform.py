"""Terraform HCL loader: one root module directory becomes one ``Model``.

The module is evaluated by tfparse (trivy's Terraform evaluator) in one call: variables
(declared defaults, ``terraform.tfvars``, ``*.auto.tfvars``, the user's var files and
``-var`` values, in Terraform's order), locals, ``count``/``for_each``, functions and local
modules. Remote modules are never downloaded; tfparse does read a remote module that
``terraform init`` put under ``.terraform/modules`` (listed in ``modules.json``), and any
other remote module call becomes an "info" diagnostic.

Every ``resource`` and ``data`` block becomes a ``Resource`` with Terraform's own address
(``module.events.aws_kinesis_stream.this["a"]``, ``data.aws_iam_policy_document.x``). Values
and their inputs are described in ``kds_iac.loaders.terraform_values``.

Nothing in a template is executed, and nothing is fetched over the network. A file that
cannot be read (syntax error, bad encoding, too large, too deeply nested) becomes a
``Diagnostic`` with its file and line; the rest of the module is still loaded where tfparse
allows it, and no error escapes ``load_module``.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
from typing import Any, Mapping, Optional, Sequence

from kds_iac import gc_pause
from kds_iac.loaders import terraform_gates as gates
from kds_iac.loaders import terraform_override, terraform_precheck, tfparse_worker
from kds_iac.loaders.discovery import MAX_FILE_BYTES, is_terraform_file
from kds_iac.loaders.hcl_syntax import SourceFile
from kds_iac.loaders.terraform_files import FileCache, without_file_calls
from kds_iac.loaders.terraform_values import Assigned, Evaluation, call_name, split_module_path
from kds_iac.model import TERRAFORM, Condition, Diagnostic, DiagnosticCode, Location, Model, Resource

# tfparse runs in a worker process (tfparse_worker) that is killed after this many seconds
# (e.g. `count = 10000` makes it quadratic; it takes minutes) or when it uses too much memory.
TFPARSE_TIMEOUT_SECONDS = tfparse_worker.DEFAULT_TIME_LIMIT_SECONDS
MAX_NESTING = terraform_precheck.MAX_NESTING
_CRASH_PROBES = 20  # after a crash, files evaluated alone to find the one that crashes
_CRASH_PROBE_SECONDS = 5.0

_ERROR_PREFIX = "unable to create TerraformConverter: "
_HCL_ERROR = re.compile(
    r"(?P<file>[^\s:][^:\n]*?):(?P<line>\d+),(?P<col>\d+)(?:-(?:\d+,)?\d+)?: (?P<message>.*)", re.S
)
_VARS_ERROR = re.compile(r"failed to load tfvars from (?P<file>.+?): (?P<rest>.*)", re.S)
_MORE_ERRORS = re.compile(r",? and (\d+) other diagnostic\(s\)\s*$")
_LOCAL_SOURCE = re.compile(r"^\.\.?[/\\]|^\.\.?$")


def _temporary_directory(prefix: str) -> str:
    import tempfile  # imported here: most scans need no temporary directory (~3 ms of start-up)

    return tempfile.mkdtemp(prefix=prefix)


def load_module(
    directory: str,
    var_files: Sequence[str] = (),
    variables: Optional[Mapping[str, str]] = None,
    *,
    timeout: Optional[float] = None,
    roots: Sequence[str] = (),
) -> Model:
    """Evaluate the root module in ``directory`` (not recursive: child modules are read
    through their ``module`` calls). ``var_files`` and ``variables`` act like Terraform's
    ``-var-file`` and ``-var``, after ``terraform.tfvars`` and ``*.auto.tfvars``. ``roots``:
    the directories scanned, where file functions may read (with ``directory`` and the
    modules it calls; see ``terraform_values.Evaluation``)."""
    loader = _ModuleLoader(directory, var_files, variables or {}, timeout)
    loader.files.allow(roots)
    collecting = gc.isenabled()  # not when the collector is off (another pause, or the caller's choice)
    with gc_pause.paused():
        # The module's values stay alive with the model, and each collection walked all of them
        # (and every module loaded before): nine full collections on the 1,000-file tree, a
        # quarter of the load's CPU. The parsed source is the only cyclic garbage a load leaves;
        # its cycles are broken at the end (FileCache.release), so it is freed as usual.
        try:
            _load(loader)
        finally:
            loader.files.release()
        if collecting:
            gc.collect(1)  # what the load made, walked once and moved to the oldest generation
    return loader.model


def _load(loader: "_ModuleLoader") -> None:
    try:
        loader.run()
    except Exception as error:  # the module boundary: never a traceback for a user's input
        import logging  # only on failure

        logging.getLogger("kds_iac.loaders").debug("loading module %s raised", loader.root, exc_info=error)
        loader.model.resources.clear()
        loader.diagnostic(
            "error",
            loader.root,
            0,
            f"Terraform module could not be loaded ({type(error).__name__}: {error}); not checked",
            code=DiagnosticCode.INTERNAL,
        )


class _ModuleLoader:
    def __init__(
        self, directory: str, var_files: Sequence[str], variables: Mapping[str, str], timeout: Optional[float]
    ):
        self.directory = str(directory)
        self.root = os.path.normpath(self.directory)
        self.var_files = list(var_files)
        self.variables = dict(variables)
        self.timeout = timeout  # None: the worker's limit (settable in the environment)
        self.model = Model()
        self.files = FileCache(self.directory)
        self._tmp: Optional[str] = None
        self._reported_files: set[str] = set()
        self._judged_calls: set[tuple[str, int]] = set()  # (file, line) of module calls judged ungated

    def diagnostic(self, level: str, file: str, line: int, message: str, column: int = 1, *, code: str) -> None:
        self.model.diagnostics.append(Diagnostic(level, file, line, message, column, code=code))

    # -- the steps ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._run()
        finally:
            if self._tmp:
                shutil.rmtree(self._tmp, ignore_errors=True)

    def _run(self) -> None:
        names = self._module_files()
        if not names:
            return
        self.model.files.extend(self.files.path_of(n) for n in names)
        for name in names:
            size = os.path.getsize(self.files.path_of(name))
            if size > MAX_FILE_BYTES:
                self.diagnostic(
                    "error",
                    self.files.path_of(name),
                    1,
                    f"file is {size} bytes, larger than the {MAX_FILE_BYTES}-byte limit; "
                    f"module {self.root} not checked",
                    code=DiagnosticCode.SIZE,
                )
                return
        vars_paths = self._vars_paths()
        if self._refused(vars_paths):
            return
        tree = gates.module_tree(self.files, names)
        replacements = gates.large_counts(tree)
        for block, _ in replacements.values():
            self.diagnostic(
                "info",
                block.source.path,
                block.source.line_of(block.gate_item.offset),
                f"{block.gate} = {block.gate_text()}: evaluated with its numbers over {gates.MAX_INSTANCES} "
                "taken as 1 (instances differ only by their index or key)",
                code=DiagnosticCode.NOT_CHECKED,
            )
        raw, stopped = self._evaluate(vars_paths, tree, replacements)
        if raw is None:
            return
        assigned = self._assigned(vars_paths)
        evaluation = Evaluation(self.directory, raw, self.files, assigned, mirrored=bool(replacements))
        written = terraform_override.written_blocks(b for blocks in tree.values() for b in blocks)
        merges = terraform_override.prepare(evaluation, written)  # override files: one resource per address
        resources, merged_away = terraform_override.merge(evaluation.resources(), merges)
        self._dropped_files(evaluation, names if stopped else [])
        tried = resources + merged_away + [r for r, _ in evaluation.failures]
        judged, failures = self._judge_uncreated(
            evaluation, tried, tree, replacements, vars_paths, assigned, stopped, written
        )
        for resource, problem in evaluation.failures + failures:
            self.diagnostic(
                "error",
                resource.location.file,
                resource.location.start_line,
                f"{resource.address} could not be read ({problem}); not checked",
                code=DiagnosticCode.EVALUATION,
            )
        resources += judged
        order = {id(r): i for i, r in enumerate(resources)}
        resources.sort(key=lambda r: (r.location.file, r.location.start_line, order[id(r)]))
        self.model.resources.extend(resources)
        self.model.outputs.extend(evaluation.output_values())
        self.model.diagnostics.extend(evaluation.confinement_notes())  # file reads not done
        self._module_call_diagnostics(evaluation)
        self._uncreated_blocks(evaluation, tried + judged + [r for r, _ in failures], names, tree)
        known = set(self.model.files)
        read = [self.files.path_of(f) for f in sorted(evaluation.filenames)] + sorted(self._reported_files)
        for path in read:
            if is_terraform_file(path) and path not in known:
                known.add(path)
                self.model.files.append(path)

    def _mirrored(
        self,
        tree: dict[str, list[gates.Block]],
        replacements: dict[tuple[str, int], tuple[gates.Block, str]],
        vars_paths: list[str],
        name: str,
    ) -> tuple[str, list[str]]:
        """A mirror of the module tree with gates replaced (``terraform_gates``): its root
        module directory, and the var files as paths relative to it."""
        self._tmp = self._tmp or _temporary_directory("kds-iac-")
        mirror = gates.build_mirror(self.directory, tree, gates.rewrites_of(replacements), os.path.join(self._tmp, name))
        directory = os.path.abspath(self.directory)
        return mirror, [os.path.relpath(os.path.normpath(os.path.join(directory, rel)), mirror) for rel in vars_paths]

    def _judge_uncreated(
        self,
        evaluation: Evaluation,
        created: list[Resource],
        tree: dict[str, list[gates.Block]],
        replacements: dict[tuple[str, int], tuple[gates.Block, str]],
        vars_paths: list[tuple[str, str]],
        assigned: dict[str, Assigned],
        stopped: bool,
        written: set,
    ) -> tuple[list[Resource], list[tuple[Resource, str]]]:
        """Blocks whose ``count``/``for_each`` gave no instance, evaluated once more as the
        instance they would create (``terraform_gates``): the new resources, and those that
        could not be read."""
        done = gates.created_keys(evaluation, created)
        rewritten = {
            block.key: block
            for blocks in tree.values()
            for block in blocks
            if block.gate and block.key not in done and block.source.path not in self._reported_files
        }
        if not rewritten:
            return [], []
        ungated = {**replacements, **{key: (block, gates.unknown_gate(block)) for key, block in rewritten.items()}}
        try:
            mirror, mirrored_vars = self._mirrored(tree, ungated, [rel for _, rel in vars_paths], "gates")
            raw = self._tfparse(mirror, mirrored_vars, stop=not stopped)
        except Exception:  # a second look that fails leaves the blocks reported as not checked
            return [], []
        second = Evaluation(self.directory, raw, self.files, assigned, mirrored=True)
        merges = terraform_override.prepare(second, written)
        judged = gates.judged_instances(evaluation, second, rewritten, merges.pairs)
        judged, _ = terraform_override.merge(judged, merges)
        for key in gates.created_keys(second, []):
            if key in rewritten:  # a module call judged as the instance it would create
                self._judged_calls.add((self.files.path_of(key[0]), key[1]))
        return judged, second.failures

    def _module_files(self) -> list[str]:
        try:
            entries = sorted(os.listdir(self.directory))
        except OSError as error:
            self.diagnostic("error", self.root, 0, f"cannot read directory: {error.strerror}", code=DiagnosticCode.NOT_READ)
            return []
        return [n for n in entries if is_terraform_file(n) and os.path.isfile(os.path.join(self.directory, n))]

    # -- variables ---------------------------------------------------------------------

    def _vars_paths(self) -> list[tuple[str, str]]:
        """(path as the user knows it, path for tfparse: relative to the module) in Terraform's order."""
        out: list[tuple[str, str]] = []
        entries = sorted(os.listdir(self.directory))
        for name in ("terraform.tfvars", "terraform.tfvars.json"):
            if name in entries:
                out.append((self.files.path_of(name), name))
        for name in entries:
            if name.endswith((".auto.tfvars", ".auto.tfvars.json")):
                out.append((self.files.path_of(name), name))
        for path in self.var_files:
            if not os.path.isfile(path):
                message = "var file not found; its values were not applied"
                self.diagnostic("error", os.path.normpath(path), 0, message, code=DiagnosticCode.NOT_FOUND)
                continue
            self._add_var_file(out, os.path.normpath(path), path)
        if self.variables:
            self._tmp = self._tmp or _temporary_directory("kds-iac-")
            path = os.path.join(self._tmp, "cli-variables.auto.tfvars.json")
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({k: _cli_value(v) for k, v in self.variables.items()}, handle)
            self._add_var_file(out, "-var", path)
        return out

    def _add_var_file(self, out: list[tuple[str, str]], shown: str, path: str) -> None:
        # tfparse opens a var file relative to the module directory, absolute paths included
        try:
            out.append((shown, os.path.relpath(os.path.abspath(path), os.path.abspath(self.directory))))
        except ValueError:  # Windows: another drive, no relative path
            message = f"var file is not reachable from {self.root}; its values were not applied"
            self.diagnostic("error", shown, 0, message, code=DiagnosticCode.NOT_READ)

    def _assigned(self, vars_paths: list[tuple[str, str]]) -> dict[str, Assigned]:
        """Root variables the var files set (later files win): the inputs' ``default``."""
        hcl = [os.path.join(self.directory, rel) for _, rel in vars_paths if not rel.endswith(".json")]
        hcl_values = self._evaluate_tfvars(hcl) if hcl else {}
        assigned: dict[str, Assigned] = {}
        for shown, relative in vars_paths:
            full = os.path.join(self.directory, relative)
            if relative.endswith(".json"):
                try:
                    with open(full, encoding="utf-8") as handle:
                        values = json.load(handle)
                except (OSError, ValueError):
                    values = {}
            else:
                values = hcl_values.get(full, {})
            if isinstance(values, dict):
                for name, value in values.items():
                    assigned[name] = Assigned(value, shown)
        return assigned

    def _evaluate_tfvars(self, paths: list[str]) -> dict[str, dict]:
        """Values of HCL var files, evaluated by tfparse as objects inside a ``locals`` block."""
        tmp = _temporary_directory("kds-iac-tfvars-")
        try:
            chunks = ["locals {"]
            for index, path in enumerate(paths):
                with open(path, "rb") as handle:
                    text = handle.read().decode("utf-8", errors="replace")
                chunks.append(f"tfvars_{index} = {{\n{without_file_calls(text)}\n}}")
            chunks.append("}")
            with open(os.path.join(tmp, "tfvars.tf"), "w", encoding="utf-8") as handle:
                handle.write("\n".join(chunks) + "\n")
            raw = self._tfparse(tmp, [], stop=True)
        except Exception as error:  # the values still apply; only the findings' provenance is lost
            shown = ", ".join(os.path.relpath(p, self.directory) for p in paths)
            self.diagnostic(
                "info",
                paths[0],
                0,
                f"var files {shown} could not be evaluated apart ({type(error).__name__}); findings do not name them "
                "as the source of a value",
                code=DiagnosticCode.EVALUATION,
            )
            return {}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        values: dict[str, dict] = {}
        for block in raw.get("locals") or []:
            for index, path in enumerate(paths):
                found = block.get(f"tfvars_{index}")
                if isinstance(found, dict):
                    values[path] = found
        return values

    # -- tfparse -----------------------------------------------------------------------

    def _refused(self, vars_paths: list[tuple[str, str]]) -> bool:
        """Inputs known to crash tfparse or to make it run away (``terraform_precheck``) are
        reported with file and line, and the module is not evaluated."""
        problems = terraform_precheck.check_module(self.directory, self.files, vars_paths)
        for problem in problems:
            self.diagnostic(
                "error", problem.file, problem.line, f"{problem.message}; module {self.root} not checked", code=problem.code
            )
        return bool(problems)

    def _evaluate(
        self,
        vars_paths: list[tuple[str, str]],
        tree: dict[str, list[gates.Block]],
        replacements: dict[tuple[str, int], tuple[gates.Block, str]],
    ) -> tuple[Optional[dict], bool]:
        """tfparse's result and whether a syntax error made it drop files (stop=False); with
        ``replacements``, of a mirror of the module tree with those gates replaced."""
        stop = True
        for _ in range(len(vars_paths) + 3):
            try:
                relative = [rel for _, rel in vars_paths]
                if not replacements:
                    return self._tfparse(self.directory, relative, stop), not stop
                mirror, mirrored_vars = self._mirrored(tree, replacements, relative, "capped")
                return self._tfparse(mirror, mirrored_vars, stop), not stop
            except tfparse_worker.WorkerFailure as failure:  # a crash, the time or the memory limit
                file = self._crashing_file() if failure.kind == "crash" else None
                if file is None:
                    self.diagnostic("error", self.root, 0, f"{failure}; module not checked", code=DiagnosticCode.EVALUATION)
                else:
                    self.diagnostic("error", file, 0, f"{failure}; module {self.root} not checked", code=DiagnosticCode.EVALUATION)
                return None, False
            except RecursionError:  # nesting that the pre-check did not see (e.g. built by functions)
                file, line = self._too_deep()
                self.diagnostic(
                    "error",
                    file,
                    line,
                    f"expressions are nested more than {MAX_NESTING} levels deep; module {self.root} not checked",
                    code=DiagnosticCode.SIZE,
                )
                return None, False
            except Exception as error:  # tfparse.ParseError and anything from the library
                message = str(error)
                if message.startswith(_ERROR_PREFIX):
                    message = message[len(_ERROR_PREFIX) :]
                vars_error = _VARS_ERROR.match(message)
                if vars_error:
                    failed = vars_error.group("file")
                    for entry in vars_paths:
                        if entry[1] == failed:
                            self._report(vars_error.group("rest"), default_file=entry[0], shown_as=entry[0])
                            vars_paths.remove(entry)
                            break
                    else:
                        self._report(message, default_file=self.root)
                        return None, False
                    continue
                if stop and _HCL_ERROR.match(message):
                    self._report(message, default_file=self.root)
                    stop = False  # tfparse then leaves out the broken file(s) and loads the rest
                    continue
                self._report(message, default_file=self.root)
                return None, False
        return None, False

    def _crashing_file(self) -> Optional[str]:
        """The root file that crashes tfparse on its own, if one does, so that the crash is
        shown in that file (an editor shows no directory); each file is tried alone, the
        first ``_CRASH_PROBES`` of them, after a crash only."""
        tmp = _temporary_directory("kds-iac-crash-")
        try:
            for name in self._module_files()[:_CRASH_PROBES]:
                alone = os.path.join(tmp, name)
                shutil.copyfile(self.files.path_of(name), alone)
                try:
                    tfparse_worker.evaluate(tmp, True, [], time_limit=_CRASH_PROBE_SECONDS)
                except tfparse_worker.WorkerFailure as failure:
                    return self.files.path_of(name) if failure.kind == "crash" else None
                except Exception:  # tfparse's own error: not this file's crash
                    pass
                os.remove(alone)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return None

    def _tfparse(self, directory: str, vars_paths: list[str], stop: bool) -> dict:
        """tfparse's result, evaluated in the worker process; raises its error (``TfparseError``),
        or ``WorkerFailure`` when the worker crashed or went over a limit."""
        return tfparse_worker.evaluate(directory, stop, vars_paths, time_limit=self.timeout)

    def _report(self, message: str, default_file: str, shown_as: Optional[str] = None) -> None:
        """A tfparse error message (``file:line,col-...: Summary; Detail``) as a diagnostic."""
        match = _HCL_ERROR.match(message.strip())
        if not match:
            self.diagnostic("error", default_file, 0, _clean(message), code=DiagnosticCode.PARSE)
            return
        file = shown_as or self.files.path_of(match.group("file"))
        self._reported_files.add(file)
        line, column = int(match.group("line")), int(match.group("col"))
        self.diagnostic("error", file, line, _clean(match.group("message")), column, code=DiagnosticCode.PARSE)

    def _too_deep(self) -> tuple[str, int]:
        for name in self._module_files():
            source = self.files.get(name)
            line = terraform_precheck.too_deep(source) if source is not None else 0
            if line:
                return source.path, line
        return self.root, 0

    # -- what tfparse left out ---------------------------------------------------------

    def _module_call_diagnostics(self, evaluation: Evaluation) -> None:
        seen: set[tuple[str, int]] = set()
        for path, block in evaluation.module_calls.items():
            meta = block.get("__tfmeta") or {}
            source = block.get("source")
            filename = meta.get("filename", "")
            line = int(meta.get("line_start") or 0)
            file = self.files.path_of(filename)
            if not isinstance(source, str) or (file, line) in seen:
                continue
            seen.add((file, line))
            shown = _without_keys(path)
            if _LOCAL_SOURCE.match(source):
                target = os.path.normpath(os.path.join(self.directory, os.path.dirname(filename), source))
                if not os.path.isdir(target):
                    self.diagnostic(
                        "error", file, line, f'{shown} (source "{source}") was not checked: directory not found',
                        code=DiagnosticCode.NOT_FOUND,
                    )
                elif path not in evaluation.loaded_modules and any(
                    os.path.dirname(broken) == target for broken in self._reported_files
                ):
                    # tfparse leaves out a whole child module when one of its files is broken
                    self.diagnostic(
                        "info",
                        file,
                        line,
                        f'{shown} (source "{source}") was not checked: a file of the module has a syntax error',
                        code=DiagnosticCode.NOT_CHECKED,
                    )
                continue
            if path in evaluation.loaded_modules:
                continue  # read from .terraform/modules, where `terraform init` put it
            self.diagnostic(
                "info",
                file,
                line,
                f'{shown} (source "{source}") was not checked: remote module sources are not '
                "downloaded; run terraform init to check it",
                code=DiagnosticCode.NOT_CHECKED,
            )

    def _uncreated_blocks(
        self, evaluation: Evaluation, resources: list, root_names: list[str], tree: dict[str, list[gates.Block]]
    ) -> None:
        """A resource or module block that gave no instance (``count = 0``, a ``for_each``
        tfparse could not evaluate) is not in the model: say so, rather than never check it.
        The blocks are those ``gates.module_tree`` found (each file is scanned once); a file
        outside that tree (a module under ``.terraform/modules``) is scanned here."""
        created = {(r.location.file, r.location.start_line) for r in resources}
        instances = {p[: p.rindex("[") + 1] for p in evaluation.module_calls if p.endswith("]")}
        modules_of_file = {os.path.normpath(f): m for f, m in evaluation.modules_of_file.items()}
        for name in root_names:
            modules_of_file.setdefault(os.path.normpath(name), set()).add("")
        blocks_of_file: dict[str, list[gates.Block]] = {}
        for blocks in tree.values():
            for block in blocks:
                blocks_of_file.setdefault(os.path.normpath(block.relative), []).append(block)
        for filename in sorted(modules_of_file):
            source = self.files.get(filename)
            if source is None or source.is_json or source.path in self._reported_files:
                continue
            modules = sorted(modules_of_file[filename])
            blocks = blocks_of_file.get(filename)
            if blocks is None or blocks[0].source is not source:
                blocks = list(gates.top_level_blocks(source, filename))
            for block in blocks:
                line, kind, labels = block.line, block.kind, block.labels
                if kind == "module":
                    if len(labels) != 1:
                        continue
                    calls = [f"{m}.module.{labels[0]}" if m else f"module.{labels[0]}" for m in modules]
                    if any(c in evaluation.module_calls or f"{c}[" in instances for c in calls):
                        continue
                    if (source.path, line) in self._judged_calls:
                        continue
                    address = _without_keys(calls[0])
                else:
                    if len(labels) != 2 or (source.path, line) in created:
                        continue
                    address = ("data." if kind == "data" else "") + ".".join(labels)
                    if modules[0]:
                        address = f"{_without_keys(modules[0])}.{address}"
                why = "it was not evaluated"
                if block.gate is not None:
                    meta_arg, item = block.gate, block.gate_item
                    text = " ".join(source.source_text(item).split())
                    why = f"{meta_arg} = {text} gives no instance with the input values of this scan"
                    if kind == "resource":
                        inputs = evaluation.inputs_of_expression(modules[0], source.expression(item))
                        module = _without_keys(modules[0]) if modules[0] else ""
                        self._record_uncreated(labels[0], address, module, source.path, line, f"{meta_arg} = {text}", inputs)
                self.diagnostic("info", source.path, line, f"{address} was not checked: {why}", code=DiagnosticCode.NOT_CHECKED)

    def _record_uncreated(
        self, type_: str, address: str, module: str, file: str, line: int, meta: str, inputs: tuple
    ) -> None:
        """Keep a resource block that gave no instance, so that rules about the whole scope
        can say which input would create it (a trail behind ``count = var.enabled ? 1 : 0``)."""
        self.model.uncreated.append(
            Resource(
                type=type_,
                address=address,
                attributes={},
                location=Location(file, line, line),
                source_format=TERRAFORM,
                condition=Condition(meta, False, inputs),
                module=module,
                unit=self.directory,
            )
        )

    def _dropped_files(self, evaluation: Evaluation, root_names: list[str]) -> None:
        """Find syntax errors in files tfparse silently left out.

        With ``stop_on_hcl_error=False`` (after a first error) every broken root file is left
        out; a broken file of a local child module is left out even with ``True``. A file
        that should have given blocks but gave none is parsed alone to get its error.
        """
        present = {os.path.normpath(f) for f in evaluation.filenames}
        candidates: list[str] = [n for n in root_names if n not in present]
        child_dirs: set[str] = set()
        for block in evaluation.module_calls.values():
            source = block.get("source")
            filename = (block.get("__tfmeta") or {}).get("filename", "")
            if isinstance(source, str) and _LOCAL_SOURCE.match(source):
                child_dirs.add(os.path.normpath(os.path.join(os.path.dirname(filename), source)))
        for child in sorted(child_dirs):
            full = os.path.join(self.directory, child)
            try:
                entries = sorted(os.listdir(full))
            except OSError:
                continue
            for name in entries:
                relative = os.path.normpath(os.path.join(child, name))
                if is_terraform_file(name) and relative not in present and relative not in candidates:
                    if os.path.isfile(os.path.join(full, name)):
                        candidates.append(relative)
        for relative in candidates:
            path = self.files.path_of(relative)
            if path in self._reported_files:
                continue
            source = self.files.get(relative)
            if source is None or "{" not in source.masked:
                continue  # empty or comments only
            self._parse_alone(relative, source)

    def _parse_alone(self, relative: str, source: SourceFile) -> None:
        tmp = _temporary_directory("kds-iac-check-")
        try:
            name = os.path.basename(relative)
            capped = gates.large_counts({".": list(gates.top_level_blocks(source, relative))})
            if capped:  # only its syntax is wanted: a count of a million would take the time limit
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as handle:
                    handle.write(gates.rewrites_of(capped)[relative])
            else:
                shutil.copyfile(source.path, os.path.join(tmp, name))  # the bytes: encoding errors too
            try:
                self._tfparse(tmp, [], stop=True)
            except tfparse_worker.WorkerFailure as failure:  # left out of the module, and unreadable alone
                self.diagnostic("error", source.path, 0, f"{failure}; {relative} not checked", code=DiagnosticCode.EVALUATION)
                return
            except Exception as error:
                message = str(error)
                if message.startswith(_ERROR_PREFIX):
                    message = message[len(_ERROR_PREFIX) :]
                match = _HCL_ERROR.match(message.strip())
                if match and match.group("file") == name:
                    message = message.replace(name, relative, 1)
                self._report(message, default_file=source.path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _clean(message: str) -> str:
    message = " ".join(message.split())
    more = _MORE_ERRORS.search(message)
    if more:
        message = message[: more.start()].rstrip(" .,") + f" (and {more.group(1)} more error(s) in this file)"
    summary, sep, detail = message.partition("; ")
    return f"{summary}: {detail}" if sep else message


def _cli_value(text: str) -> Any:
    """A ``-var`` value: text, or a list/map written as JSON (Terraform takes HCL there)."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return text


def _without_keys(path: str) -> str:
    out = []
    rest = path
    while rest:
        module, own = split_module_path(rest)
        out.append(f"module.{call_name(rest)}")
        rest = module
    return ".".join(reversed(out))


__all__ = ["TFPARSE_TIMEOUT_SECONDS", "load_module"]
