from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from assessments import publication, rounds
from assessments.demo import DEMO_USERS, PAST_YEAR, setup_demo
from assessments.models import StatisticsRelease, SurveyRound, User


def publish_past_round() -> str:
    """Close the demo's past round (FY2025) and publish its statistics, once, as MIC does after
    a survey: a fresh start shows release 1 at /statistics/."""
    survey_round = SurveyRound.objects.get(guideline__code="egov-2003", fiscal_year=PAST_YEAR)
    if StatisticsRelease.objects.filter(survey_round=survey_round).exists():
        return "統計: 公表済み"
    admin = User.objects.get(username="national-admin")
    with transaction.atomic():
        if survey_round.closed_at is None:
            rounds.round_close(
                survey_round=survey_round,
                user=admin,
                reason="デモ: 北海道以外の都道府県は調査対象外のまま締め切り",
            )
        version = publication.statistics_publish(
            survey_round=survey_round, user=admin, note="デモデータによる公表"
        )
    return f"統計: {version} を公表"


class Command(BaseCommand):
    help = "デモ環境（指針・全団体・デモ用アカウント・北海道の自己評価）を用意します。再実行しても安全です。"

    def handle(self, *args, **options):
        setup_demo(self.stdout)
        self.stdout.write(publish_past_round())
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
