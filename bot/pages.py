"""The HTML side of the web app: the question page, its static files and the printable practice sheets.

`create_app` includes `pages_router()`; it needs nothing else (the static files are served by a route
here, not a mount, so that including the router is enough). Pages are Jinja2 templates
(bot/templates/, autoescaped) over the view model of `bot.views`; the page's script writes server
data with `textContent` only.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TypedDict

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.limits import MAX_FIELD_CHARS
from bot.service import Assistant, IndexMissing, StoreUnavailable
from bot.sources import sheet_href
from bot.texts import text
from bot.views import PracticeSheet, public_base
from indexer.models import Record

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
WEB_TEXTS_PATH = Path(__file__).resolve().parents[1] / "prompts" / "web.toml"
_STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_BULLET = re.compile(r"^\s*[-•*▪●◦]\s+")

GetAssistant = Callable[[Request], "Assistant | None"]


def assistant_from_app(request: Request) -> Assistant | None:
    """The app's Assistant (`app.state.assistant`), loading it when an index has appeared since start.

    Returns None while there is no index; raises StoreUnavailable when Chroma does not answer."""
    assistant: Assistant | None = getattr(request.app.state, "assistant", None)
    settings = getattr(request.app.state, "settings", None)
    if assistant is None and settings is not None:
        try:
            assistant = Assistant.load(settings)
        except IndexMissing:
            return None
        request.app.state.assistant = assistant
    return assistant


def pages_router(get_assistant: GetAssistant = assistant_from_app) -> APIRouter:
    """Routes `/`, `/static/{name}`, `/practicas` and `/practicas/{id}`."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        try:
            if get_assistant(request) is None:
                return _index_missing_page()
        except StoreUnavailable:
            pass  # the page still loads; its questions get the API's 503 message
        return HTMLResponse(TEMPLATES.get_template("index.html").render(), headers=_headers())

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        path = STATIC_DIR / name
        if not _STATIC_NAME.match(name) or path.suffix not in _MEDIA_TYPES or not path.is_file():
            return _problem_page("No encontrado", "Ese archivo no existe.", 404)
        return FileResponse(
            path, media_type=_MEDIA_TYPES[path.suffix], headers={**_headers(), "Cache-Control": "no-cache"}
        )

    @router.get("/practicas", response_class=HTMLResponse)
    def practice_list(request: Request) -> Response:
        return _guarded(request, get_assistant, _render_list)

    @router.get("/practicas/{practice_id}", response_class=HTMLResponse)
    def practice(request: Request, practice_id: str, doc: str | None = None, lineas: str | None = None) -> Response:
        def render(assistant: Assistant) -> Response:
            record = assistant.record(practice_id)
            if record is None:
                message = f"{text('not_found')} ({practice_id[:MAX_FIELD_CHARS]})"
                return _problem_page("No encontramos esa práctica", message, 404, links=True)
            settings = getattr(request.app.state, "settings", None)
            base = public_base(settings) if settings is not None and settings.public_url else str(request.base_url)
            address = base.rstrip("/") + sheet_href(record.id)
            page = render_practice(record, cited=_cited(doc, lineas), address=address)
            return HTMLResponse(page, headers=_headers())

        return _guarded(request, get_assistant, render)

    return router


# ------------------------------------------------------------------ templates

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]


class Block(TypedDict):
    """A paragraph (`bullets` false) or a bullet list of a section, for the templates."""

    bullets: bool
    lines: list[str]


def _blocks(value: str) -> list[Block]:
    """Plain section text as paragraphs and bullet lists (blank lines separate paragraphs)."""
    out: list[tuple[bool, list[str]]] = []
    for block in re.split(r"\n\s*\n", value.strip()):
        fresh = True  # a blank line always starts a new paragraph or list
        for line in (x.strip() for x in block.splitlines()):
            if not line:
                continue
            bullet = bool(_BULLET.match(line))
            if fresh or out[-1][0] != bullet:
                out.append((bullet, []))
                fresh = False
            out[-1][1].append(_BULLET.sub("", line, count=1) if bullet else line)
    return [{"bullets": bullet, "lines": lines} for bullet, lines in out]


TEMPLATES.filters["blocks"] = _blocks


def load_web_texts(path: Path = WEB_TEXTS_PATH) -> dict[str, dict[str, object]]:
    """The pages' Spanish texts (prompts/web.toml): `page` for the templates, `script` for the scripts."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


def script_texts_json(texts: dict[str, object]) -> Markup:
    """The scripts' texts as JSON safe inside <script type="application/json"> (no '<', '>' or '&')."""
    raw = json.dumps(texts, ensure_ascii=False, sort_keys=True)
    return Markup(raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


WEB_TEXTS = load_web_texts()
TEMPLATES.globals["t"] = WEB_TEXTS["page"]
TEMPLATES.globals["script_texts"] = script_texts_json(WEB_TEXTS["script"])


def _headers() -> dict[str, str]:
    return dict(SECURITY_HEADERS)


def _render(
    template: str, status: int = 200, scripts: Iterable[str] = ("practice.js",), **values: object
) -> HTMLResponse:
    html_text = TEMPLATES.get_template(template).render(scripts=list(scripts), **values)
    return HTMLResponse(html_text, status_code=status, headers=_headers())


def _problem_page(title: str, message: str, status: int, *, steps: bool = False, links: bool = False) -> HTMLResponse:
    return _render("problem.html", status, (), title=title, heading=title, message=message, steps=steps, links=links)


def _index_missing_page() -> HTMLResponse:
    return _problem_page("El índice aún no está listo", text("index_missing"), 503, steps=True)


def _guarded(request: Request, get_assistant: GetAssistant, render: Callable[[Assistant], Response]) -> Response:
    """Render with the Assistant, turning a missing index or store into Spanish 503 pages."""
    try:
        assistant = get_assistant(request)
        if assistant is None:
            return _index_missing_page()
        return render(assistant)
    except IndexMissing:
        return _index_missing_page()
    except StoreUnavailable as exc:
        log.error("vector store unavailable: %s", exc)
        return _problem_page("Servicio no disponible", text("store_unavailable"), 503)
    except Exception:
        log.exception("unexpected error on %s", request.url.path)
        return _problem_page("Ocurrió un error", text("internal_error"), 500)


# ------------------------------------------------------------------ practice list


def _render_list(assistant: Assistant) -> HTMLResponse:
    records = assistant.records()
    practices = [PracticeSheet.of(r) for r in records if r.kind == "practice"]
    practices.sort(key=lambda p: (p.region or "~", p.title))
    others = [PracticeSheet.of(r) for r in records if r.kind != "practice"]
    regions = sorted({p.region for p in practices if p.region})
    return _render(
        "list.html", scripts=("practice.js",), title="Prácticas", practices=practices, others=others, regions=regions
    )


# ------------------------------------------------------------------ practice sheet


def _cited(doc: str | None, lineas: str | None) -> tuple[str, int, int] | None:
    """The cited passage named by `?doc=…&lineas=a-b` (from a source's "Ver ficha" link)."""
    if not doc or not lineas:
        return None
    if len(lineas) > 40:
        return None
    match = re.fullmatch(r"\s*([0-9]{1,9})\s*[-–]\s*([0-9]{1,9})\s*", lineas) or re.fullmatch(
        r"\s*([0-9]{1,9})\s*", lineas
    )
    if not match:
        return None
    a = int(match.group(1))
    b = int(match.group(match.lastindex or 1))
    return doc, min(a, b), max(a, b)


def _today() -> str:
    day = date.today()
    return f"{day.day} de {_MONTHS[day.month - 1]} de {day.year}"


def render_practice(record: Record, cited: tuple[str, int, int] | None = None, address: str = "") -> str:
    """The practice sheet page: facts, own sections, expert commentary, contacts (print-ready)."""
    sheet = PracticeSheet.of(record, cited)
    return TEMPLATES.get_template("sheet.html").render(
        scripts=["practice.js"], title=record.title, sheet=sheet, address=address or sheet.href, today=_today()
    )
