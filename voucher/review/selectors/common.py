"""What several of the bureau's reads share: the label of each state."""

from __future__ import annotations

from voucher.applications.states import STATE_CHOICES

STATE_LABELS = dict(STATE_CHOICES)
