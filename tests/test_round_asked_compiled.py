"""Decision 0059 (branch dash3): the newest round a review page opens on, its SQL written once
per process (precompiled.rows), is the ORM's `order_by("-window_start").first()` as rounds come
and go; a round asked by its code is the ORM's lookup, as before."""

from __future__ import annotations

from datetime import date

import pytest
from django.http import Http404
from django.test import RequestFactory

from voucher.applications.models import PolicyRoundRecord
from voucher.review.views import round_asked


def _orm_newest():
    return PolicyRoundRecord.objects.order_by("-window_start").first()


def _round(code: str, start: date) -> PolicyRoundRecord:
    return PolicyRoundRecord.objects.create(
        code=code,
        title=f"轮次 {code}",
        jurisdiction="北京",
        window_start=start,
        window_end=date(start.year + 1, start.month, start.day),
        source_sha256="0" * 64,
    )


@pytest.mark.django_db
def test_the_newest_round_is_the_orms_as_rounds_come_and_go():
    bare, asked = RequestFactory().get("/review/dashboard/"), RequestFactory().post("/", {})
    with pytest.raises(Http404):
        round_asked(bare)  # no round at all: compiled, and still nothing
    old = _round("r-2024", date(2024, 1, 1))
    assert round_asked(bare) == old == _orm_newest()
    new = _round("r-2026", date(2026, 3, 1))
    _round("r-2025", date(2025, 6, 1))
    for request in (bare, asked):
        found = round_asked(request)
        assert found == new == _orm_newest()
        assert (found.code, found.title, found.window_start) == (
            "r-2026",
            "轮次 r-2026",
            date(2026, 3, 1),
        )
    PolicyRoundRecord.objects.filter(pk=new.pk).update(window_start=date(2020, 1, 1))
    assert round_asked(bare).code == "r-2025" == _orm_newest().code
    # by its code, whichever is newest; a code no round has: 404
    assert round_asked(RequestFactory().get("/", {"round": "r-2024"})) == old
    assert round_asked(RequestFactory().post("/", {"round": "r-2026"})) == new
    with pytest.raises(Http404):
        round_asked(RequestFactory().get("/", {"round": "r-1999"}))
    PolicyRoundRecord.objects.all().delete()
    with pytest.raises(Http404):
        round_asked(bare)
