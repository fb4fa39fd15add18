"""The sections of form 14-3 (算力项目实施情况报告): for the portal's editor and for the documents.

Headings and hints are verbatim from the source's template; `suggested_chars` is our suggestion
(the source sets no length): enough for a reviewer to judge, short enough to be read. The
portal may show it as guidance. A section longer than `REPORT_MAX_CHARS` is refused (the form,
the action, the database): a few pages of the PDF, which renders in about a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class ReportSection:
    field: str  # the ImplementationReport field that holds the applicant's text
    chapter: str  # key of CHAPTERS
    heading: str  # verbatim, e.g. "1.1申请企业情况"
    hint: str  # verbatim, with its brackets
    suggested_chars: tuple[int, int]  # (from, to) Chinese characters


REPORT_MAX_CHARS: Final = 3000  # each section of 14-3 (the source sets none; ≥ every suggestion)

CHAPTERS: Final = {
    "一": "一、企业基本情况介绍",
    "二": "二、项目建设方案",
    "三": "三、项目完成情况",
}

SECTIONS: Final = (
    ReportSection(
        "enterprise_overview",
        "一",
        "1.1申请企业情况",
        "（企业基本信息、发展现状、主营业务和近3年主营业务收入情况，"
        "成立不满3年的企业提供成立以来的主营业务收入情况。）",
        (300, 1000),
    ),
    ReportSection(
        "background_goals",
        "二",
        "2.1项目背景和目标",
        "（项目背景、意义、建设目标等。）",
        (300, 1000),
    ),
    ReportSection(
        "content",
        "二",
        "2.2项目内容",
        "（项目简介、所用算力的提供企业、项目涉及的方向、创新点、与同类产品的对标情况等。）",
        (800, 3000),
    ),
    ReportSection(
        "progress",
        "三",
        "3.1完成情况",
        "（目前项目进展、预计下一步规划）",
        (300, 1500),
    ),
)
