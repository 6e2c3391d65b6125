"""Send the day's reminders: `manage.py send_reminders [--dry-run] [--today YYYY-MM-DD]`.

Run once a day from cron or the systemd timer in deploy/ (egov-reminders.timer). Idempotent:
a second run on the same day sends nothing (one e-mail per person per day, recorded).
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assessments import reminders


class Command(BaseCommand):
    help = "Send the reminders due today (before and after each open round's due date)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print who would be reminded and why."
        )
        parser.add_argument("--today", help="The day to act for (YYYY-MM-DD, JST); default today.")

    def handle(self, *args, dry_run: bool, today: str | None, **options):
        try:
            day = datetime.date.fromisoformat(today) if today else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--today: {exc}") from exc
        done = reminders.send_reminders(day, dry_run=dry_run)
        verb = "would remind" if dry_run else "reminded"
        for planned in done:
            self.stdout.write(f"{verb} {planned.recipient.email}: {planned.why}")
        self.stdout.write(f"{day}: {len(done)} {'to send' if dry_run else 'sent'}")
