"""Both APIs fuzzed by schemathesis from their own OpenAPI documents, in process over WSGI.

schemathesis 4's pytest plugin does not load under this pytest, so its library is driven
directly: every operation's strategy (`APIOperation.as_strategy()`), called through the Django
WSGI application with a valid token, and checked with schemathesis's own checks: no 5xx, a status
and a content type the document declares, a body that matches the declared schema. The number of
examples per operation is bounded so that CI stays quick.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("VOUCHER_FUZZ_EXAMPLES", "8"))  # more for a long local run


def _schema(path: str):
    return schemathesis.openapi.from_wsgi(path, get_wsgi_application())


PLATFORM = _schema("/api/v1/openapi.json")
PLATFORM_OPERATIONS = [result.ok() for result in PLATFORM.get_all_operations()]


@pytest.fixture(autouse=True)
def connections_kept_open():
    """As Django's test client does: the WSGI handler would close the test's connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def platform_token(db, settings, tmp_path):
    from voucher.platforms import actions
    from voucher.platforms.models import Platform

    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path)
    actions.platforms_sync()
    _, text = actions.token_issue(platform=Platform.objects.get(code="modelscope"), label="fuzz")
    return text


@pytest.mark.parametrize("operation", PLATFORM_OPERATIONS, ids=lambda o: o.label)
def test_the_platform_api_holds_to_its_document(platform_token, operation):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {platform_token}", "Idempotency-Key": "fuzz-key"},
            checks=CHECKS,
        )

    run()


BUREAU = _schema("/api/v1/bureau/openapi.json")
BUREAU_OPERATIONS = [result.ok() for result in BUREAU.get_all_operations()]


@pytest.fixture
def bureau_token(demo_data, django_user_model):
    """A reviewer who is also an approver, so that every operation has someone to serve."""
    from voucher.demo.staff import demo_examples_submit
    from voucher.staffapi import actions

    from .review_support import make_staff

    demo_examples_submit()
    user = make_staff(django_user_model, "fuzz", "bureau_reviewer")
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name="bureau_approver")[0])
    _, text = actions.token_issue(
        user=user, label="fuzz", scopes=["read", "decide"], acting_user=user
    )
    return text


@pytest.mark.parametrize("operation", BUREAU_OPERATIONS, ids=lambda o: o.label)
def test_the_bureau_api_holds_to_its_document(bureau_token, operation):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {bureau_token}"}, checks=CHECKS)

    run()
