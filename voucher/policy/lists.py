"""The official lists declarations are matched against (RULES.md v2, "Fail closed").

A declaration is evidence only when it is found on its official list: Beijing's AI new R&D
institutions (D1_INSTITUTION), the MIIT 2025 task list (D2_QUALIFICATION), the model and Agent
filings (D4_MODEL_FILING). The administrator loads them per round, each with its source and
as-of date (the Django side fills `OfficialLists`); an interchange file may carry more inline
(`lists`), added to the stored ones for that evaluation. A kind no list of which is loaded can
match nothing: the declaration is then `review`, never `pass`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Application


ListKind = Literal["ai_new_rd_institutions", "miit_2025_list", "model_filings"]
LIST_KINDS: tuple[ListKind, ...] = ("ai_new_rd_institutions", "miit_2025_list", "model_filings")
LIST_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "ai_new_rd_institutions": "北京市人工智能领域新型研发机构名单",
        "miit_2025_list": "工信部2025年人工智能产业及赋能新型工业化创新任务揭榜名单",
        "model_filings": "生成式人工智能服务（模型、Agent）备案登记名单",
    }
)
INLINE_SOURCE = "申报文件所附名单 (the file's inline list)"


def filing_key(number: str) -> str:
    """A filing number as two records of one filing compare: NFKC, spaces and case aside."""
    return "".join(unicodedata.normalize("NFKC", number).split()).casefold()


@dataclass(frozen=True, slots=True)
class ListedEntry:
    """Where a declaration was found: which list (source, as-of date), which row."""

    kind: str
    source: str
    as_of: date | None
    row: int | None  # the row of the imported file; None for a file's inline list
    name: str = ""
    filed_on: date | None = None  # model_filings: the filing date the list gives

    def describe(self) -> str:
        where = f"{LIST_NAMES[self.kind]}（{self.source}"
        if self.as_of is not None:
            where += f"，截至 {self.as_of}"
        if self.row is not None:
            where += f"，第 {self.row} 行"
        return where + "）"

    def values(self) -> dict[str, Any]:
        return {
            "list": self.kind,
            "list_source": self.source,
            "list_as_of": self.as_of,
            "list_row": self.row,
        }


@dataclass(frozen=True)
class OfficialLists:
    """The stored lists of one round: per kind, entries by key (a USCC, or a filing_key)."""

    entries: Mapping[str, Mapping[str, ListedEntry]] = field(default_factory=dict)

    def loaded(self, kind: str) -> bool:
        return kind in self.entries

    def find(self, kind: str, key: str) -> ListedEntry | None:
        return self.entries.get(kind, {}).get(key)

    @classmethod
    def build(
        cls, kinds: Iterable[str], rows: Iterable[tuple[str, str, ListedEntry]]
    ) -> OfficialLists:
        """From the kinds loaded (an empty list is loaded too) and their (kind, key, entry) rows."""
        entries: dict[str, dict[str, ListedEntry]] = {kind: {} for kind in kinds}
        for kind, key, entry in rows:
            entries.setdefault(kind, {}).setdefault(key, entry)
        return cls(entries)


NO_LISTS = OfficialLists()


def _inline(app: Application, kind: str) -> list | None:
    lists = app.lists
    return None if lists is None else getattr(lists, kind)


def is_loaded(app: Application, lists: OfficialLists, kind: str) -> bool:
    return lists.loaded(kind) or _inline(app, kind) is not None


def find_enterprise(app: Application, lists: OfficialLists, kind: str) -> ListedEntry | None:
    """The applicant on list `kind` (ai_new_rd_institutions or miit_2025_list), if it is."""
    uscc = app.applicant.uscc
    inline = _inline(app, kind)
    if inline is not None and uscc in inline:
        return ListedEntry(kind, INLINE_SOURCE, None, None)
    return lists.find(kind, uscc)


def find_filing(
    app: Application, lists: OfficialLists, number: str, filed_on: date
) -> ListedEntry | None:
    """The filing `number` on the list of model filings: the entry with the date `filed_on` if
    there is one, else any entry of that number (whose date then differs), else None."""
    key = filing_key(number)
    found = [
        ListedEntry("model_filings", INLINE_SOURCE, None, None, filed_on=listed.date)
        for listed in _inline(app, "model_filings") or ()
        if filing_key(listed.number) == key
    ]
    stored = lists.find("model_filings", key)
    if stored is not None:
        found.append(stored)
    return next((e for e in found if e.filed_on == filed_on), found[0] if found else None)
