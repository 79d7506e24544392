#!/usr/bin/env python
"""Synthetic BPGE corpus generator for benchmarks.

    python bench/synthetic.py --practices 800 --out bench/out/syn800 [--seed 1] [--corpus corpus]

Writes N practice sheets (`ficha-syn-NNNNN-….txt`, one practice per file, 5–10 KB each) in the
format of the shipped sheets (`## BUENA PRÁCTICA DE GESTIÓN EDUCATIVA`, `# Title`, `REGIÓN X`, office
line, problem paragraphs, `## ¿En qué consiste?`, `## ¿Qué está logrando?`, `## Contactos`,
`## Galería`); about half also carry an invited expert's commentary after the results, with the
report's markers (`Experto invitado`, name, role, `Aspecto clave de la práctica`, `Oportunidades de
mejora`, `Recomendaciones para la sostenibilidad y réplica`).

All running text is recombined from REAL sections of the shipped corpus: the paragraphs and bullets
of the three practice sheets and of the eight practices of the systematisation report are pooled by
section type, then sampled (mostly from one "primary" source practice, so each synthetic practice has
a dominant topic), shuffled, with some numbers perturbed and the place names (regions, provinces)
swapped for the synthetic practice's own. Titles recombine fragments of the real titles; people's
names recombine real given names and surnames (no real person is attributed a synthetic practice).

Deterministic for a given --seed (each file has its own RNG derived from the seed and its index).
Pure standard library; 8,000 practices take a few seconds.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO / "corpus"
FILE_PREFIX = "ficha-syn-"
MIN_BYTES, MAX_BYTES = 5000, 10000
MAX_TITLE_CHARS = 125  # the real titles are 20–135 characters (quotes included)

# --------------------------------------------------------------------------------------------------
# Geography: Peru's regions (24 departments + Callao, Lima split in Metropolitana / Provincias) and,
# per region, real province names used for UGEL offices and place mentions.

PROVINCES: dict[str, list[str]] = {
    "Amazonas": ["Chachapoyas", "Bagua", "Bongará", "Condorcanqui", "Luya", "Rodríguez de Mendoza", "Utcubamba"],
    "Áncash": ["Huaraz", "Huari", "Carhuaz", "Yungay", "Recuay", "Casma", "Huarmey", "Pomabamba", "Sihuas"],
    "Apurímac": ["Abancay", "Andahuaylas", "Chincheros", "Aymaraes", "Grau", "Cotabambas", "Antabamba"],
    "Arequipa": ["Arequipa Norte", "Arequipa Sur", "Camaná", "Caylloma", "Islay", "Condesuyos", "Caravelí"],
    "Ayacucho": [
        "Huamanga",
        "Huanta",
        "La Mar",
        "Cangallo",
        "Lucanas",
        "Parinacochas",
        "Sucre",
        "Víctor Fajardo",
        "Vilcashuamán",
        "Huancasancos",
    ],
    "Cajamarca": ["Cajabamba", "Jaén", "Chota", "Cutervo", "Celendín", "San Ignacio", "Hualgayoc", "San Marcos"],
    "Callao": ["Ventanilla"],
    "Cusco": [
        "Canchis",
        "Quispicanchi",
        "La Convención",
        "Calca",
        "Urubamba",
        "Anta",
        "Espinar",
        "Chumbivilcas",
        "Paucartambo",
    ],
    "Huancavelica": ["Angaraes", "Tayacaja", "Acobamba", "Castrovirreyna", "Churcampa", "Huaytará"],
    "Huánuco": ["Leoncio Prado", "Ambo", "Dos de Mayo", "Pachitea", "Puerto Inca", "Huamalíes"],
    "Ica": ["Nasca", "Pisco", "Chincha", "Palpa"],
    "Junín": [
        "Huancayo",
        "Tarma",
        "Chanchamayo",
        "Satipo",
        "Jauja",
        "Chupaca",
        "Yauli",
        "Pichanaki",
        "Pangoa",
        "Río Tambo",
    ],
    "La Libertad": [
        "Trujillo Nor Oeste",
        "Pacasmayo",
        "Chepén",
        "Ascope",
        "Otuzco",
        "Sánchez Carrión",
        "Santiago de Chuco",
        "Pataz",
    ],
    "Lambayeque": ["Chiclayo", "Ferreñafe"],
    "Lima Metropolitana": ["01", "02", "03", "04", "05", "06", "07"],
    "Lima Provincias": ["Huaura", "Barranca", "Huaral", "Cañete", "Huarochirí", "Oyón", "Cajatambo", "Yauyos"],
    "Loreto": ["Maynas", "Alto Amazonas", "Requena", "Datem del Marañón", "Mariscal Ramón Castilla"],
    "Madre de Dios": ["Tambopata", "Tahuamanu"],
    "Moquegua": ["Mariscal Nieto", "Ilo", "General Sánchez Cerro"],
    "Pasco": ["Daniel Alcides Carrión", "Oxapampa"],
    "Piura": ["Sullana", "Paita", "Talara", "Morropón", "Huancabamba", "Ayabaca", "Sechura"],
    "Puno": ["San Román", "Azángaro", "Melgar", "Chucuito", "Huancané", "Carabaya", "El Collao", "Yunguyo"],
    "San Martín": ["Moyobamba", "Rioja", "Tocache", "Lamas", "Mariscal Cáceres", "Bellavista", "Picota"],
    "Tacna": ["Candarave", "Jorge Basadre", "Tarata"],
    "Tumbes": ["Zarumilla", "Contralmirante Villar"],
    "Ucayali": ["Coronel Portillo", "Atalaya", "Padre Abad", "Purús"],
}
REGIONS: list[str] = list(PROVINCES)
# Places mentioned in running text; Lima Metropolitana's UGEL are numbered, so its places are districts.
PLACES: dict[str, list[str]] = {r: ps for r, ps in PROVINCES.items() if r != "Lima Metropolitana"} | {
    "Lima Metropolitana": ["San Juan de Lurigancho", "Comas", "Ate", "Villa El Salvador", "Rímac", "Breña"]
}
# Provinces/places of the source texts that are also swapped (besides every region name).
SOURCE_PLACES = [
    "Huancayo",
    "Tarma",
    "Chanchamayo",
    "Oxapampa",
    "Huaura",
    "Angaraes",
    "Nasca",
    "Ventanilla",
    "Huamanga",
    "Huanta",
    "Huaraz",
    "Selva Central",
]
GRE_REGIONS = {"Arequipa", "La Libertad", "Lambayeque"}
ALL_PLACE_NAMES: list[str] = sorted(
    {*REGIONS, *(p for ps in PLACES.values() for p in ps if not p.isdigit()), *SOURCE_PLACES}, key=len, reverse=True
)

# Title fragments, from the real titles (the sheets', the report's and the slide deck's).
TITLE_HEADS: dict[str, list[str]] = {
    "junin": [
        "Estrategia de seguimiento y evaluación al Plan Anual de Trabajo",
        "Seguimiento y evaluación al Plan Anual de Trabajo de la DRE y las UGEL",
    ],
    "pasco": [
        "Gestión educativa con impacto",
        "Gestión educativa con impacto para la mejora sostenible de los aprendizajes",
    ],
    "drelm": ["Redes educativas gestionan y aseguran aprendizajes", "Redes educativas que gestionan aprendizajes"],
    "r1": ["Puentes para la inclusión, emprendimiento e inserción laboral", "Puentes para la inserción laboral"],
    "r2": ["Fortalecemos la gestión del riesgo de desastres", "Gestión del riesgo de desastres"],
    "r4": ["Estrategia Inclusión Total", "Inclusión total"],
    "r5": [
        "Facilitadores del bienestar emocional y la convivencia positiva",
        "Bienestar emocional y convivencia positiva",
    ],
    "r7": ["Compartimos nuestro amor por la lectura", "Amor por la lectura en mi comunidad rural"],
    "r8": ["Evaluando aprendizajes: de la evidencia a la acción", "De la evidencia a la acción"],
    "ugel07": ["Mancomunidad educativa, juntos por una mejor educación"],
}
TITLE_TAILS = [
    "para la mejora sostenible de los aprendizajes y la calidad educativa",
    "para garantizar la continuidad del servicio educativo",
    "en el marco de gestión por procesos",
    "potenciado por la tecnología",
    "y de la acción a la mejora de los aprendizajes",
    "para una mejor educación",
    "",
    "",
    "",
]
# Who or where a practice is for, in the corpus's own words.
TITLE_AUDIENCES = [
    "en instituciones educativas rurales unidocentes y multigrado",
    "de estudiantes con discapacidad",
    "en Educación Básica Alternativa",
    "en los CETPRO",
    "en comunidades rurales",
    "de las redes educativas",
    "con las familias y la comunidad",
    "con los gobiernos locales",
    "de directivos y docentes",
    "en los niveles inicial, primaria y secundaria",
    "de los especialistas de la DRE y las UGEL",
    "en las instituciones educativas focalizadas",
]
TITLE_SCOPES = ["en la región {region}", "de la {office}", "en {region}", "de la DRE {region} y sus UGEL", "", ""]

# Report practices (in order) → topic; the report's Pasco and Junín practices are the sheets' ones.
REPORT_TOPICS = ["r1", "r2", "pasco", "r4", "r5", "junin", "r7", "r8"]
SHEET_TOPICS = {"junin": "junin", "pasco": "pasco", "drelm": "drelm"}

STRATEGY_INTRO_DEFAULT = (
    "A continuación, se brindan las estrategias y/o acciones realizadas en la implementación de la práctica:"
)


# --------------------------------------------------------------------------------------------------
# Pools of real text, by section type; each item is (topic, text).


@dataclass
class Pools:
    problems: list[tuple[str, str]] = field(default_factory=list)
    consist: list[tuple[str, str]] = field(default_factory=list)
    strategy_intros: list[str] = field(default_factory=list)
    strategies: list[tuple[str, str]] = field(default_factory=list)
    strategy_closings: list[str] = field(default_factory=list)
    result_intros: list[str] = field(default_factory=list)
    results: list[tuple[str, str]] = field(default_factory=list)
    result_closings: list[str] = field(default_factory=list)
    key_intros: list[str] = field(default_factory=list)
    key_aspects: list[tuple[str, str]] = field(default_factory=list)
    opportunities: list[tuple[str, str]] = field(default_factory=list)
    rec_intros: list[str] = field(default_factory=list)
    recommendations: list[tuple[str, str]] = field(default_factory=list)
    expert_roles: list[str] = field(default_factory=list)
    contact_roles: list[str] = field(default_factory=list)
    given_names: list[str] = field(default_factory=list)
    surnames: list[str] = field(default_factory=list)
    gallery: list[str] = field(default_factory=list)
    focus: list[tuple[str, str]] = field(default_factory=list)  # short lead phrases, for titles

    def collect_focus(self) -> None:
        """The bold or 'X:' lead phrases of bullets ('Gobernanza colegiada'), nominal ones only."""
        for pool in (self.strategies, self.results, self.key_aspects, self.opportunities, self.recommendations):
            for topic, text in pool:
                m = re.match(r"^\*\*(.+?)\*\*", text) or re.match(r"^([^:.,*]{6,80}):\s", text)
                if not m:
                    continue
                phrase = re.sub(r"^(El|La|Los|Las) ", "", m.group(1).strip().rstrip(":.").strip())
                words = phrase.split()
                if (
                    not 2 <= len(words) <= 8
                    or re.search(r"\d", phrase)
                    or words[-1].lower() in {"a", "de", "en"}
                    or re.search(r"(ar|er|ir)$", words[0])
                ):  # no verbs: 'Garantizar acciones…'
                    continue
                phrase = phrase[:1].upper() + phrase[1:]
                if phrase not in [f for _, f in self.focus]:
                    self.focus.append((topic, phrase))

    def topics(self) -> list[str]:
        """Source practices with enough text of their own to lead a synthetic practice."""
        described = {t for t, _ in self.strategies} | {t for t, _ in self.consist}
        return sorted(described & {t for t, _ in self.results})


_BULLET_RE = re.compile(r"^\s*[-•]\s+(?:✓\s*)?(.*\S)\s*$")
_STRATEGY_N_RE = re.compile(r"^\*\*Estrategia \d+:\s*(.*?)\*\*\s*(.*)$")
_PARTICLES = {"de", "del", "la", "las", "los"}


def _key(line: str) -> str:
    return re.sub(r"\s+", " ", line.replace("*", "").replace("#", "")).strip()


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated blocks of non-bullet text, each joined on one line; bullets on their own."""
    out: list[str] = []
    buf: list[str] = []
    for line in lines:
        s = line.strip()
        if not s or _BULLET_RE.match(line) or s.startswith("#"):
            if buf:
                out.append(" ".join(buf))
                buf = []
            if _BULLET_RE.match(line) or s.startswith("#"):
                out.append(s)
            continue
        buf.append(s)
    if buf:
        out.append(" ".join(buf))
    return out


def _is_bullet(block: str) -> str | None:
    m = _BULLET_RE.match(block)
    return m.group(1).strip() if m else None


def _add_name(pools: Pools, name: str) -> None:
    tokens: list[str] = []
    prefix = ""
    for tok in name.replace("*", "").split():
        if tok.lower() in _PARTICLES:
            prefix += tok + " "
            continue
        tokens.append(prefix + tok)
        prefix = ""
    if len(tokens) < 2:
        return
    given, surnames = (tokens[:-2], tokens[-2:]) if len(tokens) >= 3 else (tokens[:1], tokens[1:])
    g = " ".join(given)
    if g not in pools.given_names:
        pools.given_names.append(g)
    for s in surnames:
        if s not in pools.surnames:
            pools.surnames.append(s)


def _read_sheet(text: str, topic: str, pools: Pools) -> None:
    lines = text.splitlines()
    counts: dict[str, int] = {}
    for line in lines:
        if line.strip():
            counts[line.strip()] = counts.get(line.strip(), 0) + 1
    section = "head"
    buckets: dict[str, list[str]] = {k: [] for k in ("head", "consist", "results", "contacts", "gallery")}
    for line in lines:
        k = _key(line)
        if k == "¿En qué consiste?":
            section = "consist"
            continue
        if k == "¿Qué está logrando?":
            section = "results"
            continue
        if k == "Contactos" or "***Contactos" in line:
            section = "contacts"
            continue
        if k.lower().startswith("galería"):
            section = "gallery"
            continue
        s = line.strip()
        if counts.get(s, 0) > 1 and section != "contacts":  # running page headers/footers
            continue
        if " – DRE " in s or "***" in s:
            continue
        buckets[section].append(line)

    # Head: banner, title, REGIÓN line and office line, then the problem (context) paragraphs.
    blocks = [b for b in _paragraphs(buckets["head"]) if b]
    for block in blocks:
        k = _key(block)
        if (
            block.startswith("#")
            or k.upper() == "BUENA PRÁCTICA DE GESTIÓN EDUCATIVA"
            or k.upper().startswith("REGIÓN")
            or re.match(r"^(DRE|GRE|UGEL|DRELM)\b", k)
            or len(k) < 120
        ):
            continue
        pools.problems.append((topic, block))

    seen_strategy = False
    for block in _paragraphs(buckets["consist"]):
        if block.startswith("#"):
            continue
        item = _is_bullet(block)
        m = _STRATEGY_N_RE.match(block)
        if m:
            item = f"**{m.group(1).strip()}** {m.group(2).strip()}"
        if item:
            seen_strategy = True
            pools.strategies.append((topic, item))
        elif block.endswith(":"):
            pools.strategy_intros.append(block)
        elif seen_strategy:
            pools.strategy_closings.append(block)
        else:
            pools.consist.append((topic, block))

    for block in _paragraphs(buckets["results"]):
        if block.startswith("#"):
            continue
        item = _is_bullet(block)
        if item:
            pools.results.append((topic, item))
        elif block.endswith(":"):
            if len(block) <= 130:  # longer ones name their own practice
                pools.result_intros.append(block)
        else:
            pools.result_closings.append(block)

    entries = [line.strip() for line in buckets["contacts"] if line.strip()]
    for i, line in enumerate(entries):
        if line.startswith("Correo") and i >= 2:
            _add_name(pools, entries[i - 2])
            role = entries[i - 1].replace("*", "").strip()
            role = re.sub(r"\s+-\s+UGEL\s*\d+$", " - {ugel}", role)  # re-attached to the practice's UGEL
            if role not in pools.contact_roles:
                pools.contact_roles.append(role)

    for line in buckets["gallery"]:
        s = line.strip().replace("*", "").strip()
        if (
            s.startswith("#")
            or "\\_" in s
            or len(s) < 40
            or not re.search(r"[a-zá-ú]{4}", s)
            or re.search(r" - [A-ZÁÉÍÓÚÑ ]+$", s)
        ):  # a caption that is just the practice's title
            continue
        if s not in pools.gallery:
            pools.gallery.append(s)


_REPORT_MARKERS = {
    "PROBLEMA": "problem",
    "ESTRATEGIA": "strategy",
    "RESULTADOS": "results",
    "Información relevante del experto comentarista": None,
    "Experto invitado": "expert",
    "Aspecto clave de la práctica": "key",
    "Oportunidades de mejora": "opp",
    "Recomendaciones para la sostenibilidad y réplica": "rec",
}


def _read_report(text: str, pools: Pools) -> None:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "PROBLEMA"), None)
    if start is None:
        return
    n = -1
    state: str | None = None
    expert_lines: list[str] = []
    segment: list[str] = []

    def flush() -> None:
        if state is None or n < 0:
            return
        topic = REPORT_TOPICS[n] if n < len(REPORT_TOPICS) else f"report{n}"
        for block in _paragraphs(segment):
            item = _is_bullet(block)
            text_ = item or block
            if state == "problem" and not item:
                pools.problems.append((topic, block))
            elif state == "strategy":
                if item or not block.endswith(":"):
                    pools.strategies.append((topic, text_))
            elif state == "results":
                pools.results.append((topic, text_))
            elif state in ("key", "opp", "rec"):
                if not item and block.endswith(":"):
                    (pools.key_intros if state == "key" else pools.rec_intros).append(block)
                    continue
                target = {"key": pools.key_aspects, "opp": pools.opportunities, "rec": pools.recommendations}[state]
                target.append((topic, text_))

    for line in lines[start - 1 :]:
        s = line.strip()
        if s.startswith("Día 2"):
            break
        if s == "PROBLEMA":
            flush()
            n += 1
            state, segment = "problem", []
            continue
        if s in _REPORT_MARKERS:
            flush()
            state, segment = _REPORT_MARKERS[s], []
            if state == "expert":
                expert_lines = []
            continue
        if re.fullmatch(r"\d{1,2}", s):  # the next practice's number
            flush()
            state, segment = None, []
            continue
        if state == "expert":
            if s:
                expert_lines.append(s)
                if len(expert_lines) == 1:
                    _add_name(pools, s)
                elif len(expert_lines) == 2 and s not in pools.expert_roles:
                    pools.expert_roles.append(s)
            continue
        if state is not None:
            segment.append(line)
    flush()


def load_pools(corpus_dir: Path = DEFAULT_CORPUS) -> Pools:
    pools = Pools()
    for path in sorted(corpus_dir.glob("ficha-*.txt")):
        if path.name.startswith(FILE_PREFIX):
            continue
        name = path.stem.lower()
        topic = next((t for key, t in SHEET_TOPICS.items() if key in name), path.stem)
        _read_sheet(path.read_text(encoding="utf-8"), topic, pools)
    for path in sorted(corpus_dir.glob("reporte-*.txt")):
        _read_report(path.read_text(encoding="utf-8"), pools)
    if not pools.strategy_intros:
        pools.strategy_intros.append(STRATEGY_INTRO_DEFAULT)
    pools.collect_focus()
    missing = [k for k, v in vars(pools).items() if not v]
    if missing:
        raise SystemExit(f"synthetic: the corpus in {corpus_dir} gave no text for: {', '.join(missing)}")
    return pools


# --------------------------------------------------------------------------------------------------
# Text transformations: place names swapped, numbers perturbed.

_UPPER_TO_PLACE = {p.upper(): p for p in ALL_PLACE_NAMES}
_KEEP_BEFORE_RE = re.compile(
    r"(N\.?\s?[º°o]\.?|RSG|RVM|RM|D\.S\.|PP|Presupuestal|ECE|UGEL|UGEL\.|Estrategia|Fase|LOGRO|Logro|ODS|COVID)\s*$"
)


class Transformer:
    """Per-file text rewriting: consistent place and number substitutions."""

    def __init__(self, rng: random.Random, region: str, home: str | None = None, perturb: float = 0.6) -> None:
        self.rng = rng
        self.region = region
        self.home = home  # the practice's own UGEL province: the first place mentioned becomes it
        self.perturb = perturb
        self.places: dict[str, str] = {}
        self.numbers: dict[str, str] = {}
        self.done: dict[str, str] = {}

    def _place(self, name: str) -> str:
        if name in PROVINCES:
            return self.region
        if name in PLACES[self.region]:
            return name
        if name not in self.places:
            if self.home and self.home not in self.places.values():
                self.places[name] = self.home
            else:
                self.places[name] = self.rng.choice(PLACES[self.region])
        return self.places[name]

    def _number(self, s: str, percent: bool) -> str:
        if s in self.numbers:
            return self.numbers[s]
        new = s
        if self.rng.random() < self.perturb:
            factor = self.rng.uniform(0.6, 1.4)
            if re.fullmatch(r"\d{1,3}(?:,\d{3})+", s):
                v = int(s.replace(",", ""))
                new = f"{max(1, round(v * factor)):,}"
            elif re.fullmatch(r"\d+\.\d+", s):
                decimals = len(s.split(".")[1])
                x = float(s) * factor
                if percent:
                    x = min(x, 99.9)
                new = f"{x:.{decimals}f}"
            elif s.isdigit():
                v = int(s)
                if v > 3:
                    nv = max(1, round(v * factor))
                    if percent:
                        nv = 100 if v == 100 and self.rng.random() < 0.5 else min(nv, 100)
                    new = str(nv)
        self.numbers[s] = new
        return new

    def __call__(self, text: str) -> str:
        if text not in self.done:
            self.numbers = {}  # a number repeated within one paragraph or bullet keeps one value
            out = []
            for piece in _segments(text):
                if isinstance(piece, str):
                    out.append(piece)
                elif piece[0] == "place":
                    out.append(self._place(piece[1]))
                elif piece[0] == "upper":
                    out.append(self._place(piece[1]).upper())
                else:
                    out.append(self._number(piece[1], piece[2]))
            self.done[text] = "".join(out)
        return self.done[text]


_TOKEN_RE = re.compile(
    r"\b(?P<place>" + "|".join(re.escape(p) for p in ALL_PLACE_NAMES) + r")\b"
    r"|\b(?P<upper>" + "|".join(re.escape(p.upper()) for p in ALL_PLACE_NAMES) + r")\b"
    r"|(?<![\w.\-/°º])(?P<num>\d+(?:[,.]\d+)*)(?![\w\-/])"
)
_SEGMENTS: dict[str, list[str | tuple[str, str, bool]]] = {}


def _segments(text: str) -> list[str | tuple[str, str, bool]]:
    """`text` cut into literal strings and ("place"|"upper"|"num", value, is_percent) pieces (cached)."""
    if text in _SEGMENTS:
        return _SEGMENTS[text]
    pieces: list[str | tuple[str, str, bool]] = []
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        pieces.append(text[pos : m.start()])
        pos = m.end()
        if m.group("place"):
            pieces.append(("place", m.group("place"), False))
        elif m.group("upper"):
            pieces.append(("upper", _UPPER_TO_PLACE[m.group("upper")], False))
        else:
            s = m.group("num")
            before, after = text[max(0, m.start() - 16) : m.start()], text[m.end() : m.end() + 3]
            keep = (
                (len(s) > 1 and s[0] == "0")  # codes and counts written 02, 068
                or re.fullmatch(r"(19|20)\d\d", s) is not None  # years
                or _KEEP_BEFORE_RE.search(before) is not None  # norms, UGEL numbers, labels
                or after[:1] in ("º", "°", "ª")
                or after[:2] in (".º", ".°")  # ordinals
            )
            pieces.append(s if keep else ("num", s, after.lstrip()[:1] == "%"))
    pieces.append(text[pos:])
    _SEGMENTS[text] = pieces
    return pieces


# --------------------------------------------------------------------------------------------------
# Rendering one practice.


def _slug(text: str, max_chars: int = 48) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")
    return slug[:max_chars].rstrip("-") or "practica"


def _fold(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^0-9a-z]+", " ", ascii_).strip()


def _lower_first(phrase: str) -> str:
    """'Monitoreo sistemático' → 'monitoreo sistemático'; 'Apoyo Educativo Interno (SAEI)' unchanged."""
    words = phrase.split()
    if len(words) > 1 and words[1][:1].isupper():
        return phrase
    return phrase[:1].lower() + phrase[1:]


def _sample(
    rng: random.Random, pool: list[tuple[str, str]], k: int, primary: str, share: float = 0.6, keep_order: bool = False
) -> list[str]:
    """k distinct texts: about `share` of them from the primary topic, the rest from the others.

    keep_order: the primary topic's texts first, in their original order (a narrative), then the others.
    """
    own = [t for topic, t in pool if topic == primary]
    other = [t for topic, t in pool if topic != primary]
    k_own = min(len(own), math.ceil(k * share))
    mine = own[:k_own] if keep_order else rng.sample(own, k_own)
    picked = mine + rng.sample(other, min(len(other), k - k_own))
    if not keep_order:
        rng.shuffle(picked)
    return picked


def _person(rng: random.Random, pools: Pools) -> str:
    s1, s2 = rng.sample(pools.surnames, 2)
    return f"{rng.choice(pools.given_names)} {s1} {s2}"


def _email(rng: random.Random, name: str, domain: str) -> str:
    parts = _slug(name).split("-")
    given, surname = parts[0], parts[-2] if len(parts) >= 3 else parts[-1]
    local = rng.choice([f"{given[0]}{surname}", f"{given}.{surname}", f"{given[0]}{surname}{parts[-1][0]}"])
    return f"{local}@{domain}"


@dataclass
class Practice:
    index: int
    title: str
    region: str
    offices: list[str]
    topic: str
    has_expert: bool
    text: str

    @property
    def filename(self) -> str:
        return f"{FILE_PREFIX}{self.index:05d}-{_slug(self.offices[0], 24)}-{_slug(self.title, 40)}.txt"


class Generator:
    def __init__(self, pools: Pools, seed: int = 1, expert_share: float = 0.5) -> None:
        self.pools = pools
        self.seed = seed
        self.expert_share = expert_share
        self.topics = [t for t in pools.topics() if t in TITLE_HEADS]
        self.titles: set[str] = set()
        self.title_words: dict[str, list[frozenset[str]]] = {}
        self.similar_titles = 0

    def _offices(self, rng: random.Random, region: str) -> tuple[list[str], str]:
        kind = "GRE" if region in GRE_REGIONS else "DRE"
        dre = f"{kind} {region}"
        ugels = [f"UGEL {p}" for p in PROVINCES[region]]
        roll = rng.random()
        if roll < 0.30 or not ugels:
            offices = [dre]
            line = dre.upper() if rng.random() < 0.5 else dre
        elif roll < 0.75:
            offices = [rng.choice(ugels)]
            line = offices[0]
        elif roll < 0.90:
            offices = [dre, *rng.sample(ugels, min(len(ugels), rng.randint(1, 3)))]
            line = f"{dre} – {', '.join(offices[1:])}"
        else:
            offices = [dre, *rng.sample(ugels, min(len(ugels), rng.randint(2, 5)))]
            line = ", ".join(offices)
        return offices, line

    def _title(self, rng: random.Random, topic: str, region: str, offices: list[str]) -> str:
        """A title recombined from real title fragments and real strategy/result lead phrases.

        Titles of one region are kept clearly distinct (word overlap, as an indexer may merge two
        practices of a region whose titles nearly match, the way a sheet and a report describe one).
        """
        own_focus = [f for t, f in self.pools.focus if t == topic]
        all_focus = [f for _, f in self.pools.focus]
        all_heads = [h for hs in TITLE_HEADS.values() for h in hs]
        taken = self.title_words.setdefault(region, [])
        title = ""
        for attempt in range(200):
            head = rng.choice(TITLE_HEADS[topic] if attempt < 100 else all_heads)
            tail = rng.choice(TITLE_TAILS)
            audience = rng.choice(TITLE_AUDIENCES) if rng.random() < 0.5 else ""
            scope = rng.choice(TITLE_SCOPES).format(region=region, office=offices[-1])
            f1 = rng.choice(own_focus) if own_focus and rng.random() < 0.6 else rng.choice(all_focus)
            f2 = rng.choice(all_focus)
            form = rng.random()
            if form < 0.25:
                parts = [head, tail, audience, scope]
            elif form < 0.55:
                parts = [f"{head}: {_lower_first(f1)}", audience, scope if rng.random() < 0.6 else ""]
            elif form < 0.75 and f1 != f2:
                parts = [f"{head}: {_lower_first(f1)} y {_lower_first(f2)}", scope if rng.random() < 0.5 else ""]
            elif form < 0.9 and f1 != f2:
                parts = [f"{f1} y {_lower_first(f2)}", audience or tail, scope]
            else:
                parts = [f1, audience, tail, scope]
            title = " ".join(p for p in parts if p)
            if len(title) > MAX_TITLE_CHARS or title in TITLE_HEADS.get(topic, []):
                continue
            words = frozenset(_fold(title).split())
            if title in self.titles:
                continue
            n_words = len(words)
            for other in taken:  # too similar: sharing most words (a bit stricter than the indexer's merge)
                overlap = len(words & other)
                if overlap >= 0.75 * min(n_words, len(other)) and overlap >= 0.55 * max(n_words, len(other)):
                    break
            else:
                break
        else:
            self.similar_titles += 1  # out of variety: a near-duplicate title (an indexer may merge it)
        n = 2
        base = title
        while title in self.titles:
            title = f"{base} ({n})"
            n += 1
        self.titles.add(title)
        taken.append(frozenset(_fold(title).split()))
        return title

    def practice(self, index: int) -> Practice:
        rng = random.Random(f"bpge-synthetic:{self.seed}:{index}")
        p = self.pools
        topic = rng.choice(self.topics)
        region = rng.choice(REGIONS)
        offices, office_line = self._offices(rng, region)
        title = self._title(rng, topic, region, offices)
        home = next((o[5:] for o in offices if o.startswith("UGEL ") and not o[5:].isdigit()), None)
        tx = Transformer(rng, region, home)
        has_expert = rng.random() < self.expert_share
        target = rng.randint(MIN_BYTES + 500, MAX_BYTES - 800)

        problems = _sample(rng, p.problems, rng.randint(1, 3), topic, share=0.7, keep_order=True)
        consist = _sample(rng, p.consist, rng.randint(1, 2), topic, share=0.5)
        strategies = _sample(rng, p.strategies, len(p.strategies), topic)  # an ordered supply, taken as needed
        results = _sample(rng, p.results, len(p.results), topic)
        n_strat, n_res = rng.randint(4, 7), rng.randint(5, 9)
        strategy_intro = rng.choice(p.strategy_intros)
        strategy_closing = rng.choice(p.strategy_closings) if rng.random() < 0.4 else None
        result_intro = rng.choice(p.result_intros)
        result_closing = rng.choice(p.result_closings) if rng.random() < 0.3 else None
        checkmarks = rng.random() < 0.3
        split_results = rng.random() < 0.25
        expert: dict[str, Any] | None = None
        if has_expert:
            expert = {
                "name": _person(rng, p),
                "role": tx(rng.choice(p.expert_roles)),
                "key_intro": rng.choice(p.key_intros) if rng.random() < 0.4 else None,
                "key": _sample(rng, p.key_aspects, rng.randint(1, 4), topic),
                "opp": _sample(rng, p.opportunities, rng.randint(2, 4), topic),
                "rec_intro": rng.choice(p.rec_intros) if rng.random() < 0.4 else None,
                "rec": _sample(rng, p.recommendations, rng.randint(3, 5), topic),
                "key_as_paragraphs": rng.random() < 0.25,
            }
        contacts = []
        domain_office = offices[-1] if offices[-1].startswith("UGEL") else offices[0]
        domain = _slug(domain_office, 40).replace("-", "") + rng.choice([".gob.pe", ".edu.pe"])
        for _ in range(rng.randint(1, 3)):
            name = _person(rng, p)
            ugel = next((o for o in offices if o.startswith("UGEL")), None)
            role = rng.choice([r for r in p.contact_roles if ugel or "{ugel}" not in r])
            role = tx(role.replace("{ugel}", ugel or ""))
            mail = _email(rng, name, domain if rng.random() < 0.85 else "gmail.com")
            contacts.append((name, role, mail))
        gallery = rng.sample(p.gallery, min(len(p.gallery), rng.randint(2, 4)))
        quote = rng.random()
        shown_title = f"“{title}”" if quote < 0.25 else (f"*{title}*" if quote < 0.45 else title)

        def render() -> str:
            out: list[str] = [
                "",
                "## BUENA PRÁCTICA DE GESTIÓN EDUCATIVA",
                f"# {shown_title}",
                f"REGIÓN {region.upper()}",
                office_line,
                "",
            ]
            out += [tx(b) for b in problems]
            out += ["## ¿En qué consiste?"]
            out += [tx(b) for b in consist]
            out += [tx(strategy_intro)]
            out += ["\n".join(f"- {tx(s)}" for s in strategies[:n_strat])]
            if strategy_closing:
                out.append(tx(strategy_closing))
            out += ["", "## ¿Qué está logrando?", tx(result_intro)]
            mark = "✓ " if checkmarks else ""
            chosen = results[:n_res]
            if split_results:
                quanti = [r for r in chosen if re.search(r"\d", r)]
                quali = [r for r in chosen if not re.search(r"\d", r)]
                if quanti:
                    out += ["### Logros cuantitativos:", "\n".join(f"- {mark}{tx(r)}" for r in quanti)]
                if quali:
                    out += ["### Logros cualitativos:", "\n".join(f"- {mark}{tx(r)}" for r in quali)]
            else:
                out.append("\n".join(f"- {mark}{tx(r)}" for r in chosen))
            if result_closing:
                out.append(tx(result_closing))
            if expert:
                out += [
                    "",
                    "Información relevante del experto comentarista",
                    "",
                    "Experto invitado",
                    expert["name"],
                    expert["role"],
                    "",
                    "Aspecto clave de la práctica",
                ]
                if expert["key_intro"]:
                    out.append(tx(expert["key_intro"]))
                if expert["key_as_paragraphs"]:
                    out += [tx(k) for k in expert["key"]]
                else:
                    out.append("\n".join(f"- {tx(k)}" for k in expert["key"]))
                out += [
                    "",
                    "Oportunidades de mejora",
                    "\n".join(f"- {tx(o)}" for o in expert["opp"]),
                    "",
                    "Recomendaciones para la sostenibilidad y réplica",
                ]
                if expert["rec_intro"]:
                    out.append(tx(expert["rec_intro"]))
                out.append("\n".join(f"- {tx(r)}" for r in expert["rec"]))
            out += ["", "## Contactos"]
            for name, role, mail in contacts:
                out.append(f"{name}\n\n{role}\n\nCorreo: [{mail}](mailto:{mail})")
            out += ["## Galería", ""]
            out += [tx(g) for g in gallery]
            return "\n\n".join(out).replace("\n\n\n\n", "\n\n\n") + "\n"

        text = render()
        # Grow or shrink to the target size (5–10 KB) with more or fewer bullets, estimating each
        # change's bytes and rendering again only to check.
        mark_len = len("✓ ".encode()) if checkmarks else 0

        def cost(item: str) -> int:
            return len(tx(item).encode("utf-8")) + 3 + mark_len

        for _ in range(5):
            size = len(text.encode("utf-8"))
            if MIN_BYTES <= size <= MAX_BYTES:
                break
            while size < target and (n_res < len(results) or n_strat < len(strategies)):
                if n_res < len(results) and (n_res <= n_strat + 2 or n_strat >= len(strategies)):
                    size += cost(results[n_res])
                    n_res += 1
                else:
                    size += cost(strategies[n_strat])
                    n_strat += 1
            while size > target and (n_res > 3 or n_strat > 3 or len(problems) > 1 or len(consist) > 1):
                if len(problems) > 1:
                    size -= cost(problems.pop())
                elif len(consist) > 1:
                    size -= cost(consist.pop())
                elif n_res >= n_strat and n_res > 3:
                    n_res -= 1
                    size -= cost(results[n_res])
                else:
                    n_strat -= 1
                    size -= cost(strategies[n_strat])
            text = render()
        return Practice(index, title, region, offices, topic, has_expert, text)


def generate(n: int, out_dir: Path, seed: int = 1, corpus_dir: Path = DEFAULT_CORPUS) -> list[Practice]:
    """Write n synthetic practice sheets into out_dir (removing earlier `ficha-syn-*.txt` there)."""
    pools = load_pools(corpus_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{FILE_PREFIX}*.txt"):
        old.unlink()
    gen = Generator(pools, seed=seed)
    practices = []
    for i in range(1, n + 1):
        practice = gen.practice(i)
        (out_dir / practice.filename).write_text(practice.text, encoding="utf-8")
        practices.append(practice)
    return practices


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--practices", "-n", type=int, default=800, help="number of practices (files) to write")
    ap.add_argument("--out", type=Path, required=True, help="output folder (its ficha-syn-*.txt are replaced)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the real corpus to recombine")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    practices = generate(args.practices, args.out, seed=args.seed, corpus_dir=args.corpus)
    seconds = time.perf_counter() - t0
    sizes = [len(p.text.encode("utf-8")) for p in practices]
    experts = sum(p.has_expert for p in practices)
    if sizes:
        print(
            f"wrote {len(practices)} practices to {args.out} in {seconds:.2f} s "
            f"({sum(sizes) / 1e6:.1f} MB, {min(sizes)}–{max(sizes)} bytes per file, "
            f"{experts} with expert commentary)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
