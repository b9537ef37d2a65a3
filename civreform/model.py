"""The plan as plain data: Plan, its Agency list and its Task list (no I/O, no checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from civreform.deadlines import DeadlineSpec, Milestone


@dataclass
class Agency:
    code: str
    name: str
    name_en: str = ""
    kind: str = "other"
    aliases: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Task:
    id: str
    seq: int
    content: str
    lead: list[str]
    milestones: list[Milestone]
    section: str = "appendix"
    title: str = ""
    title_en: str = ""
    content_en: str = ""
    lead_text: str = ""
    support_text: str = ""
    time_text: str = ""
    support: list[str] = field(default_factory=list)
    deadline: list[DeadlineSpec] = field(default_factory=list)
    note: str = ""
    target: dict | None = None
    line: int | None = None

    @property
    def ongoing(self) -> bool:
        return not self.milestones


@dataclass
class Plan:
    id: str
    number: str
    issued: date
    title: str
    agencies: list[Agency]
    tasks: list[Task]
    title_en: str = ""
    period_start: date | None = None
    period_end: date | None = None
    meta: dict = field(default_factory=dict)
    source: str = ""

    def agency(self, code: str) -> Agency:
        return next(a for a in self.agencies if a.code == code)
