import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assessments.reports.batch import ProgressBar, render_many, select_assessments


class Command(BaseCommand):
    help = (
        "Render the PDF reports of a prefecture's bodies (or all) into a directory, in parallel "
        "processes; files already complete are skipped, so an interrupted run resumes."
    )

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--prefecture", help="two-digit prefecture number, e.g. 01")
        scope.add_argument("--all", action="store_true", help="every body")
        parser.add_argument("--fiscal-year", type=int, required=True)
        parser.add_argument("--guideline", default="egov-2003")
        parser.add_argument("--out", required=True, help="output directory")
        parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
        parser.add_argument(
            "--time-limit",
            type=int,
            default=settings.REPORT_RENDER_TIME_LIMIT,
            help="seconds allowed per report",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        prefecture = options["prefecture"]
        if prefecture is not None and not (prefecture.isdigit() and 1 <= int(prefecture) <= 47):
            raise CommandError("--prefecture は 01〜47 / --prefecture must be 01 to 47")
        if options["jobs"] < 1:
            raise CommandError("--jobs must be at least 1")
        items = select_assessments(
            fiscal_year=options["fiscal_year"],
            guideline_code=options["guideline"],
            prefecture=None if options["all"] else prefecture,
        )
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        bar = None if options["no_progress"] or not items else ProgressBar(len(items), self.stderr)
        with translation.override(settings.LANGUAGE_CODE):
            outcome = render_many(
                items,
                out,
                jobs=options["jobs"],
                seconds=options["time_limit"],
                progress=bar.advance if bar else None,
            )
        self.stdout.write(
            f"rendered {len(outcome.rendered)}, skipped {len(outcome.skipped)} (already complete), "
            f"failed {len(outcome.failed)}"
        )
        for name, error in outcome.failed:
            self.stderr.write(f"FAILED {name}: {error}")
        if outcome.failed:
            raise CommandError(f"{len(outcome.failed)} report(s) failed")
