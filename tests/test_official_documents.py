"""The assessment PDF and the prefecture summary read as official documents (issue 12): a 鑑
with 文書番号, 宛先, 発信者 and 担当 set by the body, 和暦 dates, a 決裁欄 by kind of body, 「案」 on
every page of a draft, the purposes framing the summary, weights, every measure's details, a
running header naming the current section, a Japanese footer; and a summary that ranks results
only and counts 「N団体（x%）」 with 未回答 by 団体区分."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assessments import fiscal_year as fy
from assessments.models import Answer, Assessment, Body, DocumentSettings, Measure
from assessments.models.documents import header_for
from assessments.models.registry import MicCategory
from assessments.reports import context as report_context
from assessments.reports import pdf as reports
from tests.test_reports import LOCMEM_REPORTS, fill, pdf_text, squash


@pytest.fixture(autouse=True)
def report_cache(settings):
    settings.CACHES = LOCMEM_REPORTS
    from django.core.cache import caches

    caches["reports"].clear()


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


@pytest.fixture
def town_result(make_assessment, scored_2003, hokkaido_reviewer):
    """当別町 (013030) FY2025, approved on 2025-10-17, every measure answered, with the town's
    own document settings."""
    assessment = make_assessment("013030", 2025, status=Assessment.Status.APPROVED)
    submitted = timezone.make_aware(datetime.datetime(2025, 9, 17, 10, 0))
    approved = timezone.make_aware(datetime.datetime(2025, 10, 17, 15, 0))
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=submitted, approved_at=approved)
    fill(Assessment.objects.get(pk=assessment.pk), scored_2003)
    DocumentSettings.objects.create(
        body=assessment.body,
        number_pattern="当総第{番号}号",
        addressee="北海道総合政策部長　様",
        sender="当別町長　後藤　正洋",
        department="総務部 企画課 情報政策係",
        contact_person="情報 太郎",
        phone="0133-23-2961",
        email="joho@town.example.jp",
        approval_columns="担当、係長、課長、副町長、町長",
    )
    return Assessment.objects.get(pk=assessment.pk)


def test_a_result_carries_its_header_wareki_dates_and_configured_approval_columns(town_result):
    data = reports.render_assessment_pdf(town_result)
    pages = pages_of(data)
    cover = squash(pages[0])
    assert "当総第" in cover and "号" in cover
    assert "北海道総合政策部長様" in cover and "当別町長後藤正洋" in cover
    assert "総務部企画課情報政策係" in cover and "0133-23-2961" in cover
    # 和暦 first, 西暦 beside it where useful; the guideline's date as 平成15年8月.
    assert "令和7年9月17日（2025年9月17日）" in cover
    assert "令和7年10月17日（2025年10月17日）" in cover
    assert "平成15年8月" in cover and "2003年8月" not in cover
    assert "令和7年度電子自治体自己評価報告書" in cover
    assert f"作成日時{fy.wareki_date(timezone.localdate())}" in cover
    # The 決裁欄 has the town's own columns, in its order (no 部長 in this town).
    header = cover.split("決裁欄")[1]
    assert re.search("担当.*係長.*課長.*副町長.*町長", header)
    assert "部長" not in header.split("町長")[0]
    # A result: no 案 anywhere, no 暫定 score; a Japanese footer on every page.
    assert not any("案" in lines_of(page) for page in pages)
    assert "（案）" not in cover and "暫定" not in cover
    assert all("当別町　電子自治体 自己評価報告書" in page for page in pages[1:])
    assert "egov-assess" not in "".join(pages)


def test_a_draft_says_案_on_every_page_and_its_score_is_provisional(make_assessment, scored_2003):
    draft = make_assessment("011002", 2026, status=Assessment.Status.IN_PROGRESS)
    fill(draft, scored_2003[:12])
    pages = pages_of(reports.render_assessment_pdf(draft))
    assert len(pages) > 5
    assert all("案" in lines_of(page) for page in pages), "a page of the draft lacks 案"
    cover = squash(pages[0])
    assert "（案）令和8年度電子自治体自己評価報告書" in cover
    assert "（暫定）" in cover and "作成中の案であり、結果ではありません" in cover
    # No submission yet: the letter is dated the day it was made, in 和暦.
    assert fy.wareki_date(timezone.localdate()) in cover


def test_default_header_follows_the_kind_of_body(db):
    def header(code):
        return header_for(Body.objects.select_related("prefecture").get(code=code), 2026, None)

    sapporo, town, village, ward, hokkaido = (
        header(code) for code in ("011002", "013030", "013048", "131016", "010006")
    )
    assert sapporo.approval_columns == ["担当", "課長", "部長", "局長", "副市長", "市長"]
    assert town.approval_columns == ["担当", "係長", "課長", "副町長", "町長"]
    assert village.approval_columns[-2:] == ["副村長", "村長"]
    assert ward.approval_columns[-2:] == ["副区長", "区長"]
    assert hokkaido.approval_columns[-2:] == ["副知事", "知事"]
    assert (sapporo.sender, town.sender, ward.sender, hokkaido.sender) == (
        "札幌市長",
        "当別町長",
        "千代田区長",
        "北海道知事",
    )
    assert sapporo.addressee == "北海道知事　様" and hokkaido.addressee == "総務大臣　様"
    assert ward.addressee == "東京都知事　様"
    assert sapporo.number == "" and not sapporo.customised


def test_document_number_pattern_takes_the_year_and_a_blank_for_the_number(db):
    sapporo = Body.objects.get(code="011002")
    saved = DocumentSettings(body=sapporo, number_pattern="札デ{年度}第{番号}号")
    assert header_for(sapporo, 2025, saved).number == "札デ7第　　　号"


def test_measures_show_weight_details_plans_and_the_current_section_in_the_header(
    make_assessment, scored_2003, hokkaido_reviewer
):
    assessment = make_assessment("011002", 2026, status=Assessment.Status.SUBMITTED)
    fill(assessment, scored_2003)
    pages = pages_of(reports.render_assessment_pdf(assessment))
    text = squash("".join(pages))
    # The purposes (I.1) frame the summary; weights beside the measures and in a table.
    summary = squash(next(p for p in pages if "評価の概要" in p and "点数の計算方法" in p))
    assert "I.1.(1)住民の満足度の向上" in summary and "採点しません" in summary
    assert "II.1.(1)①" in summary and "×3" in summary
    assert "重み×3" in text
    # Every measure: level and its text, note, evidence (file and URL), department, plan.
    assert "備考0：庁内で検討を進めている。" in text
    assert "ファイル:計画書3.pdf" in text and "URL:https://www.city.example.jp/plan/3" in text
    assert "目標レベル" in text and "改善計画2：段階的に導入する。" in text
    # The running header names the section in effect at the top of the page: a page that
    # starts inside I.2 and begins II.1 further down is headed by I.2, not II.1.
    guideline_sections = list(
        Measure.objects.filter(guideline=assessment.guideline).scored_sections()
    )
    first, second = guideline_sections[0], guideline_sections[1]
    turning = [
        p
        for p in pages
        if squash(f"{second.ref}{second.title_ja}章の点数") in squash(p)
        and f"{first.ref}." in p.split(second.title_ja)[0]
    ]
    assert turning, "no page holds the end of one section and the start of the next"
    assert all(squash(f"{first.ref}{first.title_ja}") in squash(p) for p in turning)


def test_roadmap_lists_only_plans_above_the_current_level():
    plan = Answer(level=2, target_level=3, improvement_plan="段階的に導入する")
    assert report_context.shows_on_roadmap(plan)
    assert not report_context.shows_on_roadmap(
        Answer(level=3, target_level=3, improvement_plan="現状維持")
    )
    assert not report_context.shows_on_roadmap(Answer(level=1, target_level=3))
    assert not report_context.shows_on_roadmap(
        Answer(level=1, target_level=3, improvement_plan="  ")
    )
    assert report_context.shows_on_roadmap(Answer(level=None, improvement_plan="検討を始める"))


def test_a_change_of_the_document_settings_renders_the_pdf_again(town_result):
    before = reports.report_cache_key(town_result)
    settings = DocumentSettings.objects.get(body=town_result.body)
    settings.approval_columns = "担当、課長、町長"
    settings.save()
    assert reports.report_cache_key(town_result) != before


# --- The settings page ---------------------------------------------------------------------------


def settings_url(code="011002"):
    return reverse("document_settings", kwargs={"body_code": code})


def test_staff_see_the_defaults_and_save_their_header(client, sapporo_staff):
    client.force_login(sapporo_staff)
    response = client.get(settings_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert 'placeholder="担当、課長、部長、局長、副市長、市長"' in page
    assert "札幌市長" in page and "北海道知事　様" in page
    response = client.post(
        settings_url(),
        {
            "number_pattern": "札デ戦第{番号}号",
            "sender": "札幌市長　秋元　克広",
            "department": "デジタル戦略推進局 情報システム課",
            "approval_columns": "担当\n係長\n課長\n部長\n局長\n副市長\n市長",
        },
    )
    assert response.status_code == 302
    saved = DocumentSettings.objects.get(body__code="011002")
    assert saved.updated_by == sapporo_staff
    page = client.get(settings_url()).content.decode()
    assert "札デ戦第　　　号" in page and "係長" in page and "秋元" in page


def test_invalid_settings_keep_every_value_and_name_the_problem(client, sapporo_staff):
    client.force_login(sapporo_staff)
    columns = "、".join(f"職{i}" for i in range(9))
    response = client.post(
        settings_url(),
        {"number_pattern": "札デ第{No}号", "department": "情報政策課", "approval_columns": columns},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "決裁欄は8欄までです（9欄あります）。" in page
    assert "{年度} と {番号} だけです" in page
    assert 'value="情報政策課"' in page and columns in page and "札デ第{No}号" in page
    assert not DocumentSettings.objects.exists()


def test_a_viewer_reads_the_settings_but_may_not_change_them(client, sapporo_viewer):
    client.force_login(sapporo_viewer)
    response = client.get(settings_url())
    assert response.status_code == 200
    assert "disabled" in response.content.decode()
    assert client.post(settings_url(), {"department": "x"}).status_code == 403
    assert not DocumentSettings.objects.exists()


# --- The prefecture summary ----------------------------------------------------------------------


def test_summary_ranks_results_only_and_counts_n_bodies_with_percent_by_category(
    client, hokkaido_reviewer, make_assessment, scored_2003, guideline_2003
):
    sapporo = make_assessment("011002", 2026, status=Assessment.Status.SUBMITTED)
    fill(sapporo, scored_2003, with_text=False)
    otaru = make_assessment("012033", 2026, status=Assessment.Status.APPROVED)
    fill(otaru, scored_2003, with_text=False)
    Answer.objects.filter(assessment=otaru, not_applicable=False).update(level=4)
    # A draft with every answer at 4 would top the list if drafts were ranked.
    hakodate = make_assessment("012025", 2026, status=Assessment.Status.IN_PROGRESS)
    fill(hakodate, scored_2003[:20], with_text=False)
    Answer.objects.filter(assessment=hakodate).update(level=4, not_applicable=False)

    hokkaido = Body.objects.get(code="010006")
    context = report_context.prefecture_summary_context(hokkaido, guideline_2003, 2026)
    assert [(r.rank, r.body.name) for r in context["ranked"]] == [(1, "小樽市"), (2, "札幌市")]
    unranked = {r.body.name: r for r in context["unranked"]}
    assert unranked["函館市"].answered == 20 and unranked["函館市"].rank is None
    assert len(context["unranked"]) == 177

    # 「N団体（x%）」 recomputed from the answers: results only; every other body is 未回答.
    municipalities = list(Body.objects.of_prefecture(hokkaido, itself=False))
    overall = context["tables"][0]
    assert overall.bodies == len(municipalities) == 179
    for measure in scored_2003:
        answers = Answer.objects.filter(
            measure=measure, assessment__in=[sapporo, otaru]
        ).values_list("level", "not_applicable")
        expected = [sum(1 for lv, na in answers if not na and lv == n) for n in range(5)]
        expected.append(sum(1 for _lv, na in answers if na))
        expected.append(179 - sum(expected))
        assert overall.counts(measure) == expected, measure.ref
        assert [float(share) for _n, share in overall.cells(measure)][-1] == round(
            100 * expected[-1] / 179, 1
        )
    by_label = {t.label: t for t in context["tables"][1:]}
    designated = by_label[str(MicCategory.DESIGNATED_CITY.label)]
    assert designated.bodies == 1
    assert designated.counts(scored_2003[0])[-1] == 0  # 札幌市 answered everything
    core = by_label[str(MicCategory.CORE_CITY.label)]
    assert core.bodies == sum(1 for b in municipalities if b.kind == Body.Kind.CORE_CITY)
    assert core.counts(scored_2003[0])[-1] == core.bodies  # 函館市 is a draft: 未回答
    assert sum(t.bodies for t in context["tables"][1:]) == 179

    client.force_login(hokkaido_reviewer)
    url = reverse(
        "prefecture_summary_pdf",
        kwargs={"prefecture_code": "010006", "fiscal_year": 2026, "guideline_code": "egov-2003"},
    )
    text = squash(pdf_text(client.get(url).content))
    assert "北海道内の市区町村の平均" in text and "全国の市区町村の平均" in text
    assert "決裁欄" in text and "副知事" in text and "知事" in text
    assert "作成中・未作成の団体（順位なし）" in text and "函館市012025作成中20/34" in text
    assert "項目ごとの団体数:全団体（179団体）" in text and "（0.6%）" in text
    assert "項目ごとの団体数:政令指定都市（1団体）" in text
    assert "平成15年8月" in text and "egov-assess" not in text
