"""Who can touch each stream: the access map behind ``kds-iac map`` and the HTML report.

Built only from the views the rules read (``kinesis``, ``kms``, ``iam``, ``compute``,
``storage``, ``cloudtrail``), so the map and the findings never disagree about who holds
what. The map is plain data (dicts, lists, strings, booleans, ``None``) in the order the
JSON schema documents (``docs/output-map-json.md``): every output format renders it.

Levels per stream: ``write`` (PutRecord/PutRecords), ``read`` (GetRecords, GetShardIterator,
SubscribeToShard), ``administer`` (the destructive and permissions actions of KDS004 and
KDS006) and ``key_use`` (kms:Decrypt or kms:GenerateDataKey on the stream's customer managed
key). ``certain`` is False where a value known only at deployment may cover the stream: such
a grant is shown as possible, never as sure, and unknown settings carry the inputs that
decide them.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any, Iterable, Optional

from kds_iac import iam_actions
from kds_iac.model import Model, Resource, Unknown
from kds_iac.views import compute
from kds_iac.views.cloudtrail import audit as scope_audit
from kds_iac.views.facts import ABSENT, Fact
from kds_iac.views.iam import (
    KEY_POLICY,
    RESOURCE_POLICY,
    Coverage,
    IamView,
    Principal,
    editable,
    iam,
    own_accounts,
    principal_accounts,
    resource_accounts,
)
from kds_iac.views.kinesis import Stream, streams
from kds_iac.views.kms import AwsManagedKey, ExternalKey, KmsKey
from kds_iac.views.storage import delivery_kms, message_store_of, s3_deliveries, table_encryption, tables_in, tables_written_by

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult

SCHEMA_VERSION = 1
LEVELS = ("write", "read", "administer", "key_use")
LEVEL_ACTIONS = {
    "write": iam_actions.PRODUCER_ACTIONS,
    "read": iam_actions.CONSUMER_ACTIONS,
    "administer": iam_actions.DANGEROUS_KINESIS_ACTIONS,
}
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
_PINNING_TYPES = ("aws_kinesis_stream", "AWS::Kinesis::Stream", "aws_kinesis_stream_consumer", "AWS::Kinesis::StreamConsumer",
                  "aws_kms_key", "AWS::KMS::Key")


def build(result: "ScanResult") -> dict[str, Any]:
    """The map of a scan: ``result`` must come from ``engine.scan`` (it holds the model)."""
    model = result.model
    findings = [f for f in result.findings]
    by_resource: dict[int, list[dict[str, Any]]] = {}
    for finding in findings:
        record = _finding_ref(finding)
        for resource in (finding.resource, *finding.related):
            by_resource.setdefault(id(resource), []).append(record)
    stream_list = list(streams(model)) if model is not None else []
    builder = _Builder(model, by_resource) if model is not None else None
    audit_view = scope_audit(model) if model is not None and stream_list else None
    drawn = [builder.stream(s) for s in stream_list] if builder else []
    every = builder.every_stream(stream_list) if builder else {level: [] for level in LEVELS}
    return {
        "version": SCHEMA_VERSION,
        "scope": list(result.scope),
        "audit": result.audit or None,
        "organization_trail": audit_view.organization_trail if audit_view else None,
        "every_stream": every,
        "streams": drawn,
        "findings": [_finding_record(f) for f in findings],
        "diagnostics": [
            {"level": d.level, "file": d.file, "line": d.line, "message": d.message} for d in result.diagnostics
        ],
    }


# --------------------------------------------------------------------------- records


def _where(resource: Resource) -> dict[str, Any]:
    return {"file": resource.location.file, "line": resource.location.start_line}


def _finding_ref(finding) -> dict[str, Any]:
    return {"rule_id": finding.rule.id, "severity": finding.rule.severity.name.lower(), "line": finding.primary_line}


def _finding_record(finding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule.id,
        "severity": finding.rule.severity.name.lower(),
        "title": finding.rule.title,
        "resource": finding.resource.address,
        "file": finding.location.file,
        "line": finding.primary_line,
        "message": finding.message,
        "help_uri": finding.rule.help_uri,
        "related": [r.address for r in finding.related],
    }


def _unknown(fact: Fact, value: Any = None) -> dict[str, Any]:
    """An unknown value as the map shows it: why, and the inputs that decide it."""
    value = fact.value if value is None else value
    reason = getattr(value, "reason", None) or (str(value) if isinstance(value, Unknown) else "")
    return {"reason": reason or "known only at deployment", "decided_by": fact.provenance() or None}


class _Builder:
    def __init__(self, model: Model, findings: dict[int, list[dict[str, Any]]]):
        self.model = model
        self.view: IamView = iam(model)
        self.findings = findings
        self.audit = scope_audit(model)
        # principals holding any Kinesis or KMS action: the only ones worth asking about
        holders = [p for p in self.view.principals if _holds_anything(p)]
        self.credentials = _credentials(model, self.view)
        # Which principals to ask about which stream. A principal whose statements name streams
        # only by reference is asked about those streams; one whose statements all take in every
        # stream (``*``...) gets the same access on each, shown once (``every_stream``);
        # the others (name patterns, unknown values, NotResource, Deny) are asked about every
        # stream. Without this, a scope of thousands of streams and roles asks millions of times.
        self.universal: list[Principal] = []
        self.broad: list[Principal] = []
        self.pinned: dict[int, list[Principal]] = {}
        for principal in holders:
            kind, targets = _reach(self.view, principal)
            if kind == "universal":
                self.universal.append(principal)
            elif kind == "broad":
                self.broad.append(principal)
            else:
                for target in {id(t): t for t in targets}.values():
                    self.pinned.setdefault(id(target), []).append(principal)

    def marks(self, resource: Optional[Resource]) -> list[dict[str, Any]]:
        if resource is None:
            return []
        out = list(self.findings.get(id(resource), ()))
        origin = editable(resource)
        if origin is not resource:
            out += self.findings.get(id(origin), ())
        return out

    def stream(self, stream: Stream) -> dict[str, Any]:
        resource = stream.resource
        key = stream.key.value
        access = {level: [] for level in LEVELS}
        asked = self.pinned.get(id(resource), [])
        if isinstance(key, KmsKey):
            asked = asked + [p for p in self.pinned.get(id(key.resource), []) if p not in asked]
        for principal in asked + self.broad:
            self._guarded("grants", self._principal_levels, principal, stream, key, access, default=None)
        return {
            "address": resource.address,
            "type": resource.type,
            **_where(resource),
            "findings": self.marks(resource),
            "encryption": self._guarded("encryption", self._encryption, stream, default={"state": "unknown", "unknown": None, "decided_by": None, "key": None}),
            "access": access,
            "external_grants": self._guarded("policies", self._external, stream, key, default=[]),
            "audit": self._guarded("audit", self._audit, stream, default={"trails": [], "organization_trail": None, "organization_trail_data_events": None, "not_created": [], "audited": False}),
            "destinations": self._guarded("destinations", self._destinations, stream, default=[]),
        }

    def every_stream(self, stream_list: list[Stream]) -> dict[str, list]:
        """Principals whose grants take in every stream: asked once, about the first stream
        (their answer is the same for each), and listed once instead of under every stream."""
        access: dict[str, list] = {level: [] for level in LEVELS}
        probe = next((s for s in stream_list if isinstance(s.key.value, KmsKey)), stream_list[0] if stream_list else None)
        if probe is None:
            return access
        for principal in self.universal:
            self._guarded("grants", self._principal_levels, principal, probe, probe.key.value, access, default=None)
        return access

    def _guarded(self, what: str, part, *args, default: Any) -> Any:
        """One part of a stream's map; a view that raises leaves that part empty and an error
        diagnostic (as the engine does for a rule), never a crash of the whole map."""
        try:
            return part(*args)
        except Exception as error:  # noqa: BLE001 - a view bug must not end the map
            from kds_iac.engine import internal_error

            self.model.diagnostics.append(internal_error(f"the access map ({what})", error, self.model))
            return default

    # -- encryption --------------------------------------------------------------------

    def _encryption(self, stream: Stream) -> dict[str, Any]:
        encrypted = stream.encrypted
        state = "kms" if encrypted else ("none" if encrypted is False else "unknown")
        out: dict[str, Any] = {
            "state": state,
            "unknown": _unknown(stream.encryption) if encrypted is None else None,
            "decided_by": stream.encryption.provenance() or None,
            "key": None,
        }
        key = stream.key.value
        if isinstance(key, KmsKey):
            rotation = key.rotation.value
            enabled = key.enabled.value
            out["key"] = {
                "kind": "customer_managed",
                "address": key.resource.address,
                **_where(key.resource),
                "rotation": rotation if isinstance(rotation, bool) else None,
                "enabled": enabled if isinstance(enabled, bool) else None,
                "policy": _key_policy_state(key),
                "findings": self.marks(key.resource),
            }
        elif isinstance(key, AwsManagedKey):
            out["key"] = {"kind": "aws_managed", "reference": key.reference}
        elif isinstance(key, ExternalKey):
            out["key"] = {"kind": "external", "reference": key.reference}
        elif isinstance(key, Unknown):
            out["key"] = {"kind": "unknown", **_unknown(stream.key)}
        return out

    # -- identity grants ---------------------------------------------------------------

    def _principal_levels(self, principal: Principal, stream: Stream, key: Any, access: dict[str, list]) -> None:
        view = self.view
        result = view.kinesis_access(principal, stream)
        for level, wanted in LEVEL_ACTIONS.items():
            sure = sorted(result.actions & wanted)
            maybe = sorted(result.maybe & wanted)
            if not sure and not maybe:
                continue
            grants = [g for action in sure + maybe for g in result.grants_for(action)]
            access[level].append(self._entry(principal, sure + maybe, not sure, grants))
        if isinstance(key, KmsKey):
            sure_grants, maybe_grants = [], []
            for grant in principal.grants:
                statement = grant.statement
                if not statement.allows or not any(statement.grants_action(a) for a in KEY_USE_ACTIONS):
                    continue
                coverage = _covers_key(view, statement, key.resource)
                if coverage is Coverage.YES:
                    sure_grants.append(grant)
                elif coverage is Coverage.MAYBE:
                    maybe_grants.append(grant)
            chosen = sure_grants or maybe_grants
            if chosen:
                actions = sorted({a for g in chosen for a in KEY_USE_ACTIONS if g.statement.grants_action(a)})
                access["key_use"].append(self._entry(principal, actions, not sure_grants, chosen))

    def _entry(self, principal: Principal, actions: list[str], maybe: bool, grants: Iterable) -> dict[str, Any]:
        seen, shown = set(), []
        for grant in grants:
            document = grant.document
            key = (id(document), grant.statement.sid, id(grant.via_group))
            if key in seen:
                continue
            seen.add(key)
            holder = document.editable
            shown.append(
                {
                    "policy": document.describe(),
                    "statement": grant.statement.sid or None,
                    "file": holder.location.file,
                    "line": document.line,
                    "via_group": grant.via_group.address if grant.via_group else None,
                    "decided_by": grant.statement.provenance() or None,
                }
            )
        return {
            "principal": principal.address,
            "kind": principal.kind,
            **_where(principal.resource),
            "actions": actions,
            "certain": not maybe,
            "grants": shown,
            "credentials": self.credentials.get(id(principal.resource), []),
            "findings": self.marks(principal.resource) + [m for g in grants for m in self.marks(g.document.holder)],
        }

    # -- resource and key policies ----------------------------------------------------

    def _policies_on(self) -> dict[int, list]:
        """Resource policies by the stream they are on, key policies by their key: indexed once,
        not searched for each stream."""
        index = getattr(self, "_policy_index", None)
        if index is None:
            index = {}
            for document in self.view.documents:
                if document.kind == RESOURCE_POLICY:
                    targets = {id(r): r for r in document.on}
                    for r in document.on:
                        stream = compute.consumer_stream(r)
                        if stream is not None:
                            targets[id(stream)] = stream
                    for target in targets:
                        index.setdefault(target, []).append(("resource_policy", document))
                elif document.kind == KEY_POLICY and document.key is not None:
                    index.setdefault(id(document.key.resource), []).append(("key_policy", document))
            self._policy_index = index
        return index

    def _external(self, stream: Stream, key: Any) -> list[dict[str, Any]]:
        out = []
        index = self._policies_on()
        found = [entry for entry in index.get(id(stream.resource), ()) if entry[0] == "resource_policy"]
        if isinstance(key, KmsKey):
            found += [entry for entry in index.get(id(key.resource), ()) if entry[0] == "key_policy"]
        for what, document in found:
            for statement in document.known_statements:
                if not statement.allows or not statement.principals:
                    continue
                if what == "resource_policy":
                    actions = sorted(statement.kinesis_actions)
                elif statement.grants_action("kms:*"):  # kms:* or *: every key action
                    actions = ["kms:*"]
                else:
                    actions = [a for a in KEY_USE_ACTIONS if statement.grants_action(a)]
                if not actions:
                    continue
                grantees = []
                if statement.everyone:
                    grantees.append({"kind": "anyone", "principal": "*"})
                own = own_accounts(document) | (resource_accounts(statement) if what == "resource_policy" else set())
                for account, written in principal_accounts(statement):
                    # the stream's own account (a key policy delegating to IAM) vs another account, as KDS015 tells them apart
                    kind = "own_account" if account in own else "account"
                    grantees.append({"kind": kind, "account": account, "principal": written})
                for kind, written in statement.principals:
                    if kind not in ("AWS", "*"):
                        grantees.append({"kind": "service", "principal": written})
                if not grantees:
                    continue
                holder = document.editable
                out.append(
                    {
                        "policy": what,
                        "address": holder.address,
                        "statement": statement.sid or None,
                        "file": holder.location.file,
                        "line": document.line,
                        "grantees": grantees,
                        "actions": actions,
                        "caller_pinned": statement.pins_caller,
                        "findings": self.marks(holder),
                    }
                )
        return out

    # -- audit -------------------------------------------------------------------------

    def _audit(self, stream: Stream) -> dict[str, Any]:
        view = self.audit
        trails = []
        for trail in view.trails:
            if not any(s.resource is stream.resource for s in view.covered_by(trail)):
                continue
            logging = trail.logging.value
            trails.append(
                {
                    "address": trail.address,
                    "kind": "event_data_store" if trail.is_store else "trail",
                    **_where(trail.resource),
                    "logging": logging if isinstance(logging, bool) else None,
                    "data_events": trail.records_data_events_of(stream, self.model),
                    "findings": self.marks(trail.resource),
                }
            )
        return {
            "trails": trails,
            "organization_trail": view.organization_trail,
            "organization_trail_data_events": view.organization_trail_data_events if view.organization_trail else None,
            "not_created": [m.describe() for m in view.missing],
            "audited": bool(trails) or bool(view.organization_trail),
        }

    # -- where records go --------------------------------------------------------------

    def _destinations(self, stream: Stream) -> list[dict[str, Any]]:
        out = []
        model = self.model
        for delivery in compute.delivery_streams(model):
            source = delivery.source.value
            if not isinstance(source, compute.StreamSource) or source.stream is not stream.resource:
                continue
            for s3 in s3_deliveries(delivery.resource, model):
                kms, fact, _ = delivery_kms(s3, model)
                bucket = s3.bucket.value
                out.append(
                    {
                        "kind": "firehose_s3",
                        "via": delivery.resource.address,
                        "address": bucket.address if isinstance(bucket, Resource) else None,
                        **_where(delivery.resource),
                        "role": s3.role,
                        "kms": kms,
                        "unknown": _unknown(fact) if kms is None else None,
                        "findings": self.marks(delivery.resource) + self.marks(bucket if isinstance(bucket, Resource) else None),
                    }
                )
        for mapping in compute.event_source_mappings(model):
            source = mapping.source.value
            if not isinstance(source, compute.StreamSource) or source.stream is not stream.resource:
                continue
            function = mapping.function.value
            if mapping.on_failure.value is not ABSENT:
                store = message_store_of(mapping.on_failure, model)
                value = store.value
                if value is not ABSENT:
                    known = not isinstance(value, Unknown)
                    kms = value.kms if known else None
                    out.append(
                        {
                            "kind": "on_failure",
                            "via": editable(mapping.resource).address,
                            "address": value.address if known else None,
                            **_where(editable(mapping.resource)),
                            "role": value.kind if known else "destination",
                            "kms": kms,
                            "unknown": _unknown(store) if kms is None else None,
                            "findings": self.marks(value.resource if known else None),
                        }
                    )
            if isinstance(function, compute.Function):
                for table in _consumer_tables(function, model, self.view):
                    encryption = table_encryption(table)
                    customer = encryption.customer_managed
                    out.append(
                        {
                            "kind": "consumer_table",
                            "via": editable(function.resource).address,
                            "address": table.address,
                            **_where(table),
                            "role": "DynamoDB table",
                            "kms": customer,
                            "unknown": _unknown(encryption.key) if customer is None else None,
                            "findings": self.marks(table),
                        }
                    )
        return out


# --------------------------------------------------------------------------- helpers


def _reach(view: IamView, principal: Principal) -> tuple[str, list[Resource]]:
    """How a principal's Kinesis and KMS statements name their resources: ``pinned`` (only by
    reference: the streams, consumers' streams and keys they name), ``universal`` (every
    statement takes in every stream and key) or ``broad`` (anything else)."""
    targets: list[Resource] = []
    universal, any_universal = True, False
    for grant in principal.grants:
        statement = grant.statement
        relevant = statement.kinesis_actions or any(statement.grants_action(a) for a in KEY_USE_ACTIONS)
        if not relevant:
            continue
        if not statement.allows or statement.not_resource_values or not statement.actions_known:
            return "broad", []
        for value in statement.resource_values:
            named = [value.head] if value.head is not None else [r for r in value.refs if r.type in _PINNING_TYPES]
            if named:
                universal = False
                for resource in named:
                    targets.append(resource)
                    stream = compute.consumer_stream(resource)
                    if stream is not None:
                        targets.append(stream)
            elif view.every_stream(value) and fnmatch.fnmatchcase("arn:aws:kms:r:000000000000:key/k", value.pattern):
                any_universal = True
            else:
                return "broad", []
    if universal:
        return "universal", []
    if any_universal:  # some statements name streams, others take in every stream
        return "broad", []
    return "pinned", targets


def _holds_anything(principal: Principal) -> bool:
    for grant in principal.grants:
        statement = grant.statement
        if statement.allows and (statement.kinesis_actions or any(statement.grants_action(a) for a in KEY_USE_ACTIONS)):
            return True
    return False


def _covers_key(view: IamView, statement, key: Resource) -> Coverage:
    """Whether a statement's resources take in a key of the scan: by reference, ``*`` or a
    KMS key ARN pattern (``arn:aws:kms:*:*:key/*``); a value known only at deployment may."""
    coverage = view.covers(statement, key)
    if coverage is not Coverage.NO or statement.not_resource_values:
        return coverage
    for value in statement.resource_values:
        if value.refs or value.head is not None:
            continue
        if fnmatch.fnmatchcase("arn:aws:kms:region:000000000000:key/id", value.pattern.replace("\x00", "*")):
            return Coverage.MAYBE if "\x00" in value.pattern else Coverage.YES
    return Coverage.NO


def _key_policy_state(key: KmsKey) -> dict[str, Any]:
    policy = key.policy.value
    if policy is ABSENT:
        return {"state": "aws_default", "public": False}
    if not isinstance(policy, list):
        return {"state": "unknown", "public": None, **_unknown(key.policy)}
    public = any(s.allows and s.everyone and not s.pins_caller for s in policy)
    return {"state": "written", "public": public}


def _consumer_tables(function: "compute.Function", model: Model, view: IamView) -> list[Resource]:
    """Tables a stream-reading function writes: those its environment names and those its
    role may write (as KDS018 finds them)."""
    found: dict[int, Resource] = {}
    for table in tables_in(function.environment.value, model):
        found.setdefault(id(table), table)
    role = function.role.value
    principal = view.principal(role) if isinstance(role, Resource) else None
    if principal is not None:
        for table in tables_written_by(principal, model):
            found.setdefault(id(table), table)
    return list(found.values())


def _credentials(model: Model, view: IamView) -> dict[int, list[dict[str, Any]]]:
    """How each principal's credentials are taken: compute that runs as a role, access keys of
    a user. Keyed by the principal resource's id."""
    out: dict[int, list[dict[str, Any]]] = {}

    def note(role: Any, how: str, resource: Resource) -> None:
        if isinstance(role, Resource):
            entry = {"how": how, "address": editable(resource).address, **_where(editable(resource))}
            bucket = out.setdefault(id(role), [])
            if entry not in bucket:
                bucket.append(entry)

    for function in compute.functions(model):
        note(function.role.value, "lambda", function.resource)
    for task in compute.task_definitions(model):
        note(compute.role_of(task.task_role, model).value, "ecs_task", task.resource)
    for machine in compute.machines(model):
        roles = compute.profile_roles(machine.profile, model).value
        for role in roles if isinstance(roles, list) else ():
            note(role, "ec2", machine.resource)
    for delivery in compute.delivery_streams(model):
        note(delivery.role.value, "firehose", delivery.resource)
    for key in view.access_keys:
        if key.user is not None:
            note(key.user.resource, "access_key", key.resource)
    return out
