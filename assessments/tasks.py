"""Background jobs (Django's tasks framework; django-tasks-db runs them: `manage.py db_worker`)."""

from django.tasks import task

from assessments import batch


@task()
def render_report_batch(batch_id: int) -> None:
    """Render a ReportBatch's PDFs into its ZIP (arguments are JSON: the batch's id)."""
    batch.run_report_batch(batch_id)
