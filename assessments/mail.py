"""Outgoing e-mail: stored, then sent by the task queue after commit, retried with back-off.

A request never talks to the SMTP server: `mail_queue` records the message and, once the
transaction commits, enqueues `tasks.deliver_mail`. The worker (`manage.py db_worker`) sends it;
on failure it records the error, logs it and enqueues another attempt after a growing delay
(MAIL_RETRY_BASE_SECONDS × 2^(attempt − 1)), up to MAIL_MAX_ATTEMPTS, after which the message is
marked failed, where the national administrator sees it (/accounts/mail/).
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import default_task_backend
from django.utils import timezone

from assessments.models import OutboundMail
from assessments.tasks import deliver_mail

log = logging.getLogger(__name__)


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait before attempt `attempts + 1`: doubling from MAIL_RETRY_BASE_SECONDS."""
    return datetime.timedelta(seconds=settings.MAIL_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


def _enqueue(mail_id: int, run_after: datetime.datetime | None = None) -> None:
    task = deliver_mail.using(run_after=run_after) if run_after else deliver_mail
    task.enqueue(mail_id)


@transaction.atomic
def mail_queue(*, to: str, subject: str, body: str, purpose: str = "") -> OutboundMail:
    """Record one message to one recipient; it is sent after the transaction commits."""
    mail = OutboundMail(to=to, subject=subject[:300], body=body, purpose=purpose)
    mail.full_clean()
    mail.save()
    transaction.on_commit(lambda: _enqueue(mail.pk))
    return mail


def mail_deliver(*, mail_id: int) -> OutboundMail:
    """Try to send a queued message once; on failure record it and schedule the next attempt."""
    mail = OutboundMail.objects.get(pk=mail_id)
    if mail.status != OutboundMail.Status.QUEUED:
        return mail  # sent or given up already (a duplicate task)
    mail.attempts += 1
    try:
        EmailMessage(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.to]).send()
    except Exception as exc:  # any failure of the mail server is recorded, never raised
        mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        can_retry = default_task_backend.supports_defer
        if mail.attempts >= settings.MAIL_MAX_ATTEMPTS or not can_retry:
            mail.status = OutboundMail.Status.FAILED
            log.error(
                "mail %s to %s failed for good after %s attempts: %s",
                mail.pk,
                mail.to,
                mail.attempts,
                mail.last_error,
            )
            mail.save(update_fields=["attempts", "last_error", "status"])
        else:
            log.warning(
                "mail %s to %s failed (attempt %s), retrying: %s",
                mail.pk,
                mail.to,
                mail.attempts,
                mail.last_error,
            )
            mail.save(update_fields=["attempts", "last_error"])
            _enqueue(mail.pk, timezone.now() + retry_delay(mail.attempts))
        return mail
    mail.status = OutboundMail.Status.SENT
    mail.sent_at = timezone.now()
    mail.save(update_fields=["attempts", "status", "sent_at"])
    return mail
