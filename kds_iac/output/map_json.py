"""``kds-iac map --format json``: the access map as its versioned schema
(``docs/output-map-json.md``); ``kds_iac.access_map`` builds the data in schema order."""

from __future__ import annotations

import json
from typing import Any


def render_map(access: dict[str, Any], context=None) -> str:
    return json.dumps(access, indent=2, ensure_ascii=False) + "\n"
