"""The password hasher: Argon2id with OWASP's parameters, not Django's defaults (docs/operations.md
"Passwords", with the measured CPU per check).

Django's Argon2PasswordHasher uses 100 MiB and 8 lanes, about 0.3 CPU-seconds a login on this
two-core machine, so logins queued under load (issue 23 item 4). OWASP's Password Storage Cheat
Sheet recommends for Argon2id at least m = 19 MiB, t = 2, p = 1 (or m = 46 MiB, t = 1, p = 1, and
other equivalent pairs): taken here, measured by benchmarks/bench_passwords.py.

The algorithm name stays "argon2", so the hashes stored with Django's parameters are read by
this hasher, and Django's `must_update` makes the login that checks one store it again with the
parameters below (the rehash on login).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB: 19 MiB
    parallelism = 1
