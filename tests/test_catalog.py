"""The guideline catalog: complete, exact, idempotent, and safe to correct."""

import json
import shutil
from collections import Counter

import pytest

from assessments.catalog import CATALOG_DIR, load_catalog
from assessments.models import Answer, CrosswalkLink, Guideline, LevelDescription, Measure

# Every numbered heading of the source text (shared/seeds), transcribed with its exact title.
EGOV_2003 = [
    ("I", "電子自治体構築の基本的考え方"),
    ("I.1", "電子自治体構築の目的"),
    ("I.1.(1)", "住民の満足度の向上"),
    ("I.1.(2)", "簡素で効率的な行政運営の実現"),
    ("I.1.(3)", "地域の活性化・地域IT産業の振興"),
    ("I.2", "電子自治体構築の基本的な方向"),
    ("I.2.(1)", "電子自治体構築のグランドデザインの明確化"),
    ("I.2.(2)", "利用者の視点に立った電子自治体の構築"),
    ("I.2.(2)①", "利用者の視点に立った住民本位の行政運営への改革"),
    ("I.2.(2)②", "住民等利用者への周知・説明の強化"),
    ("I.2.(3)", "情報セキュリティ対策と個人情報保護の徹底"),
    ("I.2.(4)", "電子自治体ネットワークの構築のための連携・協力の推進"),
    ("I.2.(5)", "外部委託(アウトソーシング)等民間活力の積極的な活用"),
    ("I.2.(6)", "住民と行政のコミュニケーション及び協働(コラボレーション)の拡大"),
    ("I.2.(7)", "オンラインサービスの普遍的な利用環境の整備(デジタルデバイド対策の推進)"),
    ("II", "地方公共団体における当面の重要課題と取組みの方向性"),
    ("II.1", "電子自治体の基盤整備と行政手続オンライン化等の推進"),
    ("II.1.(1)", "電子自治体の構築を推進するための体制の整備等"),
    ("II.1.(1)①", "CIO(最高情報統括責任者)を中心とする全庁的な推進体制の整備"),
    ("II.1.(1)②", "職員の情報リテラシーの向上及びIT専門人材の育成・確保"),
    ("II.1.(1)③", "電子自治体構築計画の策定"),
    ("II.1.(2)", "ネットワーク基盤及び認証基盤の整備"),
    ("II.1.(2)①", "庁内LAN及び一人一台パソコンの整備"),
    ("II.1.(2)②", "総合行政ネットワーク(LGWAN)の構築及び利用の推進"),
    ("II.1.(2)③", "住民基本台帳ネットワークシステムの構築及び運用"),
    ("II.1.(2)④", "住民基本台帳カードの積極的な活用"),
    ("II.1.(2)⑤", "公的個人認証基盤の整備"),
    ("II.1.(3)", "行政手続のオンライン化の推進"),
    ("II.1.(3)①", "行政手続の簡素化・合理化の徹底"),
    ("II.1.(3)②", "申請・届出等手続に関する汎用受付システムの構築"),
    ("II.1.(3)③", "電子調達、電子申告、電子決済、電子投票の導入に向けた取組み"),
    ("II.1.(3)④", "住民等利用者の視点に立った電子自治体窓口(ポータルサイト)の実現"),
    ("II.1.(4)", "住民と行政のコミュニケーションの拡大"),
    ("II.1.(5)", "内部管理業務の電子化の推進"),
    ("II.2", "共同アウトソーシング・電子自治体推進戦略の推進"),
    ("II.2.(1)", "電子自治体推進上の課題"),
    ("II.2.(2)", "今後の取組み"),
    ("II.3", "情報セキュリティ対策と個人情報保護の徹底"),
    ("II.3.(1)", "情報セキュリティポリシーの策定・運用と情報セキュリティ監査の推進"),
    ("II.3.(2)", "個人情報保護法制を踏まえた個人情報保護条例の制定または見直し"),
    ("II.3.(3)", "情報セキュリティ研修の充実・強化"),
    ("II.4", "情報リテラシー向上とデジタルデバイド対策等"),
    ("II.4.(1)", "地域住民の情報リテラシーの向上等"),
    ("II.4.(2)", "高齢者、障害者、外国人等のための情報バリアフリー環境への配慮"),
    ("II.4.(3)", "電子自治体サービスへのマルチアクセス環境の整備"),
    ("II.4.(4)", "インターネット利用環境の整備による地域の情報格差の是正"),
    ("II.5", "その他の重要課題"),
    ("II.5.(1)", "電子自治体の構築を見据えた市町村合併への対応"),
    ("II.5.(2)", "情報システムの調達の適正化"),
    ("II.5.(3)", "統合型GIS(統合型地理情報システム)の整備"),
    ("II.5.(4)", "地域文化デジタル化事業の推進"),
]

EGOV_2000 = [
    ("1", "基本的な考え方"),
    ("1.1", "質の高い行政サービスの提供"),
    ("1.2", "社会・経済活動の活性化"),
    ("1.3", "行政の簡素・効率化及び透明化"),
    ("2", "今後の課題と基本的方向"),
    ("2.1", "ネットワークを活用した行政の簡素・効率化及び住民の利便性の向上"),
    ("2.1.1", "行政手続のオンライン化の推進"),
    ("2.1.2", "文書管理システムの導入による情報公開の推進"),
    ("2.1.3", "情報の積極的提供"),
    ("2.1.4", "情報検索システム(クリアリングシステム)の整備"),
    ("2.2", "高度・多様化する住民ニーズの対応"),
    ("2.2.1", "各行政分野における行政の高度化の推進"),
    ("2.2.2", "情報化を支える職員及び住民の情報リテラシーの向上"),
    ("2.3", "地域における情報基盤の整備"),
    ("2.3.1", "情報通信基盤の整備"),
    ("2.3.2", "情報通信拠点施設の整備"),
    ("3", "早急に取り組むべき事項"),
    ("3.1", "行政におけるネットワーク化の推進"),
    ("3.2", "申請・届出等手続のオンライン化の推進"),
    ("3.3", "住民基本台帳ネットワークシステムの整備促進"),
    ("3.4", "消防防災分野における情報通信の高度化"),
    ("3.5", "統合型の地理情報システムの整備"),
    ("3.6", "デジタル・ミュージアム構想の推進"),
    ("3.7", "歳入・歳出手続、税の申告手続等の電子化"),
    ("3.8", "電子機器利用による選挙システムの検討"),
    ("3.9", "推進体制の整備"),
    ("4", "コンピュータ・セキュリティ及び個人情報保護"),
    ("4.1", "コンピュータ・セキュリティ対策"),
    ("4.2", "個人情報保護対策"),
    ("5", "情報化施策を推進する上での留意点"),
    ("5.1", "総合的な推進計画の策定"),
    ("5.2", "推進状況のフォローアップ等"),
    ("5.3", "国、都道府県及び市町村間の緊密な連携"),
    ("5.4", "都道府県の役割"),
    ("5.5", "知的財産権"),
    ("5.6", "労働衛生対策"),
]


@pytest.mark.parametrize(("code", "outline"), [("egov-2003", EGOV_2003), ("egov-2000", EGOV_2000)])
def test_every_numbered_heading_is_present_with_its_exact_title(db, code, outline):
    stored = dict(Measure.objects.filter(guideline__code=code).values_list("ref", "title_ja"))
    assert stored == dict(outline)


def test_labels_are_kept_as_the_guideline_writes_them(db):
    measure = Measure.objects.get(guideline__code="egov-2003", ref="II.1.(2)②")
    assert measure.label == "②"
    assert measure.title_ja == "総合行政ネットワーク(LGWAN)の構築及び利用の推進"
    assert [measure.parent.label, measure.parent.parent.label, measure.section.ref] == [
        "(2)",
        "1",
        "II.1",
    ]


def test_guidelines_carry_issuer_and_date(db):
    g2003 = Guideline.objects.get(code="egov-2003")
    g2000 = Guideline.objects.get(code="egov-2000")
    assert g2003.title_ja == "電子自治体推進指針" and g2003.issued_on.year == 2003
    assert g2000.title_ja == "IT革命に対応した地方公共団体における情報化施策等の推進に関する指針"
    assert g2000.issued_on.isoformat() == "2000-08-28"


def test_scored_measures_are_the_actionable_leaves(db):
    g2003 = Measure.objects.filter(guideline__code="egov-2003")
    # 35 leaves less II.2.(1) 電子自治体推進上の課題, which frames II.2 like I.1 (issue 13).
    assert g2003.filter(is_scored=True).count() == 34
    assert not g2003.filter(ref__startswith="I.1", is_scored=True).exists()  # purposes
    assert not g2003.filter(ref="II.2.(1)", is_scored=True).exists()
    assert not g2003.filter(is_scored=True, children__isnull=False).exists()
    # 28 leaves less the purposes 1.1–1.3 of 基本的な考え方.
    assert Measure.objects.filter(guideline__code="egov-2000", is_scored=True).count() == 25


def test_every_scored_measure_describes_each_level_in_its_own_words(db):
    scored = Measure.objects.filter(is_scored=True)
    descriptions = LevelDescription.objects.filter(measure__in=scored)
    per_measure = Counter(descriptions.values_list("measure_id", flat=True))
    assert set(per_measure.values()) == {5}
    assert len(per_measure) == scored.count()
    for language in ("description_ja", "description_en"):
        texts = list(descriptions.values_list(language, flat=True))
        assert all(t.strip() for t in texts)
        duplicated = [t for t, n in Counter(texts).items() if n > 1]
        assert duplicated == [], f"{language} repeated across levels or measures"


def test_crosswalk_links_corresponding_scored_measures(db):
    pairs = set(CrosswalkLink.objects.values_list("source__ref", "target__ref"))
    assert ("3.5", "II.5.(3)") in pairs  # 統合型GIS
    assert ("3.3", "II.1.(2)③") in pairs  # 住基ネット
    # A purpose of 2000 (1.1–1.3, unscored) may still point at where it went in 2003, for the
    # comparison; it is never primary and carries nothing over (it has no level).
    assert not CrosswalkLink.objects.filter(source__is_scored=False, primary=True).exists()
    assert set(
        CrosswalkLink.objects.filter(source__is_scored=False).values_list("source__ref", flat=True)
    ) <= {"1.1", "1.2", "1.3"}
    assert not CrosswalkLink.objects.filter(target__is_scored=False).exists()
    assert not CrosswalkLink.objects.exclude(source__guideline__code="egov-2000").exists()


def test_loading_the_catalog_twice_changes_nothing(db):
    before = list(Measure.objects.order_by("pk").values())
    assert load_catalog() == Counter()
    assert list(Measure.objects.order_by("pk").values()) == before


def test_a_corrected_title_updates_the_measure_and_keeps_every_answer(
    db, tmp_path, make_assessment
):
    measure = Measure.objects.get(guideline__code="egov-2003", ref="II.5.(3)")
    assessment = make_assessment()
    answer = Answer.objects.create(assessment=assessment, measure=measure, level=3, note="共用")
    directory = tmp_path / "guidelines"
    shutil.copytree(CATALOG_DIR, directory)
    path = directory / "egov-2003.json"
    data = json.loads(path.read_text(encoding="utf-8"))

    def retitle(nodes):
        for node in nodes:
            if node["ref"] == "II.5.(3)":
                node["title_en"] = "Integrated GIS (corrected)"
            retitle(node["children"])

    retitle(data["measures"])
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    stats = load_catalog(directory)

    assert stats == Counter({"measure_updated": 1})
    measure.refresh_from_db()
    answer.refresh_from_db()
    assert measure.title_en == "Integrated GIS (corrected)"
    assert (answer.measure_id, answer.level, answer.note) == (measure.pk, 3, "共用")
