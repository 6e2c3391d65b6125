"""Server-side SVG charts: well-formed, labelled for assistive technology, text escaped."""

import xml.etree.ElementTree as ET

from assessments.reports import charts

NS = "{http://www.w3.org/2000/svg}"


def parse(svg):
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img"
    assert root.find(f"{NS}title").text
    return root


def test_radar_chart_has_a_polygon_per_series_and_describes_the_values():
    svg = charts.radar_chart(
        ["体制", "基盤", "手続", "安全"],
        [("札幌市", [75, 50, None, 100]), ("全国", [60, 55, 40, 80])],
        title="章別",
    )
    root = parse(svg)
    filled = [p for p in root.iter(f"{NS}polygon") if p.get("fill") != "none"]
    assert len(filled) == 2
    assert "札幌市: 体制 75.0, 基盤 50.0, 手続 —, 安全 100.0" in root.find(f"{NS}desc").text


def test_user_text_is_escaped():
    svg = charts.grouped_bar_chart(["<script>alert(1)</script>"], [("a&b", [10])], title="t")
    assert "<script>" not in str(svg)
    parse(svg)


def test_heatmap_and_distribution_are_well_formed():
    parse(charts.heatmap([("札幌市", [10, None, 90])], ["I.2", "II.1", "II.3"], title="h"))
    parse(
        charts.distribution_bars(
            [("CIO", [1, 2, 3, 4, 5, 0])], ["0", "1", "2", "3", "4", "該当なし"], title="d"
        )
    )
    assert charts.heat_text_colour(90) == "#ffffff" and charts.heat_text_colour(10) == "#000000"
