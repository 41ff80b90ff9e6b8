"""Write docs/report-*.png: the first screen of the baseline reports and the run's map.

Run from the repository after writing the three reports it shows:

    .venv/bin/ree-plan solve inputs/baseline
    .venv/bin/ree-plan compare inputs/baseline inputs/scenarios/prices-2025.toml \
        inputs/scenarios/china-dumping.toml inputs/scenarios/myanmar-cutoff.toml \
        inputs/scenarios/strange-lake-anyway.toml --name docs
    .venv/bin/ree-plan frontier inputs/scenarios/prices-2025.toml --budget-scale 0:1:0.1 \
        --name docs
    .venv/bin/python docs/screenshots.py

The frontier is that of ``prices-2025``: at the baseline's 2026 prices no money is needed,
so its frontier is flat.

It needs the test extras (playwright) and Debian's chromium; the reports open offline.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).parent
RESULTS = DOCS.parent / "results"
SHOTS = {  # file: (report, section to crop, or None for the first screen)
    "report-run.png": ("baseline", None),
    "report-run-map.png": ("baseline", "map"),
    "report-compare.png": ("compare-docs", None),
    "report-frontier.png": ("frontier-docs", None),
}


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
        for name, (folder, section) in SHOTS.items():
            page = context.new_page()
            page.goto((RESULTS / folder / "report.html").resolve().as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg')"
                                   ".length >= document.querySelectorAll('.plotly-graph-div')"
                                   ".length")
            target = page.locator(f"section#{section}") if section else page
            target.screenshot(path=str(DOCS / name))
            page.close()
            print(f"wrote docs/{name}")
        browser.close()


if __name__ == "__main__":
    main()
