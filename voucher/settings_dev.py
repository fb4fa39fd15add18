"""The settings of a development machine: the tests (pyproject.toml's pytest and mypy sections)
and anything else that names this module. The production settings with VOUCHER_DEV=1, which the
processes they start inherit too."""

import os

os.environ["VOUCHER_DEV"] = "1"

from voucher.settings import *  # noqa: F403
