"""The key a fix chooses, shared by the rules that ask for a customer managed key.

A fix names a key only when the choice is certain: exactly one fit customer managed key
(``KmsKey.fit``) in the module or template of the resource being fixed. Otherwise the stream
rules offer to add a new key (an unsafe fix: it creates a resource), and the rules on where
stream data lands offer nothing, since a new key there is a choice a person should make.

A key fix is safe only if nobody loses access: once a resource is encrypted with a customer
managed key, each principal of the scan that uses it (``KeyUser``) must be granted the KMS
actions it then needs on that key, by an IAM statement of the scan or by the key's own
policy (``iam.missing_key_use``). Where one is not, the fix is unsafe and its title names
who would lose access. Users are asked for only when a fix is made (a finding without one
costs nothing).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from kds_iac import iam_actions
from kds_iac.fixes import SAFE, UNSAFE, Fix, Link, NewResource
from kds_iac.model import Model, Resource
from kds_iac.views import compute
from kds_iac.views.iam import Principal, editable, iam, missing_key_use
from kds_iac.views.facts import listed
from kds_iac.views.kinesis import Stream
from kds_iac.views.kms import KmsKey, fit_keys_near
from kds_iac.views.settings import derived_name, fixable, repeated

NEW_KEY = "kms_key"  # the kind of NewResource: a customer managed key with rotation on


def the_fit_key(model: Model, near: Resource) -> Optional[KmsKey]:
    """The one fit customer managed key ``near`` can reference, None when there are none or several."""
    keys = fit_keys_near(model, near)
    return keys[0] if len(keys) == 1 else None


WRITE_KEY = ("kms:GenerateDataKey",)  # encrypting: a producer, Firehose writing S3
READ_KEY = ("kms:Decrypt",)  # decrypting: a consumer
USE_KEY = ("kms:GenerateDataKey", "kms:Decrypt")  # both: a sender to an encrypted queue or topic, a table writer

# A principal of the scan that uses the resource a fix encrypts, and the KMS actions it
# then needs on the key.
KeyUser = tuple[Principal, tuple[str, ...]]


def keyed_fix(
    model: Model,
    near: Resource,
    title: str,
    settings: Callable[[Link], tuple],
    new_key_description: Optional[str] = None,
    users: Optional[Callable[[], Iterable]] = None,
) -> Optional[Fix]:
    """A fix that makes ``settings(link)`` with the one fit key of ``near``'s module or
    template (safe), else, given ``new_key_description``, with a new key written next to
    ``near`` (unsafe). None for a resource a fix may not edit (``fixable``) or when a
    setting has no place in the format, and no new key for a
    resource created only under a gate (``count``, ``for_each``, a ``Condition``) that the
    input defaults leave closed, or repeated by ``count`` or ``for_each``: the key would be
    created without it (or once for all), and repeating the gate is a choice for a person.

    ``users`` gives the principals that use ``near`` with what they need on the key: the fix
    with the fit key is unsafe when one of them is not granted it, and both fixes' titles
    then say who would lose access."""
    if not fixable(near):
        return None
    key = the_fit_key(model, near)
    if key is not None:
        intents = settings(Link(key.resource, "arn"))
        title, safety = f"{title} with KMS key {key.resource.address}", SAFE
    elif new_key_description is not None and near.condition is None and not repeated(near):
        new = NewResource(NEW_KEY, derived_name(near, "key"), near=near, description=new_key_description)
        intents = (new,) + settings(Link(new, "arn"))
        title, safety = f"{title} with a new KMS key", UNSAFE
    else:
        return None
    if not intents or any(i is None for i in intents):
        return None
    if users is not None:
        lost = losing_access(model, users(), key)
        if lost:
            title, safety = f"{title}; {lost}", UNSAFE
    return Fix(title, safety, intents)


def losing_access(model: Model, users: Iterable, key: Optional[KmsKey]) -> str:
    """Who would lose access once ``key`` (None: a new key with the account's default policy)
    encrypts what ``users`` use, as a title's clause ("roles a, b are not granted
    kms:GenerateDataKey on the key"); "" when nobody would. ``users`` holds ``KeyUser``s and
    ``SharedUsers``, whose answer is worked out once per key."""
    answers: dict[tuple, Any] = model.memo("key_fix_grants", dict)
    key_id = id(key.resource) if key is not None else None

    def missing(principal: Principal, actions: tuple[str, ...]) -> tuple[str, ...]:
        ordered = tuple(a for a in USE_KEY if a in actions) + tuple(sorted(set(actions) - set(USE_KEY)))
        asked = (id(principal), key_id, ordered)
        found = answers.get(asked)
        if found is None:  # a principal of a wide grant is asked about many streams' keys
            found = answers[asked] = missing_key_use(model, principal, key, ordered)
        return found

    # the shared users' losses are grouped once per key; a finding adds its own users to a copy
    base: dict[int, tuple[Principal, frozenset[str]]] = {}
    lost: dict[int, tuple[Principal, frozenset[str]]] = {}
    for item in users:
        if isinstance(item, SharedUsers):
            shared = answers.get((id(item), key_id))
            if shared is None:
                shared = {}
                for principal, actions in item:
                    absent = missing(principal, actions)
                    if absent:
                        entry = shared.get(id(principal))
                        shared[id(principal)] = (principal, frozenset(absent) | (entry[1] if entry else frozenset()))
                answers[(id(item), key_id)] = shared
            base = shared
        else:
            principal, actions = item
            absent = missing(principal, actions)
            if absent:
                entry = lost.get(id(principal))
                lost[id(principal)] = (principal, frozenset(absent) | (entry[1] if entry else frozenset()))
    if not lost and not base:
        return ""
    if not lost:  # only the shared users lose access: the same clauses for every finding
        said = answers.get(("said", id(base)))
        if said is not None:
            return said
    grouped = answers.get(("groups", id(base)))
    if grouped is None:  # the shared users' names by (kind, actions missing), once per key
        grouped = answers[("groups", id(base))] = _grouped(base.values())
    changed: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for principal_id, (principal, absent) in lost.items():
        entry = base.get(principal_id)
        name = editable(principal.resource).address
        if entry is not None:
            if absent <= entry[1]:
                continue
            old = _group_key(principal, entry[1])
            names = changed.setdefault(old, list(grouped.get(old, ())))
            if name in names:
                names.remove(name)
            absent = absent | entry[1]
        new = _group_key(principal, absent)
        names = changed.setdefault(new, list(grouped.get(new, ())))
        if name not in names:
            names.append(name)
    clauses = []
    for key_ in sorted(set(grouped) | set(changed)):
        kind, absent_actions = key_
        if key_ not in changed:
            clause = answers.get(("clause", id(base), key_))
            if clause is None:
                clause = answers[("clause", id(base), key_)] = _clause(kind, absent_actions, grouped[key_])
        else:
            clause = _clause(kind, absent_actions, changed[key_]) if changed[key_] else ""
        if clause:
            clauses.append(clause)
    said = "; ".join(clauses)
    if not lost:
        answers[("said", id(base))] = said
    return said


def _group_key(principal: Principal, absent: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    return principal.kind, tuple(a for a in USE_KEY if a in absent) + tuple(sorted(absent - set(USE_KEY)))


def _grouped(lost: Iterable[tuple[Principal, frozenset[str]]]) -> dict[tuple[str, tuple[str, ...]], list[str]]:
    grouped: dict[tuple[str, tuple[str, ...]], dict[str, None]] = {}
    for principal, absent in lost:
        grouped.setdefault(_group_key(principal, absent), {})[editable(principal.resource).address] = None
    return {key: list(names) for key, names in grouped.items()}


def _clause(kind: str, absent: tuple[str, ...], names: list[str]) -> str:
    names = sorted(set(names))
    subject = f"{kind}s {listed(names)} are" if len(names) > 1 else f"{kind} {names[0]} is"
    return f"{subject} not granted {' and '.join(absent)} on the key"


class SharedUsers(tuple):
    """``KeyUser``s that are the same for many resources (principals granted every stream):
    ``losing_access`` asks about them once per key, not once per finding."""


def stream_users(model: Model, stream: Stream) -> list:
    """The principals of the scan that write (kms:GenerateDataKey) or read (kms:Decrypt) a
    stream, as the IAM view grants them (sure or possible), and the roles of the Lambda
    functions and Firehose delivery streams that read it: ``KeyUser``s and one
    ``SharedUsers`` for those granted every stream."""
    index = model.memo("key_fix_stream_users", lambda: _UserIndex(model))
    found: list = [index.shared(stream)]
    asked, readers = index.asked(stream.resource), index.readers.get(id(stream.resource), ())
    if not (asked or readers):  # most streams of a large template: only the shared users
        return found
    view = iam(model)
    for principal in asked:
        needed = _needs(view.kinesis_access(principal, stream))
        if needed:
            found.append((principal, needed))
    for role in readers:
        principal = view.principal(role)
        if principal is not None:
            found.append((principal, READ_KEY))
    return found


def _needs(access) -> tuple[str, ...]:
    held = access.actions | access.maybe
    return (WRITE_KEY if held & iam_actions.PRODUCER_ACTIONS else ()) + (
        READ_KEY if held & iam_actions.CONSUMER_ACTIONS else ()
    )


def role_users(model: Model, roles: Iterable[Any], actions: tuple[str, ...]) -> list[KeyUser]:
    """``roles`` (role resources; other values are left out) that are principals of the scan,
    each needing ``actions``."""
    view = iam(model)
    found = []
    for role in roles:
        principal = view.principal(role) if isinstance(role, Resource) else None
        if principal is not None:
            found.append((principal, actions))
    return found


class _UserIndex:
    """Which principals to ask about which stream, built once per scan: a principal whose
    Kinesis statements name streams only by reference is asked about those; the others
    (wildcards, patterns, values known only at deployment) about every stream; one whose
    Kinesis statements all take in every stream (``*``) gets the same answer for each, asked
    once (``shared``). And the roles
    that read each stream through a Lambda mapping or a Firehose delivery stream."""

    def __init__(self, model: Model):
        view = iam(model)
        self.model = model
        self.pinned: dict[int, list[Principal]] = {}
        self.broad: list[Principal] = []
        self.universal: list[Principal] = []
        self._shared: Optional[SharedUsers] = None
        for principal in view.principals:
            every = [g.statement for g in principal.grants if g.statement.kinesis_actions]
            statements = [s for s in every if s.allows]
            if not statements:
                continue
            if not principal.unknown_documents and all(
                s.actions_known and not s.not_resource_values and s.resource_values
                and all(not v.refs and v.head is None and view.every_stream(v) for v in s.resource_values)
                for s in every
            ):
                self.universal.append(principal)
                continue
            named: list[Resource] = []
            pinned = True
            for statement in statements:
                if statement.not_resource_values or not statement.resource_values:
                    pinned = False
                    break
                for value in statement.resource_values:
                    heads = [value.head] if value.head is not None else list(value.refs)
                    if not heads:
                        pinned = False
                        break
                    named += heads + [s for s in map(compute.consumer_stream, heads) if s is not None]
                if not pinned:
                    break
            if pinned:
                for resource in {id(r): r for r in named}.values():
                    self.pinned.setdefault(id(resource), []).append(principal)
            else:
                self.broad.append(principal)
        self.readers: dict[int, list[Any]] = {}
        for mapping in compute.event_source_mappings(model):
            source, function = mapping.source.value, mapping.function.value
            if isinstance(source, compute.StreamSource) and source.stream is not None and isinstance(function, compute.Function):
                self.readers.setdefault(id(source.stream), []).append(function.role.value)
        for delivery in compute.delivery_streams(model):
            source = delivery.source.value
            if isinstance(source, compute.StreamSource) and source.stream is not None:
                self.readers.setdefault(id(source.stream), []).append(delivery.role.value)

    def shared(self, stream: Stream) -> SharedUsers:
        """The users among the principals granted every stream: asked about the first stream
        (their answer is the same for each)."""
        if self._shared is None:
            view = iam(self.model)
            pairs = ((p, _needs(view.kinesis_access(p, stream))) for p in self.universal)
            self._shared = SharedUsers((p, needed) for p, needed in pairs if needed)
        return self._shared

    def asked(self, stream: Resource) -> list[Principal]:
        pinned = self.pinned.get(id(stream))
        if pinned is None or not self.broad:  # most streams: one of the two lists as it is
            return self.broad if pinned is None else pinned
        taken = {id(p) for p in pinned}
        return pinned + [p for p in self.broad if id(p) not in taken]
