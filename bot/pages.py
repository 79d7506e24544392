"""The HTML side of the web app: the question page, its static files and the printable practice sheets.

`create_app` includes `pages_router()`; it needs nothing else (the static files are served by a route
here, not a mount, so that including the router is enough). Everything written into HTML goes through
`html.escape`; the page's script writes server data with `textContent` only.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot.limits import MAX_FIELD_CHARS
from bot.service import Assistant, IndexMissing, StoreUnavailable
from bot.texts import text
from indexer.models import SECTION_LABELS, ExpertCommentary, Record, Section, location_label
from indexer.text import fold

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
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

# The practice sheet's order: the practice itself, then the experts, then contacts and photos.
_OWN_ORDER = ["problem", "objectives", "strategies", "results", "lessons"]
_LAST_ORDER = ["contacts", "gallery"]
_KIND_LABELS = {"practice": "Buena práctica", "event": "Intercambio de buenas prácticas", "document": "Documento"}
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
        return FileResponse(STATIC_DIR / "index.html", media_type=_MEDIA_TYPES[".html"], headers=_headers())

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        path = STATIC_DIR / name
        if not _STATIC_NAME.match(name) or path.suffix not in _MEDIA_TYPES or not path.is_file():
            return _page("No encontrado", _problem("No encontrado", "Ese archivo no existe."), 404)
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
                body = _problem(
                    "No encontramos esa práctica",
                    f"{text('not_found')} ({practice_id[:MAX_FIELD_CHARS]})",
                    '<p><a href="/practicas">Ver todas las prácticas</a> · <a href="/">Volver al asistente</a></p>',
                )
                return _page("Práctica no encontrada", body, 404)
            return _page(record.title, render_practice(record, cited=_cited(doc, lineas)))

        return _guarded(request, get_assistant, render)

    return router


# ------------------------------------------------------------------ page frame


def _headers() -> dict[str, str]:
    return dict(SECURITY_HEADERS)


def _page(title: str, body: str, status: int = 200, scripts: Iterable[str] = ("practice.js",)) -> HTMLResponse:
    e = html.escape
    script_tags = "".join(f'<script src="/static/{e(s)}" defer></script>' for s in scripts)
    document = f"""<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} — Asistente BPGE</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
{script_tags}
</head>
<body>
<a class="skip" href="#main">Ir al contenido</a>
<header class="site-header"><div class="wrap">
<p class="brand"><a href="/">Asistente BPGE</a></p>
<nav aria-label="Navegación principal"><a href="/">Preguntar</a> <a href="/practicas">Prácticas</a></nav>
</div></header>
<main id="main" class="wrap">
{body}
</main>
<footer class="site-footer"><div class="wrap"><p>Buenas Prácticas de Gestión Educativa (BPGE) del Perú. Los textos provienen del corpus; cada sección indica su documento y su página, diapositiva o líneas de origen.</p></div></footer>
</body>
</html>
"""
    return HTMLResponse(document, status_code=status, headers=_headers())


def _problem(title: str, message: str, extra_html: str = "") -> str:
    return f'<section class="problem-page"><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{extra_html}</section>'


def _index_missing_page() -> HTMLResponse:
    body = _problem(
        "El índice aún no está listo",
        text("index_missing"),
        "<p>Desde la carpeta del proyecto:</p>"
        "<ol><li>Construya el índice: <code>python -m indexer build</code></li>"
        "<li>Vuelva a cargar esta página (el servidor toma el índice nuevo sin reiniciarse).</li></ol>",
    )
    return _page("Índice no disponible", body, 503, scripts=())


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
        return _page(
            "Servicio no disponible", _problem("Servicio no disponible", text("store_unavailable")), 503, scripts=()
        )
    except Exception:
        log.exception("unexpected error on %s", request.url.path)
        return _page("Error", _problem("Ocurrió un error", text("internal_error")), 500, scripts=())


# ------------------------------------------------------------------ practice list


def _render_list(assistant: Assistant) -> HTMLResponse:
    e = html.escape
    parts = ['<div class="sheet-tools"><a href="/">← Volver al asistente</a></div>', '<article class="sheet">']
    parts.append('<p class="kicker">Corpus BPGE</p><h1>Buenas prácticas por región</h1>')
    for region, records in assistant.regions().items():
        parts.append(f'<h2>{e(region)}</h2><ul class="practice-list">')
        for r in records:
            badge = '<span class="badge">con comentario de experto</span>' if r.has_expert_commentary else ""
            parts.append(
                f'<li><a href="/practicas/{quote(r.id, safe="")}">{e(r.title)}</a>{badge}'
                f'<span class="offices">{e(", ".join(r.offices))}</span></li>'
            )
        parts.append("</ul>")
    events = [r for r in assistant.records() if r.kind != "practice"]
    if events:
        parts.append('<h2>Del intercambio y otros documentos</h2><ul class="practice-list">')
        for r in events:
            where = r.event or ", ".join(r.documents)
            parts.append(
                f'<li><a href="/practicas/{quote(r.id, safe="")}">{e(r.title)}</a><span class="offices">{e(where)}</span></li>'
            )
        parts.append("</ul>")
    parts.append("</article>")
    return _page("Prácticas", "".join(parts))


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


def _text_html(value: str) -> str:
    """Plain section text as paragraphs and bullet lists (blank lines separate paragraphs)."""
    e = html.escape
    out: list[str] = []
    for block in re.split(r"\n\s*\n", value.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        bullets: list[str] = []
        plain: list[str] = []

        def flush_plain() -> None:
            if plain:
                out.append("<p>" + "<br>".join(e(x) for x in plain) + "</p>")
                plain.clear()

        def flush_bullets() -> None:
            if bullets:
                out.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in bullets) + "</ul>")
                bullets.clear()

        for line in lines:
            if _BULLET.match(line):
                flush_plain()
                bullets.append(_BULLET.sub("", line, count=1))
            else:
                flush_bullets()
                plain.append(line)
        flush_plain()
        flush_bullets()
    return "".join(out)


class _Marker:
    """Marks the first section that holds the cited lines (highlighted, with id="citado")."""

    def __init__(self, cited: tuple[str, int, int] | None) -> None:
        self.cited = cited
        self.done = False

    def __call__(self, section: Section) -> bool:
        if self.done or self.cited is None:
            return False
        doc, a, b = self.cited
        if section.document == doc and section.lines[0] <= b and a <= section.lines[1]:
            self.done = True
            return True
        return False


def _part(section: Section, group_label: str, marker: _Marker) -> str:
    e = html.escape
    cited = marker(section)
    attrs = ' class="part cited" id="citado"' if cited else ' class="part"'
    heading = section.heading.strip()
    show_heading = heading and fold(heading) not in (fold(group_label), fold(SECTION_LABELS.get(section.type, "")))
    note = " <strong>(pasaje citado)</strong>" if cited else ""
    return (
        f"<div{attrs}>"
        + (f'<p class="part-heading">{e(heading)}</p>' if show_heading else "")
        + _text_html(section.text)
        + f'<p class="origin">Fuente: {e(section.document_title or section.document)}, '
        + f"{e(location_label(section.page, section.slide, section.lines))}{note}</p>"
        + "</div>"
    )


def _group(anchor: str, label: str, sections: list[Section], marker: _Marker, level: int = 2) -> str:
    if not sections:
        return ""
    heading = f'<h{level} id="{anchor}">{html.escape(label)}</h{level}>'
    return heading + "".join(_part(s, label, marker) for s in sections)


def _expert_html(commentary: ExpertCommentary, index: int, marker: _Marker) -> str:
    e = html.escape
    origin = " · ".join(x for x in (commentary.event or "", commentary.document) if x)
    return (
        f'<div class="expert" id="experto-{index}">'
        f"<h3>{e(commentary.expert)}</h3>"
        + (f'<p class="expert-role">{e(commentary.role)}</p>' if commentary.role else "")
        + (f'<p class="origin">Comentario presentado en: {e(origin)}</p>' if origin else "")
        + _group(f"experto-{index}-aspectos", "Aspecto clave", commentary.key_aspects, marker, 4)
        + _group(f"experto-{index}-oportunidades", "Oportunidades de mejora", commentary.opportunities, marker, 4)
        + _group(f"experto-{index}-recomendaciones", "Recomendaciones", commentary.recommendations, marker, 4)
        + "</div>"
    )


def render_practice(record: Record, cited: tuple[str, int, int] | None = None) -> str:
    """The body of a practice sheet: facts, own sections, expert commentary, contacts, photos."""
    e = html.escape
    marker = _Marker(cited)
    by_type: dict[str, list[Section]] = {}
    for section in record.sections:
        by_type.setdefault(section.type, []).append(section)
    middle = [t for t in by_type if t not in _OWN_ORDER and t not in _LAST_ORDER]
    own = [t for t in _OWN_ORDER if t in by_type] + middle

    toc: list[tuple[str, str]] = []
    body: list[str] = []
    for t in own:
        toc.append((f"s-{t}", SECTION_LABELS.get(t, t)))
        body.append(_group(f"s-{t}", SECTION_LABELS.get(t, t), by_type[t], marker))
    if record.experts:
        toc.append(("expertos", "Comentarios de expertos"))
        body.append('<h2 id="expertos">Comentarios de expertos</h2>')
        body.extend(_expert_html(c, i, marker) for i, c in enumerate(record.experts, start=1))
    for t in _LAST_ORDER:
        if t in by_type:
            toc.append((f"s-{t}", SECTION_LABELS[t]))
            body.append(_group(f"s-{t}", SECTION_LABELS[t], by_type[t], marker))

    facts: list[str] = []
    if record.region:
        facts.append(f"<dt>Región</dt><dd>{e(record.region)}</dd>")
    if record.offices:
        facts.append("<dt>Oficinas</dt><dd>" + e(", ".join(record.offices)) + "</dd>")
    if record.event:
        facts.append(f"<dt>Evento</dt><dd>{e(record.event)}</dd>")
    if record.documents:
        docs = "".join(f"<li>{e(d)}</li>" for d in record.documents)
        facts.append(f"<dt>Documentos</dt><dd><ul>{docs}</ul></dd>")

    toc_html = (
        '<nav class="toc" aria-label="Secciones de la ficha"><ul>'
        + "".join(f'<li><a href="#{a}">{e(label)}</a></li>' for a, label in toc)
        + "</ul></nav>"
        if len(toc) > 1
        else ""
    )
    tools = (
        '<div class="sheet-tools">'
        '<p><a href="/">← Volver al asistente</a> · <a href="/practicas">Todas las prácticas</a></p>'
        '<button type="button" class="secondary" data-print>Imprimir</button>'
        "</div>"
    )
    empty = "" if body else "<p>Esta ficha no tiene secciones de texto.</p>"
    return (
        tools
        + '<article class="sheet">'
        + f'<p class="kicker">{e(_KIND_LABELS.get(record.kind, "Ficha"))}</p>'
        + f"<h1>{e(record.title)}</h1>"
        + (f'<dl class="facts">{"".join(facts)}</dl>' if facts else "")
        + toc_html
        + "".join(body)
        + empty
        + "</article>"
    )
