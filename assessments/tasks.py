"""Background jobs (Django's tasks framework; django-tasks-db runs them: `manage.py db_worker`).

A task is a thin entry point: it imports its service when it runs, so that the service can
import the task at module level to enqueue it (no import cycle at load time).
"""

from django.tasks import task


@task()
def render_report_batch(batch_id: int) -> None:
    """Render a ReportBatch's PDFs into its ZIP (arguments are JSON: the batch's id)."""
    from assessments.reports import batch

    batch.run_report_batch(batch_id)


@task()
def deliver_mail(mail_id: int) -> None:
    """Send one stored e-mail (OutboundMail), or record its failure and schedule a retry."""
    from assessments import mail

    mail.mail_deliver(mail_id=mail_id)


@task()
def notify_transition(transition_id: int) -> None:
    """Queue the e-mails about one status change (each is then sent by deliver_mail)."""
    from assessments import notifications

    notifications.notify_transition(transition_id)
