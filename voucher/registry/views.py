"""Staff pages: a pair's relation drawn as a path, the upload of registry files, the sweeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from voucher.policy.relations import ROLE_NAMES
from voucher.policy.round import get_round, get_rounds
from voucher.registry.actions import registry_import_sources, registry_sweep_round
from voucher.registry.importer import KINDS, RowError, Source, check_uscc, read_table
from voucher.registry.models import SweepRun
from voucher.registry.queries import relation
from voucher.registry.templatetags.registry_paths import chain_of

LABELS = {"pass": "通过", "fail": "不通过", "review": "待审核"}


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The registry holds personal data: staff only, also in the public demo."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@staff_only
def relation_page(request: HttpRequest) -> HttpResponse:
    a, b = request.GET.get("a", "").strip(), request.GET.get("b", "").strip()
    context: dict[str, Any] = {"a": a, "b": b}
    if a and b:
        try:
            a, b = check_uscc(a, "a"), check_uscc(b, "b")
        except RowError as exc:
            context["error"] = exc.message
            return render(request, "registry/relation.html", context, status=400)
        rel = relation(a, b, excluded=get_round("bj-2026").state_asset_holders)
        context.update(
            rel=rel,
            equity_label=LABELS[rel.equity],
            personnel_label=LABELS[rel.personnel],
            ownership=[chain_of(p) for p in rel.ownership.paths] if rel.ownership else [],
            ownership_ratio=f"{rel.ownership.ratio:.4%}" if rel.ownership else "",
            common=[(h, chain_of(pa), chain_of(pb)) for h, pa, pb in rel.common],
            persons=[
                (p, f"在 {a} 任{ROLE_NAMES[ra]}、在 {b} 任{ROLE_NAMES[rb]}")
                for p, ra, rb in rel.persons
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


@staff_only
def import_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {}
    if request.method == "POST":
        if not request.user.is_superuser and not request.user.has_perm("registry.add_importrun"):
            raise PermissionDenied
        sources = _uploaded_sources(request.FILES.getlist("files"))
        if not sources:
            context["error"] = (
                "请上传文件名含 companies、shareholdings 或 officers 的 CSV/Excel 文件。"
            )
            return render(request, "registry/import.html", context, status=400)
        context["run"] = registry_import_sources(sources=sources, acting_user=request.user)
    return render(request, "registry/import.html", context)


@staff_only
def sweeps_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        code = request.POST.get("round", "")
        if code not in get_rounds():
            return HttpResponse("unknown round", status=400)
        run, _ = registry_sweep_round(round_code=code, acting_user=request.user)
        return redirect("registry:sweep", run_id=run.pk)
    return render(
        request,
        "registry/sweeps.html",
        {"runs": SweepRun.objects.all()[:100], "rounds": sorted(get_rounds())},
    )


@staff_only
def sweep_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(SweepRun, pk=run_id)
    results = run.results.annotate(
        unchanged=Case(
            When(change="", then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("unchanged", "id")
    return render(request, "registry/sweep.html", {"run": run, "results": results})
