"""Fixtures for the Django tests: the examples in the database and the people who look at them.

Personas (healthchecks style): `admin_user` (superuser), `reviewer` (staff who may view),
`outsider` (logged in, not staff) and the anonymous client.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("*/application*.json"))
EXAMPLE_FOLDERS = sorted({p.parent for p in EXAMPLE_FILES})  # batches; examples/registry is data


def example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request in English leaves English active in the test's thread; the next test would get
    English messages where it expects Chinese. Every test ends back in the default language."""
    yield
    from django.utils import translation

    translation.deactivate()


def verified_session(client, user):
    """`client` logged in as `user` in a session a TOTP code verified (what the review site's
    login does after password and code): staff pages open no other session."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def reviewer(db, django_user_model):
    """A bureau reviewer (the role, a Django group); log in with verified_session."""
    from django.contrib.auth.models import Group

    from voucher.applications.roles import REVIEWER

    user = django_user_model.objects.create_user("reviewer", password="pw-reviewer")
    user.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    return user


@pytest.fixture
def admin_client(db, admin_user, client):
    """The administrator (a superuser holds the role) in a TOTP-verified session: the admin
    opens for nobody else."""
    return verified_session(client, admin_user)


@pytest.fixture
def is_staff_only(db, django_user_model):
    """Django's is_staff with every view permission and no staff role: it opens nothing."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("isstaff", password="pw-isstaff", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def outsider(db, django_user_model):
    return django_user_model.objects.create_user("outsider", password="pw-outsider")


@pytest.fixture
def not_public(settings):
    settings.DEBUG = False
    settings.VOUCHER_PUBLIC_DEMO = False
    return settings


@pytest.fixture
def public_demo(settings):
    settings.VOUCHER_PUBLIC_DEMO = True
    return settings


@pytest.fixture
def demo_data(db):
    """Every example imported and evaluated folder by folder, as `voucher demo` does."""
    from voucher.demo.examples import demo_load

    return demo_load(examples_dir=EXAMPLES_DIR)


def application_from(folder: str, name: str = "application.json"):
    from voucher.applications.models import Application

    return Application.objects.get(source_name=f"examples/{folder}/{name}")


@pytest.fixture(autouse=True)
def _demo_clock_of_its_own(tmp_path_factory, settings):
    """Each test starts on the real date, with a demo clock file of its own (voucher/core/clock.py):
    a test that moves the clock (the `demo_clock` fixture) moves nobody else's."""
    settings.VOUCHER_DEMO_CLOCK_FILE = str(tmp_path_factory.mktemp("clock") / "demo-clock")


@pytest.fixture
def demo_clock():
    """The demo clock: `demo_clock.set_offset(8)` makes "today" eight days on."""
    from voucher.core import clock

    return clock


@pytest.fixture(autouse=True, scope="session")
def _audit_checkpoints_in_a_temporary_folder(tmp_path_factory):
    """No automatic audit checkpoints while the tests run: a test's rolled-back entries would be
    pinned for the next test's verify. Tests that want them (test_core_audit) turn them on, in a
    folder of their own; nothing is written to ./var."""
    from django.conf import settings

    settings.VOUCHER_AUDIT_CHECKPOINT_DIR = tmp_path_factory.mktemp("audit-checkpoints")
    settings.VOUCHER_AUDIT_CHECKPOINT_EVERY = 0
