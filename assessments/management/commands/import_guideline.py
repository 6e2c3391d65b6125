from pathlib import Path
from typing import NoReturn

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessments.catalog import guideline_import, guideline_preview
from assessments.catalog.plan import Plan


class Command(BaseCommand):
    help = (
        "指針ファイル（JSON または XLSX、fixtures/guidelines/README.md）を取り込みます。"
        "すべて検査してから1つのトランザクションで書き込み、誤りが1つでもあれば何も書き込みません。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="変更点（追加・変更・削除）と版の判断を表示するだけで、何も書き込みません。",
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        if dry_run:
            plan, problems = guideline_preview(file.name, content)
            if problems or plan is None:
                self._fail(problems)
            assert plan is not None
            self._print(plan)
            self.stdout.write("（--dry-run: 何も書き込んでいません / nothing written）")
            return
        try:
            plan, guideline, _stats = guideline_import(name=file.name, content=content)
        except ValidationError as error:
            self._fail(error.messages)
        self._print(plan)
        self.stdout.write(
            self.style.SUCCESS(f"{guideline.code}: {guideline.title}（第{guideline.edition}版）")
        )

    def _fail(self, problems: list[str]) -> NoReturn:
        for problem in problems:
            self.stderr.write(problem)
        raise CommandError(f"{len(problems)} 件の誤りがあるため、何も書き込みませんでした。")

    def _print(self, plan: Plan) -> None:
        for change in plan.changes:
            mark = {"added": "+", "removed": "-", "changed": "~"}[change.action]
            kind = "採点" if change.kind == "scoring" else "文言"
            self.stdout.write(f"{mark} [{kind}] {change.what} {change.ref} {change.field}".rstrip())
        counts = plan.counts()
        self.stdout.write(
            f"追加 {counts['added']} / 変更 {counts['changed']} / 削除 {counts['removed']}"
        )
        self.stdout.write(f"{plan.decision}: {plan.decision_label}（第{plan.edition}版）")
