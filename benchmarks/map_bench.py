"""Time ``kds-iac map`` against ``kds-iac scan`` on the generated trees, and the HTML report
opening in Chromium.

For each format, the 1,000-file tree of ``generate.py`` is scanned by

* ``kds-iac scan TREE --format json``
* ``kds-iac map TREE --format json`` and ``kds-iac map TREE --format html``

(fresh processes, alternating, median of ``--repeat`` runs), and the HTML report is opened in
headless Chromium (``/usr/bin/chromium`` through playwright): the time from navigation to the
page's ``load`` event (the embedded map parsed, the summary and the findings table built)
and to the first stream drawn after a click. Browser start-up is left out. Figures are
printed, never asserted: the targets (map at most 1.5 times the scan, report open under
2 s) are for a person to compare, see ``benchmarks/README.md``.

Usage::

    python benchmarks/map_bench.py                       # 1,000 files, both formats, 3 runs
    python benchmarks/map_bench.py --files 100 --repeat 1 --formats terraform
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

CHROMIUM = os.environ.get("KDS_CHROMIUM", "/usr/bin/chromium")


def timed(command: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600, check=False)
    return time.perf_counter() - start


def browser_times(report: str, repeat: int) -> tuple[list[float], list[float], int]:
    from playwright.sync_api import sync_playwright

    loads, draws = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for _ in range(repeat):
            page = browser.new_page()
            start = time.perf_counter()
            page.goto("file://" + report, wait_until="load", timeout=120_000)
            loads.append(time.perf_counter() - start)
            start = time.perf_counter()
            page.locator("#stream-0 summary").click()
            page.locator("#stream-0 svg.graph").wait_for(state="attached", timeout=120_000)
            draws.append(time.perf_counter() - start)
            streams = page.evaluate("MAP.streams.length")  # sections keep arriving in batches after load
            page.close()
        browser.close()
    return loads, draws, streams


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--formats", default="terraform,cloudformation")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kds-iac", default=os.path.join(os.path.dirname(sys.executable), "kds-iac"))
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="kds-map-bench-")
    try:
        print(f"| format | files | scan json (s) | map json (s) | map html (s) | map/scan | HTML size | streams | page load (s) | first drawing (s) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for fmt in args.formats.split(","):
            tree = os.path.join(work, fmt)
            generate.generate_tree(tree, fmt, args.files)
            report = os.path.join(work, f"{fmt}.html")
            kds = args.kds_iac
            timed([kds, "scan", tree, "--format", "json", "--no-progress", "-q"], work)  # warm-up (page cache)
            scans, maps, htmls = [], [], []
            for _ in range(args.repeat):
                scans.append(timed([kds, "scan", tree, "--format", "json", "--no-progress", "-q"], work))
                maps.append(timed([kds, "map", tree, "--format", "json"], work))
                htmls.append(timed([kds, "map", tree, "--format", "html", "-o", report], work))
            loads, draws, streams = browser_times(report, args.repeat)
            scan, mapped, html = (statistics.median(x) for x in (scans, maps, htmls))
            print(
                f"| {fmt} | {args.files} | {scan:.2f} | {mapped:.2f} | {html:.2f} | {max(mapped, html) / scan:.2f} | "
                f"{os.path.getsize(report) / 1e6:.1f} MB | {streams} | {statistics.median(loads):.2f} | {statistics.median(draws):.2f} |",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
