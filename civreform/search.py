"""Finding tasks and events by their words: an SQLite FTS5 index over a folded copy of
the text (no case, no diacritics, đ as d: FTS5's own remove_diacritics keeps đ),
kept current in the transaction that loads a plan or records an event."""

from __future__ import annotations

import re
import sqlite3

from civreform.names import fold

# Title words weigh more than body words in the ranking (FTS5's bm25, per column).
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
SNIPPET_WORDS = 12
SEARCH_COLUMNS = ["kind", "plan", "task", "event", "title", "title_en", "snippet", "rank"]


def index_plan(conn: sqlite3.Connection, plan_id: str) -> None:
    """(Re)index every task of a plan (inside the caller's transaction)."""
    conn.execute("DELETE FROM search_index WHERE plan_id = ? AND kind = 'task'", (plan_id,))
    rows = conn.execute("SELECT task_id, title, title_en, content, content_en FROM tasks WHERE plan_id = ?",
                        (plan_id,)).fetchall()
    conn.executemany(
        "INSERT INTO search_index (plan_id, kind, ref, title, body) VALUES (?, 'task', ?, ?, ?)",
        [(plan_id, task_id, fold(f"{title} {title_en}"), fold(f"{content} {content_en}"))
         for task_id, title, title_en, content, content_en in rows])


def index_event(conn: sqlite3.Connection, event_id: int, plan_id: str, task_id: str, note: str,
                evidence: str) -> None:
    """Index one event's note and evidence (inside the caller's transaction)."""
    if (note or "").strip() or (evidence or "").strip():
        conn.execute("INSERT INTO search_index (plan_id, kind, ref, title, body) VALUES (?, 'event', ?, '', ?)",
                     (plan_id, str(event_id), fold(f"{note} {evidence}")))


def rebuild(conn: sqlite3.Connection) -> None:
    """Build the whole index again from the tasks and events (inside a transaction)."""
    conn.execute("DELETE FROM search_index")
    for (plan_id,) in conn.execute("SELECT plan_id FROM plans").fetchall():
        index_plan(conn, plan_id)
    for event_id, plan_id, task_id, note, evidence in conn.execute(
            "SELECT id, plan_id, task_id, note, evidence FROM events").fetchall():
        index_event(conn, event_id, plan_id, task_id, note, evidence)


def differences(conn: sqlite3.Connection) -> int:
    """How many tasks and events the index is missing or holds wrongly (0 when sound)."""
    expected = conn.execute(
        """SELECT (SELECT count(*) FROM tasks)
                + (SELECT count(*) FROM events WHERE trim(note) <> '' OR trim(evidence) <> '')""").fetchone()[0]
    present = conn.execute(
        """SELECT count(*) FROM search_index s WHERE
             (s.kind = 'task' AND EXISTS (SELECT 1 FROM tasks t WHERE t.plan_id = s.plan_id AND t.task_id = s.ref))
          OR (s.kind = 'event' AND EXISTS (SELECT 1 FROM events e WHERE e.id = CAST(s.ref AS INTEGER)))""").fetchone()[0]
    total = conn.execute("SELECT count(*) FROM search_index").fetchone()[0]
    return abs(expected - present) + (total - present)


def fts_query(text: str) -> str:
    """What the user typed as an FTS5 query: each folded word a quoted token (so no
    word is read as FTS5 syntax), all of them required."""
    return " ".join(f'"{word}"' for word in fold(text).split())


def search(conn: sqlite3.Connection, text: str, plan_id: str | None = None, limit: int = 50) -> list[dict]:
    """Tasks and events whose words hold every word of `text`, best first, each with a
    short snippet of its own text around the first match."""
    query = fts_query(text)
    if not query:
        return []
    rows = conn.execute(
        f"""SELECT s.kind, s.plan_id, s.ref, bm25(search_index, 0, 0, 0, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS rank
            FROM search_index s WHERE search_index MATCH :query AND (:plan IS NULL OR s.plan_id = :plan)
            ORDER BY rank LIMIT :limit""",  # noqa: S608 (constant weights)
        {"query": "{title body} : (" + query + ")", "plan": plan_id, "limit": limit}).fetchall()
    words = fold(text).split()
    results = []
    for kind, plan, ref, rank in rows:
        if kind == "task":
            title, title_en, content, content_en = conn.execute(
                "SELECT title, title_en, content, content_en FROM tasks WHERE plan_id = ? AND task_id = ?",
                (plan, ref)).fetchone()
            results.append({"kind": "task", "plan": plan, "task": ref, "event": None, "title": title,
                            "title_en": title_en, "snippet": snippet(f"{title}. {content}", words)
                            or snippet(f"{title_en}. {content_en}", words), "rank": round(-rank, 3)})
        else:
            task, note, evidence, title, title_en = conn.execute(
                """SELECT e.task_id, e.note, e.evidence, coalesce(t.title, ''), coalesce(t.title_en, '')
                   FROM events e LEFT JOIN tasks t ON t.plan_id = e.plan_id AND t.task_id = e.task_id
                   WHERE e.id = ?""", (int(ref),)).fetchone()
            results.append({"kind": "event", "plan": plan, "task": task, "event": int(ref), "title": title,
                            "title_en": title_en, "snippet": snippet(f"{note} {evidence}".strip(), words),
                            "rank": round(-rank, 3)})
    return results


def snippet(text: str, words: list[str]) -> str:
    """About SNIPPET_WORDS words of `text` around the first of `words` found in it (its
    own spelling kept), with … where it was cut; '' when none is found."""
    tokens = re.findall(r"\S+", text)
    folded = [fold(token) for token in tokens]
    hit = next((i for i, token in enumerate(folded) if any(w in token.split() for w in words)), None)
    if hit is None:
        return ""
    start = max(0, hit - SNIPPET_WORDS // 3)
    end = min(len(tokens), start + SNIPPET_WORDS)
    return ("…" if start else "") + " ".join(tokens[start:end]) + ("…" if end < len(tokens) else "")
