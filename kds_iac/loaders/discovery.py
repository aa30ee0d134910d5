"""Find what to load under the paths a user names.

Terraform is recognized by extension (a directory of ``.tf``/``.tf.json`` files is a module);
CloudFormation, Serverless Framework services and Terraform plan JSON by content, since
templates are named ``.yaml``, ``.json``, ``.template``, ``.tpl`` or anything else. In a
directory, a file is looked at when its extension is one that repositories use for templates
(``CANDIDATE_SUFFIXES``, or none at all), and only the first ``SNIFF_BYTES`` are read. It is
loaded only when it *claims* to be a template (``claims``): a log or a README that merely
quotes ``Type: AWS::Kinesis::Stream`` is passed over quietly, while a file that claims to be
one and cannot be read is an error. A file named on the command line is handed to its loader
on weaker evidence, so that the user hears why it is not a template. Generated and vendored
trees are skipped. Every path is normalised (``./cfn/a.yaml`` is ``cfn/a.yaml``), so every
format reports one path style.

Only regular files are read (``kds_iac.files``): a FIFO, socket or device with a name we
would read gets an info note and is left alone, since opening a FIFO blocks. A Terraform
module that holds one is not handed to the evaluator, which would open it. Content is
sniffed after decoding a UTF-16/UTF-32 byte-order mark, so such templates are recognized.
"""

from __future__ import annotations

import os
import re
from typing import Iterator, Optional, Sequence

from kds_iac.files import decode_head, kind_of, read_bytes, special_kind
from kds_iac.files import MAX_FILE_BYTES, is_terraform_file  # noqa: F401  (loaders import them from here too)
from kds_iac.loaders.blocking import refuse_blocking_modules
from kds_iac.model import Diagnostic, DiagnosticCode
from kds_iac.value import Value

SNIFF_BYTES = 64 * 1024
SKIPPED_DIRS = {".terraform", "node_modules", ".git", "__pycache__", ".venv", "venv", ".tox"}
# Extensions under which repositories keep CloudFormation templates, services and plans
# (besides none at all); within a directory, other files are not opened.
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template", ".tpl", ".cfn", ".txt")
CANDIDATE_SUFFIXES = TEMPLATE_SUFFIXES

# Loose evidence, for a file the user names: such a file reaches its loader, which says why
# it is not a template, rather than being skipped.
_CFN_MARKERS = (
    re.compile(rb"AWSTemplateFormatVersion"),
    re.compile(rb"""["']?Type["']?\s*:\s*["']?AWS::[A-Za-z0-9]+::"""),
    re.compile(rb"""["']?Transform["']?\s*:\s*["']?AWS::Serverless"""),
)
_PLAN_MARKERS = (re.compile(rb'"planned_values"\s*:'), re.compile(rb'"terraform_version"\s*:'))

# What a template claims, for a file met in a directory: the key where a template writes it,
# at the start of a line (column 0 for a bare YAML section key), or after "{" or "," (JSON,
# YAML flow style), bare or quoted with matching quotes. A line of a log or a console report
# that quotes a template ("  12 |     Type: AWS::Kinesis::Stream", or checkov's JSON
# "code_block" strings) does not.


def _key(name: str) -> bytes:
    return f"(?:\"{name}\"|'{name}'|{name})".encode()


_AFTER_BRACE = rb"[{,][ \t\r\n]*"
_CLAIM_VERSION = re.compile(rb"(?m)(?:^[ \t]*|" + _AFTER_BRACE + rb")" + _key("AWSTemplateFormatVersion") + rb"\s*:")
_CLAIM_RESOURCES = re.compile(
    rb"(?m)(?:^" + _key("Resources") + rb"|^[ \t]*(?:\"Resources\"|'Resources')|" + _AFTER_BRACE + _key("Resources") + rb")\s*:"
)
_CLAIM_TYPE = re.compile(
    rb"(?m)(?:^[ \t]*(?:-[ \t]+)?|" + _AFTER_BRACE + rb")" + _key("Type") + rb"\s*:\s*[\"']?AWS::[A-Za-z0-9]+::"
)
_CLAIM_PLAN = re.compile(rb'"planned_values"\s*:')
_CLAIM_PLAN_VERSION = re.compile(rb'"(?:format_version|terraform_version)"\s*:')


class Discovered(Value):
    __slots__ = (
        "terraform_modules", "terraform_plans", "cloudformation_templates", "diagnostics", "focus_files", "serverless_services"
    )

    def __init__(
        self,
        terraform_modules: Optional[list[str]] = None,
        terraform_plans: Optional[list[str]] = None,
        cloudformation_templates: Optional[list[str]] = None,
        diagnostics: Optional[list[Diagnostic]] = None,
        focus_files: Optional[set[str]] = None,
    ):
        self.terraform_modules = [] if terraform_modules is None else terraform_modules
        self.terraform_plans = [] if terraform_plans is None else terraform_plans
        self.cloudformation_templates = [] if cloudformation_templates is None else cloudformation_templates
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.focus_files = set() if focus_files is None else focus_files  # files named directly by the user
        self.serverless_services: list[str] = []  # Serverless Framework service files (serverless.yml...)


def discover(paths: Sequence[str]) -> Discovered:
    found = Discovered()
    modules: dict[str, None] = {}
    blocked: dict[str, str] = {}  # module directory -> a Terraform file in it that is not regular
    for raw in paths:
        path = os.path.normpath(str(raw))
        if os.path.isdir(path):
            for file in _walk(path):
                _classify(file, found, modules, explicit=False, blocked=blocked)
        elif os.path.isfile(path):
            found.focus_files.add(path)
            _classify(path, found, modules, explicit=True, blocked=blocked)
        elif special_kind(path) is not None:
            _classify(path, found, modules, explicit=True, blocked=blocked)
        else:
            found.diagnostics.append(Diagnostic("error", path, 0, "no such file or directory", code=DiagnosticCode.NOT_FOUND))
    _audit_companions(found)
    _serverless_fragments(found)
    named_dirs = {os.path.normpath(str(p)) for p in paths if os.path.isdir(str(p))}
    for module in modules:  # a named .tf file brings its directory, whose files were not walked
        if module not in blocked and module not in named_dirs:
            _blocked_siblings(module, blocked)
    called = _locally_called_modules(modules)
    found.terraform_modules = [m for m in modules if (m not in called or m in named_dirs) and m not in blocked]
    found.terraform_modules, refused = refuse_blocking_modules(found.terraform_modules, MAX_FILE_BYTES)
    found.diagnostics.extend(refused)
    for directory, file in sorted(blocked.items()):
        found.diagnostics.append(
            Diagnostic(
                "error",
                file,
                0,
                f"not a regular file ({special_kind(file) or 'special file'}): Terraform module {directory} "
                "is not checked, since reading this file would block",
                code=DiagnosticCode.NOT_READ,
            )
        )
    return found


_AUDIT_MARKERS = (b"AWS::CloudTrail::", b"aws_cloudtrail")


def _audit_companions(found: Discovered) -> None:
    """For a file named alone, the scope of rules about the whole account is its directory:
    the sibling templates and plans that define CloudTrail trails are loaded too (outside the
    focus, so nothing in them is reported), and nothing else is parsed."""
    loaded = set(found.cloudformation_templates) | set(found.terraform_plans)
    directories = sorted({os.path.dirname(f) for f in found.focus_files if not is_terraform_file(f)})
    for directory in directories:
        try:
            names = sorted(os.listdir(directory or "."))
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            if path in loaded or not name.lower().endswith(TEMPLATE_SUFFIXES) or not os.path.isfile(path):
                continue
            try:
                head = decode_head(read_bytes(path, SNIFF_BYTES))
            except OSError:  # a FIFO among the siblings included: never opened for reading
                continue
            if any(marker in head for marker in _AUDIT_MARKERS):
                _classify(path, found, {}, explicit=False)


_TFVARS_SUFFIXES = (".tfvars", ".tfvars.json")


def _auto_tfvars(name: str) -> bool:
    """Variable files the Terraform loader reads on its own."""
    return name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith((".auto.tfvars", ".auto.tfvars.json"))


# [ \t]*, not \s*, after ^: \s* runs over every following blank line from each line start
# (quadratic: 200 KB of newlines took over a minute)
_LOCAL_SOURCE = re.compile(r'^[ \t]*source[ \t]*=[ \t]*"(\.{1,2}/[^"]*)"', re.MULTILINE)


def _locally_called_modules(modules: dict[str, None]) -> set[str]:
    """Directories another found module calls with a local ``source``.

    They are evaluated through that call, with the caller's inputs and Terraform's
    ``module.NAME`` addresses; loading them again as roots would report each resource twice.
    """
    called: set[str] = set()
    for directory in modules:
        for name in os.listdir(directory):
            if not name.endswith(".tf"):
                continue
            try:
                text = decode_head(read_bytes(os.path.join(directory, name), MAX_FILE_BYTES)).decode("utf-8", "replace")
            except OSError:
                continue
            for source in _LOCAL_SOURCE.findall(text):
                target = os.path.normpath(os.path.join(directory, source))
                if target != os.path.normpath(directory):
                    called.add(target)
    return called


def _walk(root: str) -> Iterator[str]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not _skipped_dir(directory, d))
        for name in sorted(files):
            yield os.path.normpath(os.path.join(directory, name))  # "./cfn/a.yaml" -> "cfn/a.yaml"


def _skipped_dir(parent: str, name: str) -> bool:
    if name in SKIPPED_DIRS:
        return True
    # CDK copies Lambda code and nested assets next to the synthesized templates.
    return name.startswith("asset.") and os.path.basename(parent) == "cdk.out"


def _blocked_siblings(directory: str, blocked: dict[str, str]) -> None:
    """Record the first non-regular Terraform file of ``directory``: evaluating the module
    would open it and block."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if not (is_terraform_file(entry.name) or _auto_tfvars(entry.name)):
            continue
        try:
            special = kind_of(entry.stat().st_mode)
        except OSError:
            continue
        if special is not None:
            blocked.setdefault(directory, entry.path)
            return


def _classify(
    path: str, found: Discovered, modules: dict[str, None], explicit: bool, blocked: Optional[dict[str, str]] = None
) -> None:
    name = os.path.basename(path)
    terraform = is_terraform_file(name)
    bare = "." not in name  # no extension: sniffed in a directory, but a special file is left alone
    if not terraform and not explicit and not bare and not name.lower().endswith(TEMPLATE_SUFFIXES + _TFVARS_SUFFIXES):
        return
    try:
        status = os.stat(path)
    except OSError as error:
        found.diagnostics.append(Diagnostic("error", path, 0, f"cannot read file: {error.strerror}", code=DiagnosticCode.NOT_READ))
        return
    special = kind_of(status.st_mode)
    if special is not None and bare and not explicit:
        return
    if special is not None:
        if (terraform or _auto_tfvars(name)) and blocked is not None:
            blocked.setdefault(os.path.dirname(path) or ".", path)  # reported with the module
        else:
            found.diagnostics.append(Diagnostic("info", path, 0, f"not a regular file ({special}); not read", code=DiagnosticCode.NOT_READ))
        return
    if not terraform and not explicit and not bare and not name.lower().endswith(TEMPLATE_SUFFIXES):
        return
    if terraform:
        modules.setdefault(os.path.dirname(path) or ".", None)  # tfparse names a file that is not UTF-8
        return
    size = status.st_size
    try:
        raw = read_bytes(path, SNIFF_BYTES)
    except OSError as error:
        level = "info" if getattr(error, "kind", None) else "error"  # swapped for a FIFO since the stat
        found.diagnostics.append(Diagnostic(level, path, 0, f"cannot read file: {error.strerror}", code=DiagnosticCode.NOT_READ))
        return
    head = decode_head(raw)
    kind = _sniff(head) if explicit else claims(head)
    if _is_serverless(name, head):
        kind = "serverless"
    if kind is None:
        if explicit:
            found.diagnostics.append(
                Diagnostic("error", path, 1, "not a Terraform file, CloudFormation template or Terraform plan JSON",
                           code=DiagnosticCode.NOT_A_TEMPLATE)
            )
        return
    if size > MAX_FILE_BYTES:
        found.diagnostics.append(
            Diagnostic("error", path, 1, f"file is {size} bytes, larger than the {MAX_FILE_BYTES}-byte limit; not scanned",
                       code=DiagnosticCode.SIZE)
        )
        return
    if kind == "serverless":
        found.serverless_services.append(path)
    elif kind == "plan":
        found.terraform_plans.append(path)
    else:
        found.cloudformation_templates.append(path)


def _is_serverless(name: str, head: bytes) -> bool:
    """A Serverless Framework service: by its name or a top-level ``service`` with an aws
    ``provider`` (the check lives with its loader)."""
    from kds_iac.loaders.serverless_sniff import is_service_file

    return is_service_file(name, head)


def _serverless_fragments(found: Discovered) -> None:
    """Files a service includes with ``${file()}`` are read as parts of it, not as templates
    of their own (a fragment holding only resources is not a whole template). A fragment
    named alone brings its service (found beside it or a few directories up), and only the
    fragment's findings are reported; a service named alone reports its fragments' too."""
    from kds_iac.loaders.serverless_sniff import SERVICE_FILE_NAMES, included_files

    def includes(service: str) -> list[str]:
        try:
            text = decode_head(read_bytes(service, MAX_FILE_BYTES)).decode("utf-8", "replace")
        except OSError:
            return []
        return included_files(service, text)

    for focus in sorted(found.focus_files):
        if focus in found.serverless_services:
            found.focus_files.update(includes(focus))
            continue
        directory = os.path.dirname(os.path.abspath(focus))
        for _ in range(4):
            services = [os.path.join(directory, n) for n in SERVICE_FILE_NAMES if os.path.isfile(os.path.join(directory, n))]
            owner = next((s for s in services if os.path.abspath(focus) in map(os.path.abspath, includes(s))), None)
            if owner is not None:
                owner = os.path.relpath(owner) if not os.path.isabs(focus) else owner
                if owner not in found.serverless_services:
                    found.serverless_services.append(owner)
                found.diagnostics = [
                    d for d in found.diagnostics if not (d.file == focus and d.message.startswith("not a Terraform file"))
                ]
                break
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
    if not found.serverless_services:
        return
    fragments: set[str] = set()
    for service in found.serverless_services:
        fragments.update(os.path.abspath(f) for f in includes(service))
    found.cloudformation_templates = [t for t in found.cloudformation_templates if os.path.abspath(t) not in fragments]
    found.serverless_services = [s for s in found.serverless_services if os.path.abspath(s) not in fragments]


def claims(head: bytes) -> str | None:
    """What the first bytes of a file claim to be: ``"plan"`` (``planned_values`` with
    ``format_version`` or ``terraform_version``), ``"cloudformation"``
    (``AWSTemplateFormatVersion``, or a ``Resources`` section with a ``Type: AWS::...``
    resource), or None. Keys count where a template writes them, not quoted in other text."""
    if _CLAIM_PLAN.search(head) and _CLAIM_PLAN_VERSION.search(head):
        return "plan"
    if _CLAIM_VERSION.search(head) or (_CLAIM_RESOURCES.search(head) and _CLAIM_TYPE.search(head)):
        return "cloudformation"
    return None


def _sniff(head: bytes) -> str | None:
    if all(marker.search(head) for marker in _PLAN_MARKERS):
        return "plan"
    if any(marker.search(head) for marker in _CFN_MARKERS):
        return "cloudformation"
    return None
