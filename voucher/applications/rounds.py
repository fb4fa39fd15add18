"""The table of rounds, kept equal to the round files shipped with the code."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction

from voucher.applications.models import PolicyRoundRecord
from voucher.core.audit import audit
from voucher.policy.round import ROUNDS_DIR, get_rounds


def rounds_sync(*, acting_user: Any = None) -> list[PolicyRoundRecord]:
    """Make the table of rounds match the round files shipped with the code."""
    records = []
    changes: dict[str, str] = {}
    with transaction.atomic():
        for code, policy_round in sorted(get_rounds().items()):
            sha = hashlib.sha256((ROUNDS_DIR / f"{code}.toml").read_bytes()).hexdigest()
            values = {
                "title": policy_round.title,
                "jurisdiction": policy_round.jurisdiction,
                "window_start": policy_round.window_start,
                "window_end": policy_round.window_end,
                "source_sha256": sha,
            }
            record = PolicyRoundRecord.objects.filter(code=code).first()
            if record is None:
                record = PolicyRoundRecord.objects.create(code=code, **values)
                changes[code] = "created"
            elif any(getattr(record, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(record, key, value)
                record.save()
                changes[code] = "updated"
            else:
                changes[code] = "unchanged"
            records.append(record)
        audit(actor=acting_user, action="rounds_sync", data={"rounds": changes})
    return records


def current_round() -> PolicyRoundRecord:
    """The round applicants file in now: the latest one (rounds are synced from their files)."""
    record = PolicyRoundRecord.objects.order_by("-window_start").first()
    if record is None:
        rounds_sync()
        record = PolicyRoundRecord.objects.order_by("-window_start").first()
    assert record is not None
    return record
