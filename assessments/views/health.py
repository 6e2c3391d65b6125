"""Probes for the load balancer and the supervisor: public, no session, never cached.

/healthz/ says the process answers (no database); /readyz/ that what a request needs is there:
the database, both caches, the default storage (a file written, read and deleted) and the task
queue. JSON by default, plain text for `Accept: text/plain`; 200 or 503.
"""

import asyncio

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe
from health_check.views import HealthCheckView


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    add_never_cache_headers(response)
    return response


class ReadinessView(HealthCheckView):
    http_method_names = ["get", "head"]
    checks = (
        "health_check.checks.Database",
        "assessments.health.CacheRoundTrip",
        ("assessments.health.CacheRoundTrip", {"alias": "reports"}),
        "health_check.checks.Storage",
        "assessments.health.TaskQueue",
    )

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        # 503, not the library's 500: "not ready, try another node", not "this server is broken".
        status = 503 if any(result.error for result in self.results) else 200
        if "text/plain" in request.headers.get("accept", ""):
            return self.render_to_response_text(status)
        return self.render_to_response_json(status)


readyz = ReadinessView.as_view()
