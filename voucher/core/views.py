"""/healthz: for a load balancer, systemd or a monitor; no login, no session, JSON.

200 {"database": "ok", "worker": "ok" | "stale" | "none", "worker_seen_at": ISO time or null,
"documents_worker": …, "documents_worker_seen_at": …, "jobs_worker": …, "jobs_worker_seen_at": …}
(the platform batch worker, the documents worker and the worker of the jobs after the request) while the database answers (a stale or absent worker is reported, not an outage of the web
server); 503 {"database": "error", …} when it does not.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from voucher.core.heartbeat import DOCUMENTS_WORKER, PLATFORMS_WORKER, worker_state
from voucher.core.jobs import JOBS_WORKER

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        worker, seen = worker_state(PLATFORMS_WORKER)
        documents, documents_seen = worker_state(DOCUMENTS_WORKER)
        jobs, jobs_seen = worker_state(JOBS_WORKER)
    except Exception as error:
        logger.error("healthz: the database does not answer: %s", error)
        return JsonResponse(
            {"database": "error", "worker": "unknown", "worker_seen_at": None}, status=503
        )
    return JsonResponse(
        {
            "database": "ok",
            "worker": worker,
            "worker_seen_at": seen.isoformat() if seen else None,
            "documents_worker": documents,
            "documents_worker_seen_at": documents_seen.isoformat() if documents_seen else None,
            "jobs_worker": jobs,
            "jobs_worker_seen_at": jobs_seen.isoformat() if jobs_seen else None,
        }
    )
