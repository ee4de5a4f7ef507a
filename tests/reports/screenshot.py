"""Regenerate docs/screenshot.png, the report shown in the README, from a real simulation:

    python -m tests.reports.screenshot [--model gpt2-xl --hw pim-gpt --context 1024 --fidelity cycle]

Uses the same headless Chromium setup as test_browser.py."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.browser import CHROMIUM_ARGS as ARGS, chromium_path

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="gpt2-xl")
    p.add_argument("--hw", default="pim-gpt")
    p.add_argument("--context", type=int, default=1024)
    p.add_argument("--fidelity", default="cycle")
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    import archsim
    from archsim.hardware import load_hardware
    from reports.figures import roof_from_hardware
    from reports.html import write_html

    hw = load_hardware(args.hw)
    result = archsim.simulate(args.model, hw, phase="decode", context=args.context,
                              fidelity=args.fidelity)
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
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
