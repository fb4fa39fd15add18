"""The demo's clock: "today" moves for the rules (publicity over, clawback overdue) in the demo and
the tests, never in production; timestamps stay real."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from voucher.core import clock
from voucher.review import actions

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    ROLE_USERS,
    confirm_by_hand,
    make_staff,
    propose,
    put_in_state,
)
from .test_production import _load_settings


def test_without_a_move_today_is_the_real_date():
    assert clock.today() == timezone.localdate()
    assert clock.offset_days() == 0


def test_the_clock_moves_forward_and_back_to_the_real_date(demo_clock):
    assert demo_clock.set_offset(8) == timezone.localdate() + timedelta(days=8)
    assert clock.today() == timezone.localdate() + timedelta(days=8)
    assert demo_clock.set_offset(0) == timezone.localdate()


def test_the_clock_never_runs_backwards(demo_clock):
    with pytest.raises(ValueError):
        demo_clock.set_offset(-1)


def test_a_file_we_did_not_write_is_the_real_date(settings):
    Path(settings.VOUCHER_DEMO_CLOCK_FILE).write_text("tomorrow", encoding="ascii")
    assert clock.today() == timezone.localdate()


def test_without_a_clock_file_nothing_moves(settings):
    settings.VOUCHER_DEMO_CLOCK_FILE = ""
    assert clock.offset_days() == 0
    with pytest.raises(RuntimeError):
        clock.set_offset(3)


def test_the_command_advances_sets_and_resets(capsys):
    call_command("clock", "advance", "8")
    assert clock.offset_days() == 8
    call_command("clock", "advance", "2")
    assert clock.offset_days() == 10
    later = timezone.localdate() + timedelta(days=30)
    call_command("clock", "set", later.isoformat())
    assert clock.today() == later
    call_command("clock", "reset")
    assert clock.today() == timezone.localdate()
    assert f"今天按 {timezone.localdate().isoformat()} 计算" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, field",
    [(["advance", "0"], "days"), (["set", "2001-01-01"], "day"), (["set", "明天"], "day")],
)
def test_the_command_refuses_naming_the_argument(args, field):
    with pytest.raises(CommandError, match=field):
        call_command("clock", *args)
    assert clock.offset_days() == 0


def test_the_command_refuses_without_a_demo_clock(settings):
    settings.VOUCHER_DEMO_CLOCK_FILE = ""
    with pytest.raises(CommandError, match="VOUCHER_DEV"):
        call_command("clock", "advance", "1")


def test_production_settings_refuse_a_demo_clock(tmp_path):
    refused = _load_settings(tmp_path, VOUCHER_DEMO_CLOCK_FILE=str(tmp_path / "demo-clock"))
    assert refused.returncode != 0
    assert "VOUCHER_DEMO_CLOCK_FILE" in refused.stderr
    assert _load_settings(tmp_path).returncode == 0  # the same machine without it starts


@pytest.fixture
def approved(demo_data, django_user_model, settings):
    """An approved direction-2 application (decision confirmed) and its approver."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    application = application_from("d2-common-shareholder-review")
    approver = make_staff(django_user_model, "approver", ROLE_USERS["approver"])
    proposer = make_staff(django_user_model, "proposer", ROLE_USERS["reviewer"])
    put_in_state(application, "approved")
    decision = confirm_by_hand(propose(application, proposer), approver)
    return application, approver, decision


def test_the_demo_reaches_payment_after_the_publicity_period(approved, demo_clock):
    """公示期满后方可拨付: published today for 7 days, a payment is refused until the demo clock
    has run past the period's last day; then it is recorded on the moved date."""
    application, approver, decision = approved
    actions.publicity_publish(
        round=application.round,
        applications=[application],
        starts_on=clock.today(),
        ends_on=clock.today() + timedelta(days=7),
        acting_user=approver,
    )

    def pay():
        return actions.payment_record(
            application=application,
            paid_on=clock.today(),
            amount=decision.amount,
            reference="ZF-2026-001",
            acting_user=approver,
        )

    demo_clock.set_offset(7)  # the period's last day: still 公示中
    with pytest.raises(actions.ReviewError, match="公示期满后方可拨付"):
        pay()
    demo_clock.set_offset(8)
    record = pay()
    assert record.paid_on == timezone.localdate() + timedelta(days=8)
    application.refresh_from_db()
    assert application.state == "paid"


def test_a_publicity_cannot_start_before_the_moved_date(approved, demo_clock):
    application, approver, _ = approved
    demo_clock.set_offset(3)
    with pytest.raises(actions.ReviewError, match="公示开始日期不能早于今天"):
        actions.publicity_publish(
            round=application.round,
            applications=[application],
            starts_on=timezone.localdate() + timedelta(days=2),
            ends_on=timezone.localdate() + timedelta(days=9),
            acting_user=approver,
        )


def test_the_banner_shows_the_moved_date(client, demo_clock):
    assert "演示时钟" not in client.get("/accounts/login/").content.decode()
    demo_clock.set_offset(8)
    page = client.get("/accounts/login/").content.decode()
    moved = (timezone.localdate() + timedelta(days=8)).isoformat()
    assert f"演示时钟：今天按 {moved} 计算（已拨快 8 天）" in page


def test_every_rule_asks_the_clock_for_today():
    """`timezone.localdate()` and `date.today()` appear only in core/clock.py: a date counted
    anywhere else would not move with the demo's clock, and the demo's season would stall there."""
    root = Path(__file__).resolve().parent.parent / "voucher"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and path.name != "clock.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "localdate()" in line or "date.today()" in line
    ]
    assert offenders == []
