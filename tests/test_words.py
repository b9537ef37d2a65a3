"""The catalogue of words (words.py): every phrase in both languages, with the same
placeholders; every phrase the code asks for exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from civreform import words

SOURCE = Path(__file__).resolve().parent.parent / "civreform"


def _fields(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in string.Formatter().parse(text) if name}


def test_every_entry_has_both_languages_with_the_same_placeholders():
    for table_name, table in words.ALL.items():
        for key, pair in table.items():
            assert isinstance(pair, tuple) and len(pair) == 2, (table_name, key)
            english, vietnamese = pair
            assert english.strip() and vietnamese.strip(), (table_name, key)
            assert _fields(english) == _fields(vietnamese), (table_name, key)


def test_every_phrase_the_code_asks_for_is_in_the_catalogue():
    asked = set()
    for path in SOURCE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        asked |= set(re.findall(r'\bwords\("([a-z_]+\.[a-z_]+|[a-z_]+)"', text))
        asked |= set(re.findall(r'\b_phrase\("([a-z_.]+)"', text))
        asked |= set(re.findall(r'\bphrase\("([a-z_.]+)"', text))
    asked |= {f"search.{kind}" for kind in ("task", "event")}
    missing = sorted(asked - set(words.PHRASES))
    assert not missing, missing


def test_no_inline_english_vietnamese_pairs_are_left_in_the_commands():
    """Words live in the catalogue, not beside each command (the old words(en, vi))."""
    cli = (SOURCE / "cli.py").read_text(encoding="utf-8")
    assert not re.search(r'words\(f?"[^"]*", f?"[^"]*"\)', cli)
    assert not re.search(r'\("[a-z_]+", "[A-Z][^"]*", "[^"]*"\)', cli)  # (key, English, Vietnamese) headers


def test_vietnamese_days_and_milestones():
    assert words.day("2013-12-31", "vi") == "31/12/2013" and words.day("2013-12-31", "en") == "2013-12-31"
    assert words.milestone("main", "vi") == "chính" and words.milestone("pilot-2014", "vi") == "thí điểm 2014"
    assert words.milestone("2014", "vi") == "2014"
    assert words.milestone("pilot", "vi", "thực hiện thí điểm") == "thực hiện thí điểm"
