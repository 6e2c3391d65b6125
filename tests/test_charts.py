"""Server-side SVG charts: well-formed, labelled for assistive technology, text escaped."""

import xml.etree.ElementTree as ET

from assessments.reports import charts

NS = "{http://www.w3.org/2000/svg}"


def parse(svg):
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img"
    assert root.find(f"{NS}title").text
    return root


def test_radar_chart_draws_an_unanswered_section_as_a_gap_and_describes_the_values():
    svg = charts.radar_chart(
        ["体制", "基盤", "手続", "安全"],
        [("札幌市", [75, 50, None, 100]), ("全国", [60, 55, 40, 80])],
        title="章別",
        unanswered_label="線の切れた軸は未回答",
    )
    root = parse(svg)
    outlines = [p for p in root.iter(f"{NS}polygon") if p.find(f"{NS}title") is not None]
    # 全国 is a closed outline; 札幌市 is broken at 手続: two segments (体制–基盤, 安全–体制),
    # and no vertex at the centre.
    assert [p.find(f"{NS}title").text for p in outlines] == ["全国"]
    segments = [line for line in root.iter(f"{NS}line") if line.find(f"{NS}title") is not None]
    assert [s.find(f"{NS}title").text for s in segments] == ["札幌市", "札幌市"]
    assert (180.0, 180.0) not in {
        (float(c.get("cx")), float(c.get("cy"))) for c in root.iter(f"{NS}circle")
    }
    assert "線の切れた軸は未回答" in str(svg)
    assert "札幌市: 体制 75.0, 基盤 50.0, 手続 —, 安全 100.0" in root.find(f"{NS}desc").text


def test_equal_series_differ_in_line_style_and_width():
    svg = charts.radar_chart(
        ["a", "b", "c"], [("札幌市", [50, 60, 70]), ("政令市平均", [50, 60, 70])], title="t"
    )
    outlines = [p for p in parse(svg).iter(f"{NS}polygon") if p.find(f"{NS}title") is not None]
    first, second = outlines
    assert first.get("points") == second.get("points")
    assert float(first.get("stroke-width")) > float(second.get("stroke-width"))
    assert second.get("stroke-dasharray") and not first.get("stroke-dasharray")


def test_long_labels_wrap_and_are_never_cut():
    title = "電子自治体の基盤整備と行政手続オンライン化等の推進"
    svg = charts.grouped_bar_chart([title], [("札幌市", [50])], title="t", label_width=120)
    lines = [t.text for t in parse(svg).iter(f"{NS}tspan")]
    assert len(lines) > 1 and "".join(lines) == title and "…" not in str(svg)
    assert charts.wrap("情報セキュリティ対策（監査）、研修", 60) == [
        "情報セキュ",
        "リティ対策",
        "（監査）、",
        "研修",
    ]


def test_user_text_is_escaped():
    svg = charts.grouped_bar_chart(["<script>alert(1)</script>"], [("a&b", [10])], title="t")
    assert "<script>" not in str(svg)
    parse(svg)


def test_heatmap_and_distribution_are_well_formed():
    parse(charts.heatmap([("札幌市", [10, None, 90])], ["I.2", "II.1", "II.3"], title="h"))
    parse(
        charts.distribution_bars(
            [("CIO", [1, 2, 3, 4, 5, 0, 2])],
            ["0", "1", "2", "3", "4", "該当なし", "未回答"],
            title="d",
        )
    )
    assert charts.heat_text_colour(90) == "#ffffff" and charts.heat_text_colour(10) == "#000000"
