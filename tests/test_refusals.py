"""One refusal type with stable codes; the HTTP status is the APIs' mapping of the code."""

from __future__ import annotations

import pytest

from voucher.accounts import actions as accounts
from voucher.api.problems import REFUSAL_STATUS, refusal_status
from voucher.applications import lifecycle, parameters, uploads
from voucher.applications.refusals import FieldRefusal
from voucher.core import refusals
from voucher.core.refusals import Conflict, Refused
from voucher.portal import actions as portal
from voucher.review import staff
from voucher.staffapi import actions as staffapi


def test_every_app_refuses_with_the_one_type():
    for refusal in (
        lifecycle.ReviewError,
        portal.PortalError,
        accounts.AccountError,
        uploads.UploadRefused,
        staffapi.TokenError,
    ):
        assert refusal is Refused
    assert lifecycle.ConflictError is Conflict and portal.StaleVersion is Conflict
    for refusal in (parameters.ParameterError, staff.StaffError, accounts.ClaimRequired):
        assert issubclass(refusal, Refused)


def test_the_codes_are_stable_and_each_has_its_status():
    assert Refused("x").code == "refused"
    assert Conflict("x").code == "conflict"
    assert Refused("x", code="forbidden").code == "forbidden"
    assert FieldRefusal("amount", "不是有效金额").code == "invalid"
    assert FieldRefusal("", "只有系统管理员可以").code == "refused"
    assert set(REFUSAL_STATUS) == refusals.CODES
    assert [refusal_status(Refused("x", code=c)) for c in ("forbidden", "not_found")] == [403, 404]
    assert refusal_status(Conflict("x")) == 409


def test_an_unknown_code_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown refusal code"):
        Refused("x", code="nope")


def test_a_refusal_keeps_its_message_and_field():
    refused = Refused("请填写理由", field="reason")
    assert str(refused) == "请填写理由" and refused.field == "reason"
