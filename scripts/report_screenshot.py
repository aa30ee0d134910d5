"""Pictures of the HTML report of ``examples/`` for the README.

``python scripts/report_screenshot.py [OUT_DIR] [SCOPE]`` (from the repository root; defaults
``docs/images`` and ``examples``) writes the report with ``kds-iac map SCOPE --format html``,
opens it in headless Chromium and saves ``report.png`` (the top of the page: summary and
findings) and ``report-stream.png`` (the stream with the most parties, opened and drawn).
Needs playwright for Python and ``/usr/bin/chromium`` (``KDS_CHROMIUM`` names another). Made
by a script so the pictures follow the code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHROMIUM = os.environ.get("KDS_CHROMIUM", "/usr/bin/chromium")


def main(argv: list[str]) -> int:
    out = argv[0] if argv else os.path.join("docs", "images")
    scope = argv[1] if len(argv) > 1 else "examples"
    os.makedirs(out, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.html")
        command = [sys.executable, "-m", "kds_iac", "map", scope, "--format"]
        subprocess.run(command + ["html", "-o", report], check=False, timeout=600)
        data = json.loads(subprocess.run(command + ["json"], capture_output=True, text=True, timeout=600).stdout)
        # the stream with the most kinds of parties, then the fewest of them: a telling drawing
        # that stays legible
        def score(stream: dict) -> tuple[int, int]:
            kinds = [level for level, found in stream["access"].items() if found]
            kinds += [g["policy"] for g in stream["external_grants"]] + [d["kind"] for d in stream["destinations"]]
            count = sum(len(v) for v in stream["access"].values()) + len(stream["external_grants"]) + len(stream["destinations"])
            return len(set(kinds)), -count

        best = max(range(len(data["streams"])), key=lambda i: (score(data["streams"][i]), -i)) if data["streams"] else None
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
            page.goto("file://" + report)
            page.locator("tr.finding").first.click()
            page.screenshot(path=os.path.join(out, "report.png"))
            if best is not None:
                section = page.locator(f"#stream-{best}")
                if not section.evaluate("d => d.open"):
                    section.locator("summary").click()
                section.locator("svg.graph").wait_for(state="attached", timeout=60_000)
                section.screenshot(path=os.path.join(out, "report-stream.png"))
            browser.close()
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
