"""Filling: the assessment page, its sections, autosave, history, evidence, submit and start.

札幌市's FY2026 assessment is in progress; its measure II.1.(2)② (LGWAN) has an answer with an
evidence file, so the history and the download exist. Writes are re-set before each role so
that every role meets the same state.
"""

from django.core.files.base import ContentFile

from assessments.models import Answer, Assessment, Measure
from tests.access import (
    LOGIN,
    ROLES,
    Entry,
    assessment_kwargs,
    body_staff_writes,
    everyone,
    own_body_only,
    read_only,
)

SECTION = "II.2"
MEASURE = "II.1.(2)②"


def prepare(ctx) -> None:
    measure = Measure.objects.get(guideline=ctx.assessment.guideline, ref=MEASURE)
    answer = Answer.objects.create(assessment=ctx.assessment, measure=measure, level=2)
    answer.evidence_file.save("access-matrix.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    answer.evidence_name = "access-matrix.pdf"
    answer.save()
    ctx.extra["measure"] = measure
    ctx.extra["answer"] = answer


def section_kwargs(ctx) -> dict:
    return assessment_kwargs(ctx) | {"section_ref": SECTION}


def measure_kwargs(ctx) -> dict:
    return assessment_kwargs(ctx) | {"measure_ref": MEASURE}


def unchanged_section(ctx) -> dict:
    data = {}
    for measure in Measure.objects.filter(
        section__ref=SECTION, guideline=ctx.assessment.guideline, is_scored=True
    ):
        data[f"m{measure.order}-version"] = 0
    return data


def autosave_data(ctx) -> dict:
    prefix = f"m{ctx.extra['measure'].order}"
    return {f"{prefix}-version": ctx.extra["answer"].version, f"{prefix}-level": "3"}


def reset_answer(ctx) -> None:
    """Back to version 1 so each role's autosave starts from the same row."""
    Answer.objects.filter(pk=ctx.extra["answer"].pk).update(version=1, level=2)
    ctx.extra["answer"].version = 1


def reopen(ctx) -> None:
    Assessment.objects.filter(pk=ctx.assessment.pk).update(status="in_progress")


# Staff of any body may start their own body's assessment; readers may not.
STARTERS = {role: 403 for role in ROLES} | {
    "anonymous": LOGIN,
    "body_staff": 302,
    "other_body_staff": 302,
}

ENTRIES = {
    "assessment_detail": read_only(own_body_only(), assessment_kwargs),
    "assessment_section": [
        Entry(own_body_only(), kwargs=section_kwargs),
        # An empty section save changes nothing and returns to the section.
        Entry(body_staff_writes(302), kwargs=section_kwargs, method="post", data=unchanged_section),
        Entry(everyone(405), kwargs=section_kwargs, method="put"),
    ],
    # Autosave answers JSON 401, not a login redirect, so the script keeps the typed text.
    "answer_autosave": [
        Entry(everyone(405, anonymous=401), kwargs=measure_kwargs),
        Entry(
            body_staff_writes(200) | {"anonymous": 401},
            kwargs=measure_kwargs,
            method="post",
            data=autosave_data,
            before_each=reset_answer,
        ),
    ],
    "answer_history": read_only(own_body_only(), measure_kwargs),
    "evidence_download": read_only(own_body_only(), measure_kwargs),
    "assessment_submit": [
        Entry(own_body_only(), kwargs=assessment_kwargs),
        # Incomplete: staff get the page back listing what is missing; readers may not submit.
        Entry(body_staff_writes(400), kwargs=assessment_kwargs, method="post", before_each=reopen),
    ],
    # Confirming carried answers: the body's staff (back to the section), readers 403.
    "answers_confirm": [
        Entry(everyone(405), kwargs=assessment_kwargs),
        Entry(
            body_staff_writes(302),
            kwargs=assessment_kwargs,
            method="post",
            data=lambda ctx: {"measure": MEASURE},
            before_each=reopen,
        ),
    ],
    "assessment_start": [
        Entry(everyone(405), method="get"),
        Entry(
            STARTERS, method="post", data=lambda ctx: {"guideline": "egov-2003", "prefill": "none"}
        ),
    ],
}
