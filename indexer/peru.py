"""Peru's regions and education offices (DRE/GRE/UGEL): recognising and naming them consistently."""

from __future__ import annotations

import difflib
import re

from indexer.text import fold

REGIONS: tuple[str, ...] = (
    "Amazonas",
    "Áncash",
    "Apurímac",
    "Arequipa",
    "Ayacucho",
    "Cajamarca",
    "Callao",
    "Cusco",
    "Huancavelica",
    "Huánuco",
    "Ica",
    "Junín",
    "La Libertad",
    "Lambayeque",
    "Lima Metropolitana",
    "Lima Provincias",
    "Loreto",
    "Madre de Dios",
    "Moquegua",
    "Pasco",
    "Piura",
    "Puno",
    "San Martín",
    "Tacna",
    "Tumbes",
    "Ucayali",
)
_BY_FOLD = {fold(r): r for r in REGIONS}
_ALIASES = {"ancash": "Áncash", "cuzco": "Cusco", "lima provincia": "Lima Provincias", "lima region": "Lima Provincias"}

_SMALL_WORDS = {"de", "del", "la", "las", "los", "y", "e", "en", "el"}
_OFFICE_RE = re.compile(
    r"\b(DRELM|DREC|DRE|GRE|UGEL)\b[ \t]*[.\-–]?[ \t]*((?:\d{1,2}\b)?(?:[ \t]*-?[ \t]*"
    r"(?!(?:Regi[oó]n|REGI[OÓ]N|Correo|CORREO|Tel[eé]fono|Celular|Buena|BUENA|Pr[aá]ctica|Direcci[oó]n|Director)\b)"
    r"(?:[A-ZÁÉÍÓÚÑ][\wáéíóúñÁÉÍÓÚÑ]*|de|del|la|las|los))*)",
)


def canonical_region(text: str) -> str | None:
    """The region named by `text` ('REGIÓN HUANCAMELICA' → 'Huancavelica'), tolerating typos."""
    key = fold(re.sub(r"(?i)^\s*regi[oó]n\s*", "", text))
    if not key:
        return None
    if key in _BY_FOLD:
        return _BY_FOLD[key]
    if key in _ALIASES:
        return _ALIASES[key]
    close = difflib.get_close_matches(key, list(_BY_FOLD) + list(_ALIASES), n=1, cutoff=0.8)
    if close:
        return _BY_FOLD.get(close[0]) or _ALIASES[close[0]]
    return None


def regions_in(text: str) -> list[str]:
    """Regions mentioned anywhere in `text` (accent- and case-insensitive), longest names first."""
    folded = f" {fold(text)} "
    found: list[str] = []
    for key in sorted(list(_BY_FOLD) + list(_ALIASES), key=len, reverse=True):
        if f" {key} " in folded:
            region = _BY_FOLD.get(key) or _ALIASES[key]
            if region not in found and not any(key in fold(f) for f in found):
                found.append(region)
            folded = folded.replace(f" {key} ", " ")
    return found


def _title_name(name: str) -> str:
    words = name.split()
    out = []
    for i, w in enumerate(words):
        if w.isdigit():
            out.append(w.zfill(2))
        elif i > 0 and w.lower() in _SMALL_WORDS:
            out.append(w.lower())
        elif w.isupper() or w.islower():
            out.append(w[:1].upper() + w[1:].lower())
        else:
            out.append(w)
    return " ".join(out)


def canonical_office(text: str) -> str | None:
    """'DRE JUNÍN' → 'DRE Junín', 'UGEL04' → 'UGEL 04', 'DRELM' → 'DRE Lima Metropolitana'."""
    text = re.sub(r"\s+", " ", text.replace("*", "")).strip(" .,;:–-")
    m = re.match(r"(?i)^(DRELM|DREC|DRE|GRE|UGEL)\s*[.\-–]?\s*(.*)$", text)
    if not m:
        return None
    kind, name = m.group(1).upper(), m.group(2).strip(" .,;:–-")
    if kind == "DRELM":
        return "DRE Lima Metropolitana"
    if kind == "DREC":
        return "DRE Callao"
    if not name:
        return None
    name = re.sub(r"^(\d{1,2})\s*[-–]\s*", r"\1 ", name)
    region = canonical_region(name)
    if region and kind in {"DRE", "GRE"}:
        return f"{kind} {region}"
    return f"{kind} {_title_name(name)}"


def split_offices(text: str) -> list[str]:
    """Offices listed in a line such as 'DRELM – UGEL 01, UGEL04 Y UGEL 07' or 'DRE Callao\\nUGEL Ventanilla'."""
    parts = re.split(r"\s*(?:,|;|\n|–|—|\s+[yY]\s+|\s+-\s+)\s*", text)
    offices: list[str] = []
    for part in parts:
        office = canonical_office(part)
        if office and office not in offices:
            offices.append(office)
    return offices


def offices_in(text: str) -> list[str]:
    """Office mentions anywhere in running text ('la UGEL Nasca', 'UGEL.07'), most frequent first."""
    counts: dict[str, int] = {}
    for m in _OFFICE_RE.finditer(text):
        office = canonical_office(f"{m.group(1)} {m.group(2)}".strip())
        if office:
            counts[office] = counts.get(office, 0) + 1
    return sorted(counts, key=lambda o: -counts[o])


def looks_like_office_line(text: str) -> bool:
    return bool(re.match(r"(?i)^\s*\**\s*(DRELM|DREC|DRE|GRE|UGEL)\b", text)) and len(text) <= 400
