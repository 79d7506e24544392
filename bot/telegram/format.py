"""Telegram-HTML rendering of answers, sources and practice sheets, and message splitting.

Every piece of user or corpus text goes through `esc` (Telegram's HTML needs only <, > and &
escaped). `split_html` cuts a message into parts of at most 4,096 UTF-16 code units, preferring
paragraph boundaries, never inside a tag or an entity, closing the tags open at a cut and
reopening them in the next part.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from bot.schemas import Answer, Finding
from bot.sources import Source, record_label, sheet_href, where_label
from bot.telegram.texts import Texts
from bot.views import QUICK_LABELS, PracticeSheet, SourceView, ask_href, shorten
from indexer.models import Record

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units after entity parsing
SNIPPET_CHARS = 280

_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*>")
_MARKER = re.compile(r"(?:\s*\[\d+\])+\s*$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*]\s+")


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def strip_tags(markup: str) -> str:
    """The plain text a Telegram-HTML message displays (used as a fallback without parse mode)."""
    return html.unescape(_TAG.sub("", markup))


def corpus_html(text: str) -> str:
    """Corpus text (light Markdown: **bold**, # headings, - bullets) as escaped Telegram HTML.

    Tags are only produced within a line, so they never span paragraphs.
    """
    out = []
    for line in text.strip().splitlines():
        line = line.rstrip()
        heading = _HEADING.match(line)
        if heading:
            out.append(f"<b>{esc(heading.group(1).strip('* '))}</b>")
            continue
        bullet = bool(_BULLET.match(line))
        if bullet:
            line = _BULLET.sub("", line)
        line = esc(line)
        line = _BOLD.sub(lambda m: f"<b>{m.group(1)}</b>", line)
        line = line.replace("**", "")
        out.append(f"• {line}" if bullet else line)
    collapsed = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return collapsed.strip()


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = re.sub(r"\*\*|^#+\s*|^[-•*]\s+", "", " ".join(text.split()))
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + "…"


def _markers(numbers: Iterable[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


ANSWER_BUDGET = 1500  # displayed characters of an answer, sources included: about one phone screen and a half
STATEMENT_CHARS = 240
MAX_STATEMENTS = 3
MAX_FINDINGS = 3


def link(href: str, label: str) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{esc(label)}</a>'


def render_source(source: Source, texts: Texts) -> str:
    """'[1] Ayacucho · Estrategias · Reporte del I Intercambio, pág. 12', linked to the cited passage."""
    view = SourceView.of(source)
    return f"[{view.n}] " + link(texts.url(view.href), view.citation)


def render_sources(sources: list[Source], texts: Texts, *, titled: frozenset[str] = frozenset()) -> str:
    """The numbered sources, one short line each; a practice's title is said once (here only when
    the answer above has not named it)."""
    if not sources:
        return ""
    groups: dict[str, list[Source]] = {}
    for s in sources:
        groups.setdefault(s.practice_id or s.practice, []).append(s)
    lines = [texts.html("sources_header")]
    for practice_id, group in groups.items():
        if practice_id not in titled:
            lines.append("<b>" + link(texts.url(sheet_href(group[0].practice_id)), group[0].practice) + "</b>")
        lines.extend(render_source(s, texts) for s in group)
    return "\n".join(lines)


def _statement(text: str, sources: list[int]) -> str:
    text = " ".join(text.split())
    marks = _MARKER.search(text)
    body = text[: marks.start()] if marks else text
    tail = marks.group(0).strip() if marks else _markers(sources)
    return f"• {esc(shorten(body, STATEMENT_CHARS))} {tail}".rstrip()


def render_answer(answer: Answer, texts: Texts, *, header: str = "", budget: int = ANSWER_BUDGET) -> str:
    """The answer then its compact numbered sources, within about `budget` displayed characters.
    An extractive answer names each practice once (linked to its sheet) with its statements; a
    generated one is shown as written, cut at a sentence with a link to the full answer. A follow-up
    says first which practice it is about."""
    heads = [header] if header else []
    about = answer.followup_practice.practice_id if answer.followup_practice else None
    if answer.followup_practice is not None:
        heads.append(texts.html("followup_about", label=answer.followup_practice.label))
    blocks: list[str] = ["\n".join(heads)] if heads else []
    sources = render_sources(answer.sources, texts, titled=frozenset(f.practice_id for f in answer.findings))
    if answer.findings and not answer.abstained and answer.mode != "generated":
        if answer.intro:
            blocks.append(esc(answer.intro))
        room = budget - len(strip_tags(sources)) - len(strip_tags("\n\n".join(blocks)))
        findings = answer.findings[:MAX_FINDINGS]
        per = max(1, min(MAX_STATEMENTS, room // max(1, len(findings)) // (STATEMENT_CHARS // 2)))
        body = _findings_markup(findings, per, texts, about)
        # the estimate is rough: fewer statements per practice, then fewer practices, until it fits a phone
        while len(strip_tags(body)) > room and (per > 1 or len(findings) > 1):
            if per > 1:
                per -= 1
            else:
                findings = findings[:-1]
            body = _findings_markup(findings, per, texts, about)
        if len(findings) < len(answer.findings):
            # a practice left out of the body is named in the sources instead
            sources = render_sources(answer.sources, texts, titled=frozenset(f.practice_id for f in findings))
        blocks.append(body)
        if answer.outro:
            blocks.append(esc(answer.outro))
    else:
        text = re.sub(r"\n{3,}", "\n\n", answer.answer.strip())
        room = max(400, budget - len(strip_tags(sources)) - 80)
        if len(text) > room:
            text = shorten(text, room)
            blocks.append(esc(text) + "\n" + link(texts.url(ask_href(answer.question)), texts.plain("read_more")))
        else:
            blocks.append(esc(text))
    if answer.sources:
        blocks.append(sources)
    return "\n\n".join(b for b in blocks if b)


def _findings_markup(findings: list[Finding], per: int, texts: Texts, about: str | None = None) -> str:
    """Each practice named once (linked to its sheet; not again when the follow-up line `about` names it), then its
    first `per` statements."""
    blocks = []
    for finding in findings:
        named = finding.practice_id == about and len(findings) == 1
        title = "<b>" + link(texts.url(sheet_href(finding.practice_id)), finding.label or finding.title) + "</b>"
        lines = [] if named else [title]
        lines.extend(_statement(st.text, st.sources) for st in finding.statements[:per])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def render_search(header: str, sources: list[Source], texts: Texts) -> str:
    """Search results: each passage's practice (once), its source line and a short snippet."""
    items = [header]
    seen: set[str] = set()
    for s in sources:
        title = ""
        if s.practice_id not in seen:
            seen.add(s.practice_id)
            title = "<b>" + link(texts.url(sheet_href(s.practice_id)), s.practice) + "</b>\n"
        items.append(f"{title}{render_source(s, texts)}\n<i>{esc(snippet(s.text, 200))}</i>")
    return "\n\n".join(items)


def render_sheet_card(sheet: PracticeSheet, texts: Texts) -> str:
    """A practice in one message: where, a short summary, the expert's main recommendation,
    contacts and the link to the full sheet (its sections come one by one from buttons)."""
    blocks = [f"📄 <b>{esc(sheet.title)}</b>"]
    meta = []
    if sheet.region:
        meta.append(f"{texts.html('sheet.region')}: {esc(sheet.region)}")
    if sheet.offices:
        meta.append(f"{texts.html('sheet.offices')}: {esc(where_label(sheet.offices, None))}")
    if meta:
        blocks.append("\n".join(meta))
    if sheet.summary:
        blocks.append(esc(sheet.summary))
    if sheet.recommendation:
        blocks.append(texts.html("sheet.recommendation", expert=sheet.recommendation_by, text=sheet.recommendation))
    blocks.append(render_contacts(sheet, texts))
    blocks.append(link(texts.url(sheet.href), texts.plain("sheet.web_link")))
    return "\n\n".join(b for b in blocks if b)


def render_contacts(sheet: PracticeSheet, texts: Texts) -> str:
    if not sheet.contacts:
        return texts.html("sheet.no_contacts") if sheet.kind == "practice" else ""
    lines = [f"<b>{texts.html('sheet.contacts')}</b>"]
    for c in sheet.contacts:
        who = esc(c.name) + (f" — {esc(c.role)}" if c.role else "")
        lines.append(f"• {who}" + "".join(f"\n  {esc(e)}" for e in c.emails))
    return "\n".join(lines)


def render_sheet_section(sheet: PracticeSheet, key: str, texts: Texts) -> str:
    """One section of a practice (Problema, Estrategias, Resultados, Expertos, Contactos)."""
    label = QUICK_LABELS.get(key, key)
    head = f"📄 <b>{esc(sheet.title)}</b> · {esc(label)}"
    if key == "contacts":
        return f"{head}\n\n{render_contacts(sheet, texts)}"
    blocks = [head]
    for title, text in sheet.section_text(key):
        if text.strip():
            blocks.append(f"<b>{esc(title)}</b>\n{corpus_html(text)}" if title != label else corpus_html(text))
    if len(blocks) == 1:
        blocks.append(texts.html("section_missing", section=label))
    origin = sheet.section_origin(key)
    if origin:
        blocks.append(f"<i>{texts.html('sheet.origin')}: {esc(_strip_lines(origin))}</i>")
    blocks.append(link(texts.url(sheet.href), texts.plain("sheet.web_link")))
    return "\n\n".join(blocks)


def _strip_lines(origin: str) -> str:
    """Document names without line numbers (pages and slides stay)."""
    return re.sub(r",\s*l[ií]neas? [0-9–-]+", "", origin)


def render_practice_list(records: list[Record]) -> str:
    return "\n".join(f"• {esc(record_label(r))}" for r in records)


def render_regions(regions: dict[str, list[Record]], texts: Texts) -> str:
    blocks = [texts.html("regions_header")]
    for region in sorted(regions):
        blocks.append(f"<b>{esc(region)}</b>\n{render_practice_list(regions[region])}")
    return "\n\n".join(blocks)


# --- splitting -----------------------------------------------------------------------------

_TOKEN = re.compile(r"<[^>]*>|&#?\w+;")


def _open_stack(markup: str) -> list[tuple[str, str]]:
    """Tags still open at the end of `markup`, as (name, opening tag)."""
    stack: list[tuple[str, str]] = []
    for m in _TAG.finditer(markup):
        closing, name = m.group(1), m.group(2).lower()
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i:]
                    break
        else:
            stack.append((name, m.group(0)))
    return stack


def _safe_positions(markup: str) -> list[bool]:
    """safe[i]: cutting before markup[i] cuts no tag and no entity."""
    safe = [True] * (len(markup) + 1)
    for m in _TOKEN.finditer(markup):
        for i in range(m.start() + 1, m.end()):
            safe[i] = False
    return safe


def _prefix_within(markup: str, budget: int) -> int:
    """The longest prefix length whose UTF-16 length is at most `budget`."""
    units = 0
    for i, ch in enumerate(markup):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > budget:
            return i
    return len(markup)


def _best_cut(markup: str, end: int, safe: list[bool]) -> int:
    """Best cut position in markup[:end]: a paragraph break, else a line break, else a space,
    else any safe position; breaks too near the start are passed over for finer ones."""
    floor = end // 4
    for sep in ("\n\n", "\n", " "):
        pos = markup.rfind(sep, 0, end)
        while pos > 0 and not safe[pos]:
            pos = markup.rfind(sep, 0, pos)
        if pos > floor:
            return pos
    pos = end
    while pos > 1 and not safe[pos]:
        pos -= 1
    return max(pos, 1)


def split_html(markup: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` UTF-16 units each (counted on the
    markup itself, which is never shorter than the text Telegram displays)."""
    parts: list[str] = []
    rest = markup.strip()
    while rest:
        if utf16_len(rest) <= limit:
            parts.append(rest)
            break
        safe = _safe_positions(rest)
        budget = limit
        while True:
            end = _prefix_within(rest, budget)
            cut = _best_cut(rest, end, safe)
            head = rest[:cut].rstrip()
            stack = _open_stack(head)
            head += "".join(f"</{name}>" for name, _ in reversed(stack))
            excess = utf16_len(head) - limit
            if excess <= 0 or budget <= 16:
                break
            budget -= excess
        tail = rest[cut:].lstrip()
        reopened = "".join(tag for _, tag in stack)
        if strip_tags(head).strip():
            parts.append(head)
        rest = (reopened + tail) if tail else ""
    return parts
