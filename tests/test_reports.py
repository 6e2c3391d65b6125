"""The assessment PDF and the prefecture summary: content, fonts, safety, caching, queries."""

import io
import re
from unittest import mock
from urllib.parse import unquote

import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse
from pypdf import PdfReader

from assessments import scoring
from assessments.models import Answer, Assessment, ReviewComment
from assessments.reports import context as report_context
from assessments.reports import pdf as reports
from assessments.reports.fetcher import StaticOnlyFetcher
from tests.support import download_pdf, run_pending_renders

LOCMEM_REPORTS = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "reports": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "test-reports",
    },
}


@pytest.fixture(autouse=True)
def report_cache(settings):
    """A private in-memory report cache per test, so no PDF leaks between tests."""
    settings.CACHES = LOCMEM_REPORTS
    from django.core.cache import caches

    caches["reports"].clear()


def fill(assessment, measures, *, user=None, with_text=True) -> None:
    """Answer every measure: levels cycling 0–4, one 該当なし, notes, evidence and plans."""
    answers = []
    for i, measure in enumerate(measures):
        na = i == len(measures) - 1
        answers.append(
            Answer(
                assessment=assessment,
                measure=measure,
                level=None if na else i % 5,
                not_applicable=na,
                not_applicable_reason="合併の予定がないため" if na else "",
                note=f"備考{i}：庁内で検討を進めている。" if with_text else "",
                department="情報政策課",
                evidence_url=f"https://www.city.example.jp/plan/{i}" if with_text else "",
                evidence_name=f"計画書{i}.pdf" if with_text else "",
                target_level=min(4, i % 5 + 1) if not na else None,
                target_fiscal_year=2027 + i % 3 if not na else None,
                improvement_plan=f"改善計画{i}：段階的に導入する。" if not na else "",
                updated_by=user,
            )
        )
    Answer.objects.bulk_create(answers)


@pytest.fixture
def full_assessment(make_assessment, scored_2003, hokkaido_reviewer):
    """札幌市 FY2026, submitted, every measure answered, with a reviewer's comment."""
    assessment = make_assessment("011002", 2026, status=Assessment.Status.SUBMITTED)
    fill(assessment, scored_2003)
    ReviewComment.objects.create(
        assessment=assessment,
        measure=scored_2003[0],
        author=hokkaido_reviewer,
        body="根拠資料の版を確認してください。",
        needs_fix=True,
    )
    return assessment


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squash(text: str) -> str:
    """Text without any whitespace: lines wrap anywhere in Japanese."""
    return re.sub(r"\s+", "", text)


def embedded_fonts(data: bytes) -> dict[str, bool]:
    """Base font name → whether its program is embedded (FontFile/FontFile2/FontFile3)."""
    fonts = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            fonts[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    return fonts


# --- Content -----------------------------------------------------------------------------------


def test_pdf_shows_body_every_measure_and_the_scores(full_assessment, scored_2003):
    data = reports.render_assessment_pdf(full_assessment)
    assert data.startswith(b"%PDF-")
    text = squash(pdf_text(data))
    scored = Assessment.objects.with_scores().get(pk=full_assessment.pk)
    assert "札幌市" in text
    assert "2026年度（令和8年度）" in text
    assert "決裁欄" in text and "副市長" in text and "市長" in text
    assert f"{scored.score_value:.1f}" in text
    missing = [m.ref for m in scored_2003 if squash(m.title_ja) not in text]
    assert not missing, f"titles missing from the PDF: {missing}"
    # Notes, evidence as text, the reviewer's comment, the roadmap and the formula.
    assert "備考0：庁内で検討を進めている。" in text
    assert "計画書3.pdf" in text and "https://www.city.example.jp/plan/3" in text
    assert "根拠資料の版を確認してください。" in text
    assert "改善計画（ロードマップ）" in text and "改善計画2：段階的に導入する。" in text
    assert squash(str(scoring.FORMULA))[:40] in text
    assert "該当なし" in text and "合併の予定がないため" in text


def test_pdf_page_numbers_table_of_contents_and_metadata(full_assessment):
    data = reports.render_assessment_pdf(full_assessment)
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages >= 5
    assert f"1／{pages}頁" in reader.pages[0].extract_text()
    assert f"{pages}／{pages}頁" in reader.pages[-1].extract_text()
    toc = squash(reader.pages[1].extract_text())
    assert "目次" in toc
    # The TOC line of the roadmap ends with the page number it is on (target-counter).
    roadmap_page = next(
        i + 1
        for i, p in enumerate(reader.pages)
        if "改善計画（ロードマップ）" in p.extract_text() and i > 1
    )
    # pypdf extracts the right-floated page numbers first: summary on page 3 … roadmap last.
    numbers = toc.split("目次")[0]
    assert numbers.startswith("3") and numbers.endswith(str(roadmap_page))
    # Tagged PDF/UA with a title and the document language.
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert str(root.get("/Lang")) == "ja"
    assert "札幌市" in reader.metadata.title


def test_pdf_embeds_a_subset_japanese_font_without_tofu(full_assessment):
    data = reports.render_assessment_pdf(full_assessment)
    fonts = embedded_fonts(data)
    assert fonts, "no font in the PDF"
    assert all(fonts.values()), f"fonts not embedded: {fonts}"
    ipa = [name for name in fonts if "IPAex" in name]
    assert ipa, f"no IPAex font: {list(fonts)}"
    # A subset font's name has a six-letter tag: ABCDEF+IPAexGothic.
    assert all(re.match(r"/[A-Z]{6}\+", name) for name in ipa)
    # The Japanese text round-trips (no .notdef boxes, no missing glyphs).
    text = pdf_text(data)
    assert "電子自治体" in text and "情報セキュリティ" in text
    assert "\ufffd" not in text


def test_pdf_in_english_uses_english_labels(full_assessment):
    from django.utils import translation

    with translation.override("en"):
        data = reports.render_assessment_pdf(full_assessment)
    root = PdfReader(io.BytesIO(data)).trailer["/Root"]
    assert str(root.get("/Lang")) == "en"


# --- Safety ------------------------------------------------------------------------------------


def attachment_names(data: bytes) -> list[str]:
    """Files embedded in the PDF: the document's attachments and file-attachment annotations."""
    reader = PdfReader(io.BytesIO(data))
    names = list(reader.attachments)
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/FileAttachment":
                spec = annotation["/FS"].get_object()
                content = spec["/EF"]["/F"].get_object().get_data()
                names.append(content.decode("utf-8", "replace")[:20])
    return names


ATTACK = (
    '<a rel="attachment" href="file:///etc/passwd">passwd</a>'
    '<img src="file:///etc/passwd" alt="x"><img src="http://169.254.169.254/latest">'
    '<link rel="stylesheet" href="file:///etc/passwd">'
)


def test_default_weasyprint_fetcher_would_embed_local_files():
    """Proves the attack is real, so the next test can fail."""
    from weasyprint import HTML

    data = HTML(string=f"<html><body>{ATTACK}</body></html>").write_pdf()
    assert attachment_names(data) and attachment_names(data)[0].startswith("root:")


def test_static_only_fetcher_refuses_files_network_and_data():
    data = reports.html_to_pdf(
        f'<html lang="ja"><head><title>t</title></head><body><p>本文</p>{ATTACK}'
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="d"></body></html>'
    )
    assert attachment_names(data) == []
    assert b"root:" not in data
    fetcher = StaticOnlyFetcher()
    for url in (
        "file:///etc/passwd",
        "https://example.com/x.css",
        "data:text/css,body{}",
        "https://egov-assess.invalid/static/../../etc/passwd",
        "https://egov-assess.invalid/static/css/app.css",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert b"@page" in fetcher.fetch("https://egov-assess.invalid/static/css/pdf.css").read()


def test_user_text_is_escaped_and_fetches_nothing(full_assessment, scored_2003):
    Answer.objects.filter(assessment=full_assessment, measure=scored_2003[0]).update(
        note=ATTACK, evidence_url="file:///etc/passwd"
    )
    data = reports.render_assessment_pdf(full_assessment)
    assert attachment_names(data) == []
    text = pdf_text(data)
    # Shown as the text the user typed, not interpreted as HTML.
    assert squash('<img src="file:///etc/passwd" alt="x">') in squash(text)
    assert "&lt;img src=" in reports.render_assessment_html(full_assessment)
    assert "root:x:0:0" not in text


# --- Views, caching, queries -------------------------------------------------------------------


def test_report_view_downloads_the_pdf(client, sapporo_viewer, full_assessment):
    client.force_login(sapporo_viewer)
    response = download_pdf(client, reverse("report_pdf", kwargs=full_assessment.url_kwargs))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    # Named by code and body name; the non-ASCII name is sent as RFC 6266 filename*.
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert unquote(disposition.split("filename*=utf-8''")[1]) == "011002_札幌市_2026_egov-2003.pdf"
    assert "札幌市" in pdf_text(response.content)


def test_second_download_is_served_from_the_cache_until_the_assessment_changes(
    client, sapporo_staff, full_assessment
):
    client.force_login(sapporo_staff)
    url = reverse("report_pdf", kwargs=full_assessment.url_kwargs)
    with mock.patch.object(
        reports, "render_assessment_pdf", wraps=reports.render_assessment_pdf
    ) as renderer:
        first = download_pdf(client, url).content
        second = client.get(url).content
        assert renderer.call_count == 1
        assert first == second
        Assessment.objects.filter(pk=full_assessment.pk).update(version=F("version") + 1)
        download_pdf(client, url)
        assert renderer.call_count == 2
        # An answer saved by a writer that forgot to bump the version also re-renders.
        answer = Answer.objects.filter(assessment=full_assessment).first()
        answer.note = "更新しました"
        answer.save()
        assert "更新しました" in pdf_text(download_pdf(client, url).content)
        assert renderer.call_count == 3


def test_cache_key_changes_with_language_and_review_comments(full_assessment, scored_2003):
    from django.utils import translation

    key = reports.report_cache_key(full_assessment)
    with translation.override("en"):
        assert reports.report_cache_key(full_assessment) != key
    ReviewComment.objects.create(assessment=full_assessment, measure=scored_2003[1], body="確認")
    assert reports.report_cache_key(full_assessment) != key


def test_report_view_query_count_is_fixed(
    client, sapporo_staff, make_assessment, scored_2003, django_assert_num_queries
):
    """Queries on a miss: session, user, assessment (access), cache key, the render's
    get_or_create (select, savepoint, insert, release); the session is not written. The render (the worker's 19, with the test's
    list of queued renders): claim, the render row, the assessment, cache key; the assessment
    with scores, measures, level descriptions,
    answers, review comments, the notes in force (issue 13: one query for every measure),
    section scores and the comparison averages (2 per scope × 3 scopes), the body's document
    settings; done. Cached: session, user, assessment, cache key. The same for 3
    answers and for 35."""
    client.force_login(sapporo_staff)
    small = make_assessment("011002", 2026)
    fill(small, scored_2003[:3], with_text=False)
    big = make_assessment("011002", 2025, status=Assessment.Status.APPROVED)
    fill(big, scored_2003)
    for measure in scored_2003[:5]:
        ReviewComment.objects.create(assessment=big, measure=measure, body="確認")
    client.get(reverse("home"))  # the session's first page stamps its start (a session write)
    for assessment in (small, big):
        url = reverse("report_pdf", kwargs=assessment.url_kwargs)
        with django_assert_num_queries(8):  # no rendering in the request
            assert client.get(url).status_code == 200
        with django_assert_num_queries(20):
            assert run_pending_renders() == 1
        with django_assert_num_queries(4):  # cached: no rendering queries
            assert client.get(url)["Content-Type"] == "application/pdf"


def test_render_report_command_writes_the_file(full_assessment, tmp_path):
    target = tmp_path / "out" / "report.pdf"
    call_command("render_report", "011002", "2026", "egov-2003", "-o", str(target))
    assert "札幌市" in pdf_text(target.read_bytes())


def test_render_report_command_names_a_missing_assessment(db, tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="012025"):
        call_command("render_report", "012025", "2026", "egov-2003", "-o", str(tmp_path / "x"))


# --- Prefecture summary ------------------------------------------------------------------------


def test_prefecture_summary_ranks_the_bodies(
    client, hokkaido_reviewer, full_assessment, make_assessment, scored_2003
):
    hakodate = make_assessment("012025", 2026, status=Assessment.Status.APPROVED)
    fill(hakodate, scored_2003[:10], with_text=False)
    Answer.objects.filter(assessment=hakodate, not_applicable=False).update(level=4)
    client.force_login(hokkaido_reviewer)
    url = reverse(
        "prefecture_summary_pdf",
        kwargs={"prefecture_code": "010006", "fiscal_year": 2026, "guideline_code": "egov-2003"},
    )
    response = client.get(url)
    assert response.status_code == 200
    text = squash(pdf_text(response.content))
    assert "北海道" in text and "集計報告書" in text
    # 函館市 (all level 4 → 100.0) ranks first, 札幌市 second; 小樽市 has no assessment and
    # is listed apart, unranked.
    assert "1函館市012025承認済み100.0" in text
    assert "2札幌市011002提出済み" in text
    assert "小樽市012033未作成—" in text
    assert "章別の点数（ヒートマップ）" in text and "項目ごとのレベルの分布" in text
    assert embedded_fonts(response.content)


def test_prefecture_summary_query_count_does_not_grow(
    hokkaido_reviewer, make_assessment, scored_2003, django_assert_num_queries, guideline_2003
):
    """Queries: bodies, assessments with scores, sections, section scores, measures, the
    statistics tabulation of the prefecture (bodies by 団体区分, prefecture names, answer counts,
    measures), 2 comparison scopes × 2, the municipalities nationwide and the prefecture's
    document settings — the same for 1 and for 4 assessments."""
    from assessments.models import Body

    hokkaido = Body.objects.get(code="010006")
    first = make_assessment("011002", 2026, status=Assessment.Status.SUBMITTED)
    fill(first, scored_2003, with_text=False)
    with django_assert_num_queries(15):
        report_context.prefecture_summary_context(hokkaido, guideline_2003, 2026)
    for code in ("012025", "012033", "012041"):
        fill(make_assessment(code, 2026, status="submitted"), scored_2003, with_text=False)
    with django_assert_num_queries(15):
        context = report_context.prefecture_summary_context(hokkaido, guideline_2003, 2026)
    assert [r.rank for r in context["rows"] if r.rank] == [1, 1, 1, 1]


def test_summary_is_cached_until_any_assessment_of_the_year_changes(
    client, hokkaido_reviewer, full_assessment, make_assessment, scored_2003
):
    client.force_login(hokkaido_reviewer)
    url = reverse(
        "prefecture_summary_pdf",
        kwargs={"prefecture_code": "010006", "fiscal_year": 2026, "guideline_code": "egov-2003"},
    )
    with mock.patch.object(
        reports, "render_prefecture_summary_pdf", wraps=reports.render_prefecture_summary_pdf
    ) as renderer:
        client.get(url)
        client.get(url)
        assert renderer.call_count == 1
        # A body of another prefecture changes the national average: render again.
        aomori = make_assessment("022012", 2026, status=Assessment.Status.SUBMITTED)
        client.get(url)
        assert renderer.call_count == 2
        fill(aomori, scored_2003[:2], with_text=False)
        client.get(url)
        assert renderer.call_count == 3
        client.get(url)
        assert renderer.call_count == 3
