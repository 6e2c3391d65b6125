"""The audit trail of account events (AccountEvent): one function writes it, views read it."""

import csv
import io

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from assessments.models import AccountEvent, User
from assessments.spreadsheets import neutralize

Kind = AccountEvent.Kind


def client_ip(request: HttpRequest | None) -> str | None:
    """The address the request came from (REMOTE_ADDR, as django-axes is configured to use)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def event_record(
    *,
    kind: str,
    user: User | None = None,
    actor: User | None = None,
    username: str = "",
    request: HttpRequest | None = None,
    detail: str = "",
) -> AccountEvent:
    """Record one account event: what, to whom (and their body now), by whom, from where."""
    if user is not None and not username:
        username = user.get_username()
    request_user = getattr(request, "user", None)
    if actor is None and request_user is not None and request_user.is_authenticated:
        actor = request_user
    event = AccountEvent(
        kind=kind,
        user=user,
        actor=actor,
        username=(username or "")[:150],
        body_id=user.body_id if user is not None else None,
        ip_address=client_ip(request),
        detail=detail[:500],
    )
    event.full_clean()
    event.save()
    return event


def recently_locked(username: str, since) -> bool:
    """Whether a lockout of `username` is already recorded since `since` and not lifted since."""
    last = (
        AccountEvent.objects.filter(
            username=username, kind__in=[Kind.LOCKED_OUT, Kind.UNLOCKED, Kind.LOGIN], at__gte=since
        )
        .values_list("kind", flat=True)
        .first()
    )
    return last == Kind.LOCKED_OUT


EXPORT_HEADERS = ["日時", "種類", "対象", "所属団体", "操作者", "IPアドレス", "内容"]


def events_csv(events: QuerySet[AccountEvent]) -> str:
    """The events as CSV text, every cell made safe for spreadsheets (no formulas)."""
    labels = dict(Kind.choices)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADERS)
    for event in events.select_related("actor", "body"):
        row = [
            timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
            str(labels.get(event.kind, event.kind)),
            event.username,
            event.body.name if event.body else "",
            event.actor.get_username() if event.actor else "",
            event.ip_address or "",
            event.detail,
        ]
        writer.writerow([neutralize(cell) for cell in row])
    return out.getvalue()
