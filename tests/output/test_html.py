"""The HTML page without a browser: the access map it embeds, and the pieces it is written in."""

from __future__ import annotations

import json

import pytest

from kds_iac.output.html import map_chunks, render_map

DATA_START = '<script type="application/json" id="kds-data">'


@pytest.mark.parametrize("text", ["plain", "a </script> end", "<!-- not a comment -->", "</ <!-- </SCRIPT>", "ü ✓"])
def test_the_page_embeds_the_map_whole_and_nothing_in_it_ends_the_script(text):
    """The page reads its data with JSON.parse: what it embeds must be JSON that gives the map
    back, with no "</" (it would end the script element) and no "<!--"."""
    access = {"scope": ["infra"], "streams": [{"address": text, "findings": [{"message": text}]}]}
    page = render_map(access)
    start = page.index(DATA_START) + len(DATA_START)
    data = page[start : page.index("</script>", start)]
    assert "</" not in data and "<!--" not in data
    assert json.loads(data) == access


def test_the_page_is_written_in_pieces_around_the_data():
    access = {"scope": ["infra"], "streams": []}
    pieces = list(map_chunks(access))
    assert "".join(pieces) == render_map(access)
    assert pieces[0].endswith(DATA_START) and json.loads(pieces[1]) == access and pieces[2].startswith("</script>")
