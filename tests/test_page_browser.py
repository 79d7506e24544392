"""The page in a real headless Chromium, over the real app and the index of the shipped corpus.

Also, without a browser: the practice sheet's HTML and the page script's section labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.pages import STATIC_DIR, render_practice
from bot.service import Assistant
from bot.web import create_app
from tests.fakes.llm_server import FakeLLM, Reply
from tests.support import CHROMIUM_ARGS, serve

CHROMIUM = Path("/usr/bin/chromium")

RISK_QUESTION = "¿Qué prácticas abordan el riesgo de desastres en escuelas rurales?"
AYACUCHO_ID = "fortalecemos-la-gestion-del-riesgo-de-desastres"


@pytest.fixture(scope="module")
def base_url(assistant: Assistant) -> Iterator[str]:
    """The real app (extractive answers) over the shipped corpus."""
    with serve(create_app(assistant.settings, assistant)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, locale="es-PE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors
    yield page
    context.close()


def ask(page: Any, question: str, region: str = "") -> Any:
    page.goto("/")
    page.wait_for_selector("#region[data-loaded]", state="attached")
    if region:
        page.select_option("#region", region)
    page.fill("#question", question)
    page.click("#ask-button")
    page.wait_for_selector("#result[data-state='done'] #answer[aria-busy='false'] p", state="visible")
    return page.locator("#answer")


@pytest.mark.browser
def test_answer_citation_and_practice_sheet(page: Any) -> None:
    answer = ask(page, RISK_QUESTION)
    assert "Ayacucho" in answer.inner_text()
    citations = page.locator("#answer button.cite")
    assert citations.count() >= 1
    assert page.locator("#sources li").count() >= 1

    citations.first.click()
    panel = page.locator("#passage")
    panel.wait_for(state="visible")
    panel_text = panel.inner_text()
    # the document's own title and where to look in it, not a file name
    origin = page.locator("#passage-document").inner_text()
    assert "Reporte" in origin or "Ficha" in origin or "Buena" in origin, origin
    assert re.search(r"(líneas?|página|diapositiva) \d", origin), origin
    assert "línea" in panel_text or "página" in panel_text
    assert page.locator("#passage-text").inner_text().strip()
    assert citations.first.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")

    ficha = page.locator(f"#sources a.ficha[href^='/practicas/{AYACUCHO_ID}']").first
    ficha.click()
    page.wait_for_url(re.compile(f"/practicas/{AYACUCHO_ID}"))
    sheet = page.locator("article.sheet").inner_text()
    assert "Recomendaciones" in sheet
    assert "Indira Judhit Alvarez Ascencio" in sheet  # the expert who commented this practice
    assert page.locator("#citado").count() == 1  # the cited passage is highlighted
    assert page.get_by_role("button", name="Imprimir").is_visible()
    assert not page.errors, page.errors


@pytest.mark.browser
def test_followup_on_the_page_names_its_practice(page: Any) -> None:
    """A follow-up typed after an answer continues the conversation: the earlier turn joins the thread and the
    answer says which practice it is about, linked to its sheet."""
    ask(page, "los directores no cumplen con el PAT y nadie hace seguimiento")
    page.fill("#question", "¿y qué resultados tuvo?")
    page.click("#ask-button")
    page.wait_for_selector("#answer .followup-about a", state="visible")
    page.wait_for_selector("#result[data-state='done']", state="attached")
    about = page.locator("#answer .followup-about")
    assert about.inner_text().startswith("Sobre la práctica:")
    assert "Junín" in about.inner_text()
    label = about.locator("a").inner_text()
    assert page.locator("#answer").inner_text().count(label) == 1  # the practice is named once
    assert (about.locator("a").get_attribute("href") or "").startswith("/practicas/")
    assert "PAT" in page.locator("#thread").inner_text()  # the first question stays on screen
    assert not page.errors, page.errors


@pytest.mark.browser
def test_off_topic_question_shows_abstention(page: Any) -> None:
    answer = ask(page, "¿Cuál es la receta del ceviche?")
    assert "abstained" in (answer.get_attribute("class") or "")
    assert "fuera de la gestión educativa" in answer.inner_text()
    assert page.locator("#answer button.cite").count() == 0
    assert page.locator("#sources-block").is_hidden()


@pytest.mark.browser
def test_region_filter(page: Any) -> None:
    answer = ask(page, "¿qué prácticas hay?", region="Ica")
    assert "Nasca" in answer.inner_text()
    assert "Ayacucho" not in answer.inner_text()
    assert "region=Ica" in page.url


@pytest.mark.browser
def test_example_chip_and_empty_question(page: Any) -> None:
    page.goto("/")
    page.click("#ask-button")
    assert page.locator("#error").inner_text() == "Escriba una pregunta."
    page.get_by_role("button", name="¿A quién contacto sobre la práctica de Pasco?").click()
    page.wait_for_selector("#result[data-state='done'] #answer[aria-busy='false'] p", state="visible")
    assert "Pasco" in page.locator("#answer").inner_text()
    assert page.input_value("#question") == "¿A quién contacto sobre la práctica de Pasco?"


@pytest.mark.browser
def test_server_error_detail_is_shown(page: Any) -> None:
    detail = "El almacén de vectores (Chroma) no responde; intente de nuevo en unos minutos."

    def fail(route: Any) -> None:
        route.fulfill(status=503, content_type="application/json", body=f'{{"detail": "{detail}"}}')

    page.route("**/api/ask**", fail)
    try:
        page.goto("/")
        page.fill("#question", "¿Qué hizo Junín?")
        page.click("#ask-button")
        page.wait_for_selector("#result[data-state='error'] #error", state="visible")
        assert page.locator("#error").inner_text() == detail
    finally:
        page.unroute("**/api/ask**")


@pytest.mark.browser
def test_streamed_answer_falls_back_and_renders_deltas(page: Any, base_url: str) -> None:
    """Deltas are shown while they arrive and replaced by the final answer; 404 falls back to /api/ask."""
    final = httpx.post(f"{base_url}/api/ask", json={"question": RISK_QUESTION}, timeout=30).json()

    stream = (
        "".join(
            f"event: delta\ndata: {json.dumps({'text': chunk}, ensure_ascii=False)}\n\n"
            for chunk in ("Según ", "las fuentes…")
        )
        + f"event: answer\ndata: {json.dumps(final, ensure_ascii=False)}\n\n"
    )
    page.route(
        "**/api/ask/stream", lambda route: route.fulfill(status=200, content_type="text/event-stream", body=stream)
    )
    try:
        answer = ask(page, RISK_QUESTION)
        assert answer.inner_text().startswith(final["answer"].split("\n")[0][:40])
        assert page.locator("#answer button.cite").count() >= 1
        assert page.locator("#answer p.streaming").count() == 0
    finally:
        page.unroute("**/api/ask/stream")

    page.route(
        "**/api/ask/stream",
        lambda route: route.fulfill(status=404, content_type="application/json", body='{"detail": "Not Found"}'),
    )
    try:
        answer = ask(page, RISK_QUESTION)
        assert "Ayacucho" in answer.inner_text()
    finally:
        page.unroute("**/api/ask/stream")


@pytest.mark.browser
def test_generated_answer_streams_into_the_page(page: Any, assistant: Assistant) -> None:
    """With an LLM configured (the scripted server), checked sentences appear as they are written."""
    # The model's reply: a sentence copied from each of the first two sources, so that it passes the check.
    base = assistant.ask(RISK_QUESTION)
    sentences = []
    for source in base.sources[:2]:
        line = next(x for x in source.text.splitlines() if x.strip())
        sentence = re.sub(r"^[-•*]\s*", "", line.strip()).rstrip(".")
        sentences.append(f"{sentence} [{source.n}].")
    written = " ".join(sentences)
    with FakeLLM() as llm:
        llm.reply = Reply(written, chunk_chars=6, chunk_delay_s=0.04)
        settings = assistant.settings.model_copy(
            update={"llm_base_url": llm.base_url, "llm_model": "fake", "llm_timeout_s": 10.0}
        )
        with serve(create_app(settings, assistant)) as url:
            page.goto(f"{url}/")
            page.fill("#question", RISK_QUESTION)
            page.click("#ask-button")
            page.wait_for_selector("#answer p.streaming", state="visible")  # a delta, before the answer
            page.wait_for_selector("#result[data-state='done'] #answer[aria-busy='false'] p", state="visible")
            text = page.locator("#answer").inner_text()
            assert "redactada" in text
            assert page.locator("#answer p.streaming").count() == 0
            assert page.locator("#answer button.cite").count() >= 1
            assert llm.requests, "the page did not go through the generated answer"


# ------------------------------------------------------------------ without a browser


def test_script_does_not_recompute_labels() -> None:
    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    assert "SECTION_LABELS" not in script and "otras " not in script  # the server's Source fields are shown


def test_practice_sheet_escapes_and_orders(assistant: Assistant) -> None:
    record = assistant.record(AYACUCHO_ID)
    assert record is not None
    evil = record.model_copy(update={"title": "<script>alert(1)</script>"})
    page = render_practice(evil)
    assert "<script>" not in page and "&lt;script&gt;" in page
    order = [page.index(h) for h in ("Problema", "Resultados", "Comentarios de expertos", "Recomendaciones")]
    assert order == sorted(order)


def test_pages_without_an_index(tmp_path: Path, assistant: Assistant) -> None:
    from fastapi.testclient import TestClient

    settings = assistant.settings.model_copy(update={"data_dir": tmp_path / "empty"})
    with TestClient(create_app(settings)) as client:
        for url in ("/", "/practicas", f"/practicas/{AYACUCHO_ID}"):
            response = client.get(url)
            assert response.status_code == 503, url
            assert "python -m indexer build" in response.text
        assert client.get("/static/app.js").status_code == 200


# ------------------------------------------------------------------ acting on answers, list search, accessibility


@pytest.mark.browser
def test_votes_copy_share_and_suggestions(page: Any, assistant: Assistant) -> None:
    page.errors.clear()  # the page is shared: earlier tests script 503s on purpose
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ask(page, "¿Cómo le hicieron en Pasco para articular la DRE con las UGEL?")
    status = page.locator("#status")
    assert re.match(r"Respuesta lista\. \d+ fuentes?\.", status.inner_text())  # kept for screen readers
    page.get_by_role("button", name="Me sirvió", exact=True).click()
    page.locator("#actions .vote[data-vote=up][aria-pressed=true]").wait_for()
    items = assistant_feedback(assistant)
    assert items and items[0]["channel"] == "web" and items[0]["vote"] == "up" and "Pasco" in items[0]["question"]

    page.get_by_role("button", name="Copiar").click()
    page.locator("#status", has_text="copiada").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "Fuentes:" in copied and "/practicas/" in copied and "[1]" in copied
    page.get_by_role("button", name="Compartir").click()
    page.locator("#status", has_text="/?q=").wait_for()
    shared = page.evaluate("navigator.clipboard.readText()")
    assert "/?q=" in shared
    page.goto(shared)
    page.wait_for_selector("#result[data-state='done'] #answer[aria-busy='false'] p", state="visible")
    assert "Pasco" in page.locator("#answer").inner_text()

    page.wait_for_selector("#suggestions:not([hidden]) .chip")
    chips = page.locator("#suggestion-list .chip")
    assert 2 <= chips.count() <= 3
    texts = [chips.nth(i).inner_text() for i in range(chips.count())]
    assert any("expertos" in t for t in texts) and any("contacto" in t for t in texts)
    assert not page.errors, page.errors


def assistant_feedback(assistant: Assistant) -> list[dict[str, Any]]:
    """The stored votes, newest first, read from the served app's store."""
    from bot.feedback import FeedbackStore

    store = FeedbackStore.in_data_dir(assistant.settings.data_dir)
    try:
        return store.list_feedback()
    finally:
        store.close()


def test_post_feedback_validates_in_spanish(assistant: Assistant, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    settings = assistant.settings.model_copy(update={"data_dir": tmp_path, "admin_token": SecretStr("s3")})
    with TestClient(create_app(settings, assistant)) as client:
        bad = client.post("/api/feedback", json={"answer_id": "x", "question": "", "vote": "meh"})
        assert bad.status_code == 422 and "detail" in bad.json()
        ok = client.post(
            "/api/feedback",
            json={"answer_id": "web-1", "question": "¿Qué hizo Pasco?", "vote": "down", "channel": "web"},
        )
        assert ok.status_code == 201
        client.post("/api/feedback", json={"answer_id": "web-1", "question": "¿Qué hizo Pasco?", "vote": "up"})
        data = client.get("/api/feedback", headers={"Authorization": "Bearer s3"}).json()
    [item] = data["items"]
    assert item["channel"] == "web" and item["vote"] == "up" and item["question"] == "¿Qué hizo Pasco?"


@pytest.mark.browser
def test_practice_list_search_and_sheet(page: Any) -> None:
    page.goto("/practicas")
    items = page.locator("#practices li:not([hidden])")
    total = items.count()
    assert total >= 8
    assert page.locator("h2", has_text="Partes del intercambio").count() == 1
    page.fill("#practice-q", "juana sono")  # an expert's name
    assert items.count() == 1 and "Pasco" in items.first.inner_text()
    page.fill("#practice-q", "nasca")  # an office
    assert items.count() == 1
    page.fill("#practice-q", "")
    page.select_option("#practice-region", "Lima Metropolitana")
    assert 1 <= items.count() < total
    page.goto(f"/practicas/{AYACUCHO_ID}")
    assert "El corpus no incluye contactos para esta práctica" in page.locator("article.sheet").inner_text()
    page.goto("/practicas/gestion-educativa-con-impacto-para-la-mejora")
    assert page.locator("a[href^='mailto:']").count() >= 2
    assert page.locator(".expert").first.inner_text().count("Juana Sono Hernández") == 1
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages <= 3, pages


@pytest.mark.browser
def test_touch_targets_on_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        ask(page, RISK_QUESTION)
        for selector in ("#answer button.cite", "#actions button", "#sources .link-button", "#sources a.ficha"):
            box = page.locator(selector).first.bounding_box()
            assert box and box["width"] >= 44 and box["height"] >= 44, (selector, box)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_keyboard_hint_only_with_a_mouse(browser: Any, base_url: str, phone: bool) -> None:
    """A phone (touch, no hover) has no Enter key to press: the hint is for a keyboard and a mouse."""
    options: dict[str, Any] = (
        {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
        if phone
        else {"viewport": {"width": 1280, "height": 800}}
    )
    context = browser.new_context(base_url=base_url, locale="es-PE", **options)
    try:
        page = context.new_page()
        page.goto("/")
        hint = page.locator("#question-help")
        assert "Pulse Enter" in hint.text_content()
        assert page.evaluate("matchMedia('(hover: hover) and (pointer: fine)').matches") is not phone
        assert hint.is_visible() is not phone
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_comparison_table(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    try:
        ask(page, "Compara la práctica de Pasco con la de Junín")
        table = page.locator("#answer table.compare")
        table.wait_for()
        assert table.locator("caption").inner_text().strip()
        headers = [x.strip() for x in table.locator("thead th[scope=col]").all_text_contents()]
        assert any("Pasco" in h for h in headers) and any("Junín" in h for h in headers), headers
        rows = [x.strip() for x in table.locator("tbody th[scope=row]").all_text_contents()]
        assert rows[:3] == ["Problema", "Estrategias", "Resultados"], rows
        assert table.locator("tbody tr").first.locator("td").count() == len(headers) - 1
        cite = table.locator("td button.cite").first
        n = cite.inner_text()
        if width < 600:
            box = cite.bounding_box()
            assert box and box["width"] >= 44 and box["height"] >= 44, box
            # no sideways scrolling of the page: the table becomes one card per section
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert "Pasco" in table.locator("tbody td").first.inner_text()  # each card says whose text it is
        cite.click()
        page.locator("#passage").wait_for(state="visible")
        assert page.locator("#passage-title").inner_text().endswith(n)
        assert page.locator("#passage-text").inner_text().strip()
        page.keyboard.press("Escape")
        page.locator("#passage").wait_for(state="hidden")
        assert not page.errors, page.errors
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


# ------------------------------------------------------------------ Spanish texts only from prompts/web.toml

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-question", "label"}


def _template_words(html_text: str) -> list[str]:
    """Words a reader would see in a template once its {{ … }} / {% … %} are taken out."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(v for k, v in attrs if k in _SHOWN_ATTRIBUTES and v)

        def handle_data(self, data: str) -> None:
            found.append(data)

    Collect().feed(_JINJA.sub(" ", html_text))
    return [w for chunk in found for w in re.findall(r"[^\W\d_]{2,}", chunk)]


def test_spanish_texts_come_from_the_prompts_file() -> None:
    from bot.pages import WEB_TEXTS

    templates = STATIC_DIR.parent / "templates"
    for path in sorted(templates.glob("*.html")):
        words = [
            w for w in _template_words(path.read_text(encoding="utf-8")) if w not in {"python", "indexer", "build"}
        ]
        assert not words, (path.name, words)
    for name in ("app.js", "practice.js"):
        script = (STATIC_DIR / name).read_text(encoding="utf-8")
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.DOTALL)
        literals = re.findall(r'"((?:[^"\\\n]|\\.)*)"', code)
        spanish = [x for x in literals if re.search(r"[áéíóúñ¿¡«]|\b(de|la|el|que|una?)\b", x)]
        assert not spanish, (name, spanish)
    assert {"cite_label", "compare_caption", "empty"} <= set(WEB_TEXTS["script"])


def test_page_carries_the_script_texts(assistant: Assistant) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(assistant.settings, assistant)) as client:
        page = client.get("/").text
    match = re.search(r'<script type="application/json" id="texts">(.*?)</script>', page, re.DOTALL)
    assert match
    texts = json.loads(match.group(1))
    assert texts["empty"] == "Escriba una pregunta."
    assert "Pulse Enter para preguntar" in page and "{{" not in page
