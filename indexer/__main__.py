"""`python -m indexer build|status|practices` — build and inspect the index.

Exit codes: 0 done, 1 failed (nothing readable, store unreachable, unexpected error),
2 bad usage, 3 another build is running, 4 no index yet (status/practices).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from bpge.settings import Settings
from indexer.build import BuildInProgress, NothingToIndex, build_index, build_problem, repair
from indexer.store import BadPointer, IndexMissing, StoreUnavailable, current_files, newest_complete_build, read_pointer
from indexer.topics import BadCatalog

EXIT_FAILED, EXIT_BUSY, EXIT_NO_INDEX = 1, 3, 4


def _settings(args: argparse.Namespace) -> Settings:
    return Settings().with_overrides(corpus_dir=getattr(args, "corpus", None), data_dir=args.data)


def _build(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not settings.corpus_dir.is_dir():
        print(f"No existe la carpeta del corpus: {settings.corpus_dir}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if args.repair:
            build_id, summary = repair(settings, progress=not args.quiet)
            if summary is None:
                print(f"current.json apunta ahora al índice {build_id}.")
                return 0
        else:
            summary = build_index(settings, rebuild=args.rebuild, progress=not args.quiet)
    except BuildInProgress as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BUSY
    except (NothingToIndex, StoreUnavailable, BadCatalog) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    for skipped in summary.skipped:
        print(f"Omitido: {skipped.path} — {skipped.reason}", file=sys.stderr)
    for unsupported in summary.unsupported:
        print(f"No soportado: {unsupported.path} — {unsupported.reason}", file=sys.stderr)
    for duplicate in summary.duplicates:
        copies = ", ".join(str(c) for c in duplicate["copies"])  # type: ignore[attr-defined]
        print(f"Mismo documento: {duplicate['kept']} (indexado una vez; también en {copies})", file=sys.stderr)
    for warning in summary.warnings:
        print(f"Aviso: {warning}", file=sys.stderr)
    state = "sin cambios" if summary.unchanged else f"{summary.embedded} fragmentos nuevos embebidos"
    print(
        f"Índice {summary.build}: {summary.documents} documentos, {summary.practices} prácticas, "
        f"{summary.expert_commentaries} comentarios de expertos, {summary.event_parts} partes del evento, "
        f"{summary.other_documents} otros documentos, {summary.chunks} fragmentos ({state}) en {summary.seconds:.1f} s."
    )
    if args.json_summary:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        read_pointer(settings.data_dir)
    except BadPointer as exc:
        newest = newest_complete_build(settings.data_dir)
        fallback = (
            f"El servidor usará el índice completo más reciente, {newest}."
            if newest
            else "No hay ningún índice completo."
        )
        print(
            f"El puntero del índice está dañado: {exc}.\n{fallback}\n"
            "Repárelo con: python -m indexer build --repair "
            "(apunta al índice completo más reciente que abra, o reconstruye si no hay ninguno).",
            file=sys.stderr,
        )
        return EXIT_NO_INDEX
    try:
        manifest = current_files(settings.data_dir).manifest()
    except IndexMissing:
        print(f"No hay índice en {settings.data_dir}. Constrúyalo con: python -m indexer build", file=sys.stderr)
        return EXIT_NO_INDEX
    problem = build_problem(settings, manifest["build"])
    if problem:
        print(
            f"El índice {manifest['build']} no se puede abrir ({problem}). "
            "Repárelo con: python -m indexer build (o --repair)",
            file=sys.stderr,
        )
    counts = manifest["counts"]
    print(
        f"Índice {manifest['build']} ({manifest['created']}), modelo {manifest['embedding_model']}, "
        f"Chroma {manifest['chroma']}"
    )
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    for skipped in manifest.get("skipped", []):
        print(f"Omitido: {skipped['path']} — {skipped['reason']}")
    for unsupported in manifest.get("unsupported", []):
        print(f"No soportado: {unsupported['path']} — {unsupported['reason']}")
    for duplicate in manifest.get("duplicates", []):
        print(f"Mismo documento: {duplicate['kept']} (también en {', '.join(duplicate['copies'])})")
    for warning in manifest.get("warnings", []):
        print(f"Aviso: {warning}")
    return 0


def _practices(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        records = [r for r in current_files(settings.data_dir).records() if r.kind == "practice"]
    except IndexMissing:
        print(f"No hay índice en {settings.data_dir}. Constrúyalo con: python -m indexer build", file=sys.stderr)
        return EXIT_NO_INDEX
    rows = [
        {
            "id": r.id,
            "title": r.title,
            "region": r.region,
            "offices": r.offices,
            "documents": r.documents,
            "expert_commentary": r.has_expert_commentary,
        }
        for r in records
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for r in records:
        expert = "con comentario de experto" if r.has_expert_commentary else "sin comentario de experto"
        print(f"{r.id}\n  {r.title}\n  {r.region} — {', '.join(r.offices)}\n  {', '.join(r.documents)} ({expert})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="Indexa el corpus de BPGE.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="construye o actualiza el índice")
    build.add_argument("--corpus", type=Path)
    build.add_argument("--data", type=Path)
    build.add_argument("--rebuild", action="store_true", help="reconstruye todo (sin reutilizar embeddings)")
    build.add_argument("--quiet", action="store_true", help="sin barra de progreso")
    build.add_argument("--json-summary", action="store_true", help="imprime además el resumen en JSON")
    build.add_argument(
        "--repair",
        action="store_true",
        help="repara current.json: apunta al índice completo más reciente (o reconstruye si no hay ninguno)",
    )
    status = sub.add_parser("status", help="muestra el índice en servicio")
    status.add_argument("--data", type=Path)
    practices = sub.add_parser("practices", help="lista las prácticas indexadas")
    practices.add_argument("--data", type=Path)
    practices.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return {"build": _build, "status": _status, "practices": _practices}[args.command](args)
    except KeyboardInterrupt:
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
