"""Take docs/screenshot.png (desktop: an answer and an open citation) and docs/screenshot-phone.png (390 px).

    python docs/make_screenshot.py [--data DIR] [--out docs/screenshot.png]

Uses the index in --data (default: BPGE_DATA_DIR or data/); when there is none, indexes the shipped
corpus into a temporary folder first. Needs Chromium at /usr/bin/chromium and the playwright package.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTION = "¿Qué prácticas abordan el riesgo de desastres en escuelas rurales?"


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
            page = browser.new_page(viewport={"width": 1280, "height": 1180}, device_scale_factor=1, locale="es-PE")
            page.goto(f"http://127.0.0.1:{port}/?{urlencode({'q': QUESTION})}")
            page.wait_for_selector("#result[data-state='done'] #answer p", state="visible", timeout=30_000)
            page.locator("#answer button.cite").first.click()
            page.wait_for_selector("#passage", state="visible")
            page.mouse.move(0, 0)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="es-PE")
            phone.goto(f"http://127.0.0.1:{port}/?{urlencode({'q': QUESTION})}")
            phone.wait_for_selector("#suggestions:not([hidden]) .chip", timeout=30_000)
            phone.locator("#answer").scroll_into_view_if_needed()
            phone.screenshot(path=str(args.out.with_name(args.out.stem + "-phone.png")), full_page=True)
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
