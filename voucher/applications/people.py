"""What the pages say of a person: their name, never a synthetic username.

A person who logs in through the unified identity service is the user ``oidc:<sub>`` (the
provider's subject, meaningless to anyone reading a page); their name comes from the provider's
``name`` claim (accounts/oidc.py) and is kept in the user's ``first_name`` (the whole name: Chinese
names are not split). A member who signed up with a password or claimed an enterprise gave their
name on the form. `display_name` is what the header, the member lists, the staff pages and the
histories show: the name; else, for a synthetic username, the enterprise's person (经办人); else
the username, which for everyone else is what they log in with (an e-mail address, a staff name).
"""

from __future__ import annotations

from typing import Any, Final

from django.utils.translation import gettext as _

from voucher.applications.models import Membership

SYNTHETIC_PREFIX: Final = "oidc:"


def is_synthetic(username: str) -> bool:
    return str(username or "").startswith(SYNTHETIC_PREFIX)


def display_name(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    name = user.get_full_name().strip()
    if name:
        return str(name)
    username = str(user.get_username())
    if not is_synthetic(username):
        return username
    membership = Membership.objects.select_related("enterprise").filter(user=user).first()
    if membership is not None:
        return _("%(enterprise)s 经办人") % {"enterprise": membership.enterprise.name}
    return _("统一身份认证用户")


def label_of(actor: Any, recorded: str) -> str:
    """An audit entry's actor as the history shows it: the user's name now, or the label the
    entry recorded when the user is gone (a synthetic one is not shown)."""
    if actor is not None:
        return display_name(actor)
    return _("统一身份认证用户") if is_synthetic(recorded) else recorded
