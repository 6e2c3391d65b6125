from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.registry import BODIES_FILE, load_bodies
from assessments.spreadsheets import SpreadsheetError


class Command(BaseCommand):
    help = (
        "地方公共団体の一覧を読み込みます（既定: 同梱の全1,788団体）。CSV(UTF-8/CP932)・XLSX。"
        "1行でも誤りがあれば何も取り込みません。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", type=Path, default=BODIES_FILE)
        parser.add_argument(
            "--dry-run", action="store_true", help="取り込まずに、変更される内容だけを表示します"
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            report = load_bodies(file, dry_run=dry_run)
        except (OSError, SpreadsheetError) as exc:
            raise CommandError(str(exc)) from exc
        if not report.ok:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{len(report.errors)}件の誤りがあるため、何も取り込みませんでした / "
                "nothing was imported"
            )
        prefix = "（試行）" if dry_run else ""
        self.stdout.write(
            f"{prefix}団体: 追加 {report.new}・更新 {report.updated}・変更なし {report.unchanged}"
        )
