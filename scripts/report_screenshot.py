"""Screenshot of the HTML report of ``examples/`` for the README (docs/images/report.png).

Run from the repository root: ``python scripts/report_screenshot.py [OUT.png]``. Needs
playwright for Python and a Chromium (``/usr/bin/chromium``, Debian's ``chromium`` package;
``KDS_CHROMIUM`` names another). Made by a script so the picture follows the code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

CHROMIUM = os.environ.get("KDS_CHROMIUM", "/usr/bin/chromium")


def main(argv: list[str]) -> int:
    out = argv[0] if argv else os.path.join("docs", "images", "report.png")
    scope = argv[1] if len(argv) > 1 else "examples/terraform/iam-resource-policies"
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.html")
        subprocess.run([sys.executable, "-m", "kds_iac", "map", scope, "--format", "html", "-o", report], check=False, timeout=300)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
            page.goto("file://" + report)
            first = page.locator("details.stream").first
            if first.count() and not first.evaluate("d => d.open"):
                first.locator("summary").click()
            page.locator("tr.finding").first.click()
            page.screenshot(path=out, full_page=True)
            browser.close()
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
