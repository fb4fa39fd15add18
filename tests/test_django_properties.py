"""For any valid application: export → import → evaluate gives the same result (hypothesis,
through the real database)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from voucher.applications.interchange import application_export, application_import
from voucher.applications.models import Application
from voucher.policy.format import dump_application

from .builders import build, run
from .strategies import applications

pytestmark = pytest.mark.django_db


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(doc=applications())
def test_the_database_gives_back_the_document_and_the_same_evaluation(doc):
    document = build(doc)
    stored = application_import(document=document)
    exported = application_export(Application.objects.get(pk=stored.pk))
    assert exported == document
    assert dump_application(exported) == dump_application(document)
    assert run(dump_application(exported)).to_json() == run(doc).to_json()
