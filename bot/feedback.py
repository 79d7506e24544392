"""Answers shown (in Telegram or on the web page) and the 👍 / 👎 given to them, in SQLite under the data folder.

Each answer shown is logged (question, answer text, sources shown) so that a vote, which
arrives later as a button press carrying only the answer id, is stored with what was shown.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from bot.sources import Source

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    chat_id INTEGER NOT NULL,
    user_id INTEGER,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL DEFAULT 0,
    sources TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'telegram',
    external_id TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    UNIQUE (answer_id, user_id)
);
CREATE TABLE IF NOT EXISTS buttons (
    token TEXT PRIMARY KEY,
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    chat_id INTEGER NOT NULL,
    created_at REAL NOT NULL
);
"""

BUTTON_TTL_S = 7 * 24 * 3600  # an answer's buttons work for a week
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,32}")

FEEDBACK_FILE = "feedback.sqlite"


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(answers)")}
            if "channel" not in columns:  # a store written before web votes existed
                self._db.execute("ALTER TABLE answers ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram'")
                self._db.execute("ALTER TABLE answers ADD COLUMN external_id TEXT")
            self._db.commit()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FeedbackStore:
        return cls(Path(data_dir) / FEEDBACK_FILE)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def log_answer(
        self,
        *,
        chat_id: int,
        user_id: int | None,
        question: str,
        answer: str,
        abstained: bool,
        sources: list[Source],
        channel: str = "telegram",
        external_id: str | None = None,
    ) -> int:
        shown = [s.model_dump(mode="json") for s in sources]
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO answers (created_at, chat_id, user_id, question, answer, abstained, sources, channel, "
                "external_id) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    time.time(),
                    chat_id,
                    user_id,
                    question,
                    answer,
                    int(abstained),
                    json.dumps(shown, ensure_ascii=False),
                    channel,
                    external_id,
                ),
            )
            self._db.commit()
            return int(cur.lastrowid or 0)

    def record_web_vote(self, *, answer_id: str, question: str, answer: str, vote: int, channel: str = "web") -> int:
        """A vote from the page: the answer (by the page's `answer_id`) is logged once, its vote replaced."""
        with self._lock:
            row = self._db.execute(
                "SELECT id FROM answers WHERE channel = ? AND external_id = ?", (channel, answer_id)
            ).fetchone()
        stored = (
            int(row["id"])
            if row
            else self.log_answer(
                chat_id=0,
                user_id=None,
                question=question,
                answer=answer,
                abstained=False,
                sources=[],
                channel=channel,
                external_id=answer_id,
            )
        )
        self.record_vote(answer_id=stored, user_id=0, vote=vote)
        return stored

    def issue_token(self, answer_id: int, chat_id: int) -> str:
        """An opaque random token for the buttons of `answer_id`, valid only in `chat_id`
        (answer ids are sequential: a button must not let anyone reach another chat's answer)."""
        token = secrets.token_urlsafe(8)
        with self._lock:
            self._db.execute(
                "INSERT INTO buttons (token, answer_id, chat_id, created_at) VALUES (?,?,?,?)",
                (token, answer_id, chat_id, time.time()),
            )
            self._db.execute("DELETE FROM buttons WHERE created_at < ?", (time.time() - BUTTON_TTL_S,))
            self._db.commit()
        return token

    def answer_for_token(self, token: str, chat_id: int, ttl_s: float = BUTTON_TTL_S) -> int | None:
        """The answer id a button token stands for, or None when the token is malformed,
        unknown, expired or was issued in another chat."""
        if not _TOKEN.fullmatch(token):
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT answer_id, chat_id, created_at FROM buttons WHERE token = ?", (token,)
            ).fetchone()
        if row is None or row["chat_id"] != chat_id or time.time() - row["created_at"] > ttl_s:
            return None
        return int(row["answer_id"])

    def get_answer(self, answer_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return self._answer(row) if row else None

    def record_vote(self, *, answer_id: int, user_id: int, vote: int) -> bool:
        """Store (or change) a user's vote on an answer; False if the answer is unknown."""
        if vote not in (-1, 1):
            raise ValueError("vote must be -1 or 1")
        with self._lock:
            if not self._db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone():
                return False
            self._db.execute(
                "INSERT INTO feedback (created_at, answer_id, user_id, vote) VALUES (?,?,?,?) "
                "ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, created_at = excluded.created_at",
                (time.time(), answer_id, user_id, vote),
            )
            self._db.commit()
        return True

    def list_feedback(self, limit: int = 100, offset: int = 0, vote: int | None = None) -> list[dict[str, Any]]:
        """Votes, newest first, each with the question, the answer and the sources shown."""
        where, args = ("WHERE f.vote = ?", [vote]) if vote in (-1, 1) else ("", [])
        with self._lock:
            rows = self._db.execute(
                "SELECT f.id AS feedback_id, f.created_at AS voted_at, f.user_id AS voter_id, f.vote, a.* "
                f"FROM feedback f JOIN answers a ON a.id = f.answer_id {where} "
                "ORDER BY f.created_at DESC, f.id DESC LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        out = []
        for row in rows:
            item = self._answer(row)
            out.append(
                {
                    "id": row["feedback_id"],
                    "created_at": row["voted_at"],
                    "vote": "up" if row["vote"] > 0 else "down",
                    "user_id": row["voter_id"],
                    "chat_id": item["chat_id"],
                    "channel": item["channel"],
                    "external_id": item["external_id"],
                    "answer_id": item["id"],
                    "question": item["question"],
                    "answer": item["answer"],
                    "abstained": item["abstained"],
                    "answered_at": item["created_at"],
                    "sources": item["sources"],
                }
            )
        return out

    def counts(self) -> dict[str, int]:
        with self._lock:
            up, down = self._db.execute(
                "SELECT COALESCE(SUM(vote > 0), 0), COALESCE(SUM(vote < 0), 0) FROM feedback"
            ).fetchone()
        return {"up": int(up), "down": int(down)}

    @staticmethod
    def _answer(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "created_at": row["created_at"],
            "chat_id": row["chat_id"],
            "user_id": row["user_id"],
            "question": row["question"],
            "answer": row["answer"],
            "abstained": bool(row["abstained"]),
            "sources": json.loads(row["sources"]),
            "channel": row["channel"],
            "external_id": row["external_id"],
        }
