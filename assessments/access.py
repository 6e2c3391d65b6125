"""Who may see and change what. Every view goes through these helpers.

- National administrators read everything and review prefectures.
- Prefecture reviewers read their prefecture and its municipalities and review the municipalities.
- Body staff read and fill their own body's assessments; body viewers only read them.
Another body's object is 404 (its existence is not revealed); a read-only user's write is 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from assessments.models import Assessment, Body, User


def visible_bodies_q(user: User, *, prefix: str = "") -> Q:
    """A filter on Body (or on a relation to it, through `prefix`) for what `user` may read."""
    if not user.is_authenticated or not user.role:
        return Q(pk__in=[])
    if user.is_national_admin:
        return Q()
    if user.is_prefecture_reviewer:
        return Q(**{f"{prefix}prefecture_id": user.body_id}) | Q(**{f"{prefix}pk": user.body_id})
    return Q(**{f"{prefix}pk": user.body_id})


def can_read_body(user: User, body: Body) -> bool:
    if not user.is_authenticated or not user.role:
        return False
    if user.is_national_admin:
        return True
    if user.is_prefecture_reviewer:
        return body.pk == user.body_id or body.prefecture_id == user.body_id
    return body.pk == user.body_id


def can_edit_answers(user: User, assessment: Assessment) -> bool:
    """Staff of the body may fill its assessment while it is not submitted or approved."""
    return (
        user.is_authenticated
        and user.is_body_staff
        and assessment.body_id == user.body_id
        and assessment.is_editable
    )


def can_review(user: User, assessment: Assessment) -> bool:
    """Municipalities are reviewed by their prefecture, prefectures by national administrators."""
    if not user.is_authenticated:
        return False
    if assessment.body.is_prefecture:
        return user.is_national_admin
    return user.is_prefecture_reviewer and assessment.body.prefecture_id == user.body_id


def get_body_for_user(user: User, body_code: str) -> Body:
    body = get_object_or_404(Body.objects.select_related("prefecture"), code=body_code)
    if not can_read_body(user, body):
        raise Http404
    return body


def get_prefecture_for_reviewer(user: User, prefecture_code: str) -> Body:
    """A prefecture whose reports the user may run: its reviewers and national administrators.

    404 for another prefecture's reviewer (as for its assessments); 403 for body staff.
    """
    prefecture = get_object_or_404(Body, code=prefecture_code, kind=Body.Kind.PREFECTURE)
    if user.is_national_admin:
        return prefecture
    if user.is_prefecture_reviewer:
        if user.body_id != prefecture.pk:
            raise Http404
        return prefecture
    raise PermissionDenied


def _assessment_queryset():
    return Assessment.objects.select_related("body", "body__prefecture", "guideline")


def get_assessment_for_user(
    user: User, body_code: str, fiscal_year: int, guideline_code: str
) -> Assessment:
    """Read access: the assessment, or 404 when it does not exist or is another body's."""
    assessment = get_object_or_404(
        _assessment_queryset(),
        body__code=body_code,
        fiscal_year=fiscal_year,
        guideline__code=guideline_code,
    )
    if not can_read_body(user, assessment.body):
        raise Http404
    return assessment


def get_rw_assessment_for_user(
    user: User, body_code: str, fiscal_year: int, guideline_code: str
) -> Assessment:
    """Write access to the answers: 404 as for reading, then 403 unless the user may edit."""
    assessment = get_assessment_for_user(user, body_code, fiscal_year, guideline_code)
    if not can_edit_answers(user, assessment):
        raise PermissionDenied
    return assessment
