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

from bot.schemas import Answer
from bot.telegram.texts import Texts
from indexer.models import EXPERT_SECTIONS, SECTION_LABELS, Record, Section, Source

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


MAX_OFFICES = 3


def _where(offices: list[str], region: str | None, max_offices: int | None = None) -> str:
    """'DRE X, UGEL Y (Region)'; with `max_offices`, longer lists end in '+N'."""
    shown = (
        offices
        if max_offices is None or len(offices) <= max_offices
        else [*offices[:max_offices], f"+{len(offices) - max_offices}"]
    )
    where = ", ".join(shown)
    if region and region.lower() not in where.lower():
        where = f"{where} ({region})" if where else region
    return where


def source_practice(source: Source) -> str:
    """'Practice — offices (region)' for a source."""
    where = _where(source.offices, source.region, MAX_OFFICES)
    return f"{source.practice} — {where}" if where else source.practice


def render_source(source: Source, texts: Texts, *, with_practice: bool = True) -> str:
    """[n] Practice — offices · Section · document title, página N / diapositiva N / líneas a–b"""
    section = SECTION_LABELS.get(source.section, source.section)
    parts = [f"[{source.n}]"]
    if with_practice:
        parts.append(f"<b>{esc(source_practice(source))}</b> ·")
    document = source.document_title or source.document
    parts.append(f"{esc(section)} · <i>{esc(document)}</i>, {esc(source.location())}")
    return " ".join(parts)


def render_sources(sources: list[Source], texts: Texts) -> str:
    """The numbered sources, grouped under their practice (practice and offices said once)."""
    if not sources:
        return ""
    groups: dict[str, list[Source]] = {}
    for s in sources:
        groups.setdefault(s.practice_id or s.practice, []).append(s)
    blocks = []
    for group in groups.values():
        lines = [f"<b>{esc(source_practice(group[0]))}</b>"]
        lines.extend(render_source(s, texts, with_practice=False) for s in group)
        blocks.append("\n".join(lines))
    return texts.html("sources_header") + "\n" + "\n".join(blocks)


def render_answer(answer: Answer, texts: Texts, *, header: str = "") -> str:
    """The answer followed by its numbered sources: an extractive answer per practice, each
    statement with its [n]; a generated answer as the model wrote it (already checked)."""
    blocks: list[str] = [header] if header else []
    if answer.findings and not answer.abstained and answer.mode != "generated":
        if answer.intro:
            blocks.append(esc(answer.intro))
        for finding in answer.findings:
            lines = [f"<b>{esc(finding.label or finding.title)}</b>"]
            for st in finding.statements:
                text = " ".join(st.text.split())
                marks = _markers(st.sources) if st.sources and not _MARKER.search(text) else ""
                lines.append(f"• {esc(text)} {marks}".rstrip())
            blocks.append("\n".join(lines))
        if answer.outro:
            blocks.append(esc(answer.outro))
    else:
        blocks.append(esc(re.sub(r"\n{3,}", "\n\n", answer.answer.strip())))
    if answer.sources:
        blocks.append(render_sources(answer.sources, texts))
    return "\n\n".join(b for b in blocks if b)


def render_search(header: str, sources: list[Source], texts: Texts) -> str:
    """Search results: each passage with its source line and a short snippet."""
    items = []
    for s in sources:
        items.append(f"{render_source(s, texts)}\n<i>{esc(snippet(s.text))}</i>")
    return "\n\n".join([header, *items])


_SHEET_ORDER = ["problem", "objectives", "strategies", "results", "lessons"]


def _section_group(sections: list[Section], kind: str) -> list[Section]:
    return [s for s in sections if s.type == kind]


def render_practice_sheet(record: Record, texts: Texts) -> str:
    """The practice sheet: problem, objectives, strategies, results, lessons, expert
    recommendations, contacts and documents."""
    blocks = [f"📄 <b>{esc(record.title)}</b>"]
    meta = []
    if record.region:
        meta.append(f"{texts.html('sheet.region')}: {esc(record.region)}")
    if record.offices:
        meta.append(f"{texts.html('sheet.offices')}: {esc(', '.join(record.offices))}")
    if meta:
        blocks.append("\n".join(meta))
    own = [s for s in record.sections if s.type not in EXPERT_SECTIONS]
    for kind in _SHEET_ORDER:
        group = _section_group(own, kind)
        if group:
            body = "\n\n".join(corpus_html(s.text) for s in group if s.text.strip())
            blocks.append(f"<b>{esc(SECTION_LABELS[kind])}</b>\n{body}".rstrip())
    recommendations = []
    for expert in record.experts:
        secs = expert.recommendations or []
        if not secs:
            continue
        who = esc(expert.expert) + (f" ({esc(expert.role)})" if expert.role else "")
        body = "\n\n".join(corpus_html(s.text) for s in secs if s.text.strip())
        recommendations.append(f"<i>{who}</i>\n{body}")
    own_recs = _section_group(record.sections, "expert_recommendations")
    for s in own_recs:
        who = f"<i>{esc(s.expert)}</i>\n" if s.expert else ""
        recommendations.append(who + corpus_html(s.text))
    if recommendations:
        blocks.append(f"<b>{texts.html('sheet.experts')}</b>\n" + "\n\n".join(recommendations))
    contacts = _section_group(own, "contacts")
    if contacts:
        body = "\n\n".join(corpus_html(s.text) for s in contacts if s.text.strip())
        blocks.append(f"<b>{esc(SECTION_LABELS['contacts'])}</b>\n{body}".rstrip())
    documents = list(dict.fromkeys([*record.documents, *(s.document for s in record.all_sections())]))
    if documents:
        blocks.append(f"<b>{texts.html('sheet.documents')}</b>\n" + "\n".join(f"• {esc(d)}" for d in documents))
    return "\n\n".join(blocks)


def render_practice_list(records: list[Record]) -> str:
    return "\n".join(f"• {esc(r.label())}" for r in records)


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
