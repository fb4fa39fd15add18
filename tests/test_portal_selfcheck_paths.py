"""The applicant's self-check draws the related-party paths the supplier rules found, as the
review screen does: companies and persons as boxes, holdings as arrows with ratios, and text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from .portal_helpers import USCC_A, USCC_B, fill_d2, member, open_round, uscc_with_check

pytestmark = pytest.mark.django_db

HOLDCO = uscc_with_check("91110000MA0HMLD0X")


@pytest.fixture
def draft(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    owner = member("owner@a.example.cn", USCC_A, "甲公司")
    client.force_login(owner)
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get(enterprise__uscc=USCC_A)
    fill_d2(client, app)  # the supplier of contract C1 is USCC_B
    return app


def _selfcheck(client, app) -> str:
    response = client.get(reverse("portal:selfcheck", args=[app.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_a_chain_of_holdings_is_drawn_with_its_ratios(client, draft):
    from voucher.registry.models import Company, Shareholding

    Company.objects.create(uscc=USCC_B, name="乙算力公司")
    Company.objects.create(uscc=HOLDCO, name="丙控股公司")
    Shareholding.objects.create(holder=USCC_B, held=HOLDCO, ratio=Decimal("0.6"))
    Shareholding.objects.create(holder=HOLDCO, held=USCC_A, ratio=Decimal("0.5"))
    page = _selfcheck(client, draft)
    assert 'class="finding-paths" data-rule="SUPPLIER_EQUITY"' in page
    assert page.count('class="path-node') == 3
    assert "乙算力公司（" + USCC_B + "）" in page and "丙控股公司（" + HOLDCO + "）" in page
    assert "60%" in page and "50%" in page  # the arrows carry the ratios
    assert "30%" in page  # 穿透比例 0.6 × 0.5
    # and the same path as text
    assert f"乙算力公司（{USCC_B}） →60%→ 丙控股公司（{HOLDCO}） →50%→ " in page


def test_a_common_person_shareholder_gives_both_paths(client, draft):
    from voucher.registry.models import Shareholding

    Shareholding.objects.create(holder="P-0001", held=USCC_A, ratio=Decimal("0.3"))
    Shareholding.objects.create(holder="P-0001", held=USCC_B, ratio=Decimal("0.0001"))
    page = _selfcheck(client, draft)
    assert 'data-rule="SUPPLIER_EQUITY"' in page
    assert "共同股东 → 申报单位" in page and "共同股东 → 供给方" in page
    assert page.count("path-node path-person") == 2  # the person, drawn round, on both paths
    assert "30%" in page and "0.01%" in page


def test_a_key_person_in_both_is_drawn_with_the_roles(client, draft):
    from voucher.registry.models import Officer

    Officer.objects.create(person="P-0042", company=USCC_A, role="director")
    Officer.objects.create(person="P-0042", company=USCC_B, role="legal_representative")
    page = _selfcheck(client, draft)
    assert 'data-rule="SUPPLIER_PERSONNEL"' in page
    assert "董事" in page and "法定代表人" in page
    assert page.count("path-node path-person") == 2


def test_no_related_party_no_diagram(client, draft):
    assert "finding-paths" not in _selfcheck(client, draft)


def test_in_english_the_captions_are_translated(client, draft):
    from voucher.registry.models import Shareholding

    Shareholding.objects.create(holder="P-0001", held=USCC_A, ratio=Decimal("0.3"))
    Shareholding.objects.create(holder="P-0001", held=USCC_B, ratio=Decimal("0.2"))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = _selfcheck(client, draft)
    assert "Common shareholder → applicant" in page
