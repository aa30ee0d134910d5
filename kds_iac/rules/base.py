"""What a rule is and what it produces.

A rule module holds a docstring with fixed sections, ``RULE`` (its metadata), ``EXAMPLES``
(good and bad examples under ``examples/``, with the exact findings each bad one must give)
and ``check(model)``, which yields findings. Rules read views, never raw template text.
"""

from __future__ import annotations

import enum
import re
from operator import attrgetter
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from kds_iac.model import CLOUDFORMATION, TERRAFORM, Location, Model, Resource
from kds_iac.value import Value
from kds_iac.views.settings import naming

if TYPE_CHECKING:
    from kds_iac.fixes import Fix

DOC_SECTIONS = ("What it does", "Why is this bad?", "Remediation", "References")
DOCS_BASE_URL = "https://github.com/kds-iac/kds-iac/blob/main/docs/rules"


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of: {names})") from None


class Rule(Value):
    __slots__ = (
        "id", "checkov_id", "severity", "title", "resource_types", "category", "formats", "scope_wide", "fixes"
    )

    def __init__(
        self,
        id: str,
        checkov_id: str,
        severity: Severity,
        title: str,
        resource_types: tuple[str, ...],
        category: str,
        formats: tuple[str, ...] = ("terraform", "cloudformation"),
        scope_wide: bool = False,
        fixes: tuple[str, ...] = (),
    ):
        self.id = id  # KDS001: stable, never reused
        self.checkov_id = checkov_id  # CKV_KDS_1
        self.severity = severity
        self.title = title
        self.resource_types = resource_types  # where findings sit (Terraform and CloudFormation types)
        self.category = category  # checkov's CheckCategories name: ENCRYPTION, IAM, LOGGING, ...
        self.formats = formats
        # True when findings depend on everything scanned together (CloudTrail coverage of the
        # scope), not on one resource and what it references: the rule's examples are judged
        # each scanned on its own.
        self.scope_wide = scope_wide
        # The kinds of fix (``kds_iac.fixes.SAFE``, ``UNSAFE``) the rule may attach to a
        # finding; the rule's docs say what each does, and a test applies each to its examples.
        self.fixes = fixes

    @property
    def help_uri(self) -> str:
        return f"{DOCS_BASE_URL}/{self.id}.md"


class Examples(Value):
    """Example paths are relative to ``examples/<format>/``.

    ``bad`` maps each bad example to the exact findings the rule must give in it, each
    resource address with the line the finding points at (``Finding.primary_line``: the
    offending attribute, else the block start), so a finding that moves is a failing test;
    ``good`` lists examples where the rule must report nothing.
    """

    __slots__ = ("bad", "good")

    def __init__(self, bad: dict[str, dict[str, int]], good: tuple[str, ...]):
        self.bad = bad
        self.good = good


class Finding(Value):
    __slots__ = ("rule", "resource", "_message", "line", "related", "instances", "fix")
    _not_compared = ("fix",)

    def __init__(
        self,
        rule: Rule,
        resource: Resource,
        message: "str | AroundAddress",
        line: Optional[int] = None,
        related: tuple[Resource, ...] = (),
        fix: Optional["Fix"] = None,
    ):
        self.rule = rule
        self.resource = resource
        created = when_created(resource)
        if created:  # a resource the defaults may not create: its message is its own
            message = (message if message.__class__ is str else message.text(resource)) + created
        # A str, or the ``AroundAddress`` many findings share: ``message`` reads the text.
        self._message = message
        self.line = line  # the attribute line to point at; defaults to the block start
        self.related = related
        # Other instances of the same block with the same finding (a module scanned as a
        # root and through a module call): their addresses, reported once with this one.
        self.instances: tuple[str, ...] = ()
        # What would fix it (``kds_iac.fixes.Fix``: intents, no text), when the rule can say
        # with certainty; the text edits are computed only by front-ends that show or apply them.
        self.fix = fix

    @property
    def message(self) -> str:
        """What is wrong, in one text (an ``AroundAddress`` is joined with the address here)."""
        message = self._message
        return message if message.__class__ is str else message.text(self.resource)

    @property
    def location(self) -> Location:
        """The resource block: what a person edits to fix the finding."""
        return self.resource.location

    @property
    def primary_line(self) -> int:
        """The line to point an editor at: the offending attribute, else the block start."""
        return self.line or self.resource.location.start_line

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def suppressed_reason(self) -> Optional[str]:
        skips = self.resource.skips
        for key in (self.rule.id, self.rule.checkov_id):
            if key in skips:
                return skips[key]
        return None


# Compared, hashed and shown by the text it reads, not by how it is kept (``Value`` takes its
# fields from ``__slots__``).
Finding._fields = tuple("message" if name == "_message" else name for name in Finding._fields)
Finding._compared = tuple(name for name in Finding._fields if name not in Finding._not_compared)
Finding._key = attrgetter(*Finding._compared)


class AroundAddress(Value):
    """A finding's message that names its resource once, between two texts: the rules that
    judge every stream give each finding the same few of these instead of a string of its
    own (a 10 MB template's 98,000 streams: 56 MB of KDS020 and KDS022 messages).
    ``SharedMessages`` hands out one per distinct pair."""

    __slots__ = ("before", "after")

    def __init__(self, before: str, after: str):
        self.before = before
        self.after = after

    def text(self, resource: Resource) -> str:
        return self.before + resource.address + self.after


class SharedMessages:
    """One ``AroundAddress`` per distinct (before, after) within one rule's check."""

    __slots__ = ("_made",)

    def __init__(self) -> None:
        self._made: dict[tuple[str, str], AroundAddress] = {}

    def around(self, before: str, after: str) -> AroundAddress:
        made = self._made.get((before, after))
        if made is None:
            made = self._made[(before, after)] = AroundAddress(before, after)
        return made


def one_per_place(findings: list[Finding]) -> list[Finding]:
    """One finding per (rule, file, line, message): the instances of one block that get
    the same finding (its address and module path aside) are named in ``instances`` of the
    first (sorted) one; instances whose messages differ in substance stay separate.

    In ``run_rules``' order (file, line, rule first) one place's findings are adjacent, and
    only the current place is held (every place at once was 30 MB for a 10 MB template); the
    message is compared only among findings of one place, most of which hold one. Findings
    in any other order are taken as they come, holding every place."""
    kept: list[Finding] = []
    previous: Optional[tuple] = None
    first: Optional[Finding] = None
    held: Optional[dict[str, Finding]] = None  # the place's findings by message, from its second on
    for finding in findings:
        location = finding.resource.location
        place = (location.file, finding.line or location.start_line, finding.rule.id)
        if place != previous:
            if previous is not None and place < previous:  # not run_rules' order: start again
                return _one_per_place_unordered(findings)
            previous, first, held = place, finding, None
            kept.append(finding)
            continue
        if held is None:
            held = {_placeless(first): first}
        _merge(held, finding, kept)
    return kept


def _one_per_place_unordered(findings: list[Finding]) -> list[Finding]:
    """``one_per_place`` for findings in any order. What an ordered pass over a first part
    already merged is merged again the same way (an address is named once)."""
    kept: list[Finding] = []
    first: dict[tuple, "Finding | dict[str, Finding]"] = {}  # a place's finding; by message once it has two
    for finding in findings:
        location = finding.resource.location
        place = (location.file, finding.line or location.start_line, finding.rule.id)
        held = first.get(place)
        if held is None:
            first[place] = finding
            kept.append(finding)
            continue
        if held.__class__ is not dict:
            held = first[place] = {_placeless(held): held}
        _merge(held, finding, kept)
    return kept


def _merge(held: dict[str, Finding], finding: Finding, kept: list[Finding]) -> None:
    """Name ``finding`` in the instances of the finding of its place with the same message,
    or keep it when there is none."""
    message = _placeless(finding)
    other = held.get(message)
    if other is None:
        held[message] = finding
        kept.append(finding)
    elif finding.address != other.address and finding.address not in other.instances:
        other.instances += (finding.address,)


def _placeless(finding: Finding) -> str:
    """The message with the resource's own address and every module path taken out (the
    same block reached through another module call names its inputs under that call; a
    CloudFormation nested stack reached through its parent names its neighbours
    ``Stack/LogicalId``, and on its own ``LogicalId``)."""
    message = finding.message.replace(finding.address, "\x00")
    if "module." in message:  # what _MODULE_PREFIX starts with
        message = _MODULE_PREFIX.sub("", message)
    stack, slash, _ = finding.address.rpartition("/")
    if slash and naming(finding.resource) == CLOUDFORMATION:  # Terraform keys may hold a "/"
        message = message.replace(stack + slash, "")
    return message


_MODULE_PREFIX = re.compile(r'module\.[A-Za-z_][\w-]*(?:\[[^\]\n]*\])?(?:\.|: )')


def when_created(resource: Resource) -> str:
    """What a resource that input defaults do not (or may not) create depends on, for the
    end of a finding's message: ``; when created: count = var.x ? 1 : 0, set by var.x
    (default: false)``. Empty for a resource that exists with the defaults."""
    condition = resource.condition
    if condition is None or condition.default is True:
        return ""
    how = _CREATED_WHEN[naming(resource)].format(condition.name)
    if not condition.inputs:
        return f"; when created: {how}"
    return f"; when created: {how}, set by " + ", ".join(i.describe() for i in condition.inputs)


_CREATED_WHEN = {TERRAFORM: "{}", CLOUDFORMATION: "Condition {} is true"}

Check = Callable[[Model], Iterator[Finding]]


class RuleModule(Value):
    """A loaded rule module: metadata, docs, examples and the check itself."""

    __slots__ = ("rule", "doc", "examples", "check", "module_name")

    def __init__(self, rule: Rule, doc: str, examples: dict[str, Examples], check: Check, module_name: str):
        self.rule = rule
        self.doc = doc
        self.examples = examples
        self.check = check
        self.module_name = module_name
