"""Fixtures for the Django tests: the examples in the database and the people who look at them.

Personas (healthchecks style): `admin_user` (superuser), `reviewer` (staff who may view),
`outsider` (logged in, not staff) and the anonymous client.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("*/application*.json"))
EXAMPLE_FOLDERS = sorted({p.parent for p in EXAMPLE_FILES})  # batches; examples/registry is data


# What opens the test database: pytest-django refuses a database query to any test without one of
# these, so a test without them runs the same on every database.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
    }
)


def uses_the_database(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """VOUCHER_TESTS_DATABASE_ONLY=1 keeps only the tests that open the database. CI runs every
    test on SQLite and then these on PostgreSQL: the others (the engine, the format, the ingest's
    DuckDB side) cannot see which database is configured, and running them twice only cost time."""
    if os.environ.get("VOUCHER_TESTS_DATABASE_ONLY") != "1":
        return
    kept = [item for item in items if uses_the_database(item)]
    if len(kept) == len(items):
        return
    kept_ids = {id(item) for item in kept}
    config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept_ids])
    items[:] = kept


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
