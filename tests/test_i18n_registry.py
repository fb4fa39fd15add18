"""The company-registry pages, the platforms' screening page and the path diagrams in English.

Page chrome (headings, buttons, labels, table headers, tooltips, captions) is translated; data
stays data: USCCs, person ids, company and project names, the engine's Chinese finding text and
the importer's row errors. Chinese stays the default. Both new catalogues (voucher/registry and
voucher/platforms) are complete and compiled, as tests/test_i18n_review.py checks the review one.
"""

from __future__ import annotations

import gettext
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from voucher.applications import roles
from voucher.registry.actions import registry_sweep_round
from voucher.registry.importer import import_directory

from .conftest import application_from, verified_session
from .portal_helpers import uscc_with_check
from .review_support import FAST_HASHERS, make_staff, verified_client
from .test_i18n_review import CJK, _english, _entries, assert_no_chinese, chrome
from .test_portal_selfcheck_paths import USCC_A, USCC_B, _selfcheck, draft  # noqa: F401

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = {
    app: ROOT / "voucher" / app / "locale" / "en" / "LC_MESSAGES" / "django.po"
    for app in ("registry", "platforms")
}
SUPPLIER, CHAIN_TARGET = "91110000MA00H0LD3D", "91110000MA00H0LD4G"
LONE_A, LONE_B = uscc_with_check("91110000MA0NNNNN1"), uscc_with_check("91110000MA0NNNNN2")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def registry(db):
    return import_directory(ROOT / "examples" / "registry")


@pytest.fixture
def admin(django_user_model):
    return make_staff(django_user_model, "administrator", roles.ADMINISTRATOR)


def _registry_data() -> list[str]:
    from voucher.registry.models import Company, Officer, Shareholding

    values = list(Company.objects.values_list("uscc", flat=True))
    values += list(Company.objects.values_list("name", flat=True))
    values += list(Shareholding.objects.values_list("holder", flat=True))
    values += list(Officer.objects.values_list("person", flat=True))
    return values


def _finding_paths(page: str) -> list[str]:
    """Each <div class="finding-paths"> with its nested divs."""
    out = []
    for start in (m.start() for m in re.finditer(r'<div class="finding-paths"', page)):
        depth, pos = 0, start
        for tag in re.finditer(r"<(/?)div\b", page[start:]):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                pos = start + tag.end()
                break
        out.append(page[start:pos])
    return out


# --- the registry pages in English ----------------------------------------------------------


def test_the_relation_page_in_english(client, admin, registry):
    _english(verified_client(client, admin))
    page = client.get(reverse("registry:relation"), {"a": SUPPLIER, "b": CHAIN_TARGET})
    html = page.content.decode()
    assert page.status_code == 200
    for english in (
        "Related-party lookup",
        "Applicant",
        "Supplier",
        "Look up",
        "Shareholding relation",
        "Shared key persons",
        "Shareholding paths (total effective ratio 7.2000%)",
        "Fail",  # the verdict
        'title="Company"',
        "Import registry data",
    ):
        assert english in html, english
    for chinese in ("关联关系查询", "持股路径", "不通过", 'title="企业"', "查询"):
        assert chinese not in html, chinese
    assert SUPPLIER in html and CHAIN_TARGET in html  # data
    assert_no_chinese(chrome(html, *_registry_data()), "relation page")


def test_an_empty_relation_and_a_bad_code_in_english(client, admin, registry):
    _english(verified_client(client, admin))
    html = client.get(reverse("registry:relation"), {"a": LONE_A, "b": LONE_B}).content.decode()
    assert "The registry shows no relation." in html and "Pass" in html
    bad = client.get(reverse("registry:relation"), {"a": "123", "b": LONE_B})
    assert bad.status_code == 400 and "Related-party lookup" in bad.content.decode()
    assert_no_chinese(chrome(html, *_registry_data()), "relation page, no relation")


def test_the_common_shareholder_and_key_persons_in_english(client, admin, registry):
    from voucher.registry.models import Officer, Shareholding

    a, b = LONE_A, LONE_B
    Shareholding.objects.create(holder="P-0001", held=a, ratio=Decimal("0.6"))
    Shareholding.objects.create(holder="P-0001", held=b, ratio=Decimal("0.6"))
    Officer.objects.create(person="P-0042", company=a, role="director")
    Officer.objects.create(person="P-0042", company=b, role="legal_representative")
    _english(verified_client(client, admin))
    html = client.get(reverse("registry:relation"), {"a": a, "b": b}).content.decode()
    for english in (
        "Common shareholders (nearest first)",
        "→ applicant",
        "→ supplier",
        'title="Natural person"',
        "Key persons holding posts in both",
        f"director at {a}, legal representative at {b}",
        "Review",
    ):
        assert english in html, english
    assert "共同股东" not in chrome(html) and "自然人" not in html
    assert_no_chinese(chrome(html, *_registry_data()), "relation page, common shareholder")


def test_the_sweeps_pages_in_english(client, admin, demo_data):
    registry_sweep_round(round_code="bj-2026")
    run, _gone = registry_sweep_round(round_code="bj-2026")
    _english(verified_client(client, admin))
    sweeps = client.get(reverse("registry:sweeps")).content.decode()
    for english in ("Related-party sweeps", "Round", "Sweep now", "Time", "Pairs", "Duration (s)"):
        assert english in sweeps, english
    assert "立即排查" not in sweeps and "全轮次关联排查" not in sweeps
    assert_no_chinese(chrome(sweeps), "sweeps")
    sweep = client.get(reverse("registry:sweep", args=[run.pk])).content.decode()
    for english in (
        f"Sweep #{run.pk} · bj-2026",
        "Change",
        "Applicant",
        "Supplier",
        "Shareholding relation",
        "Shared key persons",
        "Paths",
        "Review",  # the d2 example's common shareholder
        "Pass",
    ):
        assert english in sweep, english
    assert "待审核" not in sweep and "持股关联" not in sweep
    assert_no_chinese(chrome(sweep), "sweep")


def test_the_import_page_in_english(client, admin):
    _english(verified_client(client, admin))
    page = client.get(reverse("registry:import")).content.decode()
    assert "Import registry data" in page and ">Import</button>" in page
    assert_no_chinese(chrome(page), "import page")
    companies = SimpleUploadedFile("companies.csv", b"uscc,name\n91110108MA01C3QX7B,x\nbad,y\n")
    html = client.post(reverse("registry:import"), {"files": [companies]}).content.decode()
    for english in (
        "Import #",
        "Table",
        "Counts",
        "Rows with errors: 1",
        "File",
        "Column",
        "Problem",
    ):
        assert english in html, english
    assert_no_chinese(chrome(html), "import result")
    nothing = client.post(reverse("registry:import"), {"files": []}).content.decode()
    assert "Please upload CSV/Excel files whose names contain companies" in nothing


def test_a_refusal_in_english(client, django_user_model):
    _english(verified_client(client, make_staff(django_user_model, "auditor", roles.AUDITOR)))
    refused = client.get(reverse("registry:import"))
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "Access refused" in html
    assert "Only the system administrator can import registry data." in html
    sweeps = client.post(reverse("registry:sweeps"), {"round": "bj-2026"}).content.decode()
    assert (
        "Only reviewers, approvers or the system administrator can run a related-party sweep."
        in (sweeps)
    )


# --- Chinese by default -----------------------------------------------------------------------


def test_the_registry_pages_are_chinese_by_default(client, admin, registry):
    verified_client(client, admin)
    relation = client.get(
        reverse("registry:relation"), {"a": SUPPLIER, "b": CHAIN_TARGET}
    ).content.decode()
    for chinese in ("关联关系查询", "申报单位", "供应商", "持股关联", "不通过", 'title="企业"'):
        assert chinese in relation, chinese
    assert "Related-party lookup" not in relation
    sweeps = client.get(reverse("registry:sweeps")).content.decode()
    assert "全轮次关联排查" in sweeps and "立即排查" in sweeps
    imports = client.get(reverse("registry:import")).content.decode()
    assert "导入登记信息" in imports and "Import registry data" not in imports


# --- the path diagrams inside the review screen and the applicant's self-check ----------------


def test_the_review_screen_draws_the_paths_in_english(client, admin, demo_data):
    application = application_from("d2-common-shareholder-review")
    _english(verified_client(client, admin))
    page = client.get(reverse("review:screen", args=[application.pk])).content.decode()
    paths = _finding_paths(page)
    assert paths
    text = "\n".join(paths)
    assert "Common shareholder → applicant" in text and "Common shareholder → supplier" in text
    assert 'title="Natural person"' in text and 'title="Company"' in text
    assert "共同股东" not in text and "自然人" not in text and "企业" not in text
    assert_no_chinese(chrome(text), "review screen paths")
    chinese = client.__class__()  # Chinese: a fresh session
    verified_client(chinese, admin)
    zh = "\n".join(
        _finding_paths(
            chinese.get(reverse("review:screen", args=[application.pk])).content.decode()
        )
    )
    assert "共同股东 → 申报单位" in zh and 'title="自然人"' in zh


def test_the_detail_page_draws_the_paths_in_english(client, reviewer, demo_data):
    application = application_from("d2-common-shareholder-review")
    verified_session(client, reviewer)
    _english(client)
    page = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    text = "\n".join(_finding_paths(page))
    assert "Common shareholder → applicant" in text and 'title="Natural person"' in text
    assert_no_chinese(chrome(text), "detail page paths")


def test_the_self_check_draws_the_paths_in_english(client, draft):  # noqa: F811
    from voucher.registry.models import Shareholding

    Shareholding.objects.create(holder="P-0001", held=USCC_A, ratio=Decimal("0.3"))
    Shareholding.objects.create(holder="P-0001", held=USCC_B, ratio=Decimal("0.2"))
    _english(client)
    page = _selfcheck(client, draft)
    text = "\n".join(_finding_paths(page))
    assert "Common shareholder → applicant" in text and "Common shareholder → supplier" in text
    assert 'title="Natural person"' in text and 'title="Company"' in text
    assert "穿透比例" not in text
    names = [draft.enterprise.name, *_registry_data()]
    assert_no_chinese(chrome(text, *names), "self-check paths")


# --- the screening page ------------------------------------------------------------------------


def test_the_screening_page_in_english(client, django_user_model):
    from voucher.platforms.models import Platform, Project

    screener = make_staff(django_user_model, "screener", roles.SCREENER)
    platform = Platform.objects.create(code="modelscope", name="魔搭社区")
    project = Project.objects.create(
        platform=platform,
        external_id="p1",
        enterprise_uscc=USCC_A,
        enterprise={"name": "甲模型公司"},
        name="开源模型",
        url="https://example.cn/p1",
        scenario="智能制造",
        start_date="2026-01-05",
        open_source_licence="Apache-2.0",
    )
    _english(verified_client(client, screener))
    html = client.get(reverse("platforms:screening")).content.decode()
    for english in (
        "Direction 3 · Open-source project screening",
        "<th>Platform</th>",
        "<th>Company</th>",  # the column header (the nav's "Enterprise claims" is not a screener's)
        "<th>Project</th>",
        "Decision",
        "Not yet screened",
        "Open source",
        'placeholder="Reason"',
        "Screening",
        "Save decision",
    ):
        assert english in html, english
    data = [platform.name, project.name, project.scenario, "甲模型公司"]
    assert_no_chinese(chrome(html, *data), "screening page")
    done = client.post(
        reverse("platforms:screening"), {"project": project.pk, "reasons": "not open"}, follow=True
    ).content.decode()
    assert "Not listed" in done and "不予列入" not in done
    zh = client.__class__()
    verified_client(zh, screener)
    assert "开源项目筛选" in zh.get(reverse("platforms:screening")).content.decode()


def test_the_comparison_labels_follow_the_language():
    from django.utils import translation

    from voucher.platforms.reconcile import KIND_LABELS, Comparison

    comparison = Comparison("scale", "A800", Decimal(1), Decimal(2), Decimal(1), Decimal(0), True)
    assert comparison.as_json()["label"] == "用量 / 合同规模"  # stored in the source language
    with translation.override("en"):
        assert comparison.label == "Consumed quantity / contracted scale"
        for kind, label in KIND_LABELS.items():
            assert not CJK.search(translation.gettext(label)), kind
    with translation.override("zh-hans"):
        assert comparison.label == "用量 / 合同规模"


# --- the catalogues ----------------------------------------------------------------------------


@pytest.mark.parametrize("app", sorted(CATALOGUES))
def test_every_msgid_has_an_english_msgstr(app):
    entries = _entries(CATALOGUES[app].read_text(encoding="utf-8"))
    assert len(entries) > 30
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        strings = [v for k, v in entry.items() if k.startswith("msgstr")]
        assert strings and all(s.strip() for s in strings), f"untranslated: {entry['msgid']}"
        for s in strings:
            assert not CJK.search(s), f"Chinese in {s!r}"
        placeholders = set(re.findall(r"%\((\w+)\)[sd]", entry["msgid"]))
        for s in strings:
            assert set(re.findall(r"%\((\w+)\)[sd]", s)) == placeholders, entry["msgid"]


@pytest.mark.parametrize("app", sorted(CATALOGUES))
def test_the_catalogue_compiles_and_the_mo_is_current(app, tmp_path):
    catalogue = CATALOGUES[app]
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(catalogue)], check=True, capture_output=True
    )
    committed = catalogue.with_suffix(".mo")
    assert committed.exists()
    with compiled.open("rb") as fresh, committed.open("rb") as stored:
        assert (
            gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(stored)._catalog  # type: ignore[attr-defined]
        ), (
            f"django.mo is stale: cd voucher/{app} && env -u DJANGO_SETTINGS_MODULE django-admin compilemessages -l en"
        )


# --- the platform comparisons in the review screen --------------------------------------------


@pytest.fixture
def seeded(db, settings, tmp_path):
    from voucher.applications.rounds import rounds_sync
    from voucher.demo import platforms as demo

    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    rounds_sync()
    return demo.demo_platforms(lambda line: None, "http://127.0.0.1:8000/")


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start : page.index("</section>", start)]


def test_the_reconciliation_and_settlement_in_english(client, admin, seeded):
    _english(verified_client(client, admin))
    d3 = client.get(reverse("review:screen", args=[seeded.d3_application.pk])).content.decode()
    reconciliation = _section(d3, "platform-reconciliation")
    for english in ("Invoiced total / billed amount", "Billed amount / contract total"):
        assert english in reconciliation, english
    assert "发票金额" not in reconciliation and "消费金额" not in reconciliation
    d2 = client.get(
        reverse("review:screen", args=[seeded.settlement_application.pk])
    ).content.decode()
    settlement = _section(d2, "settlement")
    for english in ("Settled amount / declared amount", "Settled quantity / declared quantity"):
        assert english in settlement, english
    assert "结算金额" not in settlement and "已处理" not in settlement
    assert "Settlement batches: #" in settlement and "Processed (demo-settlement.csv)" in settlement
    supplier = seeded.settlement_application.contracts.get().supplier_name
    assert_no_chinese(chrome(settlement, supplier), "settlement section")
    zh = client.__class__()
    verified_client(zh, admin)
    chinese = _section(
        zh.get(reverse("review:screen", args=[seeded.settlement_application.pk])).content.decode(),
        "settlement",
    )
    assert "结算金额 / 申报金额" in chinese and "结算批次：#" in chinese and "已处理（" in chinese
