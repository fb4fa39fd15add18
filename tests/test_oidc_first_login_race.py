"""Two first logins of the same person (same `sub`) at the same moment, on PostgreSQL: each in its
own thread and connection, both past the backend's look-up before either creates the user. One
creates it; the other's insert waits for that commit, fails on the unique username and returns
the same user: no 500, one user, one enterprise, one membership (issue 21)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from tests import oidc_support as idp
from voucher.applications.models import Enterprise, Membership

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent inserts are tested on PostgreSQL"
)

GOOD = idp.uscc("91110108MA01ABCD1")


def test_two_first_logins_of_the_same_person_at_once_make_one_user(transactional_db, settings):
    from voucher.accounts.oidc import EnterpriseOIDCBackend

    idp.configure(settings)
    claims = {"sub": "racer", "uscc": GOOD, "enterprise_name": "北京赛跑科技有限公司"}
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    class Backend(EnterpriseOIDCBackend):
        def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
            found = list(super().filter_users_by_claims(claims))  # both find nobody…
            barrier.wait(timeout=30)  # …before either creates the user
            return found

    def login(index: int) -> None:
        try:
            backend = Backend()
            backend.request = None
            results[index] = backend.get_or_create_user("at", "id", claims)
        except Exception as exc:  # the test reports it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=login, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0].pk == results[1].pk
    assert get_user_model().objects.filter(username="oidc:racer").count() == 1
    assert Enterprise.objects.filter(uscc=GOOD).count() == 1
    assert Membership.objects.filter(user__username="oidc:racer").count() == 1
