from django.conf import settings
from django.core.management.base import BaseCommand

from assessments.demo import DEMO_USERS, setup_demo


class Command(BaseCommand):
    help = "デモ環境（指針・全団体・デモ用アカウント・北海道の自己評価）を用意します。再実行しても安全です。"

    def handle(self, *args, **options):
        setup_demo(self.stdout)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("デモ用アカウント / demo accounts"))
        for username, *_rest in DEMO_USERS:
            self.stdout.write(f"  {username}")
        self.stdout.write(f"パスワード / password: {settings.DEMO_PASSWORD}")
        if not settings.DEBUG:
            self.stdout.write(
                self.style.WARNING(
                    "DEBUG がオフのため、デモ用パスワードではログインできません。"
                    " / The demo password is refused while DEBUG is off."
                )
            )
