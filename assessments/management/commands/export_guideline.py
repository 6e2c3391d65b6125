from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.catalog import guideline_export
from assessments.models import Guideline


class Command(BaseCommand):
    help = "指針の版を XLSX の取込様式で書き出します（Excel で編集して import_guideline で取り込めます）。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="指針の版のコード（例: egov-2003、egov-2003-e2）")
        parser.add_argument("file", type=Path)

    def handle(self, *args, code: str, file: Path, **options):
        guideline = Guideline.objects.filter(code=code).first()
        if guideline is None:
            raise CommandError(f"{code}: この指針はありません。")
        file.write_bytes(guideline_export(guideline))
        self.stdout.write(self.style.SUCCESS(f"{file}: {guideline.title}"))
