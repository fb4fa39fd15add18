"""The API fuzzed: random bodies, paths and headers on every operation of the OpenAPI document,
authenticated — no 500, every error a problem document, every success the declared status.

Beside tests/test_api_schemathesis.py (schemathesis's own strategies and checks, driven through
its library API because its pytest plugin does not load under this pytest), this fuzz sends what
a schema-driven generator rarely does: arbitrary bytes as consumption files, odd path segments,
near-valid project bodies with one field replaced.
"""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voucher.api.v1 import api
from voucher.platforms import actions
from voucher.platforms.models import Platform

DOCUMENT = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/")))
OPERATIONS = sorted(
    (path, method.upper(), operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
)

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
segments = st.sampled_from(
    ["91110108MA01C3QX7B", "C1", "1", "0", "-1", "x" * 70, "%20", "99999999999"]
) | st.text(alphabet="abcXYZ0129-_", min_size=1, max_size=20)


def _body_examples():
    # mostly near-valid: a valid project with one field replaced
    project = {
        "external_id": "e1",
        "enterprise": {"uscc": "91110108MA01C3QX7B"},
        "name": "n",
        "url": "https://x.org/a",
        "scenario": "s",
        "start_date": "2025-09-10",
        "open_source_licence": "MIT",
    }
    return st.one_of(
        json_values,
        st.builds(lambda k, v: {**project, k: v}, st.sampled_from(sorted(project)), json_values),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    index=st.integers(min_value=0, max_value=len(OPERATIONS) - 1),
    params=st.lists(segments, min_size=3, max_size=3),
    body=_body_examples(),
    raw=st.binary(max_size=200),
    key=st.text(max_size=120),
)
def test_no_operation_answers_500_or_off_the_document(
    db, client, tmp_path_factory, index, params, body, raw, key
):
    from django.conf import settings as django_settings

    django_settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path_factory.mktemp("b"))
    if not Platform.objects.exists():
        actions.platforms_sync()
    _, text = actions.token_issue(platform=Platform.objects.get(code="modelscope"), label="fuzz")
    path, method, operation = OPERATIONS[index]
    for name in ("uscc", "contract_id", "batch_id"):
        path = path.replace("{" + name + "}", params.pop())
    headers = {"Authorization": f"Bearer {text}"}
    if method == "GET":
        response = client.get(path, headers=headers)
    elif method == "DELETE":
        response = client.delete(path, headers=headers)
    elif path.endswith("-batches"):
        upload = io.BytesIO(raw)
        upload.name = "f.csv"
        headers["Idempotency-Key"] = key.encode("ascii", "ignore").decode() or "k"
        response = client.post(path, {"file": upload}, headers=headers)
    else:
        call = client.put if method == "PUT" else client.post
        response = call(path, json.dumps(body), content_type="application/json", headers=headers)
    assert response.status_code < 500
    declared = set(operation["responses"])
    assert str(response.status_code) in declared, (
        method,
        path,
        response.status_code,
        response.content[:300],
    )
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == response.status_code and problem["title"]
