"""Staff pages: a pair's relation drawn as a path, the upload of registry files, the sweeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.access import staff_verified
from voucher.applications.parameters import current_effective_round
from voucher.core.http import upload_limit
from voucher.policy.relations import ROLE_NAMES
from voucher.policy.round import get_rounds
from voucher.registry.actions import registry_import_sources, registry_sweep_round
from voucher.registry.importer import KINDS, RowError, Source, check_uscc, read_table
from voucher.registry.models import SweepRun
from voucher.registry.queries import relation
from voucher.registry.templatetags.registry_paths import LABELS, chain_of

View = Callable[..., HttpResponse]


def refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "registry/refused.html", {"reason": reason}, status=403)


def registry_page(check: Callable[[Any], p.Check]) -> Callable[[View], View]:
    """The registry holds personal data (persons, officers): the review site's login (password
    and TOTP), then `check` from voucher.applications.permissions; a refusal is a 403 saying why."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            allowed = check(request.user)
            if not allowed:
                return refused(request, allowed.reason)
            return view(request, *args, **kwargs)

        verified = staff_verified(checked)

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return verified(request, *args, **kwargs)
            except PermissionDenied as exc:  # no staff role at all: staff_verified says why
                return refused(request, str(exc) or str(p.can_view_registry(request.user).reason))

        return wrapped

    return decorate


@registry_page(p.can_view_registry)
def relation_page(request: HttpRequest) -> HttpResponse:
    a, b = request.GET.get("a", "").strip(), request.GET.get("b", "").strip()
    context: dict[str, Any] = {"a": a, "b": b}
    if a and b:
        try:
            a, b = check_uscc(a, "a"), check_uscc(b, "b")
        except RowError as exc:
            context["error"] = exc.message
            return render(request, "registry/relation.html", context, status=400)
        rel = relation(a, b, excluded=current_effective_round().policy_round.state_asset_holders)
        context.update(
            rel=rel,
            equity_label=LABELS[rel.equity],
            personnel_label=LABELS[rel.personnel],
            ownership=[chain_of(path) for path in rel.ownership.paths] if rel.ownership else [],
            ownership_ratio=f"{rel.ownership.ratio:.4%}" if rel.ownership else "",
            common=[(h, chain_of(pa), chain_of(pb)) for h, pa, pb in rel.common],
            persons=[
                (
                    person,
                    _("在 %(a)s 任%(role_a)s、在 %(b)s 任%(role_b)s")
                    % {"a": a, "role_a": _(ROLE_NAMES[ra]), "b": b, "role_b": _(ROLE_NAMES[rb])},
                )
                for person, ra, rb in rel.persons
            ],
        )
    return render(request, "registry/relation.html", context)


def _uploaded_sources(files: list[Any]) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for upload in files:
        name = upload.name or ""
        if name.lower().endswith(".xlsx"):
            from openpyxl import load_workbook

            sheets = load_workbook(upload, read_only=True).sheetnames
            for kind in KINDS:
                sheet = kind if kind in sheets else None
                if sheet or kind in name.lower():
                    sources[kind] = (f"{name}[{kind}]" if sheet else name, _rows(upload, sheet))
        else:
            for kind in KINDS:
                if kind in name.lower():
                    sources[kind] = (name, _rows(upload, None))
    return sources


def _rows(upload: Any, sheet: str | None) -> Callable[[], Iterator[list[str]]]:
    def rows() -> Iterator[list[str]]:
        upload.seek(0)
        yield from read_table(upload.name, upload, sheet)

    return rows


@upload_limit("registry_import")
@registry_page(p.can_import_registry)
def import_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {}
    if request.method == "POST":
        sources = _uploaded_sources(request.FILES.getlist("files"))
        if not sources:
            context["error"] = _(
                "请上传文件名含 companies、shareholdings 或 officers 的 CSV/Excel 文件。"
            )
            return render(request, "registry/import.html", context, status=400)
        context["run"] = registry_import_sources(sources=sources, acting_user=request.user)
    return render(request, "registry/import.html", context)


@registry_page(p.can_view_registry)
def sweeps_page(request: HttpRequest) -> HttpResponse:
    may_sweep = p.can_sweep_registry(request.user)
    if request.method == "POST":
        if not may_sweep:
            return refused(request, may_sweep.reason)
        code = request.POST.get("round", "")
        if code not in get_rounds():
            return HttpResponse(_("未知的轮次"), status=400)
        run, _gone = registry_sweep_round(round_code=code, acting_user=request.user)
        return redirect("registry:sweep", run_id=run.pk)
    return render(
        request,
        "registry/sweeps.html",
        {
            "runs": SweepRun.objects.all()[:100],
            "rounds": sorted(get_rounds()),
            "may_sweep": may_sweep,
        },
    )


@registry_page(p.can_view_registry)
def sweep_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(SweepRun, pk=run_id)
    results = run.results.annotate(
        unchanged=Case(
            When(change="", then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("unchanged", "id")
    return render(request, "registry/sweep.html", {"run": run, "results": results})
