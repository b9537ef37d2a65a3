"""Matching what people type against agency names: codes, Vietnamese with or
without diacritics, English. Pure functions; the queries live in reports.py."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower-case ASCII words: 'Sở Kế hoạch&Đầu tư' -> 'so ke hoach va dau tu'.

    Diacritics are dropped and đ folds to d, so "noi vu", "Nội vụ" and "NỘI VỤ"
    compare equal.
    """
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " va ")
    return " ".join(re.findall(r"[a-z0-9]+", text))


def search_key(code: str, name: str, name_en: str, aliases: list[str]) -> str:
    """What an agency is found by, one folded name per line."""
    return "\n".join(fold(value) for value in [code.replace("-", " "), name, name_en, *aliases] if value)


def match_score(query: str, code: str, key: str) -> int:
    """How well a query names an agency: 3 exact code, 2 a whole name, 1 every
    word of the query is a word of one of its names, 0 no match."""
    if query.strip().lower() == code:
        return 3
    folded = fold(query)
    if not folded:
        return 0
    names = key.split("\n")
    if folded in names:
        return 2
    words = folded.split()
    for name in names:
        name_words = name.split()
        if all(word in name_words for word in words):
            return 1
    return 0
