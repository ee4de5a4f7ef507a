"""Regenerate docs/screenshot.png, the report shown in the README, from the README's Quickstart run
(`archsim simulate --model gpt2-xl --hw pim-gpt`, the chip's default decode), and
docs/screenshot.json, the numbers the picture shows (tests/test_readme.py checks them against a
fresh run, so a stale picture fails the tests):

    python -m tests.reports.screenshot

Uses the same headless Chromium setup as test_browser.py."""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tests.browser import CHROMIUM_ARGS as ARGS, chromium_path

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    import archsim
    from archsim.hardware import load_hardware
    from archsim.reports.figures import roof_from_hardware
    from archsim.reports.html import write_html

    hw = load_hardware(QUICKSTART["hw"])
    result = archsim.simulate(QUICKSTART["model"], hw)
    with tempfile.TemporaryDirectory() as tmp:
        page_path = write_html(result, Path(tmp) / "report.html",
                               roof=roof_from_hardware(hw, result.dtype or "bf16"))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto(page_path.as_uri())
            page.wait_for_function(
                "() => [...document.querySelectorAll('.plotly-graph-div')]"
                ".every(d => d.querySelector('.main-svg'))", timeout=60_000)
            page.screenshot(path=args.out, full_page=False)
            browser.close()
    numbers = Path(args.out).with_suffix(".json")
    numbers.write_text(json.dumps(shown_numbers(result), indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.out} and {numbers}")
    return 0


#: the README's Quickstart run, which the picture shows
QUICKSTART = {"model": "gpt2-xl", "hw": "pim-gpt"}


def shown_numbers(result) -> dict:
    """What the picture's summary shows, in the units it shows them (4 significant digits)."""
    return {"command": f"archsim simulate --model {QUICKSTART['model']} --hw {QUICKSTART['hw']}",
            "phase": result.phase, "context": result.context, "dtype": result.dtype,
            "latency_s": float(f"{result.latency_s:.4g}"), "energy_j": float(f"{result.energy_j:.4g}"),
            "avg_power_w": float(f"{result.avg_power_w:.4g}")}


if __name__ == "__main__":
    raise SystemExit(main())
