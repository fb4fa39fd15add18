"""One door: one function changes an application's state, and no app hides an import in a
function to dodge the layers (docs/architecture.md; import-linter checks the layers in CI)."""

from __future__ import annotations

import ast
from pathlib import Path

from voucher.applications.states import TRANSITIONS

VOUCHER = Path(__file__).resolve().parent.parent / "voucher"
LIFECYCLE = VOUCHER / "applications" / "lifecycle.py"
MODELS = VOUCHER / "applications" / "models" / "application.py"


def _sources() -> list[Path]:
    return [p for p in VOUCHER.rglob("*.py") if "migrations" not in p.parts]


APPLICATION_NAMES = {"application", "app", "locked", "previous", "found", "a"}


def direct_transition_calls(source: str) -> list[str]:
    """`x.submit()`, `x.withdraw()` … and `getattr(x, name)()`: a transition method called."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in TRANSITIONS and not node.args:
            calls.append(f"line {node.lineno}: .{func.attr}()")
        if isinstance(func, ast.Call) and getattr(func.func, "id", "") == "getattr":
            target, attribute = func.args[0], func.args[1]
            named = getattr(attribute, "value", None) in TRANSITIONS
            an_application = getattr(target, "id", "") in APPLICATION_NAMES
            if named or an_application:
                calls.append(f"line {node.lineno}: getattr(…)()")
    return calls


def test_only_application_transition_calls_a_transition_method():
    found = {
        str(path.relative_to(VOUCHER)): calls
        for path in _sources()
        if path not in (LIFECYCLE, MODELS)
        and (calls := direct_transition_calls(path.read_text(encoding="utf-8")))
    }
    assert not found, f"call application_transition instead: {found}"
    assert direct_transition_calls(LIFECYCLE.read_text(encoding="utf-8"))  # the one place


def test_the_scan_finds_a_direct_call():
    """The scan itself fails on what the platform build did before (previous.withdraw())."""
    assert direct_transition_calls("def build(previous):\n    previous.withdraw()\n")
    assert direct_transition_calls("def f(a, name):\n    getattr(a, name)()\n")
    assert not direct_transition_calls("def f(form):\n    form.submit(data)\n")


def function_level_imports(source: str) -> list[str]:
    tree = ast.parse(source)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("voucher"):
                found.append(f"{function.name}: from {node.module}")
            if isinstance(node, ast.Import) and any(
                a.name.startswith("voucher") for a in node.names
            ):
                found.append(f"{function.name}: import voucher…")
    return found


# Where a decision record says why an import waits for its function.
EXCEPTIONS = {
    # the ingest engine loads pyarrow, which the web processes never need (decision 0013)
    "platforms/consumption.py": [
        "ingest_file: from voucher.platforms",
        "prepare: from voucher.platforms",  # the worker opens its DuckDB database (decision 0022)
        "release: from voucher.platforms",
    ],
    # `voucher evaluate` starts without Django: the engine's CLI is imported only for it
    "__main__.py": ["_evaluate: from voucher.policy"],
    # ... and imports pydantic only for a file that needs the models (decision 0037)
    "policy/canonical.py": ["read_application: from voucher.policy.format"],
    "policy/round.py": ["parse_round: from voucher.policy.round_models"],
    # actions reads the store's supplier words from supplier.py (decision 0033): the supplier's
    # word evaluating again imports actions in its function, or the two would import each other
    "applications/supplier.py": ["evaluate_after_supplier_word: from voucher.applications.actions"],
    # the OpenAPI generators import the API after django.setup(): its modules import models
    "api/openapi.py": ["document: from voucher.api.v1"],
    "staffapi/openapi.py": ["schema: from voucher.staffapi.api"],
    # the session model names its engine only when asked, as Django's own sessions.models does:
    # the engine (the door, decision 0053) reads the model
    "accounts/models.py": ["get_session_store_class: from voucher.accounts.door"],
}


def test_no_import_of_the_project_hides_in_a_function():
    """Except AppConfig.ready(), where an app plugs into the domain core's ports once Django
    has loaded the models (docs/decisions/0014-one-door.md), and EXCEPTIONS."""
    found = {
        name: imports
        for path in _sources()
        if (imports := function_level_imports(path.read_text(encoding="utf-8")))
        and not (path.name == "apps.py" and all(i.startswith("ready:") for i in imports))
        and imports != EXCEPTIONS.get(name := str(path.relative_to(VOUCHER)))
    }
    assert not found, found
