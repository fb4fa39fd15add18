"""An objection sent by anyone through the public publicity page (公示异议).

公示 exists so that anyone may object within its period. The page asks for a name, a way to reach
the objector, the reason and, if they have them, files (checked as every upload is). It needs no
account, so it is guarded instead by a limit per address (`VOUCHER_PUBLIC_OBJECTIONS_PER_HOUR`)
and a spam guard without a CAPTCHA: a field people do not see must stay empty (programs that fill
every field fill it), and the form must have been open for a few seconds (a signed time stamp in
it: a program posting at once is refused, a person reading the list is not).

The objection lands in the bureau's review screen like one typed in by staff; the payment stays
blocked until each is resolved (applications.workflow `_publicity_over`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications.models import Application, Objection, ObjectionAttachment
from voucher.applications.uploads import check_upload, upload_store
from voucher.core import clock
from voucher.core.audit import audit
from voucher.core.refusals import INVALID, Refused
from voucher.policy.text import clean_line

NAME_MAX = 50
CONTACT_MAX = 100
REASON_MIN, REASON_MAX = 10, 2000
FILES_MAX = 3
# The spam guard: a form posted sooner than this after it was shown was not read by a person;
# one older than the second figure is stale (the time stamp is signed, so it cannot be made up).
MIN_SECONDS, MAX_SECONDS = 3, 2 * 60 * 60
_SALT = "voucher.public.objection-form"


@dataclass(frozen=True)
class SentFile:
    name: str
    content: bytes


def form_stamp() -> str:
    """The signed time the form was shown, put in a hidden field."""
    return signing.TimestampSigner(salt=_SALT).sign(str(int(timezone.now().timestamp())))


def _invalid(field: str, message: str) -> Refused:
    return Refused(message, code=INVALID, field=field)


def _check_not_a_program(stamp: str, trap: str) -> None:
    if trap:
        raise _invalid("website", _("提交未被接受，请刷新页面后重新填写。"))
    try:
        signing.TimestampSigner(salt=_SALT).unsign(stamp, max_age=MAX_SECONDS)
    except signing.SignatureExpired:
        raise _invalid("stamp", _("页面打开时间过长，请刷新页面后重新填写。")) from None
    except signing.BadSignature:
        raise _invalid("stamp", _("提交未被接受，请刷新页面后重新填写。")) from None
    shown = int(stamp.split(":", 1)[0])
    if timezone.now().timestamp() - shown < MIN_SECONDS:
        raise _invalid("stamp", _("提交过快，请阅读后再提交。"))


def _rate_key(address: str) -> str:
    hour = int(timezone.now().timestamp() // 3600)
    return "public-objection:" + hashlib.sha256(f"{address}|{hour}".encode()).hexdigest()[:32]


def _check_rate(address: str) -> str:
    limit = int(getattr(settings, "VOUCHER_PUBLIC_OBJECTIONS_PER_HOUR", 5))
    key = _rate_key(address)
    cache.add(key, 0, timeout=3600)
    if int(cache.get(key) or 0) >= limit:
        raise Refused(
            _("同一网络地址每小时最多提交 %(limit)d 件异议，请稍后再试。") % {"limit": limit},
            code=INVALID,
            field="rate",
        )
    return key


def objection_submit(
    *,
    application: Application,
    name: str,
    contact: str,
    reason: str,
    files: Sequence[SentFile] = (),
    stamp: str,
    trap: str = "",
    address: str = "",
) -> Objection:
    """Take a public objection to `application`, which must be in a publicity period today."""
    _check_not_a_program(stamp, trap)
    key = _check_rate(address)
    name = clean_line(name or "").strip()
    contact = clean_line(contact or "").strip()
    reason = (reason or "").strip()
    errors = []
    if not name:
        errors.append(("name", _("请填写异议人姓名或单位名称。")))
    elif len(name) > NAME_MAX:
        errors.append(("name", _("姓名或单位名称不超过 %(n)d 个字。") % {"n": NAME_MAX}))
    if not contact:
        errors.append(("contact", _("请填写联系方式（电话或电子邮箱），以便核实异议。")))
    elif len(contact) > CONTACT_MAX:
        errors.append(("contact", _("联系方式不超过 %(n)d 个字。") % {"n": CONTACT_MAX}))
    if len(reason) < REASON_MIN:
        errors.append(("reason", _("请写明异议理由（至少 %(n)d 个字）。") % {"n": REASON_MIN}))
    elif len(reason) > REASON_MAX:
        errors.append(("reason", _("异议理由不超过 %(n)d 个字。") % {"n": REASON_MAX}))
    if len(files) > FILES_MAX:
        errors.append(("files", _("附件最多 %(n)d 个。") % {"n": FILES_MAX}))
    if errors:
        field, message = errors[0]
        raise Refused(
            message,
            code=INVALID,
            field=field,
            errors=[{"location": f, "message": str(m)} for f, m in errors],
        )
    checked = [
        check_upload(f.name, f.content, kind="objection") for f in files
    ]  # refuses naming the file
    today = clock.today()
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if not locked.publicity_lists.filter(starts_on__lte=today, ends_on__gte=today).exists():
            raise Refused(_("该申报不在公示期内，不能提交异议。"), field="application")
        objection = Objection.objects.create(
            application=locked,
            received_on=today,
            text=reason,
            recorded_by=None,
            source="public",
            objector_name=name,
            objector_contact=contact,
        )
        stored = []
        for upload in checked:
            sha = hashlib.sha256(upload.content).hexdigest()
            upload_store(upload.content, sha)
            ObjectionAttachment.objects.create(
                objection=objection,
                original_name=upload.name,
                size=len(upload.content),
                sha256=sha,
                content_type=upload.content_type,
            )
            stored.append({"name": upload.name, "sha256": sha, "size": len(upload.content)})
        audit(
            actor=None,
            action="objection_submit_public",
            obj=locked,
            data={
                "objection": objection.pk,
                "received_on": today,
                "objector_name": name,
                "objector_contact": contact,
                "text": reason,
                "attachments": stored,
                "address": address,
            },
        )
    try:
        cache.incr(key)
    except ValueError:  # the counter's hour ran out meanwhile
        cache.add(key, 1, timeout=3600)
    return objection
