"""Error pages (403, 404, 500, CSRF failure) in the site's layout, in the user's language,
with a way back. Persona: staff of 札幌市, who may not open the dashboard."""

from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.support import PASSWORD


def test_403_is_in_the_layout_with_a_way_back(client, sapporo_staff):
    client.force_login(sapporo_staff)
    response = client.get(reverse("dashboard"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "このページを開く権限がありません" in html and "メインメニュー" in html
    assert f'href="{reverse("home")}"' in html and "ホームへ戻る" in html


def test_404_in_english_for_an_english_user(client, sapporo_staff):
    client.force_login(sapporo_staff)
    response = client.get("/no-such-page/", headers={"accept-language": "en"})
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and "Back to home" in html and 'lang="en"' in html


def test_csrf_failure_explains_what_to_do(sapporo_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sapporo_staff)
    response = client.post(reverse("assessment_start"), {"guideline": "egov-2003"})
    assert response.status_code == 403
    assert "送信を確認できませんでした" in response.content.decode()
    assert "再読み込み" in response.content.decode()


def test_500_renders_without_a_request(db):
    with translation.override("ja"):
        html = render_to_string("500.html")
    assert "エラーが発生しました" in html and "ホームへ戻る" in html
    assert PASSWORD not in html
