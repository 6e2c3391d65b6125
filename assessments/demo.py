"""Demo accounts and realistic demo data (北海道, 2003 guideline, FY2025 and FY2026).

Levels are calibrated to what MIC counted (shared domain brief, 「地方公共団体における行政情報化の
推進状況」). MIC asked yes/no (策定済, 導入済); in these rubrics "yes" is the level whose text says the
thing exists — level 2 for most, level 3 where MIC's figure is the fuller state (一人一台パソコン on
II.1.(2)①, 通則条例 in force on II.1.(3)②). Each figure is put on the measure it belongs to (MIC_TARGETS)
and FY2025 is calibrated to it, the figures being from 2004–2010; FY2026 drifts up a little.

A body's answers are correlated: each body has a latent maturity (larger kinds and prefectures higher
on average, KIND_OFFSET, plus its own spread), and a measure's level is the number of the measure's
thresholds that maturity plus a little noise passes. The thresholds are solved (bisection over the
normal distribution, for the bodies the demo draws) so that the expected share at the MIC level is
MIC's rate; the other thresholds are spaced LEVEL_STEP apart. Everything is seeded by body and year,
so the demo is the same on every machine.
"""

import datetime
import functools
import math
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
    DocumentSettings,
    Guideline,
    Measure,
    SurveyRound,
    User,
)
from assessments.registry import load_bodies

GUIDELINE = "egov-2003"
PAST_YEAR = 2025
CURRENT_YEAR = 2026


@dataclass(frozen=True)
class MicFigure:
    label: str
    surveyed: str  # when MIC counted it
    level: int  # the rubric level that means MIC's "yes"
    municipal: float
    prefectural: float


# What MIC counted, on the measure it belongs to (domain brief, "Rates of bodies").
MIC_TARGETS: dict[str, tuple[MicFigure, ...]] = {
    # CIOを任命し又は推進委員会を設置している (level 2)
    "II.1.(1)①": (MicFigure("CIO任命", "2005-04", 2, 0.605, 0.532),),
    # 計画は策定された (level 2)
    "II.1.(1)③": (MicFigure("電子自治体構築計画策定", "2005-04", 2, 0.284, 0.957),),
    # 本庁舎に庁内LAN (level 2); 事務職員一人一台のパソコン (level 3)
    "II.1.(2)①": (
        MicFigure("庁内LAN", "2005-04", 2, 0.988, 1.0),
        MicFigure("1人1台PC", "2005-04", 3, 0.764, 0.979),
    ),
    # LGWANに接続した (level 2)
    "II.1.(2)②": (MicFigure("LGWAN接続", "end FY2003", 2, 1.0, 1.0),),
    # 汎用受付システムを導入 (level 2); 通則条例を施行 (level 3)
    "II.1.(3)②": (
        MicFigure("汎用受付システム導入", "2005-04", 2, 0.204, 0.787),
        MicFigure("オンライン化通則条例", "2005-04", 3, 0.144, 0.851),
    ),
    # 基本方針と対策基準は策定 (level 2)
    "II.3.(1)": (MicFigure("情報セキュリティポリシー策定", "2004-10", 2, 0.808, 1.0),),
    # 条例はある (level 2)
    "II.3.(2)": (MicFigure("個人情報保護条例", "2004-04", 2, 0.820, 1.0),),
    # 研修を実施している (level 2)
    "II.3.(3)": (MicFigure("セキュリティ研修実施", "2010-04", 2, 0.702, 1.0),),
}
# Measures MIC gave no figure for: the share at level 2 or above is a plain guess.
DEFAULT_RATE = (0.45, 0.80)
# Average latent maturity by kind of body (standard deviations of the spread between bodies).
KIND_OFFSET = {
    "prefecture": 1.2,
    "designated_city": 1.2,
    "special_ward": 0.6,
    "core_city": 0.8,
    "city": 0.3,
    "town": -0.15,
    "village": -0.3,
}
BODY_SPREAD = 0.8  # between bodies of one kind
MEASURE_NOISE = 0.6  # between a body's measures: levels within a body are correlated
LEVEL_STEP = 0.9  # latent distance between a measure's successive levels
YEAR_DRIFT = 0.15  # FY2026 against FY2025, in latent units
# Measures that many bodies legitimately mark 該当なし, with the reason they give.
NOT_APPLICABLE = {
    "II.5.(1)": (0.55, "合併の予定がないため"),
    "II.5.(4)": (0.25, "地域文化資料のデジタル化は県の事業で実施しているため"),
}

DEMO_USERS = (
    # username, last name, first name, role, body code
    ("sapporo-staff", "札幌", "花子", User.Role.BODY_STAFF, "011002"),
    ("hakodate-staff", "函館", "太郎", User.Role.BODY_STAFF, "012025"),
    ("hokkaido-staff", "道庁", "三郎", User.Role.BODY_STAFF, "010006"),
    ("hokkaido-reviewer", "北海", "道子", User.Role.PREFECTURE_REVIEWER, "010006"),
    ("aomori-reviewer", "青森", "一郎", User.Role.PREFECTURE_REVIEWER, "020001"),
    ("national-admin", "総務", "次郎", User.Role.NATIONAL_ADMIN, None),
)


@dataclass(frozen=True)
class Draw:
    level: int | None
    not_applicable_reason: str = ""


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _share_above(threshold: float, offsets: tuple[float, ...]) -> float:
    """Expected share of bodies (maturity offset + body spread + noise) above `threshold`."""
    spread = math.hypot(BODY_SPREAD, MEASURE_NOISE)
    return sum(1.0 - _normal_cdf((threshold - o) / spread) for o in offsets) / len(offsets)


def _solve(rate: float, offsets: tuple[float, ...]) -> float:
    """The threshold above which the expected share is `rate` (bisection)."""
    low, high = -10.0, 10.0
    for _ in range(60):
        middle = (low + high) / 2
        if _share_above(middle, offsets) > rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@functools.cache
def thresholds(measure_ref: str, offsets: tuple[float, ...], prefectural: bool) -> tuple:
    """The latent thresholds of levels 1–4 of a measure, for a population of body offsets.

    A figure of 100% (LGWAN) only says every body is at its level or above: the levels above
    are spaced from the plain guess instead of from a threshold at minus infinity.
    """
    default = MicFigure("", "", 2, DEFAULT_RATE[0], DEFAULT_RATE[1])
    figures = MIC_TARGETS.get(measure_ref, (default,))
    rate = {f.level: f.prefectural if prefectural else f.municipal for f in figures}
    fixed = {level: _solve(r, offsets) for level, r in rate.items() if r < 1.0}
    if not fixed:
        fixed = {default.level: _solve(DEFAULT_RATE[prefectural], offsets)}
    anchor_level, anchor = min(fixed.items())
    levels: list[float] = []
    for level in range(1, 5):
        if level in fixed:
            levels.append(fixed[level])
        elif level < anchor_level:
            levels.append(anchor - (anchor_level - level) * LEVEL_STEP)
        else:
            below = max(k for k in fixed if k < level)
            levels.append(fixed[below] + (level - below) * LEVEL_STEP)
    for level, r in rate.items():
        if r >= 1.0:  # everyone is at this level or above
            levels[:level] = [-math.inf] * level
    return tuple(levels)


def body_maturity(body: Body, fiscal_year: int) -> float:
    """A body's latent maturity: its kind's offset plus its own, fixed across years."""
    own = random.Random(f"maturity:{body.code}").gauss(0.0, BODY_SPREAD)
    drift = YEAR_DRIFT * max(0, fiscal_year - PAST_YEAR)
    return KIND_OFFSET.get(body.kind, 0.0) + own + drift


def draw_answer(
    rng: random.Random,
    measure_ref: str,
    *,
    maturity: float,
    population: tuple[float, ...],
    is_prefecture: bool,
) -> Draw:
    """One plausible answer for a body of `maturity`: the thresholds its maturity plus noise
    passes, calibrated for `population` (the kind offsets of the bodies drawn alike)."""
    if measure_ref in NOT_APPLICABLE and not is_prefecture:
        share, reason = NOT_APPLICABLE[measure_ref]
        if rng.random() < share:
            return Draw(None, reason)
    latent = maturity + rng.gauss(0.0, MEASURE_NOISE)
    passed = thresholds(measure_ref, population, is_prefecture)
    return Draw(sum(latent >= t for t in passed))


def population_of(bodies) -> tuple[float, ...]:
    """The kind offsets of a set of bodies (prefectures and municipalities apart)."""
    return tuple(sorted(KIND_OFFSET.get(b.kind, 0.0) for b in bodies))


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
    population: tuple[float, ...],
    **fields,
) -> Answer:
    """An unsaved answer with a level (or 該当なし) drawn as `draw_answer` does."""
    body = assessment.body
    draw = draw_answer(
        rng,
        measure.ref,
        maturity=body_maturity(body, assessment.fiscal_year),
        population=population,
        is_prefecture=body.is_prefecture,
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
    population: tuple[float, ...],
    user: User | None = None,
) -> int:
    """Create answers for `share` of the measures (in order), drawn as above."""
    count = round(len(measures) * share)
    answers = []
    for measure in measures[:count]:
        answer = drawn_answer(assessment, measure, rng, population=population, updated_by=user)
        answer.department = "情報政策課" if rng.random() < 0.6 else "総務課"
        if answer.level is not None:
            answer.target_level = min(4, answer.level + 1)
            answer.target_fiscal_year = assessment.fiscal_year + 2
        add_free_text(answer, assessment, measure)
        answers.append(answer)
    Answer.objects.bulk_create(answers)
    return len(answers)


def _status_for_current_year(body: Body, rng: random.Random) -> str:
    fixed = {
        "011002": Assessment.Status.IN_PROGRESS,
        "012025": Assessment.Status.SUBMITTED,
        "010006": Assessment.Status.SUBMITTED,  # 北海道 itself: for the national administrator
    }
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
    """Create the assessments of 北海道 and its municipalities unless they exist; return how
    many were created. The prefecture's own is reviewed by the national administrator."""
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
        municipalities = list(
            Body.objects.municipalities().filter(prefecture__code="010006").order_by("code")
        )
        prefecture = Body.objects.get(code="010006")
        # Prefectures are drawn against the prefectures' figures (draw_answer), as one of 47.
        populations = {
            False: population_of(municipalities),
            True: population_of(Body.objects.prefectures()),
        }
        for body in [prefecture, *municipalities]:
            population = populations[body.is_prefecture]
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
            if status == Assessment.Status.IN_PROGRESS:
                share = 0.5 if body.code == "011002" else rng.uniform(0.2, 0.9)
                fill_answers(
                    assessment, measures, rng, share=share, population=population, user=staff
                )
            elif status != Assessment.Status.NOT_STARTED:
                fill_answers(assessment, measures, rng, population=population, user=staff)
                AssessmentTransition.objects.bulk_create(
                    history_transitions(
                        assessment,
                        staff=staff,
                        reviewer=admin if body.is_prefecture else reviewer,
                        approval_comment="内容を確認し、承認しました。",
                    )
                )
            created += 1
    return created


def ensure_demo_document_settings() -> None:
    """札幌市's report header, as its staff would set it on 文書の設定 (fictional contact), so that
    the demo shows a configured 鑑; other bodies show the defaults of their kind. A header the
    demo user changed is kept."""
    DocumentSettings.objects.get_or_create(
        body=Body.objects.get(code="011002"),
        defaults={
            "number_pattern": "札デ第{番号}号",
            "addressee": "北海道知事　様",
            "sender": "札幌市長",
            "department": "デジタル戦略推進局 情報政策課",
            "contact_person": "電子 花子",
            "phone": "011-000-0000",
            "email": "joho@example.jp",
        },
    )


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
    ensure_demo_document_settings()
