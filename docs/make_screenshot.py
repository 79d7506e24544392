"""Take docs/screenshot.png (1280 × 800: an answer and an open citation) and docs/screenshot-phone.png
(390 px wide, the first two screens), and print the Pasco practice sheet to PDF (A4; its page count).

    python docs/make_screenshot.py [--data DIR] [--out docs/screenshot.png] [--pdf FILE]

Uses the index in --data (default: BPGE_DATA_DIR or data/); when there is none, indexes the shipped
corpus into a temporary folder first. Needs Chromium at /usr/bin/chromium and the playwright package.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTION = "los profes no saben q hacer con los chicos con discapacidad"
SHEET_ID = "gestion-educativa-con-impacto-para-la-mejora"  # Pasco
PHONE = {"width": 390, "height": 844}


def main() -> int:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from bot.service import Assistant
    from bot.web import create_app
    from bpge.settings import Settings
    from indexer.build import build_index
    from indexer.store import current_build_id
    from tests.support import CHROMIUM_ARGS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--pdf", type=Path, help="where to write the Pasco sheet as PDF (default: a temporary file)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    # Only the index matters here: no Telegram bot, extractive answers (reproducible).
    settings = Settings.model_construct().model_copy(
        update={"corpus_dir": ROOT / "corpus", "data_dir": args.data or ROOT / "data"}
    )
    tmp = None
    if current_build_id(settings.data_dir) is None:
        tmp = tempfile.TemporaryDirectory(prefix="bpge-shot-")
        settings = settings.model_copy(update={"data_dir": Path(tmp.name)})
        print(f"no index in {args.data or 'data/'}; indexing the shipped corpus into {tmp.name} …", flush=True)
        build_index(settings)
    assistant = Assistant.load(settings)
    app = create_app(settings, assistant)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            return 1
        time.sleep(0.05)

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1, locale="es-PE")
            page.goto(f"http://127.0.0.1:{port}/?{urlencode({'q': QUESTION})}")
            page.wait_for_selector("#result[data-state='done'] #answer p", state="visible", timeout=30_000)
            page.locator("#answer button.cite").first.click()
            page.wait_for_selector("#passage", state="visible")
            # from the question down: the answer and the open source, not the page's introduction
            page.evaluate("window.scrollTo(0, document.querySelector('#ask-form').offsetTop - 12)")
            page.mouse.move(0, 0)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))

            phone_context = browser.new_context(
                viewport={"width": PHONE["width"], "height": 2 * PHONE["height"]},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="es-PE",
            )
            phone = phone_context.new_page()
            phone.goto(f"http://127.0.0.1:{port}/?{urlencode({'q': QUESTION})}")
            phone.wait_for_selector("#suggestions:not([hidden]) .chip", timeout=30_000)
            phone.evaluate("window.scrollTo(0, 0)")
            # the first two screens, in a viewport that tall: a full-page capture loses the touch emulation
            phone.screenshot(path=str(args.out.with_name(args.out.stem + "-phone.png")))
            phone_context.close()

            sheet = browser.new_page(locale="es-PE")
            sheet.goto(f"http://127.0.0.1:{port}/practicas/{SHEET_ID}")
            pdf = sheet.pdf(format="A4")
            if args.pdf:
                args.pdf.write_bytes(pdf)
            pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
            print(f"sheet {SHEET_ID}: {pages} A4 page(s)")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if tmp is not None:
            tmp.cleanup()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
