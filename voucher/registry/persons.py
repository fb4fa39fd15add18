"""Person identifiers: the data provider's `P-…` id, or a keyed hash of a national ID number.

A resident ID number (GB 11643: 17 digits, a birth date inside, a MOD 11-2 check character) is
never stored; `P-H` + HMAC-SHA256(SECRET_KEY, number) takes its place, so the same person gets
the same id in every file while the number cannot be read back (nor found by hashing every
possible number without the key). An `ID:` prefix marks a number explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from django.conf import settings

from voucher.policy import uscc as uscc_codes

_RESIDENT_ID = re.compile(r"\d{17}[\dX]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def is_resident_id(value: str) -> bool:
    if not _RESIDENT_ID.fullmatch(value):
        return False
    total = sum(int(ch) * w for ch, w in zip(value[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != value[17]:
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return born.year >= 1900


def looks_like_resident_id(value: str) -> bool:
    """A resident ID number that is not also a well-formed USCC with a valid check character."""
    if value.startswith("ID:"):
        return True
    if not is_resident_id(value):
        return False
    return not (uscc_codes.is_well_formed(value) and uscc_codes.has_valid_check_character(value))


def hashed_person_id(resident_id: str) -> str:
    number = resident_id.removeprefix("ID:").strip().upper()
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"cn-resident-id:{number}".encode(), hashlib.sha256
    ).hexdigest()
    return f"P-H{digest[:32]}"
