from argparse import RawDescriptionHelpFormatter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from assessments.registry import BODIES_FILE, CHANGE_LIST_HELP, load_bodies, load_body_changes
from assessments.spreadsheets import SpreadsheetError


class _HelpFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    pass


class Command(BaseCommand):
    help = (
        "地方公共団体の一覧を読み込みます（既定: 同梱の全1,788団体）。CSV(UTF-8/CP932)・XLSX。"
        "--changes FILE で総務省の改正一覧表（合併・コード変更）を適用します。"
        "1行でも誤りがあれば何も取り込みません。\n\n" + CHANGE_LIST_HELP
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)  # keeps the layout's line breaks
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", type=Path, default=None)
        parser.add_argument(
            "--changes",
            type=Path,
            metavar="FILE",
            help="改正一覧表（改正年月日・旧団体コード・新団体コード・改正事由 …）を適用します",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="取り込まずに、変更される内容だけを表示します"
        )

    def handle(self, *args, file: Path | None, changes: Path | None, dry_run: bool, **options):
        if file is not None and changes is not None:
            raise CommandError("団体の一覧と改正一覧表は別々に読み込んでください。")
        try:
            if changes is not None:
                report = load_body_changes(changes, dry_run=dry_run)
            else:
                report = load_bodies(file or BODIES_FILE, dry_run=dry_run)
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
        for row, on, kind, old, new in report.preview:
            self.stdout.write(f"{prefix}{row}行目 {on} {kind}: {old} → {new}")
        self.stdout.write(
            f"{prefix}団体: 追加 {report.new}・更新 {report.updated}・変更なし {report.unchanged}"
        )
