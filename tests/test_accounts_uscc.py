"""A USCC typed into a form: the applicant's region is checked against the round, a supplier's is not."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from voucher.accounts.uscc import clean_uscc

from .builders import uscc

SHANGHAI = uscc("91310115MA1K4ABC1")
BEIJING = "91110108MA01C3QX7B"


def test_an_applicant_registered_outside_the_rounds_region_is_warned():
    code, warnings = clean_uscc(SHANGHAI, applicant=True)
    assert code == SHANGHAI
    assert len(warnings) == 1
    assert "310115" in warnings[0] and "北京市" in warnings[0] and "11" in warnings[0]


def test_a_supplier_may_be_registered_anywhere():
    assert clean_uscc(SHANGHAI, applicant=False) == (SHANGHAI, [])


def test_a_beijing_applicant_with_a_right_check_character_gets_no_warning():
    assert clean_uscc(" ９１１１０１０８ｍａ０１Ｃ３ＱＸ７Ｂ ", applicant=True) == (BEIJING, [])


def test_a_wrong_check_character_is_a_warning_and_a_bad_length_an_error():
    _, warnings = clean_uscc("91110108MA01C3QX7C", applicant=False)
    assert len(warnings) == 1 and "B" in warnings[0]
    with pytest.raises(ValidationError):
        clean_uscc("91110108MA01C3QX7", applicant=True)
