"""Mail that works: queued after commit, sent by the real worker (db_worker), retried with
back-off when the SMTP server refuses, recorded as failed, and delivered to a real SMTP server.

Loopback only: a port with nothing listening, or aiosmtpd on 127.0.0.1. Every loop is bounded.
"""

import socket

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from assessments.mail import mail_queue
from assessments.models import Answer, Assessment, OutboundMail

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def restored_signals():
    """db_worker installs its own signal handlers: give pytest's back after."""
    import signal

    names = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {number: signal.getsignal(number) for number in names}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def run_worker() -> None:
    """The real worker, until no task is ready (deferred retries wait for their time)."""
    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--verbosity", "0"
    )


def test_a_refusing_smtp_server_never_fails_the_submit(
    client,
    reference_data,
    settings,
    restored_signals,
    make_assessment,
    scored_2003,
    sapporo_staff,
    hokkaido_reviewer,
    national_admin,
):
    settings.MAILERS = smtp(free_port())
    settings.MAIL_MAX_ATTEMPTS = 3
    assessment = make_assessment("011002", 2026)
    Answer.objects.bulk_create(
        Answer(assessment=assessment, measure=m, level=2) for m in scored_2003
    )
    client.force_login(sapporo_staff)
    response = client.post(reverse("assessment_submit", kwargs=assessment.url_kwargs))
    assert response.status_code == 302  # committed, and no error page
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.SUBMITTED

    run_worker()  # renders the notification, tries to send it once
    mail = OutboundMail.objects.get()
    assert (mail.to, mail.status, mail.attempts) == ("hokkaido-reviewer@example.jp", "queued", 1)
    assert "ConnectionRefusedError" in mail.last_error
    retry = DBTaskResult.objects.ready().count(), DBTaskResult.objects.filter(status="READY").get()
    assert retry[0] == 0 and retry[1].run_after > timezone.now()  # backed off, not hammered

    for _attempt in range(settings.MAIL_MAX_ATTEMPTS):  # let each back-off pass, bounded
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_worker()
        mail.refresh_from_db()
        if mail.status != "queued":
            break
    assert (mail.status, mail.attempts) == ("failed", 3)
    assert not DBTaskResult.objects.filter(status="READY").exists()  # given up for good

    client.force_login(national_admin)
    page = client.get(reverse("mail_list")).content.decode()
    assert "hokkaido-reviewer@example.jp" in page and "ConnectionRefusedError" in page
    client.force_login(hokkaido_reviewer)
    assert client.get(reverse("mail_list")).status_code == 403


def test_the_mail_arrives_at_a_local_smtp_server(reference_data, settings, restored_signals):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.MAILERS = smtp(port)
        mail = mail_queue(to="sapporo-staff@example.jp", subject="提出のお知らせ", body="本文です")
        run_worker()
    finally:
        controller.stop()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 1, "")
    (message,) = received
    assert message["To"] == "sapporo-staff@example.jp"
    assert "本文です" in message.get_payload(decode=True).decode("utf-8")
