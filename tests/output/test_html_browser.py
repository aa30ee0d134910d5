"""The HTML report in a real browser (headless Chromium driven by playwright).

Loads the report of example scopes and checks what a reviewer relies on: no console error,
the filters change the visible rows, each stream's drawing has exactly the nodes and edges
of the access map, a click on a finding shows its location. A screenshot of each report is
written to ``build/screenshots/`` (git-ignored; ``KDS_SCREENSHOTS`` names another folder).

Skipped only off CI when ``/usr/bin/chromium`` is absent; in CI (``CI`` set) it must run.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from kds_iac import access_map
from kds_iac.config import resolve_config
from kds_iac.engine import scan
from kds_iac.output.html import render_map
from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
IN_CI = bool(os.environ.get("CI"))

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not IN_CI,
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium); the browser tests run in CI",
)

SCOPES = [
    "examples/terraform/iam-resource-policies",
    "examples/terraform/roles-readers-granted",
    "examples/terraform/gated-module",
    "examples/cloudformation/iam-sam.yaml",
    "examples/cloudformation/datapath-failure-destinations.yaml",
    "examples/cloudformation/cloudtrail-data-events",
    "examples/serverless/consumer-tables",
    "examples/terraform/cloudtrail-defects",  # more trails than are drawn one by one
]


def expected_graph(stream: dict, every: dict) -> tuple[set[str], Counter]:
    """The nodes and edges (from, to, kind) the drawing must show, read off the map."""
    nodes = {"stream"}
    edges: Counter = Counter()
    key = stream["encryption"]["key"]
    if key:
        nodes.add("key")
        edges[("key", "stream", "key")] += 1
    for level in access_map.LEVELS:
        for entry in stream["access"][level]:
            nodes.add("p:" + entry["principal"])
            edges[("p:" + entry["principal"], "key" if level == "key_use" and key else "stream", level)] += 1
    if any(every.values()):  # the principals with access to every stream: one node
        nodes.add("every")
        for level in access_map.LEVELS:
            if every[level]:
                edges[("every", "key" if level == "key_use" and key else "stream", level)] += 1
    for grant in stream["external_grants"]:
        for who in grant["grantees"]:
            node = "x:" + ("*" if who["kind"] == "anyone" else who["principal"])
            nodes.add(node)
            target = "key" if grant["policy"] == "key_policy" and key else "stream"
            edges[(node, target, "anyone" if who["kind"] == "anyone" else "external")] += 1
    trails = stream["audit"]["trails"]
    if len(trails) > 4:  # many trails in the scope: drawn as one node
        nodes.add("t:*")
        edges[("t:*", "stream", "audit")] += 1
    for trail in trails if len(trails) <= 4 else ():
        nodes.add("t:" + trail["address"])
        edges[("t:" + trail["address"], "stream", "audit")] += 1
    if stream["audit"]["organization_trail"]:
        nodes.add("t:org")
        edges[("t:org", "stream", "audit")] += 1
    for dest in stream["destinations"]:
        node = "d:" + (dest["address"] or f"{dest['via']} {dest['role']}")
        nodes.add(node)
        edges[("stream", node, "dest")] += 1
    return nodes, edges


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed") if not IN_CI else None
    if sync_api is None:
        from playwright import sync_api
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def screenshots() -> Path:
    folder = Path(os.environ.get("KDS_SCREENSHOTS", REPO / "build" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def report(scope: str, tmp_path: Path) -> tuple[dict, Path]:
    config = resolve_config(None, [scope], str(REPO))
    built = access_map.build(scan([scope], config=config))
    path = tmp_path / "report.html"
    path.write_text(render_map(built), encoding="utf-8")
    return built, path


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: problems.append("request " + request.url) if not request.url.startswith("file:") else None)
    page.goto(path.as_uri())
    page.wait_for_function("window.kdsStreamsReady === true", timeout=60_000)  # hang guard only
    return page, problems


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("scope", SCOPES)
def test_drawings_match_the_map(browser, scope, tmp_path):
    built, path = report(scope, tmp_path)
    page, problems = open_page(browser, path)
    sections = page.locator("details.stream")
    assert sections.count() == len(built["streams"])
    for index, stream in enumerate(built["streams"]):
        section = page.locator(f"#stream-{index}")
        if not section.evaluate("d => d.open"):
            assert section.locator("svg").count() == 0  # drawn only when opened
            section.locator("summary").click()
        svg = section.locator("svg.graph")
        svg.wait_for(state="attached", timeout=30_000)  # the toggle event draws it; the timeout only guards a hang
        assert svg.count() == 1
        drawn_nodes = set(svg.locator("g.node").evaluate_all("ns => ns.map(n => n.dataset.id)"))
        drawn_edges = Counter(
            tuple(e) for e in svg.locator("g.edge").evaluate_all("es => es.map(e => [e.dataset.from, e.dataset.to, e.dataset.kind])")
        )
        nodes, edges = expected_graph(stream, built["every_stream"])
        assert (stream["address"], drawn_nodes) == (stream["address"], nodes)
        assert drawn_edges == edges
        marked = set(svg.locator('g.node[data-marked="true"]').evaluate_all("ns => ns.map(n => n.dataset.id)"))
        if stream["findings"]:
            assert "stream" in marked
        else:
            assert "stream" not in marked
    name = scope.replace("/", "_").replace(".", "_") + ".png"
    page.screenshot(path=str(screenshots() / name), full_page=True)
    assert problems == []
    page.close()


def test_filters_and_finding_location(browser, tmp_path):
    built, path = report("examples/terraform/iam-resource-policies", tmp_path)
    page, problems = open_page(browser, path)
    rows = page.locator("#findings-table tr.finding")

    def visible() -> list[tuple[str, str]]:
        return [(r.get_attribute("data-rule"), r.get_attribute("data-severity")) for r in rows.all() if r.is_visible()]

    everything = sorted((f["rule_id"], f["severity"]) for f in built["findings"])
    assert sorted(visible()) == everything == [("KDS009", "high"), ("KDS009", "high"), ("KDS015", "low"), ("KDS015", "low")]
    page.select_option("#f-severity", "low")
    assert visible() == [("KDS015", "low"), ("KDS015", "low")]
    page.select_option("#f-severity", "")
    page.select_option("#f-rule", "KDS009")
    assert visible() == [("KDS009", "high"), ("KDS009", "high")]
    page.select_option("#f-file", "examples/terraform/iam-resource-policies/main.tf")
    assert len(visible()) == 2
    assert page.locator("#f-count").inner_text() == "2 of 4 match"
    page.select_option("#f-rule", "")
    first = built["findings"][0]
    rows.first.locator("td").nth(3).click()
    assert page.locator("#detail-location").inner_text() == f"{first['file']}:{first['line']}"
    assert rows.first.locator("a.loc").get_attribute("href") == f"{first['file']}#L{first['line']}"
    assert rows.first.locator("td").nth(1).locator("a").get_attribute("href") == first["help_uri"]
    assert problems == []
    page.close()


def test_long_findings_table_pages(browser, tmp_path):
    """Thousands of findings: 200 rows at first, 200 more per click; filters apply to all."""
    built, _ = report("examples/terraform/iam-resource-policies", tmp_path)
    finding = built["findings"][0]
    built["findings"] = [dict(finding, line=i + 1, severity="high" if i % 2 else "low") for i in range(1000)]
    path = tmp_path / "many-findings.html"
    path.write_text(render_map(built), encoding="utf-8")
    page, problems = open_page(browser, path)
    rows = page.locator("#findings-table tr.finding")
    assert rows.count() == 200
    page.click("#f-more")
    assert rows.count() == 400
    page.select_option("#f-severity", "high")
    assert rows.count() == 200 and page.locator("#f-count").inner_text() == "500 of 1000 match, 200 listed"
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.severity)")) == {"high"}
    assert problems == []
    page.close()


def test_many_streams_draw_lazily(browser, tmp_path):
    """500 streams: the page shows them all closed and draws none until one is opened."""
    built, _ = report("examples/terraform/roles-readers-granted", tmp_path)
    (stream,) = built["streams"]
    built["streams"] = [dict(stream, address=f"aws_kinesis_stream.s{i}") for i in range(500)]
    path = tmp_path / "many.html"
    path.write_text(render_map(built), encoding="utf-8")
    page, problems = open_page(browser, path)
    assert page.locator("details.stream").count() == 500
    assert page.locator("svg.graph").count() == 0
    page.locator("#stream-499 summary").click()
    page.locator("#stream-499 svg.graph").wait_for(state="attached", timeout=30_000)
    assert page.locator("svg.graph").count() == 1
    assert problems == []
    page.close()
