"""Guideline import in Chromium: the national administrator uploads a file with an error, sees
it named, uploads the fixed file, confirms, and every page passes axe-core."""

import json
import re

import pytest
from playwright.sync_api import expect

from assessments.models import Guideline, User
from tests.support import assert_accessible, log_in, make_user
from tests.test_guideline_import import CODE, as_json, node, sample

pytestmark = pytest.mark.browser


def test_upload_preview_and_confirm(page, tmp_path):
    admin = make_user("national-admin", User.Role.NATIONAL_ADMIN, None)
    assert admin.is_national_admin
    log_in(page, "national-admin")
    page.goto("/guidelines/imports/")
    assert_accessible(page)

    bad = sample()
    node(bad, "B.1")["weight"] = 9
    path = tmp_path / "pilot.json"
    path.write_bytes(as_json(bad))
    page.get_by_label("指針ファイル（JSON または Excel）").set_input_files(str(path))
    page.get_by_role("button", name="確認する（まだ取り込まない）").click()
    expect(page.locator("#import-errors")).to_contain_text(
        re.compile(r"pilot\.json:\d+: B\.1 weight")
    )
    assert_accessible(page)

    page.goto("/guidelines/imports/")
    path.write_bytes(json.dumps(sample(), ensure_ascii=False, indent=2).encode())
    page.get_by_label("指針ファイル（JSON または Excel）").set_input_files(str(path))
    page.get_by_role("button", name="確認する（まだ取り込まない）").click()
    expect(page.locator("#decision")).to_contain_text("新しい指針として第1版を作成します。")
    assert_accessible(page)
    page.get_by_role("button", name="取り込む").click()
    expect(page.get_by_role("status")).to_contain_text("試行指針 を取り込みました（第1版）。")
    assert_accessible(page)
    assert Guideline.objects.filter(code=CODE).exists()
