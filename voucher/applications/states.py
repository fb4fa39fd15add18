"""The states of an application and the one table of transitions between them.

The applicant portal drafts and submits; the review workflow adds its rows (screening, review,
decision, supplement …) to TRANSITIONS and a method per row on Application. The state field is
protected: it changes only through a transition method, called by an action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DRAFT: Final = "draft"
SUBMITTED: Final = "submitted"

STATE_CHOICES: Final = [
    (DRAFT, "草稿"),
    (SUBMITTED, "已提交"),
]

# States in which the applicant may still change the application.
EDITABLE_STATES: Final = frozenset({DRAFT})


@dataclass(frozen=True, slots=True)
class Transition:
    name: str  # the Application method that performs it
    source: tuple[str, ...]
    target: str
    label: str  # what the timeline says


TRANSITIONS: Final = {t.name: t for t in (Transition("submit", (DRAFT,), SUBMITTED, "提交申报"),)}
