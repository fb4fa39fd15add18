"""Personas and shortcuts of the review tests: one user per role, applications put in a state."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from voucher.applications import roles as r

PASSWORD = "pw-review-1"
ROLE_USERS = {
    "reviewer": r.REVIEWER,
    "reviewer2": r.REVIEWER,
    "approver": r.APPROVER,
    "screener": r.SCREENER,
    "auditor": r.AUDITOR,
    "administrator": r.ADMINISTRATOR,
}


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_staff(django_user_model, username: str, role: str | None):
    user = django_user_model.objects.create_user(
        f"t-{username}", password=PASSWORD, email=f"{username}@bureau.example.cn", is_staff=True
    )
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def make_applicant(django_user_model, application, username: str = "applicant"):
    from voucher.applications.models import Membership

    user = django_user_model.objects.create_user(
        f"t-{username}", password=PASSWORD, email=f"{username}@enterprise.example.cn"
    )
    Membership.objects.create(user=user, enterprise=application.enterprise)
    return user


def put_in_state(application, state: str):
    """Tests only: the state field is protected; a queryset update goes around it."""
    type(application).objects.filter(pk=application.pk).update(state=state)
    application.refresh_from_db()
    return application


def latest(application):
    return application.evaluations.order_by("-created_at", "-id").first()


def propose(application, proposer, kind="approval"):
    from voucher.applications.models import Decision

    evaluation = latest(application)
    amount = evaluation.approved_max if kind == "approval" else Decimal("0")
    reasons = [] if kind == "approval" else [{"rule": "X", "clause": "一（一）", "text": "不符合"}]
    return Decision.objects.create(
        application=application,
        evaluation=evaluation,
        kind=kind,
        amount=amount,
        approved_max_at_decision=evaluation.approved_max,
        reasons=reasons,
        proposed_by=proposer,
    )


def confirm_by_hand(decision, confirmer):
    decision.status = "confirmed"
    decision.confirmed_by = confirmer
    decision.confirmed_at = timezone.now()
    decision.save()
    return decision


def publicity_over(application, publisher):
    from voucher.applications.models import PublicityList

    today = timezone.localdate()
    publicity = PublicityList.objects.create(
        round=application.round,
        starts_on=today - timedelta(days=10),
        ends_on=today - timedelta(days=1),
        published_by=publisher,
    )
    publicity.applications.add(application)
    return publicity


def verified_client(client, user):
    """`client` logged in to the review site as `user`, with a confirmed TOTP device's code."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    response = client.post(
        "/review/login/",
        {"username": user.username, "password": PASSWORD, "otp_token": f"{token:06d}"},
    )
    assert response.status_code == 302, response.content
    return client


# --- the materials (附件14-1) and their checklist -----------------------------------------------


def minimal_pdf(pages: int = 1) -> bytes:
    """A small valid PDF of `pages` blank A4 pages (a correct cross-reference table)."""
    kids = " ".join(f"{3 + n} 0 R" for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>" for _ in range(pages)],
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def attach_material(application, material: str, content: bytes | None = None, name: str = ""):
    """A file of `material` as the portal stores it (tests: the record and its bytes)."""
    import hashlib

    from voucher.applications.models import MaterialFile
    from voucher.applications.uploads import upload_store

    content = minimal_pdf() if content is None else content
    sha = hashlib.sha256(content).hexdigest()
    upload_store(content, sha)
    return MaterialFile.objects.create(
        application=application,
        material=material,
        original_name=name or f"{material}.pdf",
        size=len(content),
        sha256=sha,
        content_type="application/pdf" if content[:5] == b"%PDF-" else "image/png",
        classified_scan="clean",
    )


def tick_materials(application, reviewer, *, attach: bool = True):
    """Every item of the materials' checklist judged 符合 by `reviewer` (who must be able to
    review it), a file attached first to each material that has none (`attach`): what a
    reviewer does before an approval may be proposed."""
    from voucher.applications.models import MaterialFile
    from voucher.review import actions
    from voucher.review.checklist import checklist

    for material, items in checklist(application):
        if (
            attach
            and not MaterialFile.objects.filter(application=application, material=material).exists()
        ):
            attach_material(application, material)
        actions.material_check_set(
            application=application,
            material=material,
            marks=[actions.Mark(i.key, "ok") for i in items],
            acting_user=reviewer,
        )
    supplier_confirms_all(application)  # the other gate of an approval (issue 22)
    return application


def supplier_confirms_all(application, *, declare: bool = True):
    """Every line of every contract confirmed by its supplier (a member made for each USCC):
    what an approval of directions 1, 2 and 4 needs besides the checklist (issue 22); with
    `declare`, the supplier's declaration of 附件14-1 三 too (no relation), which
    SUPPLIER_AGREEMENTS and SUPPLIER_HIERARCHY read. The application is evaluated again."""
    from django.contrib.auth import get_user_model

    from voucher.applications import supplier
    from voucher.applications.models import LINE_CONFIRMED, SupplierMember

    spoke = False  # evaluated again only if the supplier said something new (the demo's
    # examples carry their suppliers' word already; evaluated again against the rest of the
    # round, the examples sharing one enterprise would fail ONE_DIRECTION)
    for contract in application.contracts.all():
        member = SupplierMember.objects.filter(uscc=contract.supplier_uscc).first()
        if member is None:
            user = get_user_model().objects.create_user(
                f"t-supplier-{contract.supplier_uscc}", password=PASSWORD
            )
            member = SupplierMember.objects.create(user=user, uscc=contract.supplier_uscc)
        for line in supplier.lines_of(contract):
            if line.state == LINE_CONFIRMED:
                continue
            spoke = True
            supplier.line_word(
                contract=contract,
                line=line.key,
                state=LINE_CONFIRMED,
                reason="",
                acting_user=member.user,
                evaluate=False,
            )
        if declare and supplier.attestation_of(contract) is None:
            spoke = True
            supplier.attestation_make(
                contract=contract,
                compliant=True,
                no_sharing=True,
                no_hierarchy=True,
                acting_user=member.user,
                evaluate=False,
            )
    if spoke:
        supplier.evaluate_after_supplier_word([application.pk])
    return application


def consent_given(django_user_model, application, username: str = "d3-boss"):
    """意愿确认 of a direction-3 application (voucher/portal/consent.py) by a new administrator
    of its enterprise, with a payee account given: what an approval of direction 3 needs."""
    from voucher.applications import payees
    from voucher.applications.models import ADMIN, Membership
    from voucher.portal.consent import d3_consent_give

    user = django_user_model.objects.create_user(
        f"t-{username}", password=PASSWORD, email=f"{username}@enterprise.example.cn"
    )
    Membership.objects.create(user=user, enterprise=application.enterprise, role=ADMIN)
    payees.payee_enter(
        enterprise=application.enterprise,
        account_name=application.enterprise.name,
        bank="中国银行",
        branch="北京分行",
        account_number="6216 6100 0000 1234 567",
        acting_user=user,
    )
    return d3_consent_give(application=application, accept_commitments=True, acting_user=user)
