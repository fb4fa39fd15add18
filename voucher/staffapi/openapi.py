"""`python -m voucher.staffapi.openapi > docs/openapi-bureau.json`: the committed document."""

from __future__ import annotations

import json
import os
from typing import Any


def schema() -> Any:
    from voucher.staffapi.api import api  # after django.setup(): the API's modules import models

    plain = api.get_openapi_schema(path_prefix="/api/v1/bureau/")
    return json.loads(json.dumps(plain))  # int status keys -> strings, as JSON has them


def document() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings_dev")  # a docs generator
    import django

    django.setup()
    return json.dumps(schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(document(), end="")
