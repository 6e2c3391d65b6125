"""Issue 13, item 1: guideline files (JSON and the XLSX layout), their import with a dry run, and
editions (a text correction keeps every answer; a change of what is scored becomes a new edition
and an existing assessment, its score and its PDF stay as they were).

Personas: staff of 札幌市 (starts and fills an assessment), the national admin (imports), the
北海道 reviewer (may not import).
"""

import copy
import io
import json
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import load_workbook

from assessments import answers
from assessments.catalog import (
    Decision,
    guideline_export,
    guideline_import,
    guideline_preview,
    load_catalog,
)
from assessments.models import (
    Answer,
    Assessment,
    Body,
    CrosswalkLink,
    Guideline,
    GuidelineImport,
    LevelDescription,
    Measure,
)
from assessments.reports.pdf import render_assessment_html

SAPPORO = "011002"
CODE = "pilot-2025"


def _levels(ref: str) -> dict:
    return {
        str(n): {"ja": f"{ref} のレベル{n}の状態", "en": f"{ref} at level {n}"} for n in range(5)
    }


def _leaf(ref: str, label: str, title: str, **more) -> dict:
    return {
        "label": label,
        "ref": ref,
        "title_ja": title,
        "title_en": f"{title} (en)",
        "guidance_ja": f"{title}の解説",
        "guidance_en": "Guidance",
        "scored": True,
        "weight": 1,
        "levels": _levels(ref),
        "children": [],
        **more,
    }


def sample() -> dict:
    """A third guideline: 2 sections, 4 scored measures, one weighted, one linked from 2003."""
    return {
        "code": CODE,
        "title_ja": "試行指針",
        "title_en": "Pilot guideline",
        "issuer_ja": "総務省",
        "issuer_en": "MIC",
        "issued_on": "2025-04-01",
        "section_depth": 1,
        "measures": [
            {
                "label": "A",
                "ref": "A",
                "title_ja": "基盤",
                "title_en": "Foundations",
                "scored": False,
                "levels": None,
                "children": [
                    _leaf(
                        "A.1",
                        "1",
                        "推進体制",
                        weight=2,
                        weight_rationale_ja="他の取組の前提となるため",
                        weight_rationale_en="Everything else rests on it",
                    ),
                    _leaf("A.2", "2", "人材育成"),
                ],
            },
            {
                "label": "B",
                "ref": "B",
                "title_ja": "サービス",
                "title_en": "Services",
                "scored": False,
                "levels": None,
                "children": [
                    _leaf("B.1", "1", "オンライン申請"),
                    _leaf("B.2", "2", "情報提供", applies_to="prefectures"),
                ],
            },
        ],
        "crosswalk": [
            {
                "from": {"guideline": "egov-2003", "ref": "II.1.(3)②"},
                "to": {"ref": "B.1"},
                "primary": True,
                "note_ja": "汎用受付システムがオンライン申請に対応する。",
                "note_en": "The general intake system became online applications.",
            }
        ],
    }


def as_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def line_of(content: bytes, needle: str) -> int:
    return next(n for n, line in enumerate(content.decode().splitlines(), 1) if needle in line)


def catalog_state() -> list:
    """Everything of the catalog, to prove an import wrote nothing."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Guideline, Measure, LevelDescription, CrosswalkLink)
    ]


def node(data: dict, ref: str) -> dict:
    def walk(nodes):
        for n in nodes:
            yield n
            yield from walk(n["children"])

    return next(n for n in walk(data["measures"]) if n["ref"] == ref)


@pytest.fixture
def pilot(db) -> Guideline:
    _plan, guideline, _stats = guideline_import(name="pilot.json", content=as_json(sample()))
    return guideline


def fill(assessment: Assessment, levels: dict[str, int]) -> None:
    for ref, level in levels.items():
        Answer.objects.create(
            assessment=assessment,
            measure=Measure.objects.get(guideline=assessment.guideline, ref=ref),
            level=level,
        )


# --- A bad row: nothing changes, the row is named -------------------------------------------------


def test_a_bad_json_row_is_named_by_line_and_field_and_nothing_is_written(db):
    data = sample()
    node(data, "A.2")["weight"] = 5
    node(data, "B.1")["levels"].pop("3")
    content = as_json(data)
    before = catalog_state()

    with pytest.raises(ValidationError) as refused:
        guideline_import(name="pilot.json", content=content)

    weight_line = line_of(content, '"weight": 5')
    assert f"pilot.json:{weight_line}: A.2 weight: 1から3の整数です。" in refused.value.messages
    levels_line = line_of(content, '"B.1 のレベル0の状態"') - 2  # the "levels" key of B.1
    assert any(
        m.startswith(f"pilot.json:{levels_line}: B.1 levels.3:") for m in refused.value.messages
    ), refused.value.messages
    assert len(refused.value.messages) == 2
    assert catalog_state() == before


def test_every_rule_names_its_field(db):
    data = sample()
    node(data, "A.1")["weight_rationale_ja"] = ""
    node(data, "A.2")["title_ja"] = "長" * 201
    node(data, "B.1")["label"] = "9"
    node(data, "B.2")["applies_to"] = "cities"
    node(data, "B")["levels"] = None
    node(data, "B")["children"].append(_leaf("B.1", "1", "重複"))
    data["crosswalk"].append({"from": {"guideline": "egov-2003", "ref": "X"}, "to": {"ref": "B.2"}})
    _plan, problems = guideline_preview("pilot.json", as_json(data))
    text = "\n".join(problems)
    for expected in (
        "A.1 weight_rationale_ja:",
        "A.2 title_ja: 200文字以内",
        "B.1 label:",
        "B.2 applies_to:",
        "B.1 ref: 参照番号が重複",
        "X from.ref:",
    ):
        assert expected in text, text


def test_an_oversized_file_is_refused_before_parsing(db):
    _plan, problems = guideline_preview("big.json", b" " * (2 * 1024 * 1024 + 1))
    assert problems == ["big.json: ファイルが大きすぎます（上限 2 MB）。"]


# --- Fixed: loaded, fillable, scored, on the dashboard -------------------------------------------


def test_the_fixed_file_is_loaded_fillable_scored_and_on_the_dashboard(
    client, pilot, sapporo_staff, national_admin
):
    assert (pilot.code, pilot.series, pilot.edition) == (CODE, CODE, 1)
    assert list(pilot.measures.order_by("order").values_list("ref", "section__ref")) == [
        ("A", "A"),
        ("A.1", "A"),
        ("A.2", "A"),
        ("B", "B"),
        ("B.1", "B"),
        ("B.2", "B"),
    ]
    link = CrosswalkLink.objects.get(target__guideline=pilot)
    assert (link.source.ref, link.target.ref, link.primary) == ("II.1.(3)②", "B.1", True)

    client.force_login(sapporo_staff)
    response = client.post(reverse("assessment_start"), {"guideline": CODE, "prefill": "none"})
    assessment = Assessment.objects.get(body__code=SAPPORO, guideline=pilot)
    assert response.status_code == 302
    section = reverse("assessment_section", kwargs={**assessment.url_kwargs, "section_ref": "A"})
    html = client.get(section).content.decode()
    assert "推進体制" in html and "A.1 のレベル4の状態" in html
    fill(assessment, {"A.1": 4, "A.2": 2, "B.1": 0})
    scored = Assessment.objects.with_scores().get(pk=assessment.pk)
    # 札幌市 answers 3 (B.2 is the prefectures'): (4×2 + 2 + 0) / (4×2 + 4 + 4) = 10 / 16.
    assert (scored.answered_count, scored.to_answer_count) == (3, 3)
    assert scored.score.text == "62.5"

    client.force_login(national_admin)
    response = client.get(reverse("dashboard"), {"fiscal_year": 2026, "guideline": CODE})
    rows = {r.assessment.body.code: r.assessment for r in response.context["rows"]}
    assert rows[SAPPORO].pk == assessment.pk
    assert "62.5" in response.content.decode()


def test_loading_the_same_file_again_changes_nothing(pilot):
    plan, problems = guideline_preview("pilot.json", as_json(sample()))
    assert problems == [] and plan is not None
    assert (plan.decision, plan.changes) == (Decision.UNCHANGED, [])
    before = catalog_state()
    _plan, _guideline, stats = guideline_import(name="pilot.json", content=as_json(sample()))
    assert stats == Counter()
    assert catalog_state() == before


def test_the_shipped_fixtures_go_the_same_way_and_stay_idempotent(db):
    assert load_catalog() == Counter()
    assert set(Guideline.objects.values_list("code", "series", "edition")) == {
        ("egov-2000", "egov-2000", 1),
        ("egov-2003", "egov-2003", 1),
    }


# --- Text corrections and new editions --------------------------------------------------------------


@pytest.fixture
def answered(pilot, make_assessment) -> Assessment:
    assessment = make_assessment(body_code=SAPPORO, guideline=pilot, status="submitted")
    fill(assessment, {"A.1": 4, "A.2": 2, "B.1": 1})
    return assessment


def answer_rows(assessment: Assessment) -> list:
    return list(
        Answer.objects.filter(assessment=assessment)
        .order_by("pk")
        .values_list("pk", "measure_id", "level")
    )


def test_a_text_correction_updates_the_edition_and_keeps_every_answer(answered, pilot):
    rows = answer_rows(answered)
    data = sample()
    node(data, "A.1")["title_en"] = "Organisation (corrected)"
    node(data, "B.1")["levels"]["2"]["ja"] = "一部の手続をオンラインで受け付けている"
    plan, _problems = guideline_preview("pilot.json", as_json(data))
    assert plan is not None and plan.decision == Decision.IN_PLACE
    assert {(c.ref, c.field, c.kind) for c in plan.changes} == {
        ("A.1", "title_en", "text"),
        ("B.1", "levels.2", "text"),
    }

    _plan, guideline, stats = guideline_import(name="pilot.json", content=as_json(data))

    assert guideline.pk == pilot.pk and Guideline.objects.filter(series=CODE).count() == 1
    assert stats == Counter({"measure_updated": 1, "level_updated": 1})
    assert answer_rows(answered) == rows
    measure = Measure.objects.get(guideline=pilot, ref="A.1")
    assert measure.title_en == "Organisation (corrected)"


def test_a_scoring_change_becomes_edition_2_and_the_assessment_is_unchanged(
    answered, pilot, sapporo_staff, body
):
    before_score = Assessment.objects.with_scores().get(pk=answered.pk).score.text
    before_html = render_assessment_html(answered)
    rows = answer_rows(answered)
    data = sample()
    node(data, "A.2")["weight"] = 3
    node(data, "A.2")["weight_rationale_ja"] = "人材がすべての前提となるため"
    node(data, "A.2")["weight_rationale_en"] = "People come first"
    node(data, "B")["children"].append(_leaf("B.3", "3", "データ利活用"))

    plan, _problems = guideline_preview("pilot.json", as_json(data))
    assert plan is not None and plan.decision == Decision.NEW_EDITION and plan.edition == 2
    _plan, edition_2, _stats = guideline_import(name="pilot.json", content=as_json(data))

    assert (edition_2.code, edition_2.series, edition_2.edition) == (f"{CODE}-e2", CODE, 2)
    assert edition_2.title == "試行指針（第2版）"
    answered.refresh_from_db()
    assert answered.guideline_id == pilot.pk
    assert answer_rows(answered) == rows
    assert Assessment.objects.with_scores().get(pk=answered.pk).score.text == before_score
    assert render_assessment_html(answered) == before_html
    assert Measure.objects.get(guideline=pilot, ref="A.2").weight == 1
    assert not Measure.objects.filter(guideline=pilot, ref="B.3").exists()
    assert Measure.objects.get(guideline=edition_2, ref="A.2").weight == 3
    assert LevelDescription.objects.filter(measure__guideline=edition_2).count() == 25
    # The crosswalk link into B.1 was made for the new edition too (the file lists it).
    assert CrosswalkLink.objects.filter(target__guideline=edition_2, target__ref="B.1").exists()
    # Something new starts on the latest edition only; the old one stays in the lists.
    assert list(Guideline.objects.latest_editions().filter(series=CODE)) == [edition_2]
    started = answers.assessment_start(
        body=body(SAPPORO), guideline=edition_2, fiscal_year=2027, user=sapporo_staff
    )
    assert started.guideline == edition_2
    assert Assessment.objects.with_scores().get(pk=started.pk).to_answer_count == 4


def test_export_then_import_changes_nothing(pilot):
    content = guideline_export(pilot)
    plan, problems = guideline_preview("pilot.xlsx", content)
    assert problems == [] and plan is not None
    assert plan.decision == Decision.UNCHANGED, plan.changes


def test_the_shipped_guideline_round_trips_through_xlsx(guideline_2003):
    plan, problems = guideline_preview("egov-2003.xlsx", guideline_export(guideline_2003))
    assert problems == [] and plan is not None and plan.changes == []


def test_a_bad_xlsx_row_is_named_by_sheet_row_and_column(pilot):
    workbook = load_workbook(io.BytesIO(guideline_export(pilot)))
    sheet = workbook["measures"]
    header = [c.value for c in sheet[1]]
    weight = header.index("weight") + 1
    sheet.cell(row=4, column=weight, value=7)  # row 4: A.2
    out = io.BytesIO()
    workbook.save(out)
    before = catalog_state()
    with pytest.raises(ValidationError) as refused:
        guideline_import(name="pilot.xlsx", content=out.getvalue())
    assert refused.value.messages == [
        "pilot.xlsx:シート measures 4行目 I列: A.2 weight: 1から3の整数です。"
    ]
    assert catalog_state() == before


def test_exported_text_is_never_a_formula(pilot):
    Measure.objects.filter(guideline=pilot, ref="A.2").update(guidance_ja="=HYPERLINK(1)")
    workbook = load_workbook(io.BytesIO(guideline_export(pilot)))
    cells = [c for row in workbook["measures"].iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    plan, _problems = guideline_preview("pilot.xlsx", guideline_export(pilot))
    assert plan is not None and plan.changes == []  # read back as written
    # A formula typed into the sheet is refused, not imported as text.
    workbook["measures"]["F3"] = "=1+1"
    out = io.BytesIO()
    workbook.save(out)
    _plan, problems = guideline_preview("pilot.xlsx", out.getvalue())
    assert problems == [
        "pilot.xlsx:シート measures 3行目 F列: 数式は使えません（値を入力してください）。"
    ]


# --- The command --------------------------------------------------------------------------------------


def test_the_commands_dry_run_prints_the_diff_and_writes_nothing(pilot, answered, tmp_path, capsys):
    data = sample()
    node(data, "B.2")["applies_to"] = "all"
    path = tmp_path / "pilot.json"
    path.write_bytes(as_json(data))
    before = catalog_state()
    call_command("import_guideline", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "~ [採点] measure B.2 applies_to" in out
    assert "new_edition" in out and "何も書き込んでいません" in out
    assert catalog_state() == before

    call_command("import_guideline", str(path))
    assert Guideline.objects.filter(series=CODE).count() == 2


def test_the_command_names_every_error(db, tmp_path, capsys):
    data = copy.deepcopy(sample())
    node(data, "A.1")["scored"] = "yes"
    path = tmp_path / "pilot.json"
    path.write_bytes(as_json(data))
    with pytest.raises(CommandError, match="1 件の誤り"):
        call_command("import_guideline", str(path))
    assert "A.1 scored: true か false です。" in capsys.readouterr().err
    assert not Guideline.objects.filter(series=CODE).exists()


def test_export_command_writes_the_layout(pilot, tmp_path):
    path = tmp_path / "pilot.xlsx"
    call_command("export_guideline", CODE, str(path))
    assert load_workbook(path).sheetnames == ["guideline", "measures", "notes", "crosswalk"]


def test_the_prefecture_only_measure_counts_for_prefectures(pilot, make_assessment):
    hokkaido = make_assessment(body_code="010006", guideline=pilot)
    assert Body.objects.get(code="010006").is_prefecture
    assert Assessment.objects.with_scores().get(pk=hokkaido.pk).to_answer_count == 4
    assert GuidelineImport.objects.count() == 0  # the service alone keeps no upload record


# --- The national administrator's page ---------------------------------------------------------------


def _upload(client, name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("guideline_imports"), {"file": SimpleUploadedFile(name, content)})


def test_the_page_previews_then_imports_on_confirmation(client, national_admin):
    client.force_login(national_admin)
    assert "指針の取込" in client.get(reverse("dashboard")).content.decode()  # where it is found
    before = catalog_state()

    response = _upload(client, "pilot.json", as_json(sample()))

    record = GuidelineImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("guideline_import_preview", kwargs={"pk": record.pk})
    assert (record.uploaded_by, record.status, bytes(record.content)) == (
        national_admin,
        GuidelineImport.Status.PREVIEWED,
        as_json(sample()),
    )
    html = client.get(response.url).content.decode()
    assert "新しい指針として第1版を作成します。" in html and "追加 6 件" in html
    assert "取り込む" in html
    assert catalog_state() == before  # the preview wrote nothing

    confirm = reverse("guideline_import_confirm", kwargs={"pk": record.pk})
    response = client.post(confirm)
    assert response.status_code == 302
    record.refresh_from_db()
    guideline = Guideline.objects.get(code=CODE)
    assert (record.status, record.guideline) == (GuidelineImport.Status.IMPORTED, guideline)
    assert guideline.measures.count() == 6
    assert "試行指針" in client.get(reverse("guideline_imports")).content.decode()
    # A second confirmation imports nothing again.
    assert client.post(confirm).status_code == 400


def test_the_page_names_the_bad_row_and_imports_nothing(client, national_admin):
    client.force_login(national_admin)
    data = sample()
    node(data, "A.2")["title_ja"] = ""
    content = as_json(data)
    response = client.get(_upload(client, "pilot.json", content).url)
    html = response.content.decode()
    line = line_of(content, '"title_ja": ""')
    assert f"pilot.json:{line}: A.2 title_ja: 必須です。" in html
    assert "取り込めません" in html and ">取り込む<" not in html
    assert GuidelineImport.objects.get().status == GuidelineImport.Status.REFUSED
    assert not Guideline.objects.filter(series=CODE).exists()


def test_the_page_shows_a_new_edition_and_the_export_downloads(client, national_admin, answered):
    client.force_login(national_admin)
    data = sample()
    node(data, "B.1")["scored"] = False
    node(data, "B.1")["levels"] = None
    html = client.get(_upload(client, "pilot.json", as_json(data)).url).content.decode()
    assert "新しい版を作成します" in html and "（第2版）" in html
    export = client.get(reverse("guideline_export_xlsx", kwargs={"guideline_code": CODE}))
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="pilot-2025.xlsx"'


def test_others_may_not_import(client, hokkaido_reviewer, sapporo_staff):
    for user in (hokkaido_reviewer, sapporo_staff):
        client.force_login(user)
        assert client.get(reverse("guideline_imports")).status_code == 403
        assert _upload(client, "pilot.json", as_json(sample())).status_code == 403
    assert not GuidelineImport.objects.exists()


def test_a_new_edition_without_a_crosswalk_list_keeps_the_links(answered, pilot):
    data = sample()
    del data["crosswalk"]
    node(data, "A.1")["applies_to"] = "municipalities"
    _plan, edition_2, _stats = guideline_import(name="pilot.json", content=as_json(data))
    assert edition_2.edition == 2
    copied = CrosswalkLink.objects.get(target__guideline=edition_2)
    kept = CrosswalkLink.objects.get(target__guideline=pilot)
    assert (copied.source_id, copied.target.ref, copied.primary) == (kept.source_id, "B.1", True)


def test_the_start_form_offers_the_latest_edition_only(
    answered, pilot, client, sapporo_staff, hakodate_staff
):
    data = sample()
    node(data, "A.2")["scored"] = False
    node(data, "A.2")["levels"] = None
    _plan, edition_2, _stats = guideline_import(name="pilot.json", content=as_json(data))
    # 函館市 has not started the pilot guideline: it is offered in its latest edition only.
    client.force_login(hakodate_staff)
    html = client.get(reverse("home")).content.decode()
    assert f'value="{edition_2.code}"' in html and "試行指針（第2版）" in html
    assert f'value="{CODE}"' not in html
    # 札幌市 started edition 1 this year: the series is not offered again.
    client.force_login(sapporo_staff)
    html = client.get(reverse("home")).content.decode()
    assert f'value="{edition_2.code}"' not in html and f'value="{CODE}"' not in html


def test_the_page_refuses_an_oversized_upload(client, national_admin):
    client.force_login(national_admin)
    response = _upload(client, "big.json", b" " * (2 * 1024 * 1024 + 1))
    assert response.status_code == 400
    assert "ファイルが大きすぎます（上限 2 MB）。" in response.content.decode()
    assert not GuidelineImport.objects.exists()


def test_the_pages_query_counts(client, national_admin, pilot, django_assert_num_queries):
    client.force_login(national_admin)
    record = GuidelineImport.objects.create(
        uploaded_by=national_admin, filename="pilot.json", content=as_json(sample()), sha256="x"
    )
    list_url = reverse("guideline_imports")
    preview_url = reverse("guideline_import_preview", kwargs={"pk": record.pk})
    client.get(list_url)  # the session and user are read once, then cached per request
    # session, user, guidelines, imports (with uploader and guideline)
    with django_assert_num_queries(4):
        assert client.get(list_url).status_code == 200
    # session, user, the upload; the plan: crosswalk series (1), latest edition, its measures
    # with parents, their level texts and notes (3), its links; nothing more per measure
    with django_assert_num_queries(10):
        assert client.get(preview_url).status_code == 200


def test_a_round_opened_on_edition_1_keeps_its_assessments_there(
    pilot, client, sapporo_staff, make_assessment
):
    """A round made 札幌市's assessment (not started) on edition 1; edition 2 is loaded since."""
    import datetime

    from assessments.models import SurveyRound

    survey_round = SurveyRound.objects.create(
        guideline=pilot, fiscal_year=2026, due_on=datetime.date(2026, 9, 30)
    )
    made = make_assessment(body_code=SAPPORO, guideline=pilot, status="not_started")
    Assessment.objects.filter(pk=made.pk).update(survey_round=survey_round)
    data = sample()
    node(data, "A.1")["weight"] = 1
    _plan, edition_2, _stats = guideline_import(name="pilot.json", content=as_json(data))
    assert edition_2.edition == 2  # the round uses edition 1

    client.force_login(sapporo_staff)
    client.post(reverse("assessment_start"), {"guideline": edition_2.code, "prefill": "none"})

    made.refresh_from_db()
    assert made.status == Assessment.Status.IN_PROGRESS and made.guideline == pilot
    assert not Assessment.objects.filter(guideline=edition_2).exists()


def test_the_admin_shows_the_catalog_read_only(client, national_admin, pilot):
    """No edit or row-wise import in the Django admin bypasses the file check and the edition
    rule: the catalog there is read and exported only."""
    national_admin.is_staff = national_admin.is_superuser = True
    national_admin.save()
    client.force_login(national_admin)
    measure = Measure.objects.filter(guideline=pilot, is_scored=True).first()
    change = reverse("admin:assessments_measure_change", args=[measure.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"title_ja": "変更"}).status_code == 403
    assert client.get(reverse("admin:assessments_guideline_add")).status_code == 403
    measure.refresh_from_db()
    assert measure.title_ja != "変更"
    changelist = client.get(reverse("admin:assessments_guideline_changelist")).content.decode()
    assert "/import/" not in changelist and "/export/" in changelist
