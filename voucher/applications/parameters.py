"""Round parameters the administrator keeps in the database: unit-price bands and flagged devices.

The round file (policy/rounds/<code>.toml) ships the parameters the policy text fixes. Two of them
change while a round runs and belong to the bureau, not to a code release: the market unit-price
bands that `UNIT_PRICE` compares against (14-1 一) and the devices a national authority flags
(二（五）). The administrator sets those here; every evaluation of the round uses the file's values
overlaid with these rows, and stores a fingerprint of what it used, so a stored evaluation can
always say which parameters made it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from voucher.applications import permissions as p
from voucher.applications.models import (
    FlaggedDevice,
    PolicyRoundRecord,
    StoredEvaluation,
    UnitPriceBand,
)
from voucher.applications.refusals import FieldRefusal
from voucher.applications.rounds import current_round
from voucher.applications.states import DRAFT, SUPPLEMENT_STATES, WITH_BUREAU_STATES
from voucher.core.audit import audit
from voucher.policy.money import MoneyError, parse_yuan
from voucher.policy.round import PolicyRound, PriceBand, device_key, get_round

UNDECIDED_STATES = (DRAFT, *WITH_BUREAU_STATES)


ParameterError = FieldRefusal  # a parameter refused: the one refusal, naming its field


_require = ParameterError.unless


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveRound:
    policy_round: PolicyRound
    fingerprint: str  # "" when the database adds nothing to the round file


def effective_round(record: PolicyRoundRecord) -> EffectiveRound:
    """The round file overlaid with the administrator's bands and flagged devices."""
    base = get_round(record.code)
    bands = list(UnitPriceBand.objects.filter(round=record).order_by("device_key", "unit"))
    flags = list(FlaggedDevice.objects.filter(round=record).order_by("device_key"))
    if not bands and not flags:
        return EffectiveRound(base, "")
    unit_price_bands = dict(base.unit_price_bands)
    for b in bands:
        unit_price_bands[(b.device_key, b.unit)] = PriceBand(b.device, b.unit, b.minimum, b.maximum)
    flagged = dict(base.flagged_devices)
    for f in flags:
        flagged[f.device_key] = f.notice
    fingerprint = hashlib.sha256(
        json.dumps(
            {
                "bands": [[b.device_key, b.unit, str(b.minimum), str(b.maximum)] for b in bands],
                "flagged": [[f.device_key, f.notice] for f in flags],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
    ).hexdigest()
    return EffectiveRound(
        base.with_overrides(unit_price_bands=unit_price_bands, flagged_devices=flagged),
        fingerprint,
    )


def current_effective_round() -> EffectiveRound:
    """The round now (rounds.current_round: the latest), as effective_round makes
    it: where the code needs "the round" without an application to take it from (the platforms,
    their screening and settlement, the registry's state-asset holders), never a literal."""
    return effective_round(current_round())


@dataclass(frozen=True)
class ParametersPage:
    record: PolicyRoundRecord
    file_bands: list[PriceBand]
    file_flagged: list[tuple[str, str]]
    bands: list[UnitPriceBand]
    flagged: list[FlaggedDevice]
    fingerprint: str
    stale: int  # latest evaluations made under other parameters


def parameters_page(record: PolicyRoundRecord) -> ParametersPage:
    base = get_round(record.code)
    current = effective_round(record)
    latest: dict[int, str] = {}
    for app_id, fp in (
        # what "evaluate again" would change: undecided applications (decided ones keep the
        # evaluation their decision cites; drafts are evaluated at every step anyway; one
        # being corrected (补正) is evaluated with the current parameters when resubmitted)
        StoredEvaluation.objects.seen_by_bureau()
        .filter(application__round=record, application__state__in=WITH_BUREAU_STATES)
        .exclude(application__state__in=SUPPLEMENT_STATES)
        .order_by("created_at", "id")
        .values_list("application_id", "parameters_sha256")
    ):
        latest[app_id] = fp
    return ParametersPage(
        record=record,
        file_bands=sorted(base.unit_price_bands.values(), key=lambda b: (b.device, b.unit)),
        file_flagged=sorted(base.flagged_devices.items()),
        bands=list(UnitPriceBand.objects.filter(round=record).select_related("created_by")),
        flagged=list(FlaggedDevice.objects.filter(round=record).select_related("created_by")),
        fingerprint=current.fingerprint,
        stale=sum(1 for fp in latest.values() if fp != current.fingerprint),
    )


# --- writing ------------------------------------------------------------------------------------


def _text(field: str, value: Any, label: str, limit: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ParameterError(field, _("请填写%(label)s") % {"label": label})
    if len(text) > limit:
        raise ParameterError(
            field, _("%(label)s不能超过 %(limit)s 个字符") % {"label": label, "limit": limit}
        )
    return text


def _price(field: str, value: Any, label: str) -> Decimal:
    """A unit price in yuan as the administrator types it (voucher.policy.money.parse_yuan)."""
    if not ("" if value is None else str(value)).strip():
        raise ParameterError(field, _("请填写%(label)s") % {"label": label})
    try:
        return parse_yuan(value, field=field, label=label)
    except MoneyError as refused:
        raise ParameterError(field, refused.message(_)) from None


def _created(field: str, message: str, table: Any, **values: Any) -> Any:
    """Create a row; the unique constraint lost to someone else a moment ago is a refusal."""
    try:
        with transaction.atomic():
            return table.objects.create(**values)
    except IntegrityError:
        raise ParameterError(field, message) from None


def price_band_set(
    *,
    record: PolicyRoundRecord,
    device: Any,
    unit: Any,
    minimum: Any,
    maximum: Any,
    note: Any,
    acting_user: Any,
) -> UnitPriceBand:
    """Set the band for one device and unit (replacing an earlier one for the same pair)."""
    _require(p.can_manage_round(acting_user))
    device_text = _text("device", device, pgettext("in a sentence", "设备型号"), 100)
    unit_text = _text("unit", unit, pgettext("in a sentence", "计量单位"), 50)
    low = _price("minimum", minimum, pgettext("in a sentence", "单价下限"))
    high = _price("maximum", maximum, pgettext("in a sentence", "单价上限"))
    if high < low:
        raise ParameterError(
            "maximum", _("单价上限 %(high)s 元低于下限 %(low)s 元") % {"high": high, "low": low}
        )
    reason = _text("note", note, pgettext("in a sentence", "依据"), 300)
    key = device_key(device_text)
    with transaction.atomic():
        before = UnitPriceBand.objects.select_for_update().filter(
            round=record, device_key=key, unit=unit_text
        )
        previous = [(str(b.minimum), str(b.maximum), b.note) for b in before]
        before.delete()
        band = _created(
            "device",
            _("该设备和单位的单价区间刚刚已被他人设定，请刷新后再试"),
            UnitPriceBand,
            round=record,
            device=device_text,
            device_key=key,
            unit=unit_text,
            minimum=low,
            maximum=high,
            note=reason,
            created_by=acting_user,
        )
        audit(
            actor=acting_user,
            action="parameter_price_band_set",
            obj=record,
            data={
                "device": device_text,
                "unit": unit_text,
                "minimum": low,
                "maximum": high,
                "note": reason,
                "replaced": previous,
            },
        )
    return band


def price_band_remove(*, band: UnitPriceBand, acting_user: Any) -> None:
    _require(p.can_manage_round(acting_user))
    with transaction.atomic():
        audit(
            actor=acting_user,
            action="parameter_price_band_remove",
            obj=band.round,
            data={
                "device": band.device,
                "unit": band.unit,
                "minimum": band.minimum,
                "maximum": band.maximum,
            },
        )
        band.delete()


def device_flag(
    *, record: PolicyRoundRecord, model: Any, notice: Any, acting_user: Any
) -> FlaggedDevice:
    """Flag a device (二（五）): its cost in every delivery line of the round stops counting."""
    _require(p.can_manage_round(acting_user))
    model_text = _text("model", model, pgettext("in a sentence", "设备型号"), 100)
    notice_text = _text("notice", notice, pgettext("in a sentence", "通报文件"), 300)
    key = device_key(model_text)
    with transaction.atomic():
        if FlaggedDevice.objects.filter(round=record, device_key=key).exists():
            raise ParameterError(
                "model", _("设备“%(model)s”已在通报设备名单中") % {"model": model_text}
            )
        flag = _created(
            "model",
            _("设备“%(model)s”已在通报设备名单中") % {"model": model_text},
            FlaggedDevice,
            round=record,
            model=model_text,
            device_key=key,
            notice=notice_text,
            created_by=acting_user,
        )
        audit(
            actor=acting_user,
            action="parameter_device_flag",
            obj=record,
            data={"model": model_text, "notice": notice_text},
        )
    return flag


def device_unflag(*, flag: FlaggedDevice, acting_user: Any) -> None:
    _require(p.can_manage_round(acting_user))
    with transaction.atomic():
        audit(
            actor=acting_user,
            action="parameter_device_unflag",
            obj=flag.round,
            data={"model": flag.model, "notice": flag.notice},
        )
        flag.delete()
