from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assessments.models import Assessment
from assessments.reports.batch import write_atomically
from assessments.reports.pdf import render_assessment_pdf


class Command(BaseCommand):
    help = "Render one assessment's PDF report: render_report 011002 2026 egov-2003 -o FILE"

    def add_arguments(self, parser):
        parser.add_argument("body_code")
        parser.add_argument("fiscal_year", type=int)
        parser.add_argument("guideline_code")
        parser.add_argument("-o", "--output", required=True, help="PDF file to write")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE, choices=["ja", "en"])

    def handle(self, *args, body_code, fiscal_year, guideline_code, output, language, **options):
        try:
            assessment = Assessment.objects.select_related(
                "body", "body__prefecture", "guideline"
            ).get(body__code=body_code, fiscal_year=fiscal_year, guideline__code=guideline_code)
        except Assessment.DoesNotExist:
            raise CommandError(
                f"自己評価がありません / no assessment: {body_code} {fiscal_year} {guideline_code}"
            ) from None
        with translation.override(language):
            data = render_assessment_pdf(assessment)
        write_atomically(Path(output), data)
        self.stdout.write(f"{output} ({len(data):,} bytes)")
