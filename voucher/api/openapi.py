"""`python -m voucher.api.openapi > docs/openapi.json`: the committed OpenAPI document."""

from __future__ import annotations

import json
import os


def document() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings_dev")  # a docs generator
    import django

    django.setup()
    from voucher.api.v1 import api  # after setup: the API's modules import models

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    plain = json.loads(json.dumps(schema))  # int status keys -> strings, as JSON has them
    return json.dumps(plain, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(document(), end="")
