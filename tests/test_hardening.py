"""What a careless or hostile user can send: limits, Spanish errors, the index pointer's faults.

Real parts only: uvicorn serving the FastAPI app over 127.0.0.1, the real index of the shipped
corpus (copied when a test damages it), the real CLI entry points.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import random
import re
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

import httpx
import pytest

from bot import texts
from bot.errors import AnswerPool, Busy
from bot.limits import bounded_int, clean_text
from bot.service import Assistant
from bot.web import create_app
from indexer.__main__ import main as indexer_main
from indexer.build import build_index
from indexer.store import builds_dir, current_build_id, read_pointer
from tests.support import CORPUS, free_port, make_settings, serve

ENGLISH = re.compile(
    r"Input should|Field required|Not Found|Method Not Allowed|JSON decode|There was an error|"
    r"valid (string|integer|dictionary)|Value error|Request Entity|Unprocessable",
    re.IGNORECASE,
)


def _known_texts() -> re.Pattern[str]:
    """Any Spanish text of prompts/answers.toml at the start of a detail (placeholders match anything)."""
    from bot.texts import all_texts

    parts = [re.sub(r"\\\{\w+\\\}", ".*?", re.escape(v.strip())) for v in all_texts().values() if isinstance(v, str)]
    return re.compile("^(?:" + "|".join(sorted(parts, key=len, reverse=True)) + ")", re.DOTALL)


SPANISH = _known_texts()
LEAKS = ("Traceback", "/work", ".py", 'File "')


@pytest.fixture(scope="module")
def api(assistant: Assistant, shipped_data_dir: Path) -> Iterator[httpx.Client]:
    app = create_app(make_settings(CORPUS, shipped_data_dir), assistant, start_telegram=False)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


# ------------------------------------------------------------------ small parts


def test_clean_text_and_bounded_int() -> None:
    assert clean_text("a\ud800b\x00c\u200b\tde\u0301") == "abc dé"
    assert clean_text(clean_text("x\udfffy")) == "xy"
    assert [bounded_int(v) for v in ("12", "²", "٣", "9" * 60, "-1", "", " 1", None)] == [12] + [None] * 7


def test_answer_pool_refuses_when_full() -> None:
    release = threading.Event()

    async def scenario() -> list[object]:
        pool = AnswerPool(workers=1, queue=1)
        first = asyncio.ensure_future(pool.call(release.wait, 10))
        second = asyncio.ensure_future(pool.call(release.wait, 10))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await pool.call(release.wait, 10)
        release.set()
        out: list[object] = list(await asyncio.gather(first, second))
        out.append(await pool.call(lambda: "libre"))  # a slot is free again
        pool.close()
        return out

    assert asyncio.run(scenario()) == [True, True, "libre"]


# ------------------------------------------------------------------ fuzz over HTTP


def _odd_strings(rng: random.Random) -> list[object]:
    return [
        "",
        " ",
        "\ud800",
        "riesgo \udfff desastres",
        "\x00\x01\x1b[31m",
        "‮‭\u200b\ufeff",
        "👩‍👩‍👧" * 50,
        "e\u0301" * 300,
        "a" * 201,
        "a" * rng.randint(1000, 60_000),
        "9" * 5000,
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%00%ff",
        12,
        -1,
        1e308,
        10**60,
        True,
        None,
        [],
        [1, "a"],
        {"a": 1},
    ]


def _quote(text: str) -> str:
    """Percent-encoded UTF-8, lone surrogates included (a client may send any bytes)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _url(path: str, **params: str) -> str:
    return path + "?" + urlencode(params, quote_via=lambda v, *a: _quote(v if isinstance(v, str) else str(v)))


def _requests(rng: random.Random) -> list[tuple[str, str, dict]]:
    odd = _odd_strings(rng)
    out: list[tuple[str, str, dict]] = []
    for value in odd:
        out.append(("POST", "/api/ask", {"json": {"question": value}}))
        out.append(("POST", "/api/ask", {"json": {"question": "riesgo", "k": value}}))
        for field in ("region", "office", "section", "practice_id"):
            out.append(("POST", "/api/ask", {"json": {"question": "riesgo", "filters": {field: value}}}))
        out.append(("POST", "/api/ask", {"json": {"question": "riesgo", "filters": value}}))
        out.append(("POST", "/api/ask/stream", {"json": {"question": value, "k": 3}}))
        out.append(("POST", "/api/ask", {"json": value}))
        if isinstance(value, str | int):
            text = str(value)[:3000]
            out.append(("GET", _url("/api/search", q=text), {}))
            out.append(("GET", _url("/api/search", q="riesgo", k=text), {}))
            out.append(("GET", _url("/api/practices", region=text), {}))
            out.append(("GET", "/api/practices/" + _quote(text[:2000]), {}))
            out.append(("GET", _url("/api/feedback", limit=text, offset=text), {}))
            out.append(("GET", _url("/practicas/no-existe", doc=text, lineas=text), {}))
    raw_bodies = [
        b"{",
        b'{"question": "riesgo"',
        b'{"question": "\\ud800"}',
        b'{"question": "riesgo", "k": ' + b"9" * 5000 + b"}",
        b"\xff\xfe\x00",
        b"null",
        b"[1]",
        b'"riesgo"',
        b'{"question": "riesgo", "filters": {"region": "' + b"a" * 70_000 + b'"}}',
        b'{"question": "' + "á".encode() * 10 + b'\\u0000"}',
    ]
    for body in raw_bodies:
        for ctype in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
            out.append(("POST", "/api/ask", {"content": body, "headers": {"content-type": ctype}}))
    for method in ("PUT", "DELETE", "PATCH", "GET"):
        out.append((method, "/api/ask", {}))
    for method in ("POST", "PUT", "DELETE"):
        out.append((method, "/api/practices", {}))
        out.append((method, "/healthz", {}))
    for path in ("/api", "/api/nada", "/api/practices/", "/.env", "/static/../pyproject.toml", "/practicas/%ff%fe"):
        out.append(("GET", path, {}))
    out.append(("POST", "/api/ask", {"content": b"x" * 200_000, "headers": {"content-type": "application/json"}}))
    out.append(("POST", "/telegram/webhook", {"content": b"{", "headers": {"content-type": "application/json"}}))
    rng.shuffle(out)
    return out


def test_fuzz_every_endpoint_no_5xx_no_leaks_spanish(api: httpx.Client) -> None:
    rng = random.Random(20240612)
    requests = _requests(rng)
    assert len(requests) > 300
    slowest = 0.0
    for method, path, kwargs in requests:
        if "json" in kwargs:  # httpx cannot encode lone surrogates; JSON escapes them (\\ud800)
            payload = json.dumps(kwargs["json"]).encode()
            kwargs = {"content": payload, "headers": {"content-type": "application/json"}}
        started = time.perf_counter()
        response = api.request(method, path, **kwargs)
        elapsed = time.perf_counter() - started
        slowest = max(slowest, elapsed)
        where = f"{method} {path[:80]} {str(kwargs)[:200]} -> {response.status_code} {response.text[:300]}"
        assert response.status_code < 500, where
        assert elapsed < 5, where
        body = response.text
        assert not any(leak in body for leak in ("Traceback", "/work", 'File "')), where
        if response.status_code >= 400 and "application/json" in response.headers.get("content-type", ""):
            assert not any(leak in body for leak in LEAKS), where
            data = response.json()
            assert set(data) == {"detail"} and isinstance(data["detail"], str), where
            assert not ENGLISH.search(data["detail"]) and SPANISH.search(data["detail"]), where
    print(f"\n{len(requests)} requests, slowest {slowest:.2f} s")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/nada", {}, 404),
        ("DELETE", "/api/ask", {}, 405),
        ("POST", "/api/ask", {"content": b"{", "headers": {"content-type": "application/json"}}, 422),
        ("POST", "/api/ask", {"json": {"question": 5}}, 422),
        ("POST", "/api/ask", {"json": {"question": "riesgo", "filters": {"region": "a" * 201}}}, 422),
        ("POST", "/api/ask", {"content": b"x" * 70_000, "headers": {"content-type": "application/json"}}, 413),
        ("GET", "/api/feedback", {}, 403),
    ],
)
def test_error_shape(api: httpx.Client, method: str, path: str, kwargs: dict, status: int) -> None:
    response = api.request(method, path, **kwargs)
    assert response.status_code == status
    detail = response.json()["detail"]
    assert isinstance(detail, str) and SPANISH.search(detail) and not ENGLISH.search(detail), detail


def test_lone_surrogate_and_control_chars_are_answered(api: httpx.Client) -> None:
    body = b'{"question": "riesgo de desastres \\ud800 en escuelas\\u0000 rurales"}'
    response = api.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json()["sources"]
    assert api.get("/practicas/x", params={"doc": "a", "lineas": "9" * 5000}).status_code == 404


def test_oversized_filters_do_not_delay_a_normal_question(api: httpx.Client) -> None:
    base = str(api.base_url)
    huge = {"question": "riesgo", "filters": {"region": "a" * 1_000_000}}
    large = {"question": "riesgo", "filters": {"region": "a" * 60_000}}

    def send(payload: dict) -> int:
        return httpx.post(base + "/api/ask", json=payload, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=13) as pool:
        hostile = [pool.submit(send, huge) for _ in range(6)] + [pool.submit(send, large) for _ in range(6)]
        time.sleep(0.05)
        started = time.perf_counter()
        normal = httpx.post(
            base + "/api/ask", json={"question": "¿Qué prácticas abordan el riesgo de desastres?"}, timeout=60
        )
        elapsed = time.perf_counter() - started
        statuses = sorted(f.result() for f in hostile)
    print(f"\nnormal question beside 12 oversized-filter requests: {elapsed:.2f} s; hostile statuses {statuses}")
    assert normal.status_code == 200 and normal.json()["sources"]
    assert set(statuses) <= {413, 422}
    assert elapsed < 10


# ------------------------------------------------------------------ the index pointer


FAULTS = {
    "garbage": b"\x00\xffno es json",
    "truncated": b'{"build": "2024',
    "number": b'{"build": 123}',
    "list": b"[1]",
    "missing_build": b'{"build": "20990101T000000000000"}',
    "traversal": b'{"build": "../../etc"}',
    "empty": b"",
}


@pytest.fixture()
def data_copy(shipped_data_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(shipped_data_dir, target, ignore=shutil.ignore_patterns(".build.lock", "feedback.sqlite*"))
    return target


def _folders(data: Path) -> list[str]:
    return sorted(p.name for p in builds_dir(data).iterdir())


@pytest.mark.parametrize("fault", list(FAULTS))
def test_bad_pointer_while_serving_and_at_restart(
    data_copy: Path, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(CORPUS, data_copy)
    serving = current_build_id(data_copy)
    folders = _folders(data_copy)
    app = create_app(settings, start_telegram=False)
    with serve(app) as url:
        assert httpx.post(url + "/api/ask", json={"question": "riesgo de desastres"}, timeout=30).status_code == 200
        (data_copy / "current.json").write_bytes(FAULTS[fault])
        for _ in range(3):  # the loaded index keeps serving, with one warning
            response = httpx.post(url + "/api/ask", json={"question": "riesgo de desastres"}, timeout=30)
            assert response.status_code == 200, response.text
        assert httpx.get(url + "/healthz", timeout=30).json()["index"] == serving
    assert _folders(data_copy) == folders
    # restart with the bad pointer: the newest complete build serves, nothing is deleted
    caplog.set_level(logging.WARNING)
    with serve(create_app(settings, start_telegram=False)) as url:
        response = httpx.post(url + "/api/ask", json={"question": "riesgo de desastres"}, timeout=30)
        assert response.status_code == 200, response.text
        assert httpx.get(url + "/healthz", timeout=30).json()["index"] == serving
    assert "--repair" in caplog.text
    assert _folders(data_copy) == folders


def test_status_explains_and_repair_fixes_the_pointer(data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serving = current_build_id(data_copy)
    assert serving
    folders = _folders(data_copy)
    (data_copy / "current.json").write_text('{"build": 123}')
    assert indexer_main(["status", "--data", str(data_copy)]) == 4
    err = capsys.readouterr().err
    assert "python -m indexer build --repair" in err and serving in err
    assert indexer_main(["build", "--repair", "--quiet", "--corpus", str(CORPUS), "--data", str(data_copy)]) == 0
    assert read_pointer(data_copy) == serving and _folders(data_copy) == folders
    assert indexer_main(["status", "--data", str(data_copy)]) == 0


def test_build_rebuilds_an_active_build_that_does_not_open_and_cleans_orphans(data_copy: Path) -> None:
    settings = make_settings(CORPUS, data_copy)
    serving = current_build_id(data_copy)
    assert serving
    orphan = builds_dir(data_copy) / "20000101T000000000000"  # a killed build: no manifest
    (orphan / "chroma").mkdir(parents=True)
    shutil.rmtree(builds_dir(data_copy) / serving / "chroma")
    summary = build_index(settings)
    assert not summary.unchanged and summary.build != serving and summary.embedded == 0
    assert not orphan.exists()
    assistant = Assistant.load(settings)
    assert assistant.health()["index"] == summary.build
    assert assistant.ask("riesgo de desastres en escuelas rurales").sources
    assert build_index(settings).unchanged  # now it opens: no work


# ------------------------------------------------------------------ an index that cannot answer


def _break(data: Path, failure: str) -> dict[str, object]:
    """Make the serving build of `data` unable to answer; returns the settings the failure needs."""
    build = builds_dir(data) / str(current_build_id(data))
    if failure == "corrupt":
        shutil.rmtree(build / "chroma")
    elif failure == "not_calibrated":
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        del manifest["calibration"]
        (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    elif failure == "chroma_down":
        return {"chroma_host": "127.0.0.1", "chroma_port": free_port()}
    return {}


@pytest.mark.parametrize(
    ("failure", "message", "home"),
    [
        ("corrupt", texts.text("index_missing"), 503),
        ("not_calibrated", "python -m eval --calibrate", 503),
        ("chroma_down", texts.text("store_unavailable"), 200),  # the page loads; its questions get the API's 503
    ],
)
def test_an_index_that_cannot_answer_is_a_spanish_503(data_copy: Path, failure: str, message: str, home: int) -> None:
    settings = make_settings(CORPUS, data_copy, **_break(data_copy, failure))
    with serve(create_app(settings, start_telegram=False)) as url, httpx.Client(base_url=url, timeout=30) as client:
        for path in ("/api/ask", "/api/ask/stream"):
            response = client.post(path, json={"question": "riesgo de desastres"})
            assert response.status_code == 503, (path, response.text)
            detail = response.json()["detail"]
            assert message in detail and SPANISH.match(detail), detail
        assert client.get("/healthz").json()["detail"] == detail
        assert client.get("/").status_code == home
        for path in ("/practicas", "/practicas/fortalecemos-la-gestion-del-riesgo-de-desastres"):
            page = client.get(path)
            assert page.status_code == 503 and page.headers["content-type"].startswith("text/html"), path
            assert message in html.unescape(page.text) and '"detail"' not in page.text


class _Failing:
    """An Assistant whose every answer fails unexpectedly (a bug), with a path in its message."""

    def warm_up(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        def fail(*args: object, **kwargs: object) -> object:
            raise RuntimeError("boom in /work/bot/service.py")

        return fail


def test_an_unexpected_error_is_a_spanish_500_page_or_json(shipped_data_dir: Path) -> None:
    from fastapi.testclient import TestClient

    app = create_app(make_settings(CORPUS, shipped_data_dir), cast(Assistant, _Failing()), start_telegram=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = client.get("/api/practices")
        assert api.status_code == 500 and api.json() == {"detail": texts.text("internal_error")}
        page = client.get("/practicas")
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert texts.text("internal_error") in html.unescape(page.text)
        assert not any(leak in page.text for leak in LEAKS)


def test_redacted_secret_keeps_the_access_log_line_well_formed() -> None:
    from uvicorn.logging import AccessFormatter

    from bot.telegram.redact import REDACTED, protect

    secret = "998877:AAF-access-log-secret"
    protect(secret)
    logger = logging.getLogger("uvicorn.access.test")
    record = logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", f"/telegram/{secret}?x=1", "1.1", 200),
        None,
    )
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert secret not in line and REDACTED in line
    assert line.startswith('127.0.0.1:5000 - "POST /telegram/') and line.endswith('HTTP/1.1" 200 OK')
    assert json.dumps(line)
