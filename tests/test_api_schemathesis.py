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
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    # ST202: what the document allows, the server accepts (a 2xx, or a 401/403/404/409/429 that
    # is about the token, the object or its state, not the request's shape); never a 422
    positive_data_acceptance,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("VOUCHER_FUZZ_EXAMPLES", "8"))  # more for a long local run


def _within_the_rules(case) -> None:
    """What the documents say in words because JSON Schema cannot (voucher/api/
    schema_constraints.RULES): a contract's and a delivery's end on or after its start, a compute
    row naming its device. Generated bodies are put right so, not thrown away."""
    body = case.body
    if not isinstance(body, dict):
        return
    contracts = [body] if "valid_from" in body and "valid_to" in body else []
    for contract in contracts:
        if isinstance(contract.get("valid_from"), str) and isinstance(
            contract.get("valid_to"), str
        ):
            low, high = sorted((contract["valid_from"], contract["valid_to"]))
            contract["valid_from"], contract["valid_to"] = low, high
        for row in contract.get("deliveries") or []:
            if not isinstance(row, dict):
                continue
            if isinstance(row.get("start"), str) and isinstance(row.get("end"), str):
                row["start"], row["end"] = sorted((row["start"], row["end"]))
            if row.get("service") == "compute" and not row.get("device"):
                row["device"] = "H800"


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
        derandomize=True,  # the same examples on every run: CI never fails by chance
    )
    @given(case=operation.as_strategy())
    def run(case):
        _within_the_rules(case)
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
        derandomize=True,  # the same examples on every run: CI never fails by chance
    )
    @given(case=operation.as_strategy())
    def run(case):
        _within_the_rules(case)
        case.call_and_validate(headers={"Authorization": f"Bearer {bureau_token}"}, checks=CHECKS)

    run()


def _no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicated, f"duplicate keys {duplicated} in {keys}"
    return dict(pairs)


@pytest.mark.parametrize(
    ("url", "committed"),
    [
        ("/api/v1/openapi.json", "openapi.json"),
        ("/api/v1/bureau/openapi.json", "openapi-bureau.json"),
    ],
)
def test_the_served_document_has_no_duplicate_key_and_is_the_committed_one(client, url, committed):
    """JSON allows two "200" keys in one object and most readers keep the last one silently:
    the document as served (bytes, not a dict) has none, and is the one in docs/."""
    import json
    from pathlib import Path

    served = json.loads(client.get(url).content, object_pairs_hook=_no_duplicate_keys)
    path = Path(__file__).resolve().parent.parent / "docs" / committed
    on_disk = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    assert served == on_disk, f"regenerate docs/{committed} (see its generator's docstring)"
