"""CloudTrail as rules see it: which trails and event data stores the scope creates, what
they record, in which regions, and where their logs go.

AWS defaults live here:

- Trail: logging on (Terraform ``enable_logging``; CloudFormation requires ``IsLogging``),
  single-region (``is_multi_region_trail`` / ``IsMultiRegionTrail`` false), log file
  validation off, log files encrypted with SSE-S3 unless a KMS key is set (``kms_key_id`` /
  ``KMSKeyId``), all management events (reads and writes) when no selector is written.
- Basic event selectors: ``include_management_events`` true and ``read_write_type`` ``All``
  by default; they cannot select Kinesis data events (only advanced selectors can).
- Event data store: multi-region, ingesting, all management events when no selector is written.
- Region: a Terraform resource is in its own ``region`` (provider v6) or its provider
  configuration's region; a CloudFormation resource is in its stack's region, unknown before
  deployment but the same for every resource of one template.

"Present" means created with input defaults: a Terraform block whose ``count`` gives no
instance (``Model.uncreated``) or a CloudFormation resource whose ``Condition`` is false with
parameter defaults is absent, and the condition says which input would create it.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from kds_iac.model import CLOUDFORMATION, TERRAFORM, TERRAFORM_PLAN, Condition, Model, Ref, Resource, Unknown
from kds_iac.value import Value
from kds_iac.views.compute import PROVIDER_TYPES
from kds_iac.views.facts import ABSENT, Fact, attribute, listed, name_of, render_pattern, resolve, template_refs
from kds_iac.views.kinesis import Stream, streams
from kds_iac.views.settings import Settings, naming

TRAIL_TYPES = ("aws_cloudtrail", "AWS::CloudTrail::Trail")
EVENT_DATA_STORE_TYPES = ("aws_cloudtrail_event_data_store", "AWS::CloudTrail::EventDataStore")
KINESIS_STREAM_EVENT_TYPE = "AWS::Kinesis::Stream"
KINESIS_EVENT_SOURCE = "kinesis.amazonaws.com"

# Where each format writes a trail's and an event data store's settings (None: no such setting).
TRAIL_SETTINGS = Settings(
    terraform={
        "logging": "enable_logging",
        "multi_region": "is_multi_region_trail",
        "validation": "enable_log_file_validation",
        "kms_key": "kms_key_id",
        "bucket": "s3_bucket_name",
        "basic_selectors": "event_selector",
        "advanced_selectors": "advanced_event_selector",
    },
    cloudformation={
        "logging": "IsLogging",
        "multi_region": "IsMultiRegionTrail",
        "validation": "EnableLogFileValidation",
        "kms_key": "KMSKeyId",
        "bucket": "S3BucketName",
        "basic_selectors": "EventSelectors",
        "advanced_selectors": "AdvancedEventSelectors",
    },
)
STORE_SETTINGS = Settings(
    terraform={
        "logging": None,  # Terraform has no switch: always ingesting
        "multi_region": "multi_region_enabled",
        "validation": None,  # not a property of event data stores
        "kms_key": "kms_key_id",
        "bucket": None,
        "basic_selectors": None,
        "advanced_selectors": "advanced_event_selector",
    },
    cloudformation={
        "logging": "IngestionEnabled",
        "multi_region": "MultiRegionEnabled",
        "validation": None,
        "kms_key": "KmsKeyId",
        "bucket": None,
        "basic_selectors": None,
        "advanced_selectors": "AdvancedEventSelectors",
    },
)
# The AWS default of each setting left out (ABSENT: none, the setting stays absent).
_TRAIL_DEFAULTS = {"logging": True, "multi_region": False, "validation": False}
_STORE_DEFAULTS = {"logging": True, "multi_region": True, "validation": True}
# CloudFormation requires IsLogging: a trail written without it does not log as written.
_LOGGING_LEFT_OUT = {TERRAFORM: True, CLOUDFORMATION: False}
# Inside event selectors; advanced selector operators are keyed by their Terraform names.
_OPERATORS = ("equals", "not_equals", "starts_with", "not_starts_with", "ends_with", "not_ends_with")
SELECTOR_SETTINGS = Settings(
    terraform={
        "fields": "field_selector",
        "field": "field",
        "management": "include_management_events",
        "read_write": "read_write_type",
        **{operator: operator for operator in _OPERATORS},
    },
    cloudformation={
        "fields": "FieldSelectors",
        "field": "Field",
        "management": "IncludeManagementEvents",
        "read_write": "ReadWriteType",
        "equals": "Equals",
        "not_equals": "NotEquals",
        "starts_with": "StartsWith",
        "not_starts_with": "NotStartsWith",
        "ends_with": "EndsWith",
        "not_ends_with": "NotEndsWith",
    },
)
# Where the region of a resource is decided when not by Terraform configuration.
_REGION_DECIDED_BY = {
    CLOUDFORMATION: "the stack of {unit}",
    TERRAFORM_PLAN: "the provider of {address} in {unit}",  # a plan: the region is in its configuration
}
_NOT_CREATED = {TERRAFORM: "{} gives no instance", CLOUDFORMATION: "its Condition {} is false"}


# --------------------------------------------------------------------------- regions


class Region(Value):
    """Where a resource is deployed: a region name when known with input defaults, and what
    decides it (a provider configuration, a stack) so that two resources deployed by the same
    one are known to share a region even when its name is not known."""

    __slots__ = ("name", "deployed_by", "fixed")

    def __init__(self, name: Optional[str], deployed_by: str, fixed: bool = True):
        self.name = name
        self.deployed_by = deployed_by  # "provider.aws.west of infra/", "the stack of app.yaml"
        self.fixed = fixed  # False when an input decides the name (the default may be changed)

    def same_as(self, other: "Region") -> Optional[bool]:
        if self.deployed_by == other.deployed_by:
            return True
        if self.name is None or other.name is None:
            return None
        if self.name == other.name:
            return True
        return False if self.fixed and other.fixed else None

    def describe(self) -> str:
        return self.name or f"the region of {self.deployed_by}"


def region_of(resource: Resource, model: Model) -> Region:
    """The resource's region, once per resource (trails compare it with every stream)."""
    cache = model.memo("regions", dict)
    found = cache.get(id(resource))
    if found is None:
        found = cache[id(resource)] = _region_of(resource, model)
    return found


def _region_of(resource: Resource, model: Model) -> Region:
    decided_by = _REGION_DECIDED_BY.get(resource.source_format)
    if decided_by is not None:
        return Region(None, decided_by.format(unit=resource.unit or resource.location.file, address=resource.address))
    own = attribute(resource.attributes, "region")
    if isinstance(own.value, str):
        return Region(own.value, f"region = {own.value}", fixed=not own.inputs)
    reference = resource.get("provider")
    alias = reference.split(".", 1)[1] if isinstance(reference, str) and "." in reference else ""
    provider = _provider_block(model, resource, alias)
    if provider is None:
        where = resource.unit or "."
        name = f"aws.{alias}" if alias else "the default aws provider"
        return Region(None, f"{name} of {where}")
    region = attribute(provider.attributes, "region")
    name = region.value if isinstance(region.value, str) else None
    return Region(name, f"{provider.address} of {resource.unit or '.'}", fixed=not region.inputs)


def _provider_block(model: Model, resource: Resource, alias: str) -> Optional[Resource]:
    """The provider configuration a resource uses: its module's own, else the root's (a module
    without provider blocks inherits the root's default provider)."""
    own = "provider.aws" + (f".{alias}" if alias else "")
    wanted = [f"{resource.module}.{own}" if resource.module else own]
    if resource.module:
        wanted.append(own)
    for address in wanted:
        for provider in model.of_type(*PROVIDER_TYPES):
            if provider.unit == resource.unit and provider.address == address:
                return provider
    return None


# --------------------------------------------------------------------------- selectors


class FieldSelector(Value):
    __slots__ = ("field", "operators")

    def __init__(self, field: str, operators: dict[str, tuple[Any, ...]]):
        self.field = field  # lower-cased: "eventcategory", "resources.type", "resources.arn", "readonly"
        self.operators = operators  # Terraform operator name -> values (str, Ref, Unknown)


class AdvancedSelector(Value):
    __slots__ = ("fields", "known")

    def __init__(self, fields: tuple[FieldSelector, ...], known: bool = True):
        self.fields = fields
        self.known = known  # False when a part is not known before deployment

    def constrains(self, field_name: str) -> bool:
        return any(s.field == field_name for s in self.fields)

    def admits(self, field_name: str, text: str) -> Optional[bool]:
        """Whether this selector lets events whose ``field_name`` is ``text`` through."""
        verdict: Optional[bool] = True
        for selector in self.fields:
            if selector.field != field_name:
                continue
            for operator, values in selector.operators.items():
                matched = _operator_matches(operator, values, text)
                if matched is False:
                    return False
                if matched is None:
                    verdict = None
        return verdict


def _operator_matches(operator: str, values: tuple[Any, ...], text: str) -> Optional[bool]:
    negated = operator.startswith("not_")
    test = operator.removeprefix("not_")
    hit: Optional[bool] = False
    for value in values:
        if not isinstance(value, str):
            hit = None if hit is False else hit
            continue
        if (test == "equals" and text == value) or (test == "starts_with" and text.startswith(value)) or (
            test == "ends_with" and text.endswith(value)
        ):
            hit = True
            break
    if hit is None:
        return None
    return not hit if negated else hit


class BasicSelector(Value):
    __slots__ = ("management", "read_write")

    def __init__(self, management: Fact, read_write: Fact):
        self.management = management  # include_management_events: bool
        self.read_write = read_write  # "All", "ReadOnly", "WriteOnly"


# --------------------------------------------------------------------------- trails


class Trail:
    """A trail or an event data store of the scope, its settings as facts (AWS defaults applied)."""

    def __init__(
        self,
        resource: Resource,
        is_store: bool,
        facts: dict[str, Fact],
        basic: list[BasicSelector],
        advanced: list[AdvancedSelector],
        selectors_known: bool,
        region: Region,
        logging_written: bool,
        settings: dict[str, str],
    ):
        self.resource = resource
        self.is_store = is_store
        self.logging: Fact = facts["logging"]
        self.multi_region: Fact = facts["multi_region"]
        self.validation: Fact = facts["validation"]
        self.kms_key: Fact = facts["kms_key"]
        self.bucket: Fact = facts["bucket"]  # the log bucket setting (a name, an ARN, a Ref)
        self.basic = basic
        self.advanced = advanced
        self.selectors_known = selectors_known
        self.region = region
        self.logging_written = logging_written  # False: left out, the default (or requirement) applies
        self.settings = settings  # what ("logging", "kms_key", ...) -> setting name, for lines

    @property
    def address(self) -> str:
        return self.resource.address

    def line_of(self, what: str) -> int:
        setting = self.settings.get(what, "")
        return self.resource.line_of(setting) if setting else self.resource.location.start_line

    @property
    def selectors_line(self) -> int:
        return self.line_of("advanced_selectors" if self.advanced else "basic_selectors")

    def records_management_writes(self) -> tuple[Optional[bool], str]:
        """Whether write management events of Kinesis reach this trail, and if not, why."""
        if not self.selectors_known:
            return None, ""
        if self.advanced:
            return self._advanced_management()
        if not self.basic:
            return True, ""
        reasons = []
        for selector in self.basic:
            included, mode = selector.management.value, selector.read_write.value
            if isinstance(included, Unknown) or isinstance(mode, Unknown):
                return None, ""
            if included is False:
                reasons.append(SELECTOR_SETTINGS.written(self.resource, "management", "false"))
            elif str(mode).lower() == "readonly":
                reasons.append(SELECTOR_SETTINGS.written(self.resource, "read_write", "ReadOnly"))
            else:
                return True, ""
        return False, "its event selectors " + " and ".join(sorted(set(reasons))) + " drop management writes"

    def _advanced_management(self) -> tuple[Optional[bool], str]:
        reasons = set()
        undecided = False
        for selector in self.advanced:
            if not selector.known:
                undecided = True
                continue
            category = selector.admits("eventcategory", "Management")
            if category is False:
                reasons.add("select no Management category")
                continue
            writes = selector.admits("readonly", "false")
            kinesis = selector.admits("eventsource", KINESIS_EVENT_SOURCE)
            if writes is False:
                reasons.add("record only read-only management events")
            elif kinesis is False:
                reasons.add(f"exclude {KINESIS_EVENT_SOURCE}")
            elif None in (category, writes, kinesis):
                undecided = True
            else:
                return True, ""
        if undecided:
            return None, ""
        return False, "its advanced event selectors " + " and ".join(sorted(reasons))

    def records_data_events_of(self, stream: Stream, model: Model) -> Optional[bool]:
        """Whether an advanced selector records Kinesis data events for ``stream``."""
        if not self.selectors_known:
            return None
        verdict: Optional[bool] = False
        for selector in self.advanced:
            if not selector.known:
                verdict = None
                continue
            matched = _selects_stream(selector, stream, model)
            if matched:
                return True
            if matched is None:
                verdict = None
        return verdict


def _selects_stream(selector: AdvancedSelector, stream: Stream, model: Model) -> Optional[bool]:
    category = selector.admits("eventcategory", "Data")
    kind = selector.admits("resources.type", KINESIS_STREAM_EVENT_TYPE)
    if category is False or kind is False or not selector.constrains("resources.type"):
        return False  # data selectors must name a resource type
    arn = _stream_arn_verdict(selector, stream, model)
    if False in (category, kind, arn):
        return False
    if None in (category, kind, arn):
        return None
    return True


def _stream_arn_verdict(selector: AdvancedSelector, stream: Stream, model: Model) -> Optional[bool]:
    """Whether the selector's ``resources.ARN`` conditions let the stream's events through."""
    verdict: Optional[bool] = True
    for field_selector in selector.fields:
        if field_selector.field != "resources.arn":
            continue
        for operator, values in field_selector.operators.items():
            negated = operator.startswith("not_")
            hit: Optional[bool] = False
            for value in values:
                matched = _arn_value_matches(operator.removeprefix("not_"), value, stream, model)
                if matched:
                    hit = True
                    break
                if matched is None:
                    hit = None
            if hit is None:
                verdict = None
            elif hit == negated:
                return False
    return verdict


def _arn_value_matches(test: str, value: Any, stream: Stream, model: Model) -> Optional[bool]:
    if isinstance(value, Ref):
        if value.target is stream.resource:
            return True
        return False if value.target.type in TRAIL_TYPES + EVENT_DATA_STORE_TYPES or value.target.type == stream.resource.type else None
    refs = template_refs(value)
    if any(r.target is stream.resource for r in refs):
        return True
    if any(r.target.type == stream.resource.type for r in refs):
        return False  # another stream's ARN or name
    text = render_pattern(value)
    if text is None:
        return None
    return _arn_text_matches(test, text, stream, model)


def _arn_text_matches(test: str, text: str, stream: Stream, model: Model) -> Optional[bool]:
    """Compare an ARN (or its start or end) with the stream's ARN. ``*`` in ``text`` marks a
    part not known before deployment. The stream's account, and its region when not known,
    are taken to match: a selector is written for the account it is deployed in."""
    name = name_of(stream.resource)
    tail = f"stream/{name}" if name else None
    if test == "ends_with":
        if tail is None or "*" in text:
            return None
        if len(text) <= len(tail):
            return tail.endswith(text)
        return None if text.endswith(":" + tail) else False
    parts = text.split(":", 5)
    expected = ("arn", None, "kinesis", region_of(stream.resource, model).name, None, tail)
    for index, part in enumerate(parts):
        want = expected[index]
        last = index == len(parts) - 1
        if "*" in part:
            known = part.split("*", 1)[0]
            if want is not None and not want.startswith(known):
                return False
            return None if index == 5 else _arn_text_matches_rest(test, parts, index, expected)
        if index == 1:
            if not part.startswith("aws"):
                return False
        elif index == 5 and want is None:
            return True if test == "starts_with" and "stream/".startswith(part) else None
        elif want is not None:
            if last and test == "starts_with":
                if not want.startswith(part):
                    return False
            elif part != want:
                return False
    if test == "equals" and len(parts) < 6:
        return False
    return True


def _arn_text_matches_rest(test: str, parts: list[str], index: int, expected: tuple) -> Optional[bool]:
    """After an unknown part, the later parts still decide a mismatch."""
    for later in range(index + 1, len(parts)):
        want, part = expected[later], parts[later]
        if "*" in part or want is None:
            continue
        last = later == len(parts) - 1
        if (last and test == "starts_with" and not want.startswith(part)) or (not (last and test == "starts_with") and part != want):
            return False
    return True


def _fact_of(resource: Resource, setting: str, default: Any) -> Fact:
    if not setting:
        return Fact(default)
    fact = attribute(resource.attributes, setting)
    return fact.with_value(default) if fact.absent and default is not None else fact


def _list(fact: Fact) -> Optional[list[Fact]]:
    value = fact.value
    if fact.absent:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return None
    return [fact.then(item) for item in value]


def _advanced(fact: Fact, resource: Resource) -> tuple[list[AdvancedSelector], bool]:
    names = {key: SELECTOR_SETTINGS.name(resource, key) for key in ("fields", "field", *_OPERATORS)}
    items = _list(fact)
    if items is None:
        return [], False
    selectors = []
    for item in items:
        if not isinstance(item.value, dict):
            selectors.append(AdvancedSelector((), known=False))
            continue
        raw_fields = item.then(item.value.get(names["fields"]))
        field_facts = _list(raw_fields)
        if field_facts is None:
            selectors.append(AdvancedSelector((), known=False))
            continue
        fields, known = [], True
        for field_fact in field_facts:
            raw = field_fact.value
            if not isinstance(raw, dict):
                known = False
                continue
            name = resolve(raw.get(names["field"])).value
            if not isinstance(name, str):
                known = False
                continue
            operators = {}
            for operator in _OPERATORS:
                values = resolve(raw.get(names[operator]))
                if values.absent:
                    continue
                entries = values.value if isinstance(values.value, list) else [values.value]
                resolved = tuple(resolve(v).value for v in entries)
                if any(isinstance(v, Unknown) for v in resolved):
                    known = False
                operators[operator] = resolved
            fields.append(FieldSelector(name.lower(), operators))
        selectors.append(AdvancedSelector(tuple(fields), known))
    return selectors, True


def _basic(fact: Fact, resource: Resource) -> tuple[list[BasicSelector], bool]:
    items = _list(fact)
    if items is None:
        return [], False
    selectors = []
    for item in items:
        if not isinstance(item.value, dict):
            return [], False
        management = item.then(item.value.get(SELECTOR_SETTINGS.name(resource, "management")))
        mode = item.then(item.value.get(SELECTOR_SETTINGS.name(resource, "read_write")))
        selectors.append(
            BasicSelector(
                management.with_value(True) if management.absent else management,
                mode.with_value("All") if mode.absent else mode,
            )
        )
    return selectors, True


_SETTING_KEYS = ("logging", "multi_region", "validation", "kms_key", "bucket", "basic_selectors", "advanced_selectors")


def _trail(resource: Resource, model: Model, is_store: bool) -> Trail:
    table, defaults = (STORE_SETTINGS, _STORE_DEFAULTS) if is_store else (TRAIL_SETTINGS, _TRAIL_DEFAULTS)
    settings = {what: table.name(resource, what) or "" for what in _SETTING_KEYS}
    facts = {what: _fact_of(resource, settings[what], defaults.get(what, ABSENT)) for what in _SETTING_KEYS}
    logging_written = not settings["logging"] or settings["logging"] in resource.attributes
    if not logging_written and not is_store:
        facts["logging"] = facts["logging"].with_value(_LOGGING_LEFT_OUT[naming(resource)])
    basic, basic_known = _basic(facts["basic_selectors"], resource) if settings["basic_selectors"] else ([], True)
    advanced, advanced_known = _advanced(facts["advanced_selectors"], resource)
    return Trail(
        resource=resource,
        is_store=is_store,
        facts=facts,
        basic=basic,
        advanced=advanced,
        selectors_known=basic_known and advanced_known,
        region=region_of(resource, model),
        logging_written=logging_written,
        settings={k: v for k, v in settings.items() if v},
    )


# --------------------------------------------------------------------------- the scope


class Missing(Value):
    """A trail written in the scope that is not created with input defaults."""

    __slots__ = ("resource", "condition")

    def __init__(self, resource: Resource, condition: Condition):
        self.resource = resource
        self.condition = condition

    def describe(self) -> str:
        inputs = ", ".join(i.describe() for i in self.condition.inputs)
        what = _NOT_CREATED[naming(self.resource)].format(self.condition.name)
        if not inputs:
            return f"{self.resource.address} is not created: {what} with input defaults"
        names = " or ".join(i.name for i in self.condition.inputs)
        return f"{self.resource.address} is not created: {what} with {inputs}; set {names} to create it"


class Audit:
    """The audit trail of a scope: what every CloudTrail rule reads."""

    def __init__(self, model: Model, streams: list[Stream], trails: list[Trail], missing: list[Missing]):
        self.model = model
        self.streams = streams
        self.trails = trails  # present trails and event data stores
        self.missing = missing  # trails written but not created with input defaults
        settings = model.audit  # AuditSettings, or None for the defaults
        self.organization_trail: Optional[str] = getattr(settings, "organization_trail", None)  # outside the scope
        self.organization_trail_data_events = bool(getattr(settings, "organization_trail_data_events", False))
        self.require_data_events = bool(getattr(settings, "require_data_events", True))
        self.settings_source = _shown(getattr(settings, "source", None))

    def covered_by(self, trail: Trail) -> list[Stream]:
        """Streams whose API calls the trail records if it is effective (same or unknown region)."""
        if trail.multi_region.value is not False:
            return list(self.streams)
        return [s for s in self.streams if trail.region.same_as(region_of(s.resource, self.model)) is not False]

    def outside_region_of(self, trail: Trail) -> list[Stream]:
        """Streams a single-region trail does not provably record: other or unknown regions."""
        return [s for s in self.streams if trail.region.same_as(region_of(s.resource, self.model)) is not True]

    def describe(self) -> str:
        """One line for the report header: how the scope's API calls are audited."""
        if self.organization_trail:
            return f"organization trail declared in {self.settings_source}: {self.organization_trail}"
        present = [t.address for t in self.trails if not t.is_store]
        if present:
            return "trails " + listed(present, limit=5)
        stores = [t.address for t in self.trails if t.is_store]
        if stores:
            return "event data stores " + listed(stores, limit=5)
        return "no CloudTrail trail in scope"


def audit(model: Model) -> Audit:
    return model.memo("audit", lambda: _audit(model))


def _audit(model: Model) -> Audit:
    trails: list[Trail] = []
    missing: list[Missing] = []
    for resource in model.of_type(*TRAIL_TYPES, *EVENT_DATA_STORE_TYPES):
        if resource.is_data_source:
            continue
        if resource.condition is not None and resource.condition.default is False:
            missing.append(Missing(resource, resource.condition))
            continue
        trails.append(_trail(resource, model, resource.type in EVENT_DATA_STORE_TYPES))
    for resource in model.uncreated:
        if resource.type in TRAIL_TYPES + EVENT_DATA_STORE_TYPES and resource.condition is not None:
            missing.append(Missing(resource, resource.condition))
    result = Audit(model, list(streams(model)), trails, missing)
    return result


def _shown(path: Optional[str]) -> Optional[str]:
    """A settings file as messages show it: relative to the working directory when under it."""
    if not path:
        return path
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def scope_name(model: Model) -> str:
    return ", ".join(model.scope) or "."


__all__ = [
    "Audit",
    "EVENT_DATA_STORE_TYPES",
    "KINESIS_STREAM_EVENT_TYPE",
    "Missing",
    "Region",
    "TRAIL_TYPES",
    "Trail",
    "audit",
    "region_of",
    "scope_name",
]
