"""What every logged-in request reads at the door, in one query (issue 23, decision 0053): the
session's row, its user's row, the user's TOTP device and the user's groups (the staff roles).

Before, four queries, each written by the ORM at every request: the session, then the user
(Django's `get_user`), the device (django-otp's middleware), the groups (`roles.staff_roles_of`):
a third of a small page's CPU. Now the session engine (`SESSION_ENGINE = "voucher.accounts.door"`)
reads the row of `accounts.Session` joined to the rows its `user` and `totp_device` columns name
(the ids written from the session's data at each save) and to the user's groups, in SQL the ORM
writes once per process. What it read is the session's `door`, for this request alone; nothing
is kept across requests.

Every check stays where it was and runs as it did, on rows read at this request:

- the session: the same key and `expire_date > now` as Django's database engine asks;
- the user: Django's own `auth.get_user` (the session's backend, the session auth hash and its
  fallbacks, the flush of a session whose hash does not match); only the backend's `get_user`
  takes the user from the door instead of asking, and applies the same test of it
  (`ModelBackend`: `user_can_authenticate`, i.e. active; the OpenID Connect backend: none, as
  mozilla-django-oidc's);
- the device: django-otp's middleware, which still refuses a device of another user or an
  unconfirmed one and drops its id from the session; only the device comes from the door;
- the roles: `roles.staff_roles_of`, from the groups read with the session.

The door is used only when it answers the same question: the user id and the device id that the
session's data holds now are those its columns were joined on (else the backend, or django-otp,
asks as before), and its user is handed out once.
"""

from __future__ import annotations

import contextvars
import copy
import datetime
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib import auth
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.sessions.backends import db
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import connections, router
from django.db.models import F
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.accounts.models import Session
from voucher.applications import roles

# what a logged-in session's backend is (settings.AUTHENTICATION_BACKENDS): Django's
# ModelBackend, taking its user from the door
BACKEND = "voucher.accounts.door.ModelBackend"

_NOT_READ = object()  # the door's user once handed out, or for a session read without one


@dataclass
class Door:
    """What the session's query read besides the session: the user's row (None: no row has the
    session's user id), the device's, the names of the user's groups."""

    user_pk: Any
    user: Any
    device_pk: int | None
    device: Any
    groups: list[str] = field(default_factory=list)

    def take_user(self, user_id: Any) -> Any:
        """The user read with the session, if `user_id` is the one it was read for, once (the
        next asker asks the database); else _NOT_READ."""
        if self.user is _NOT_READ or user_id is None or user_id != self.user_pk:
            return _NOT_READ
        user, self.user = self.user, _NOT_READ
        if user is not None:
            user._voucher_door_groups = self.groups
        return user


# the session of the request whose user Django's get_user is finding, for the backend's
# get_user (which is given only the user id); set only around that call. The session, not its
# door: get_user may be what loads the session (a view that reads the user before anything
# reads the session), and the door is read with it.
_session: contextvars.ContextVar[Any] = contextvars.ContextVar("voucher_session", default=None)


def _door() -> Door | None:
    return getattr(_session.get(), "door", None)


def _user_pk(data: dict[str, Any]) -> Any:
    """The user id in the session's data as Django's get_user reads it, or None."""
    value = data.get(SESSION_KEY)
    if value is None:
        return None
    try:
        return get_user_model()._meta.pk.to_python(value)
    except ValidationError:
        return None


def _device_pk(persistent_id: Any) -> int | None:
    """The id of a TOTP device that a django-otp persistent id names, or None (another kind of
    device, or none: django-otp's middleware then asks as it always did)."""
    if not isinstance(persistent_id, str):
        return None
    persistent_id = DjangoOTPMiddleware._normalize_persistent_id(persistent_id)
    label, _slash, pk = persistent_id.rpartition("/")
    if label != TOTPDevice.model_label() or not (pk.isascii() and pk.isdigit()):
        return None
    number = int(pk)
    return number if number < 2**31 else None  # the device's id column is an integer


# The query, its SQL written once per process and database (the technique of decision 0050's
# core/precompiled.py, which takes integer values only: this one's are a session key and a
# time): a sentinel key and time stand where the values go.
_KEY_SENTINEL = "voucher-door-sentinel-key"
_TIME_SENTINEL = datetime.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=datetime.UTC)
_compiled: dict[str, tuple[Any, Any, str, list[Any], int, int, Any]] = {}


def _build(key: Any, now: Any) -> Any:
    # one row per group of the user (one, its group NULL, for none): the groups' names ride
    # on the session's row rather than costing a query of their own
    return (
        Session.objects.filter(session_key=key, expire_date__gt=now)
        .select_related("user", "totp_device")
        .annotate(voucher_group=F("user__groups__name"))
    )


def _compile(alias: str) -> tuple[Any, Any, str, list[Any], int, int, Any]:
    connection = connections[alias]
    queryset = _build(_KEY_SENTINEL, _TIME_SENTINEL).using(alias)
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    params = list(params)
    time_param = connection.ops.adapt_datetimefield_value(_TIME_SENTINEL)
    keys = [n for n, p in enumerate(params) if p == _KEY_SENTINEL]
    times = [n for n, p in enumerate(params) if p == time_param]
    if len(keys) != 1 or len(times) != 1 or len(params) != 2:
        raise ValueError("the session's query: its key and time must be its only parameters")
    # what the compiler's results_iter works out at each call (a function per column that the
    # database's value needs), worked out once too
    converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])
    entry = (queryset, compiler, sql, params, keys[0], times[0], converters)
    _compiled[alias] = entry
    return entry


def session_rows(session_key: str) -> list[Any]:
    """The session `session_key` if it has not expired (Django's database engine's test), with
    its user and device (select_related) and, on each row, one of the user's groups."""
    alias = router.db_for_read(Session)
    entry = _compiled.get(alias) or _compile(alias)
    queryset, compiler, sql, params, key_at, time_at, converters = entry
    asked = list(params)
    asked[key_at] = session_key
    asked[time_at] = connections[alias].ops.adapt_datetimefield_value(timezone.now())

    def get_compiler(using: Any = None, connection: Any = None, elide_empty: bool = True) -> Any:
        # the compiled columns and SQL, this thread's connection, this call's values
        mine = copy.copy(compiler)
        mine.connection = connections[alias]
        mine.as_sql = lambda *args, **kwargs: (sql, asked)
        mine.get_converters = lambda expressions: converters
        return mine

    again = queryset.all()
    again.query.get_compiler = get_compiler
    return list(again)


class SessionStore(db.SessionStore):
    """Django's database session store on accounts.Session: the user and device ids written
    beside the data, and the session read with them (the door)."""

    door: Door | None = None

    @classmethod
    def get_model_class(cls) -> Any:
        return Session

    def _get_session_from_db(self) -> Any:
        self.door = None
        try:
            found = session_rows(self.session_key) if self.session_key else []
        except SuspiciousOperation:  # as Django's store: logged, the session unknown
            return super()._get_session_from_db()  # type: ignore[misc]
        if not found:
            self._session_key = None
            return None
        session = found[0]
        self.door = Door(
            user_pk=session.user_id,
            user=session.user if session.user_id is not None else _NOT_READ,
            device_pk=session.totp_device_id,
            device=session.totp_device,
            groups=[row.voucher_group for row in found if row.voucher_group is not None],
        )
        return session

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = super().create_model_instance(data)
        instance.user_id = _user_pk(data)
        instance.totp_device_id = _device_pk(data.get(DEVICE_ID_SESSION_KEY))
        return instance

    async def acreate_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = await super().acreate_model_instance(data)
        instance.user_id = _user_pk(data)
        instance.totp_device_id = _device_pk(data.get(DEVICE_ID_SESSION_KEY))
        return instance


class ModelBackend(DjangoModelBackend):
    """Django's ModelBackend; its get_user takes the user read with the session when it can,
    and tests it as Django's does (active)."""

    def get_user(self, user_id: Any) -> Any:
        door = _door()
        user: Any = door.take_user(user_id) if door is not None else _NOT_READ
        if user is _NOT_READ:
            return super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def user_from_door(user_id: Any) -> Any:
    """For a backend whose get_user is a plain read by id (the OpenID Connect backend): the
    user read with the session, None if no row has that id, or _NOT_READ (ask the database)."""
    door = _door()
    return door.take_user(user_id) if door is not None else _NOT_READ


NOT_READ = _NOT_READ


@contextmanager
def _at_door(request: Any) -> Iterator[None]:
    token = _session.set(request.session)
    try:
        yield
    finally:
        _session.reset(token)


def get_user(request: Any) -> Any:
    """Django's AuthenticationMiddleware's get_user, Django's auth.get_user called with the
    session's door at hand; the user's groups read with it are its staff roles."""
    if not hasattr(request, "_cached_user"):
        with _at_door(request):
            user = auth.get_user(request)
        groups = user.__dict__.pop("_voucher_door_groups", None)
        if groups is not None:
            roles.know_groups(user, groups)
        request._cached_user = user
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthentication):
    """Django's, with get_user above (the async `auser` is Django's own)."""

    def process_request(self, request: Any) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(functools.partial(get_user, request))


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's, its device taken from the session's door when the session names the one
    the door read; django-otp's _finalize_device then checks it as before (this user's,
    confirmed), and drops a device id that names none."""

    def _verify_user_sync(self, request: Any, user: Any) -> Any:
        self._init_user_fields(user)
        if user.is_authenticated:
            persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
            device = self._device(request, persistent_id) if persistent_id else None
            user.otp_device = self._finalize_device(request, user, device)
        return user

    def _device(self, request: Any, persistent_id: str) -> Any:
        door = getattr(request.session, "door", None)
        pk = _device_pk(persistent_id)
        if door is not None and pk is not None and pk == door.device_pk:
            return door.device  # None: no such device now, as from_persistent_id answers
        return self._device_from_persistent_id(persistent_id)
