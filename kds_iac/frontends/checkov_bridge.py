"""What the checkov checks share: which checks exist, the scope, one engine run, matching.

The checks in ``kds_iac/frontends/checkov_checks/`` never re-implement a rule. For each
resource checkov asks about, they

1. recover the **scope**: the directory checkov was given with ``-d`` (the file's directory
   for ``-f``), from checkov's own data (see ``recover_scope``);
2. run **the same engine as the CLI** (``kds_iac.engine.scan``) on that directory, once per
   scope and checkov run: checkov runs each framework in a process of its own, and these
   share the result through a store of the run (``scope_result``);
3. **match** the resource to the engine's findings, ``ScanResult.findings`` and
   ``ScanResult.suppressed`` alike since checkov applies skip comments itself: by file and
   Terraform address (checkov's ``__address__`` and tfparse's ``module.x.aws_y.z["k"]`` are
   the same text) or by file and CloudFormation logical id (``evaluate``).

This module imports neither checkov nor the rules at import time, so it stays cheap to
import and can be tested without checkov.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Mapping, Optional, Sequence

from kds_iac.model import CLOUDFORMATION, TERRAFORM
from kds_iac.rules.base import Finding, Rule

LOG = logging.getLogger("kds_iac.checkov")


_TERRAFORM_TYPE = re.compile(r"^aws_[a-z0-9_]+$")
# AWS::Service::Resource, and custom resources CDK synthesizes (Custom::CDKBucketDeployment)
_CLOUDFORMATION_TYPE = re.compile(r"^(?:[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+|Custom::[A-Za-z0-9_@-]+)$")
_PROVIDER_TYPE = re.compile(r"^provider\.([a-z0-9-]+)$")
# checkov's provider address: [module.m.]<provider name>.<alias or "default">. Provider
# names have no "_", resource types always do: a resource address never matches.
# The module prefix is read one segment at a time (a regex repeating the segment, whose key
# can be read two ways, backtracked exponentially over a long prefix).
_CHECKOV_MODULE_SEGMENT = re.compile(r'module\.[A-Za-z0-9_-]+(?:\[(?:"[^"]*"|[^\]]*)\])?\.')
_CHECKOV_PROVIDER = re.compile(r"([a-z0-9-]+)\.([A-Za-z0-9_-]+)")

FAILED = "FAILED"
PASSED = "PASSED"
UNKNOWN = "UNKNOWN"


# --------------------------------------------------------------------------- which checks


@dataclass(frozen=True)
class CheckSpec:
    """Everything one checkov check needs to know about its rule, for one framework."""

    rule: Rule
    framework: str  # TERRAFORM or CLOUDFORMATION
    resource_types: tuple[str, ...]
    category: str  # a CheckCategories member name

    @property
    def guideline(self) -> str:
        return self.rule.help_uri


def resource_types_for(rule: Rule, framework: str) -> tuple[str, ...]:
    """The rule's resource types that belong to ``framework`` (lowercase aws_* or AWS::...)."""
    if framework not in rule.formats:
        return ()
    pattern = _TERRAFORM_TYPE if framework == TERRAFORM else _CLOUDFORMATION_TYPE
    return tuple(t for t in rule.resource_types if pattern.match(t))


def provider_names_for(rule: Rule) -> tuple[str, ...]:
    """Terraform providers whose blocks the rule reports on (``provider.aws`` -> ``aws``).

    checkov checks provider blocks with provider checks, not resource checks: a rule with
    such types gets one of those too, under the same id.
    """
    if TERRAFORM not in rule.formats:
        return ()
    return tuple(m.group(1) for m in (_PROVIDER_TYPE.match(t) for t in rule.resource_types) if m)


def provider_check_specs() -> list[CheckSpec]:
    """One spec per rule that reports on Terraform provider blocks (types: provider names)."""
    from kds_iac import rules

    specs = []
    for module in rules.all_rules():
        names = provider_names_for(module.rule)
        if names:
            specs.append(CheckSpec(module.rule, TERRAFORM, names, module.rule.category))
    return specs


def provider_address(checkov_address: str) -> str:
    """checkov's address of a provider block as the engine's.

    ``aws.default`` -> ``provider.aws``; ``aws.west`` -> ``provider.aws.west``;
    ``module.m.aws.inner`` -> ``module.m.provider.aws.inner``.
    """
    ends = [0]  # where each module segment of the prefix ends
    while True:
        segment = _CHECKOV_MODULE_SEGMENT.match(checkov_address, ends[-1])
        if not segment:
            break
        ends.append(segment.end())
    for end in reversed(ends):  # the longest prefix after which a provider name follows
        match = _CHECKOV_PROVIDER.fullmatch(checkov_address, end)
        if match:
            name, alias = match.groups()
            own = f"provider.{name}" if alias == "default" else f"provider.{name}.{alias}"
            return f"{checkov_address[:end]}{own}"
    return checkov_address


def check_specs(framework: str) -> list[CheckSpec]:
    """One spec per rule that has resource types in ``framework``, in rule order."""
    from kds_iac import rules  # attribute access, so a test may swap all_rules()

    specs = []
    for module in rules.all_rules():
        types = resource_types_for(module.rule, framework)
        if types:
            specs.append(CheckSpec(module.rule, framework, types, module.rule.category))
    return specs


# --------------------------------------------------------------------------- the scope


@dataclass(frozen=True)
class Located:
    """Where checkov's resource lives: the scope root and the file, both absolute."""

    root: str
    file: str
    caller_root: Optional[str] = None  # Terraform: the root module that called this module instance
    how: str = ""  # which evidence gave the scope (for logs and tests)


def recover_scope(
    framework: str,
    scanned_file: str,
    conf: Mapping[str, Any],
    graph: Any = None,
    frame: Optional[FrameType] = None,
) -> Optional[Located]:
    """Find the scope root and the absolute file of the resource checkov is checking.

    ``scanned_file`` is what checkov hands to ``run()``: ``"/" + the path relative to the
    root`` (``/sub/main.tf``), or relative to the working directory for ``-f``.
    Evidence, in order:

    - checkov's runner frames: ``root_folder`` and the file's path (``full_file_path`` in
      the Terraform runners' ``run_block``, ``file_abs_path`` in the CloudFormation runner's
      ``check_definitions``), then the runner's ``run(root_folder, ..., files)``: ``-f``
      when ``files`` is set (the Terraform runner then derives ``root_folder`` from the
      files' common prefix; the CloudFormation runner leaves it ``None``). This is the only
      evidence that tells ``-f /abs/t.yaml`` from ``-d /abs`` for CloudFormation, that
      locates a ``.tf.json`` resource, and that names the root module calling a module.
    - Terraform: the graph node with the same ``__address__``, whose ``file_path_`` is
      absolute; CloudFormation: ``Properties.__file__`` (the path as the user gave it; a
      resource without ``Properties`` has none). Stripping ``scanned_file`` gives the root.
    """
    located = None
    if framework != TERRAFORM and not os.environ.get(NO_FRAMES_ENV):
        served = serverless_context(frame if frame is not None else sys._getframe(1))
        if served is not None:  # a resource of a service's resources, in checkov's serverless runner
            return served.located
    if not os.environ.get(NO_FRAMES_ENV):
        located = _scope_from_frames(framework, scanned_file, frame)
    if located is None:
        if framework == TERRAFORM:
            located = _terraform_scope_from_graph(scanned_file, conf, graph)
        else:
            located = _cloudformation_scope_from_conf(scanned_file, conf)
            if located is None:  # no Properties, so no __file__: another resource of the file had one
                located = _CFN_FILES.get(scanned_file)
            else:
                _CFN_FILES[scanned_file] = located
    return located


NO_FRAMES_ENV = "KDS_IAC_CHECKOV_NO_FRAMES"  # tests set it to prove the fallback evidence alone works
_CFN_FILES: dict[str, Located] = {}


def _scope_from_frames(framework: str, scanned_file: str, frame: Optional[FrameType]) -> Optional[Located]:
    found: Optional[tuple[Any, str, Optional[str]]] = None  # (root_folder, file, caller root)
    current = frame if frame is not None else sys._getframe(1)
    depth = 0
    while current is not None and depth < 60:
        if not _declares(current, "root_folder"):  # most frames: skip before f_locals builds a dict
            current = current.f_back
            depth += 1
            continue
        local = current.f_locals
        if found is None and "root_folder" in local:
            path: Any = None
            caller_root = None
            if framework == TERRAFORM and "full_file_path" in local:
                key = local.get("full_file_path")  # a TFDefinitionKey; a str in the terraform_json runner
                path = key if isinstance(key, str) else getattr(key, "file_path", None)
                caller_root = _terraform_caller_root(getattr(key, "tf_source_modules", None))
            elif framework == CLOUDFORMATION and "file_abs_path" in local:
                path = local.get("file_abs_path")
            if isinstance(path, str) and path:
                found = (local.get("root_folder"), _absolute(path), caller_root)
        elif found is not None and "root_folder" in local and "files" in local:
            # the runner's run(root_folder, external_checks_dir, files, ...): with -f the
            # Terraform runner derives root_folder from the files' common prefix
            if local.get("files"):
                return Located(os.path.dirname(found[1]), found[1], found[2], how="checkov runner (-f)")
            break
        current = current.f_back
        depth += 1
    if found is None:
        return None
    root_folder, file, caller_root = found
    if root_folder is None:
        return Located(os.path.dirname(file), file, caller_root, how="checkov runner (-f)")
    if isinstance(root_folder, str):
        root = _absolute(root_folder)
        if _relative_key(file, root) == _relative_key(scanned_file, ""):
            return Located(root, file, caller_root, how="checkov runner (-d)")
        LOG.debug("kds-iac: runner frame root %s does not hold %s", root_folder, scanned_file)
    return None


def _declares(frame: FrameType, *names: str) -> bool:
    """Whether the frame's function has one of these local variables. Reading ``f_locals``
    copies every local of the frame into a dict; checkov calls each check once per resource,
    and the walk passes some twenty frames, so frames are first told apart by their code."""
    code = frame.f_code
    return any(name in code.co_varnames or name in code.co_cellvars for name in names)


def _terraform_caller_root(module: Any) -> Optional[str]:
    """The directory of the root module at the top of a chain of checkov TFModule calls."""
    outermost = None
    seen = 0
    while module is not None and seen < 50:
        outermost = module
        module = getattr(module, "nested_tf_module", None)
        seen += 1
    path = getattr(outermost, "path", None)
    return os.path.dirname(_absolute(path)) if isinstance(path, str) and path else None


_GRAPH_INDEX: dict[int, tuple[Any, dict[str, list[str]]]] = {}


def _graph_files(graph: Any) -> dict[str, list[str]]:
    """``__address__`` -> ``file_path_`` of the graph's resource nodes (built once per graph)."""
    cached = _GRAPH_INDEX.get(id(graph))
    if cached is not None and cached[0] is graph:
        return cached[1]
    index: dict[str, list[str]] = {}
    try:
        nodes = list(graph.nodes(data=True))  # networkx: (id, attributes)
    except TypeError:
        nodes = list(graph.nodes())  # rustworkx (checkov's default): payloads are (index, attributes)
    for node in nodes:
        attributes = node[1] if isinstance(node, tuple) and len(node) == 2 else node
        if not isinstance(attributes, Mapping) or attributes.get("block_type_") not in ("resource", "provider"):
            continue
        address, path = attributes.get("__address__"), attributes.get("file_path_")
        if isinstance(address, str) and isinstance(path, str):
            index.setdefault(address, []).append(path)
    _GRAPH_INDEX.clear()  # one graph at a time is enough; don't keep old graphs alive
    _GRAPH_INDEX[id(graph)] = (graph, index)
    return index


def _terraform_scope_from_graph(scanned_file: str, conf: Mapping[str, Any], graph: Any) -> Optional[Located]:
    address = conf.get("__address__")
    if graph is None or not isinstance(address, str):
        return None
    for path in _graph_files(graph).get(address, []):
        root = strip_scanned_suffix(path, scanned_file)
        if root:
            return Located(_absolute(root), _absolute(path), how="checkov graph file_path_")
    return None


def _cloudformation_scope_from_conf(scanned_file: str, conf: Mapping[str, Any]) -> Optional[Located]:
    path = None
    for section in ("Properties", "Metadata"):
        value = conf.get(section)
        if isinstance(value, Mapping) and isinstance(value.get("__file__"), str):
            path = value["__file__"]
            break
    if path is None:
        return None
    root = strip_scanned_suffix(path, scanned_file)
    if root is None:
        return None
    file = _absolute(path)
    if root == "":  # -f: checkov's path is the file as given, no root in front of it
        return Located(os.path.dirname(file), file, how="__file__ (-f)")
    return Located(_absolute(root), file, how="__file__ (-d)")


def strip_scanned_suffix(path: str, scanned_file: str) -> Optional[str]:
    """``path`` minus checkov's ``scanned_file``: the root; ``""`` if nothing precedes it.

    ``("proj/sub/t.yaml", "/sub/t.yaml")`` -> ``"proj"``; ``("./t.yaml", "/t.yaml")`` -> ``"."``;
    ``("proj/t.yaml", "/proj/t.yaml")`` -> ``""`` (checkov's ``-f``); ``None`` when ``path``
    does not end with ``scanned_file``.
    """
    relative = os.path.normpath(scanned_file.lstrip("/\\"))
    normalized = os.path.normpath(path)
    if path.startswith("." + os.sep) and normalized == relative:
        return "."
    if normalized in (relative, os.sep + relative):
        return ""
    if normalized.endswith(os.sep + relative):
        return normalized[: -len(relative) - 1]
    return None


# --------------------------------------------------------------------------- one engine run


@dataclass(frozen=True)
class Hit:
    """What matching needs of one finding: its message and the unit (root module, template)
    it was evaluated for. Plain text, so runner processes can share it as JSON."""

    message: str
    unit: str = ""


@dataclass
class ScopeResult:
    """The engine's answer for one scope, indexed for matching."""

    root: str
    by_key: dict[tuple[str, str, str], list[Hit]] = field(default_factory=dict)  # (checkov id, file, address)
    files: set[str] = field(default_factory=set)  # every file the engine read
    broken: dict[str, str] = field(default_factory=dict)  # file -> error diagnostic
    error: Optional[str] = None  # why the engine failed on the scope

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "hits": [[*key, [[h.message, h.unit] for h in hits]] for key, hits in self.by_key.items()],
            "files": sorted(self.files),
            "broken": self.broken,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ScopeResult":
        by_key = {(c, f, a): [Hit(m, u) for m, u in hits] for c, f, a, hits in data["hits"]}
        return cls(data["root"], by_key, set(data["files"]), dict(data["broken"]), data["error"])


_RESULTS: dict[str, ScopeResult] = {}
_LOCK = threading.Lock()
RUNS: list[str] = []  # roots the engine ran on in this process, in order (tests read it)
NO_SHARE_ENV = "KDS_IAC_CHECKOV_NO_SHARE"  # each runner process runs the engine itself (tests compare)


def scope_result(root: str) -> ScopeResult:
    """The engine's result for ``root``: computed once per checkov run, not once per process.

    checkov forks one process per framework runner (Terraform, CloudFormation, Serverless, ...)
    and each asks about the same scope; the first to ask runs the engine and leaves the result
    in the run's store (``_run_store``), the others wait for it and read it. Within a process
    the result is kept in memory."""
    key = real_path(root)
    cached = _RESULTS.get(key)  # a dict read is atomic: the lock is for the first to compute
    if cached is not None:
        return cached
    with _LOCK:
        cached = _RESULTS.get(key)
        if cached is None:
            store = None if os.environ.get(NO_SHARE_ENV) else _run_store()
            cached = _shared_result(key, store) if store is not None else _run_engine(key)
            _RESULTS[key] = cached
        return cached


def clear_cache() -> None:
    global _STORE, _ENTITY
    with _LOCK:
        _ENTITY = ()
        _RESULTS.clear()
        _GRAPH_INDEX.clear()
        _CFN_FILES.clear()
        _REAL.clear()
        RUNS.clear()
        _STORE = _UNSET


def _run_engine(root: str) -> ScopeResult:
    from kds_iac import engine

    RUNS.append(root)
    result = ScopeResult(root=root)
    try:
        scanned = engine.scan([root], config=_scope_config(root), one_finding_per_place=False)
    except Exception as error:  # report it on every resource rather than pass them all
        LOG.error("kds-iac: the engine failed on scope %s: %s", root, error, exc_info=True)
        result.error = f"{type(error).__name__}: {error}"
        return result
    for path in scanned.files:
        result.files.add(_normalized(path, root))
    for diagnostic in scanned.diagnostics:
        if diagnostic.level == "error":
            file = _normalized(diagnostic.file, root)
            result.broken.setdefault(file, f"{diagnostic.file}:{diagnostic.line}: {diagnostic.message}")
    for finding in list(scanned.findings) + list(scanned.suppressed):
        file = _normalized(finding.location.file, root, finding.resource.unit)
        result.files.add(file)
        hit = Hit(finding.message, finding.resource.unit or "")
        key = (finding.rule.checkov_id, file, finding.address)
        result.by_key.setdefault(key, []).append(hit)
        service = _service_file(finding, root)
        if service is not None and service != file:  # checkov names a fragment's resources by the service file
            result.by_key.setdefault((finding.rule.checkov_id, service, finding.address), []).append(hit)
    count = len(scanned.findings) + len(scanned.suppressed)
    LOG.info(
        "kds-iac: scope %s: %d files, %d findings (%d suppressed by comments)",
        root, len(scanned.files), count, len(scanned.suppressed),
    )
    return result


def _scope_config(root: str):
    """The project's audit settings for this scope (an organization trail declared elsewhere).

    Rule selection stays checkov's (``--check``, ``--skip-check``, skip comments); a settings
    file that cannot be used is logged and the defaults apply."""
    from kds_iac.config import Config, discovered_config

    settings, _, error = discovered_config([root], root)
    if error is not None:
        LOG.warning("kds-iac: settings ignored: %s", error)
    return Config(audit=settings.audit, source=settings.source)


# --------------------------------------------------------------------------- sharing across checkov's runner processes

_UNSET = object()
_STORE: Any = _UNSET  # this process's run store: a directory, None (no sharing) or _UNSET
_RUN_DIR = re.compile(r"^(\d+)-(\d+)$")


def _store_root() -> str:
    """Where the run stores of this user live (tests point it elsewhere)."""
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"kds-iac-checkov-{os.getuid()}")


def _run_store() -> Optional[str]:
    """The directory the runner processes of this checkov run share results in, or None.

    The run is the process that started the runners: ``multiprocessing.parent_process()`` in a
    runner (checkov's default, fork, and spawn), named by its pid and start time so a reused
    pid is another run. None when the runners run in this process (one runner, or checkov's
    thread and sequential modes: memory is shared already), without ``/proc`` or ``fcntl``,
    or when the store directory is not this user's own."""
    global _STORE
    if _STORE is _UNSET:
        _STORE = _open_run_store()
    return _STORE


def _open_run_store() -> Optional[str]:
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return None
    try:
        import fcntl  # noqa: F401  (POSIX only; _shared_result locks with it)
    except ImportError:
        return None
    started = _process_start(parent.pid)
    if started is None:
        return None
    root = _store_root()
    try:
        os.makedirs(root, mode=0o700, exist_ok=True)
        info = os.lstat(root)
        import stat

        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            LOG.warning("kds-iac: %s is not a private directory of this user: results are not shared", root)
            return None
        run = os.path.join(root, f"{parent.pid}-{started}")
        os.makedirs(run, mode=0o700, exist_ok=True)
    except OSError as error:
        LOG.warning("kds-iac: cannot share results between checkov runners: %s", error)
        return None
    _remove_finished_runs(root, run)
    return run


def _process_start(pid: int) -> Optional[str]:
    """A process's start time in clock ticks since boot (Linux ``/proc``), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()  # field 22, counted after "pid (comm)"
    except (OSError, IndexError):
        return None


def _remove_finished_runs(root: str, keep: str) -> None:
    """Stores of checkov runs whose process has ended (nobody removes a store at the end of its
    run: checkov's main process never runs our code)."""
    import shutil

    for name in os.listdir(root):
        match = _RUN_DIR.match(name)
        path = os.path.join(root, name)
        if match and path != keep and _process_start(int(match.group(1))) != match.group(2):
            shutil.rmtree(path, ignore_errors=True)


def _shared_result(root: str, store: str) -> ScopeResult:
    """The scope's result from the run's store; the first process to ask computes and writes
    it while holding the scope's lock, so the others wait instead of running the engine too.
    A process that dies while computing releases the lock, and the next one computes."""
    import fcntl
    import hashlib
    import json

    base = os.path.join(store, hashlib.sha256(root.encode("utf-8", "surrogateescape")).hexdigest()[:32])
    with open(base + ".lock", "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                with open(base + ".json", encoding="utf-8") as handle:
                    result = ScopeResult.from_json(json.load(handle))
                if result.root == root:
                    LOG.info("kds-iac: engine result for %s shared by another checkov runner", root)
                    return result
            except FileNotFoundError:
                pass
            except (OSError, ValueError, KeyError, TypeError) as error:
                LOG.warning("kds-iac: shared result for %s unreadable (%s): running the engine", root, error)
            result = _run_engine(root)
            partial = f"{base}.{os.getpid()}.partial"
            try:
                with open(partial, "w", encoding="utf-8", errors="surrogateescape") as handle:
                    json.dump(result.to_json(), handle)
                os.replace(partial, base + ".json")
            except OSError as error:
                LOG.warning("kds-iac: cannot share the result for %s: %s", root, error)
            return result
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Verdict:
    status: str  # FAILED, PASSED or UNKNOWN
    messages: tuple[str, ...] = ()
    findings: tuple[Hit, ...] = ()


def evaluate(rule: Rule, located: Located, address: str) -> Verdict:
    """FAILED if the engine reported ``rule`` on this resource (suppressed or not), else PASSED.

    UNKNOWN when the engine could not have judged the resource: it failed, did not read the
    file, or could not parse it. checkov drops UNKNOWN from its report, so each is logged.
    """
    result = scope_result(located.root)
    file = real_path(located.file)
    if result.error is not None:
        raise RuntimeError(f"kds-iac engine failed on {located.root}: {result.error}")
    findings = result.by_key.get((rule.checkov_id, file, address), [])
    if located.caller_root and findings:
        findings = _same_root_module(findings, located.caller_root, file)
    if findings:
        messages = tuple(dict.fromkeys(f.message for f in findings))
        return Verdict(FAILED, messages, tuple(findings))
    if file in result.broken:
        LOG.warning("kds-iac: %s not judged on %s: %s", rule.checkov_id, address, result.broken[file])
        return Verdict(UNKNOWN, (result.broken[file],))
    if file not in result.files:
        LOG.warning("kds-iac: %s not judged on %s: the engine did not read %s", rule.checkov_id, address, file)
        return Verdict(UNKNOWN)
    return Verdict(PASSED)


def _same_root_module(findings: Sequence[Any], caller_root: str, file: str) -> list[Any]:
    """Keep the findings of the root module that called this module instance.

    Two root modules (``envs/dev``, ``envs/prod``) may call the same module file under the
    same address; checkov checks each call separately (its runner knows the caller), and the
    engine's ``Resource.unit`` names the root module a resource was evaluated for. When the
    units say nothing about callers (unset, or the module's own directory), keep them all.
    """
    wanted = os.path.realpath(caller_root)
    units = [_unit_dir(f.unit if isinstance(f, Hit) else f.resource.unit) for f in findings]
    same = [f for f, unit in zip(findings, units) if unit == wanted]
    if same:
        return same
    uninformative = {None, os.path.dirname(file)}
    if all(unit in uninformative for unit in units):
        return list(findings)
    return []  # every finding belongs to another root module's call


def _unit_dir(unit: str) -> Optional[str]:
    if not unit:
        return None
    path = os.path.realpath(unit)
    return path if os.path.isdir(path) else os.path.dirname(path)


# --------------------------------------------------------------------------- paths


_REAL: dict[str, str] = {}


def real_path(path: str) -> str:
    """``os.path.realpath``, remembered for the run: each check asks it of its resource's file
    and scope (some system calls a path component), and the tree does not move under checkov."""
    real = _REAL.get(path)
    if real is None:
        real = _REAL[path] = os.path.realpath(path)
    return real


def _absolute(path: str) -> str:
    return os.path.abspath(path)


def _normalized(path: str, root: str, unit: str = "") -> str:
    """The real absolute path of a file the engine names (absolute, or relative to cwd/root/unit)."""
    if os.path.isabs(path):
        return os.path.realpath(path)
    candidates = [os.path.abspath(path), os.path.join(root, path)]
    if unit:
        base = unit if os.path.isdir(unit) else os.path.dirname(unit)
        candidates.append(os.path.join(base, path))
    for candidate in candidates:
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    return os.path.realpath(candidates[0])


def _relative_key(path: str, root: str) -> str:
    if not root:
        return os.path.normpath(path.lstrip("/\\"))
    return os.path.normpath(os.path.relpath(path, root))


# --------------------------------------------------------------------------- Serverless Framework


@dataclass(frozen=True)
class ServerlessContext:
    """What checkov's serverless runner is checking: the service file (and scope) and, for a
    function check, the function's name and whether it runs with the framework's role."""

    located: Located
    function: Optional[str] = None
    shared_role: bool = False


def serverless_context(frame: Optional[FrameType]) -> Optional[ServerlessContext]:
    """Read checkov's serverless runner frames: ``sls_file`` and the runner's ``root_folder``;
    ``item_name`` in its functions section. ``None`` outside that runner."""
    current, depth = frame, 0
    function: Optional[str] = None
    while current is not None and depth < 40:
        if not _declares(current, "sls_file", "item_name"):  # skip before f_locals builds a dict
            current = current.f_back
            depth += 1
            continue
        local = current.f_locals
        runner = local.get("self")
        if function is None and isinstance(local.get("item_name"), str) and local.get("token") == "functions":
            function = local["item_name"]
        if "sls_file" in local and getattr(runner, "check_type", None) == "serverless":
            file = _absolute(str(local["sls_file"]))
            root_folder = getattr(runner, "root_folder", None)
            root = _absolute(root_folder) if isinstance(root_folder, str) and root_folder else os.path.dirname(file)
            located = Located(root, file, how="checkov serverless runner")
            data = local.get("sls_file_data")
            shared = False
            if function is not None and isinstance(data, Mapping):
                shared = _uses_framework_role(data, function)
            return ServerlessContext(located, function, shared)
        current = current.f_back
        depth += 1
    return None


def _uses_framework_role(service: Mapping[str, Any], function: str) -> bool:
    """Whether a function runs with the role the framework generates (no role of its own, no
    ``provider.role``, no ``provider.iam.role`` given by name or ARN)."""
    functions = service.get("functions")
    conf = functions.get(function) if isinstance(functions, Mapping) else None
    if isinstance(conf, Mapping) and conf.get("role") is not None:
        return False
    provider = service.get("provider")
    if not isinstance(provider, Mapping):
        return True
    iam = provider.get("iam")
    role = iam.get("role") if isinstance(iam, Mapping) else None
    if role is not None and not (isinstance(role, Mapping) and not any(str(k).startswith(("Fn::", "Ref")) for k in role)):
        return False
    return provider.get("role") is None


# What the framework generates from a service's functions and provider sections.
SERVERLESS_FRAMEWORK_TYPES = (
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping",
)


def serverless_function_specs() -> list[CheckSpec]:
    """One spec per rule with serverless examples whose findings can sit on what the framework
    generates (its role and statements, functions, stream events): checkov's serverless runner
    asks external checks about functions only, so these report on the functions."""
    from kds_iac import rules

    specs = []
    for module in rules.all_rules():
        rule = module.rule
        if "serverless" in rule.formats and any(t in SERVERLESS_FRAMEWORK_TYPES for t in rule.resource_types):
            specs.append(CheckSpec(rule, "serverless", ("serverless_aws",), rule.category))
    return specs


def judge_located(check: Any, context: tuple[Located, str]) -> Verdict:
    """``evaluate`` of ``check``'s rule on the resource ``context`` names (its scope, and its
    address or logical id): the judgement of the Terraform and CloudFormation checks."""
    return evaluate(check.spec.rule, *context)


def evaluate_function(rule: Rule, context: ServerlessContext) -> Verdict:
    """FAILED if the engine reported ``rule`` on the function (``functions.NAME`` or one of its
    events) or, for a function that runs with the framework's role, on that role or one of its
    statements (``provider.*``): checkov's serverless checks judge the role through each
    function, as the framework shares it."""
    located, name = context.located, context.function
    result = scope_result(located.root)
    if result.error is not None:
        raise RuntimeError(f"kds-iac engine failed on {located.root}: {result.error}")
    file = real_path(located.file)
    own = f"functions.{name}"
    findings: list[Hit] = []
    for (check_id, found_file, address), found in result.by_key.items():
        if check_id != rule.checkov_id or found_file != file:
            continue
        if address == own or address.startswith(own + ".") or (context.shared_role and address.startswith("provider.")):
            findings.extend(found)
    if findings:
        return Verdict(FAILED, tuple(dict.fromkeys(f.message for f in findings)), tuple(findings))
    if file in result.broken:
        return Verdict(UNKNOWN, (result.broken[file],))
    if file not in result.files:
        return Verdict(UNKNOWN)
    return Verdict(PASSED)


def _service_file(finding: Finding, root: str) -> Optional[str]:
    """The service file a finding's resource was loaded from, when that is a file (a
    Serverless Framework service: the resource may be written in a fragment it includes)."""
    unit = finding.resource.unit
    if not unit or not unit.lower().endswith((".yml", ".yaml", ".json")):
        return None
    return _normalized(unit, root)


# --------------------------------------------------------------------------- checkov check classes


def check_class(name: str, base: type, entities: str, scan: str, locate: Any, judge: Any, module: str, doc: str) -> type:
    """A checkov check class on ``base`` whose ``scan`` method asks ``judge(check, context)``
    for a ``Verdict``, where ``context = locate(check, conf, frame)`` says which resource of
    which scope checkov is asking about: the check files of each framework differ only in
    these, so the constructor, the remembering of the scanned file and the result mapping are
    written once. ``entities`` is the keyword ``base`` takes its types by; checkov is imported
    here, not when this module is.

    checkov asks every check that takes a resource's type about it in one call of its
    registry's ``scan``; the context is found once per such call (``entity_context``), so a
    check's own cost is a lookup in the engine's findings."""
    from checkov.common.bridgecrew.severities import get_severity
    from checkov.common.models.enums import CheckCategories, CheckResult

    results = {FAILED: CheckResult.FAILED, PASSED: CheckResult.PASSED, UNKNOWN: CheckResult.UNKNOWN}

    def __init__(self: Any, spec: CheckSpec) -> None:
        self.spec = spec
        self._scanned_file = ""  # "/" + path relative to the scope root
        self._entity = ("", "")  # (type, name) as checkov gives them
        self._asking: Optional[FrameType] = None  # the frame of the registry's scan asking about the entity
        base.__init__(
            self,
            name=spec.rule.title,
            id=spec.rule.checkov_id,
            categories=[getattr(CheckCategories, spec.category, CheckCategories.GENERAL_SECURITY)],
            guideline=spec.guideline,
            **{entities: list(spec.resource_types)},
        )
        self.severity = get_severity(spec.rule.severity.name)

    def run(self: Any, scanned_file: str, entity_configuration: dict, entity_name: str, entity_type: str, skip_info: Any) -> Any:
        self._scanned_file = scanned_file
        self._entity = (entity_type, entity_name)
        caller = sys._getframe(1)  # the registry's run_check; its caller, the scan of this entity
        self._asking = caller.f_back
        try:
            return base.run(self, scanned_file, entity_configuration, entity_name, entity_type, skip_info)
        finally:
            self._asking = None

    def scan_conf(self: Any, conf: dict) -> Any:
        context = entity_context(self, conf, locate, sys._getframe(1))  # the caller's frame: where checkov keeps the scope
        verdict = judge(self, context)
        self.details.extend(verdict.messages)
        return results[verdict.status]

    return type(name, (base,), {"__init__": __init__, "run": run, scan: scan_conf, "__module__": module, "__doc__": doc})


_ENTITY: tuple = ()  # (asking frame, conf, key, context) of the entity checkov asked about last


def entity_context(check: Any, conf: Mapping[str, Any], locate: Any, frame: FrameType) -> Any:
    """``locate(check, conf, frame)``, found once per entity checkov asks about.

    checkov asks all the checks that take an entity's type in one call of its registry's
    ``scan``, with the same configuration object; while that call's frame (``check._asking``)
    lives, the frames above it, which the scope is read from, are the same. A context is reused
    only for that frame object (held, so no later frame can take its id), that configuration
    object, the same scanned file, entity and ``locate``; otherwise it is found afresh."""
    global _ENTITY
    asking = check._asking
    key = (check._scanned_file, check._entity, locate)
    memo = _ENTITY
    if asking is not None and memo and memo[0] is asking and memo[1] is conf and memo[2] == key:
        return memo[3]
    context = locate(check, conf, frame)
    if asking is not None:
        _ENTITY = (asking, conf, key, context)
    return context
