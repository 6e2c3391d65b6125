"""Filling an assessment: section pages, saving, conflicts, history, evidence, submit, scores."""

from django.urls import reverse


def section_url(assessment, ref):
    return reverse("assessment_section", kwargs={**assessment.url_kwargs, "section_ref": ref})


def test_smoke(client, sapporo_staff, make_assessment):
    assessment = make_assessment()
    client.force_login(sapporo_staff)
    r = client.get(assessment.get_absolute_url())
    assert r.status_code == 200
    r = client.get(section_url(assessment, "II.2"))
    open("/tmp/t3/section.html", "w").write(r.content.decode())
    assert r.status_code == 200
