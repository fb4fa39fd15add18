"""RFC 7807 in the OpenAPI documents: errors are declared as `application/problem+json`.

django-ninja declares every response as `application/json`; our error responses are problem
documents served as `application/problem+json`, so a client (or schemathesis) reading the document
must be told so. Both APIs (platforms and bureau) use this class.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

PROBLEM = "application/problem+json"


class ProblemNinjaAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM] = content.pop("application/json")
        return schema
