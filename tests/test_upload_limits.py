"""Issue 18 item 5.2: every upload has a documented maximum (settings.VOUCHER_MAX_UPLOAD_MB),
enforced before the body is read: a request declaring more is answered 413 (a problem document
under /api/), and a file over its limit that slips under the request's margin is refused too."""

from __future__ import annotations

import inspect
import io
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .test_api_platforms import a, listed, platforms, screener  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parent.parent
GIGABYTES_197 = str(1_970_000_000)  # what a consumption upload was once accepted at

UPLOAD_URLS = {
    "portal materials": (lambda: reverse("portal:materials", args=[1]), "200"),
    "portal Excel import": (lambda: reverse("portal:contracts_import", args=[1]), "5"),
    "supplier confirmations file": (lambda: reverse("portal:supplier_upload"), "10"),
    "enterprise claim licence": (lambda: reverse("accounts:enterprise_claim"), "20"),
    "registry import": (lambda: reverse("registry:import"), "200"),
    "official list import": (lambda: reverse("review:official_lists"), "50"),
    "outside list import": (lambda: reverse("review:lists"), "50"),
    "invoice prefill": (lambda: reverse("documents:invoice_prefill", args=[1, 1]), "10"),
    "API consumption file": (
        lambda: "/api/v1/enterprises/91110108MA01C3QX7B/consumption-batches",
        "512",
    ),
    "API settlement file": (
        lambda: "/api/v1/enterprises/91110108MA01C3QX7B/contracts/C1/settlement-batches",
        "512",
    ),
}


def _patterns(resolver: URLResolver, namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
            yield from _patterns(pattern, inner.lstrip(":"))
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}:{pattern.name}".lstrip(":"), pattern.callback)


def test_every_view_that_reads_files_has_a_limit():
    from voucher.core.http import UPLOAD_LIMIT_ATTRIBUTE, UPLOAD_LIMITED_VIEW_NAMES

    unlimited = []
    for name, callback in _patterns(get_resolver()):
        view = inspect.unwrap(callback)
        if not getattr(view, "__module__", "").startswith("voucher."):
            continue  # Django's admin: no model of the project has a file field
        try:
            source = inspect.getsource(view)
        except (OSError, TypeError):
            continue
        if "request.FILES" in source and not hasattr(callback, UPLOAD_LIMIT_ATTRIBUTE):
            unlimited.append(name)
    assert unlimited == []
    assert set(UPLOAD_LIMITED_VIEW_NAMES.values()) == {"consumption", "settlement"}


def test_the_limits_are_settings_with_the_documented_defaults():
    from django.conf import settings

    documented = (ROOT / "docs" / "uploads.md").read_text(encoding="utf-8")
    for kind, megabytes in settings.VOUCHER_MAX_UPLOAD_MB.items():
        assert f"VOUCHER_MAX_UPLOAD_MB_{kind.upper()}" in documented
        assert f"| {megabytes:g} MB" in documented, kind


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", list(UPLOAD_URLS), ids=list(UPLOAD_URLS))
def test_a_request_declaring_too_much_is_413_before_its_body_is_read(client, endpoint):
    url, megabytes = UPLOAD_URLS[endpoint]
    # the body is 10 bytes; reading more than that fails the test client (FakePayload)
    response = client.post(
        url(),
        data=b"0123456789",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=GIGABYTES_197,
    )
    assert response.status_code == 413
    text = response.content.decode()
    assert f"最多 {megabytes} MB" in text
    if url().startswith("/api/"):
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 413
        assert response.json()["title"].startswith("请求体过大")


@pytest.mark.usefixtures("listed")
def test_a_consumption_file_over_its_limit_under_the_margin_is_413_and_not_kept(
    request, settings, tmp_path
):
    platform = request.getfixturevalue("a")  # the platform's client (tests/test_api_platforms)
    from voucher.platforms.models import ConsumptionBatch

    settings.VOUCHER_MAX_UPLOAD_MB = {**settings.VOUCHER_MAX_UPLOAD_MB, "consumption": 0.5}
    upload = io.BytesIO(b"x" * (2**20))  # 1 MB: over 0.5 MB, under 0.5 MB + the form's margin
    upload.name = "batch.csv"
    response = platform.post(
        "/api/v1/enterprises/91110108MA01C3QX7B/consumption-batches",
        {"file": upload},
        headers={"Idempotency-Key": "k-big"},
    )
    assert response.status_code == 413, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "最多 0.5 MB" in response.json()["title"]
    assert ConsumptionBatch.objects.count() == 0
    batches = tmp_path / "batches"
    assert not batches.exists() or not [p for p in batches.iterdir() if p.is_file()]


@pytest.mark.django_db
def test_an_official_list_over_its_limit_is_refused_by_name_and_nothing_imported(
    client, settings, django_user_model
):
    from voucher.applications import roles as r
    from voucher.applications.models import OfficialList
    from voucher.applications.rounds import rounds_sync

    from .review_support import make_staff, verified_client

    rounds_sync()
    settings.VOUCHER_MAX_UPLOAD_MB = {**settings.VOUCHER_MAX_UPLOAD_MB, "list": 0.5}
    browser = verified_client(client, make_staff(django_user_model, "chief", r.ADMINISTRATOR))
    big = io.BytesIO("统一社会信用代码,名称\n".encode() + b"91110108MA01C3QX7B,x\n" * 40_000)
    big.name = "miit.csv"  # 0.8 MB: over 0.5 MB, under 0.5 MB + the form's margin
    response = browser.post(
        reverse("review:official_lists"),
        {
            "round": "bj-2026",
            "kind": "miit_2025_list",
            "source": "工信部公示",
            "as_of": "2026-03-01",
            "file": big,
        },
        follow=True,
    )
    assert "名单导入最多 0.5 MB" in response.content.decode()
    assert OfficialList.objects.count() == 0
