"""Background jobs (Django's tasks framework; django-tasks-db runs them: `manage.py db_worker`).

A task is a thin entry point: it imports its service when it runs, so that the service can
import the task at module level to enqueue it (no import cycle at load time).

Two queues besides "default": "reports" (PDF rendering: long, memory-hungry, run by a worker with
its own limits) and "mail" (short), so a batch of renders never holds up a password-reset e-mail.
Run `db_worker --queue-name reports` and `db_worker --queue-name default,mail` (deploy/).
"""

from django.tasks import task

REPORTS_QUEUE = "reports"
MAIL_QUEUE = "mail"


@task(queue_name=REPORTS_QUEUE)
def render_report_batch(batch_id: int) -> None:
    """Render a ReportBatch's PDFs into its ZIP (arguments are JSON: the batch's id)."""
    from assessments.reports import batch

    batch.run_report_batch(batch_id)


@task(queue_name=REPORTS_QUEUE)
def render_assessment_report(render_id: int) -> None:
    """Render one assessment PDF (ReportRender) into the reports cache, or record its failure."""
    from assessments.reports import render

    render.run_report_render(render_id)


@task(queue_name=REPORTS_QUEUE)
def prerender_assessment_report(assessment_id: int, language: str) -> None:
    """Render the PDF of an assessment's current state ahead of its download (submit, approve)."""
    from assessments.reports import render

    render.report_prerender(assessment_id=assessment_id, language=language)


@task(queue_name=MAIL_QUEUE)
def deliver_mail(mail_id: int) -> None:
    """Send one stored e-mail (OutboundMail), or record its failure and schedule a retry."""
    from assessments import mail

    mail.mail_deliver(mail_id=mail_id)


@task(queue_name=MAIL_QUEUE)
def notify_transition(transition_id: int) -> None:
    """Queue the e-mails about one status change (each is then sent by deliver_mail)."""
    from assessments import notifications

    notifications.notify_transition(transition_id)
