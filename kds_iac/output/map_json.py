"""``kds-iac map --format json``: the access map as its versioned schema
(``docs/output-map-json.md``); ``kds_iac.access_map`` builds the data in schema order."""

from __future__ import annotations

from typing import Any

from kds_iac.output.jsonlayout import dumps


def render_map(access: dict[str, Any], context=None) -> str:
    return dumps(access) + "\n"
