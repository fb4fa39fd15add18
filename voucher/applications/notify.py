"""E-mails of the workflow: recorded first, sent after commit, a failure kept and never raised."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from voucher.applications.models import Application, Membership, Notification

log = logging.getLogger(__name__)


def _send(notification_id: int) -> None:
    notification = Notification.objects.get(pk=notification_id)
    try:
        send_mail(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            list(notification.recipients),
        )
    except Exception as exc:  # a mail server down must not undo or block the transition
        log.warning("notification %s failed: %s", notification_id, exc)
        Notification.objects.filter(pk=notification_id).update(error=f"{type(exc).__name__}: {exc}")
        return
    Notification.objects.filter(pk=notification_id).update(sent_at=timezone.now())


def notify_after_commit(
    *,
    event: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    application: Application | None = None,
) -> Notification | None:
    """Record the e-mail in this transaction; send it once the transaction has committed."""
    to = sorted({x for x in recipients if x})
    if not to:
        return None
    notification = Notification.objects.create(
        application=application, recipients=to, subject=subject, body=body, event=event
    )
    transaction.on_commit(lambda: _send(notification.pk))
    return notification


def applicant_addresses(application: Application) -> list[str]:
    members = Membership.objects.filter(enterprise=application.enterprise).select_related("user")
    return [application.contact_email, *(m.user.email for m in members)]
