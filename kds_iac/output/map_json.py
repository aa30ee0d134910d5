"""``kds-iac map --format json``: the access map as its versioned schema
(``docs/output-map-json.md``); ``kds_iac.access_map`` builds the data in schema order."""

from __future__ import annotations

from itertools import chain
from typing import Any, Iterator

from kds_iac.output.jsonlayout import chunked


def render_map(access: dict[str, Any], context=None) -> str:
    return "".join(map_chunks(access, context))


def map_chunks(access: dict[str, Any], context=None) -> Iterator[str]:
    """``render_map``'s text a stream, a finding, a diagnostic at a time: the whole text, and the
    list of its parts joined into it, were 40 MB each for the 1,000-template tree."""
    return chain(chunked(access, depth=2), ("\n",))
