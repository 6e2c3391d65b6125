"""Demo accounts and realistic demo data (北海道, 2003 guideline, FY2025 and FY2026).

Levels are drawn so that the share of bodies at level 3 or above resembles the national figures
of MIC's surveys (see shared domain brief): e.g. 情報セキュリティポリシー ≈ 81% of municipalities,
汎用受付システム ≈ 20%, CIO ≈ 60%, LGWAN 100%. The drawing is seeded by body and year, so the
demo is the same on every machine.
"""

import datetime
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assessments.catalog import load_catalog
from assessments.models import (
    Answer,
    Assessment,
    AssessmentTransition,
    Body,
    Guideline,
    Measure,
    SurveyRound,
    User,
)
from assessments.registry import load_bodies

GUIDELINE = "egov-2003"
PAST_YEAR = 2025
CURRENT_YEAR = 2026

# Share of municipalities (M) and prefectures (P) at level 3 or above, by 2003 measure ref.
NATIONAL_RATES = {
    "II.1.(1)①": (0.61, 0.53),  # CIO任命 (2005-04)
    "II.1.(1)②": (0.70, 1.00),  # 職員研修
    "II.1.(1)③": (0.28, 0.96),  # 電子自治体構築計画
    "II.1.(2)①": (0.76, 0.98),  # 1人1台PC
    "II.1.(2)②": (1.00, 1.00),  # LGWAN接続
    "II.1.(2)③": (0.99, 1.00),  # 住基ネット
    "II.1.(2)④": (0.30, 0.60),  # 住基カード活用
    "II.1.(2)⑤": (0.45, 0.90),  # 公的個人認証
    "II.1.(3)①": (0.35, 0.70),
    "II.1.(3)②": (0.20, 0.79),  # 汎用受付システム
    "II.1.(3)③": (0.14, 0.85),  # 電子調達・申告・決済 (通則条例 14%)
    "II.1.(3)④": (0.40, 0.90),
    "II.3.(1)": (0.81, 1.00),  # 情報セキュリティポリシー
    "II.3.(2)": (0.82, 1.00),  # 個人情報保護条例
    "II.3.(3)": (0.70, 1.00),  # セキュリティ研修
    "II.5.(3)": (0.30, 0.70),  # 統合型GIS
}
DEFAULT_RATE = (0.45, 0.80)
# Measures that many bodies legitimately mark 該当なし, with the reason they give.
NOT_APPLICABLE = {
    "II.5.(1)": (0.55, "合併の予定がないため"),
    "II.5.(4)": (0.25, "地域文化資料のデジタル化は県の事業で実施しているため"),
}

DEMO_USERS = (
    # username, last name, first name, role, body code
    ("sapporo-staff", "札幌", "花子", User.Role.BODY_STAFF, "011002"),
    ("hakodate-staff", "函館", "太郎", User.Role.BODY_STAFF, "012025"),
    ("hokkaido-reviewer", "北海", "道子", User.Role.PREFECTURE_REVIEWER, "010006"),
    ("aomori-reviewer", "青森", "一郎", User.Role.PREFECTURE_REVIEWER, "020001"),
    ("national-admin", "総務", "次郎", User.Role.NATIONAL_ADMIN, None),
)


@dataclass(frozen=True)
class Draw:
    level: int | None
    not_applicable_reason: str = ""


def draw_answer(
    rng: random.Random, measure_ref: str, *, is_prefecture: bool, year_bonus: float = 0.0
) -> Draw:
    """Draw one plausible answer: level ≥ 3 with the measure's national rate, else 0–2."""
    if measure_ref in NOT_APPLICABLE and not is_prefecture:
        share, reason = NOT_APPLICABLE[measure_ref]
        if rng.random() < share:
            return Draw(None, reason)
    municipal, prefectural = NATIONAL_RATES.get(measure_ref, DEFAULT_RATE)
    rate = min(1.0, (prefectural if is_prefecture else municipal) + year_bonus)
    if rng.random() < rate:
        return Draw(rng.choices((3, 4), weights=(80, 20))[0])
    return Draw(rng.choices((0, 1, 2), weights=(25, 35, 40))[0])


def ensure_demo_users() -> list[User]:
    users = []
    for username, last, first, role, code in DEMO_USERS:
        user, _created = User.objects.get_or_create(username=username)
        user.last_name, user.first_name, user.role = last, first, role
        user.body = Body.objects.get(code=code) if code else None
        user.is_staff = user.is_superuser = role == User.Role.NATIONAL_ADMIN
        user.email = f"{username}@example.jp"
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        users.append(user)
    return users


def drawn_answer(
    assessment: Assessment,
    measure: Measure,
    rng: random.Random,
    *,
    year_bonus: float = 0.0,
    **fields,
) -> Answer:
    """An unsaved answer with a level (or 該当なし) drawn as `draw_answer` does."""
    draw = draw_answer(
        rng, measure.ref, is_prefecture=assessment.body.is_prefecture, year_bonus=year_bonus
    )
    return Answer(
        assessment=assessment,
        measure=measure,
        level=draw.level,
        not_applicable=draw.level is None,
        not_applicable_reason=draw.not_applicable_reason,
        **fields,
    )


def history_transitions(
    assessment: Assessment,
    *,
    staff: User | None = None,
    reviewer: User | None = None,
    approval_comment: str = "",
) -> list[AssessmentTransition]:
    """Unsaved transitions matching the assessment's submitted_at and approved_at."""
    transitions = []
    if assessment.submitted_at:
        transitions.append(
            AssessmentTransition(
                assessment=assessment,
                from_status=Assessment.Status.IN_PROGRESS,
                to_status=Assessment.Status.SUBMITTED,
                by=staff,
                at=assessment.submitted_at,
            )
        )
    if assessment.approved_at:
        transitions.append(
            AssessmentTransition(
                assessment=assessment,
                from_status=Assessment.Status.SUBMITTED,
                to_status=Assessment.Status.APPROVED,
                by=reviewer,
                at=assessment.approved_at,
                comment=approval_comment,
            )
        )
    return transitions


DEMO_NOTES = (
    "庁内の推進委員会で状況を確認し、次年度の予算要求に反映する予定。",
    "一部の部署で先行して運用している。全庁展開の時期は調整中。",
    "近隣市町村との共同化を含めて検討している。",
    "規程は整備済み。運用状況の点検は年1回行っている。",
)
DEMO_PLANS = (
    "要綱を改正し、全庁で運用する。進捗は推進委員会で四半期ごとに確認する。",
    "先行部署の結果を評価し、対象業務を広げる。",
    "都道府県の共同調達に参加して導入費用を抑える。",
)


def add_free_text(answer: Answer, assessment: Assessment, measure: Measure) -> None:
    """Notes, evidence URLs and plans on some answers, as staff write them. Drawn from their
    own generator (seeded by body, year and measure) so the levels' draws are unchanged."""
    rng = random.Random(f"{assessment.body.code}:{assessment.fiscal_year}:{measure.ref}")
    if rng.random() < 0.3:
        answer.note = rng.choice(DEMO_NOTES)
    if rng.random() < 0.25:
        answer.evidence_url = (
            f"https://www.example.jp/{assessment.body.code}/joho/{measure.pk}.html"
        )
    if answer.level is not None and answer.level < 4 and rng.random() < 0.45:
        answer.improvement_plan = rng.choice(DEMO_PLANS)


def fill_answers(
    assessment: Assessment,
    measures: list[Measure],
    rng: random.Random,
    *,
    share: float = 1.0,
    year_bonus: float = 0.0,
    user: User | None = None,
) -> int:
    """Create answers for `share` of the measures (in order), drawn as above."""
    count = round(len(measures) * share)
    answers = []
    for measure in measures[:count]:
        answer = drawn_answer(assessment, measure, rng, year_bonus=year_bonus, updated_by=user)
        answer.department = "情報政策課" if rng.random() < 0.6 else "総務課"
        if answer.level is not None:
            answer.target_level = min(4, answer.level + 1)
            answer.target_fiscal_year = assessment.fiscal_year + 2
        add_free_text(answer, assessment, measure)
        answers.append(answer)
    Answer.objects.bulk_create(answers)
    return len(answers)


def _status_for_current_year(body: Body, rng: random.Random) -> str:
    fixed = {"011002": Assessment.Status.IN_PROGRESS, "012025": Assessment.Status.SUBMITTED}
    if body.code in fixed:
        return fixed[body.code]
    return rng.choices(
        (Assessment.Status.NOT_STARTED, Assessment.Status.IN_PROGRESS, Assessment.Status.SUBMITTED),
        weights=(30, 40, 30),
    )[0]


def fiscal_date(fiscal_year: int, month: int, day: int) -> datetime.datetime:
    """10:00 on month/day of the fiscal year (January–March fall in the following year)."""
    year = fiscal_year if month >= 4 else fiscal_year + 1
    return timezone.make_aware(datetime.datetime(year, month, day, 10, 0))


@transaction.atomic
def build_demo_assessments(users: dict[str, User]) -> int:
    """Create the 北海道 assessments unless they exist; return how many were created."""
    guideline = Guideline.objects.get(code=GUIDELINE)
    measures = list(Measure.objects.filter(guideline=guideline, is_scored=True).order_by("order"))
    admin, reviewer = users["national-admin"], users["hokkaido-reviewer"]
    staff_by_body = {u.body_id: u for u in users.values() if u.is_body_staff}
    created = 0
    for fiscal_year in (PAST_YEAR, CURRENT_YEAR):
        survey_round, _ = SurveyRound.objects.get_or_create(
            guideline=guideline,
            fiscal_year=fiscal_year,
            defaults={"due_on": datetime.date(fiscal_year, 9, 30), "opened_by": admin},
        )
        existing = set(
            Assessment.objects.filter(guideline=guideline, fiscal_year=fiscal_year).values_list(
                "body_id", flat=True
            )
        )
        bodies = Body.objects.municipalities().filter(prefecture__code="010006").order_by("code")
        for body in bodies:
            if body.pk in existing:
                continue
            rng = random.Random(f"{body.code}-{fiscal_year}")
            staff = staff_by_body.get(body.pk)
            if fiscal_year == PAST_YEAR:
                status = rng.choices(
                    (Assessment.Status.APPROVED, Assessment.Status.SUBMITTED), weights=(80, 20)
                )[0].value
            else:
                status = _status_for_current_year(body, rng)
            submitted_at = approved_at = None
            if status in (Assessment.Status.SUBMITTED, Assessment.Status.APPROVED):
                submitted_at = fiscal_date(fiscal_year, 9, rng.randint(1, 29))
            if status == Assessment.Status.APPROVED:
                approved_at = fiscal_date(fiscal_year, 10, rng.randint(1, 31))
            assessment = Assessment.objects.create(
                body=body,
                guideline=guideline,
                fiscal_year=fiscal_year,
                status=status,
                survey_round=survey_round,
                submitted_at=submitted_at,
                approved_at=approved_at,
            )
            bonus = 0.05 if fiscal_year == CURRENT_YEAR else 0.0
            if status == Assessment.Status.IN_PROGRESS:
                share = 0.5 if body.code == "011002" else rng.uniform(0.2, 0.9)
                fill_answers(assessment, measures, rng, share=share, year_bonus=bonus, user=staff)
            elif status != Assessment.Status.NOT_STARTED:
                fill_answers(assessment, measures, rng, year_bonus=bonus, user=staff)
                AssessmentTransition.objects.bulk_create(
                    history_transitions(
                        assessment,
                        staff=staff,
                        reviewer=reviewer,
                        approval_comment="内容を確認し、承認しました。",
                    )
                )
            created += 1
    return created


def setup_demo(stdout=None) -> None:
    """Load the catalog and registry, create the demo users and data. Safe to run again."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message)

    stats = load_catalog()
    say(f"指針: {dict(stats) or '変更なし'}")
    report = load_bodies()
    if not report.ok:
        raise RuntimeError("\n".join(str(e) for e in report.errors))
    say(f"団体: 追加 {report.new}・更新 {report.updated}・変更なし {report.unchanged}")
    users = {u.username: u for u in ensure_demo_users()}
    created = build_demo_assessments(users)
    say(f"デモの自己評価: {created} 件作成")
