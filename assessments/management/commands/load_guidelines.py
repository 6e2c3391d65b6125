from pathlib import Path

from django.core.management.base import BaseCommand

from assessments.catalog import CATALOG_DIR, load_catalog


class Command(BaseCommand):
    help = "指針（電子自治体推進指針ほか）の項目・レベル説明・指針間の対応を読み込みます。何度実行しても同じ結果になります。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            type=Path,
            default=CATALOG_DIR,
            help="指針ファイル (*.json) と crosswalk.json のあるフォルダ",
        )

    def handle(self, *args, dir: Path, **options):
        stats = load_catalog(dir)
        if not stats:
            self.stdout.write("指針: 変更なし / catalog unchanged")
            return
        for key, count in sorted(stats.items()):
            self.stdout.write(f"{key}: {count}")
        self.stdout.write(self.style.SUCCESS("指針を読み込みました / catalog loaded"))
