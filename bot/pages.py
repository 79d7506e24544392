"""The HTML side of the web app: the question page, its static files and the printable practice sheets.

`create_app` includes `router`; it needs nothing else (the static files are served by a route here, not a
mount, so that including the router is enough). Routes get the Assistant through `bot.deps`; its failures
become problem pages in `bot.errors`. Pages are Jinja2 templates (bot/templates/, autoescaped) over the view
model of `bot.views`; the page's script writes server data with `textContent` only.
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TypedDict

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.deps import AssistantDep, load_assistant
from bot.limits import MAX_FIELD_CHARS
from bot.service import StoreUnavailable
from bot.sources import sheet_href
from bot.texts import text
from bot.views import PracticeSheet, public_base
from indexer.models import Record

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

PAGE_TAG = "page"  # the routes of this router; `bot.errors` answers their failures with a problem page, not JSON
router = APIRouter(include_in_schema=False, tags=[PAGE_TAG])


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The question page. Without an index it is the 'index missing' page (raised to `bot.errors`); while Chroma is
    down it still loads, and its questions get the API's 503 message."""
    with contextlib.suppress(StoreUnavailable):
        load_assistant(request.app)
    return HTMLResponse(TEMPLATES.get_template("index.html").render(), headers=_headers())


@router.get("/static/{name}")
def static(name: str) -> Response:
    path = STATIC_DIR / name
    if not _STATIC_NAME.match(name) or path.suffix not in _MEDIA_TYPES or not path.is_file():
        return problem_page(problem_text("not_found"), problem_text("file_missing"), 404)
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers={**_headers(), "Cache-Control": "no-cache"})


@router.get("/practicas", response_class=HTMLResponse)
def practice_list(assistant: AssistantDep) -> Response:
    records = assistant.records()
    practices = [PracticeSheet.of(r) for r in records if r.kind == "practice"]
    practices.sort(key=lambda p: (p.region or "~", p.title))
    others = [PracticeSheet.of(r) for r in records if r.kind != "practice"]
    regions = sorted({p.region for p in practices if p.region})
    return _render(
        "list.html",
        scripts=("practice.js",),
        title=str(WEB_TEXTS["page"]["nav_practices"]),
        practices=practices,
        others=others,
        regions=regions,
    )


@router.get("/practicas/{practice_id}", response_class=HTMLResponse)
def practice(
    request: Request, practice_id: str, assistant: AssistantDep, doc: str | None = None, lineas: str | None = None
) -> Response:
    record = assistant.record(practice_id)
    if record is None:
        message = f"{text('not_found')} ({practice_id[:MAX_FIELD_CHARS]})"
        return problem_page(problem_text("practice_not_found"), message, 404, links=True)
    settings = request.app.state.settings
    base = public_base(settings) if settings.public_url else str(request.base_url)
    address = base.rstrip("/") + sheet_href(record.id)
    return HTMLResponse(render_practice(record, cited=_cited(doc, lineas), address=address), headers=_headers())


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


def problem_text(key: str) -> str:
    """A title or message of the error pages (prompts/web.toml, [problems])."""
    return str(WEB_TEXTS["problems"][key])


def _headers() -> dict[str, str]:
    return dict(SECURITY_HEADERS)


def _render(
    template: str, status: int = 200, scripts: Iterable[str] = ("practice.js",), **values: object
) -> HTMLResponse:
    html_text = TEMPLATES.get_template(template).render(scripts=list(scripts), **values)
    return HTMLResponse(html_text, status_code=status, headers=_headers())


def problem_page(title: str, message: str, status: int, *, steps: bool = False, links: bool = False) -> HTMLResponse:
    """A page saying what went wrong, in Spanish; `steps` adds how to build the index."""
    return _render("problem.html", status, (), title=title, heading=title, message=message, steps=steps, links=links)


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
