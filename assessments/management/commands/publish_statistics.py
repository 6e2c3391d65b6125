"""Publish a closed round's statistics: `manage.py publish_statistics <guideline> <fiscal year>
[--note TEXT] [--dry-run]`.

The first publication creates release 第N号 version 1; a later one, when the figures changed,
a new version with its 正誤表 (`--note` is then the reason, required). With no changed figure
nothing is created. `--dry-run` prints what would be published and changed.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessments import publication
from assessments.models import SurveyRound


class Command(BaseCommand):
    help = "Publish a closed survey round's statistics as a new version (統計の公表)."

    def add_arguments(self, parser):
        parser.add_argument("guideline", help="The guideline's code, e.g. egov-2003.")
        parser.add_argument("fiscal_year", type=int, help="The round's fiscal year, e.g. 2025.")
        parser.add_argument("--note", default="", help="A note; for a correction, its reason.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; publish nothing."
        )

    def handle(self, *args, guideline: str, fiscal_year: int, note: str, dry_run: bool, **options):
        survey_round = (
            SurveyRound.objects.select_related("guideline")
            .filter(guideline__code=guideline, fiscal_year=fiscal_year)
            .first()
        )
        if survey_round is None:
            raise CommandError(f"{guideline} {fiscal_year}年度の調査回がありません。")
        if dry_run:
            preview = publication.publication_preview(survey_round)
            for blocker in preview.blockers:
                self.stdout.write(f"公表できません: {blocker}")
            if preview.unchanged:
                self.stdout.write("前回の公表から数値に変更がないため、新しい版は作成しません。")
                return
            self.stdout.write(
                f"第{preview.next_version}版として公表します（変わる数値 {len(preview.changes)} 個）。"
            )
            for change in preview.changes:
                self.stdout.write(
                    f"  {change.table} {change.measure_ref} {change.row_label} "
                    f"{change.column_label}: {change.before[0]}/{change.before[1]} → "
                    f"{change.after[0]}/{change.after[1]}"
                )
            return
        try:
            version = publication.statistics_publish(
                survey_round=survey_round, user=None, note=note
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            f"{version.release} 第{version.number}版を公表しました"
            f"（正誤表 {version.corrections.count()} 行）。"
        )
