"""Who may see and change what. Every view and service asks these rules.

- National administrators read everything, review prefectures and run survey rounds.
- Prefecture reviewers read their prefecture and its municipalities and review the
  municipalities; they run their prefecture's reports and dashboards.
- Body staff read and fill their own body's assessments; body viewers only read them.
Another body's object is 404 (its existence is not revealed); a read-only user's write is 403.

The read scope itself (which bodies a role sees) is stated once beside the querysets that filter
by it (assessments.models.registry: `readable_bodies_q` and `may_read_body`), so that
`Assessment.objects.visible_to(user)` and the object checks here cannot disagree.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from assessments.models import Assessment, Body, GuidelineImport, User
from assessments.models.registry import may_read_body, readable_bodies_q

can_read_body = may_read_body


def may_use_dashboards(user: User) -> bool:
    """Reviewers (their prefecture) and national administrators (everything)."""
    return user.is_authenticated and (user.is_national_admin or user.is_prefecture_reviewer)


def require_dashboard_user(user: User) -> None:
    if not may_use_dashboards(user):
        raise PermissionDenied


def require_national_admin(user: User) -> None:
    if not (user.is_authenticated and user.is_national_admin):
        raise PermissionDenied


def require_body_staff(user: User) -> None:
    if not (user.is_authenticated and user.is_body_staff):
        raise PermissionDenied


def can_fill_body(user: User, body: Body) -> bool:
    """Staff of the body: they start, fill and submit its assessments."""
    return user.is_authenticated and user.is_body_staff and body.pk == user.body_id


def can_fill(user: User, assessment: Assessment) -> bool:
    """Staff of the assessment's body (whatever its state)."""
    return user.is_authenticated and user.is_body_staff and assessment.body_id == user.body_id


def can_edit_answers(user: User, assessment: Assessment) -> bool:
    """Staff of the body may change answers while the assessment is not submitted or approved,
    and not locked by an accepted sign-off or a closed round."""
    return can_fill(user, assessment) and assessment.is_editable and not assessment.is_locked


def can_review(user: User, assessment: Assessment) -> bool:
    """Municipalities are reviewed by their prefecture, prefectures by national administrators."""
    if not user.is_authenticated:
        return False
    if assessment.body.is_prefecture:
        return user.is_national_admin
    return user.is_prefecture_reviewer and assessment.body.prefecture_id == user.body_id


def can_reopen(user: User, assessment: Assessment) -> bool:
    """Reopening an approved assessment: its reviewer, or a national administrator (anyone);
    never while it is locked (the sign-off is returned first)."""
    return (
        user.is_authenticated
        and not assessment.is_locked
        and (user.is_national_admin or can_review(user, assessment))
    )


def may_sign_off(user: User, prefecture: Body) -> bool:
    """A prefecture's reviewers sign off its municipalities' set for a round (取りまとめ)."""
    return user.is_authenticated and user.is_prefecture_reviewer and user.body_id == prefecture.pk


def may_follow_up(user: User, body: Body) -> bool:
    """Chasing a body for a round: national administrators (any), its prefecture's reviewers."""
    if not user.is_authenticated:
        return False
    if user.is_national_admin:
        return True
    return user.is_prefecture_reviewer and user.body_id in (body.pk, body.prefecture_id)


def round_prefecture_scope(user: User) -> Body | None:
    """The prefecture a round's follow-up list is limited to: a reviewer's own, or None (all,
    or the one a national administrator chooses). Others: 403."""
    if user.is_authenticated and user.is_national_admin:
        return None
    if user.is_authenticated and user.is_prefecture_reviewer and user.body is not None:
        return user.body
    raise PermissionDenied


def review_scope(user: User) -> dict:
    """The assessments `user` reviews, as a filter: prefectures, or their municipalities."""
    if user.is_authenticated and user.is_national_admin:
        return {"body__kind": Body.Kind.PREFECTURE}
    if user.is_authenticated and user.is_prefecture_reviewer:
        return {"body__prefecture_id": user.body_id}
    raise PermissionDenied


def get_prefecture_for_reviewer(user: User, prefecture_code: str) -> Body:
    """A prefecture whose reports the user may run: its reviewers and national administrators.

    404 for another prefecture's reviewer (as for its assessments); 403 for body staff.
    """
    prefecture = get_object_or_404(Body.objects.prefectures(), code=prefecture_code)
    if user.is_national_admin:
        return prefecture
    if user.is_prefecture_reviewer:
        if user.body_id != prefecture.pk:
            raise Http404
        return prefecture
    raise PermissionDenied


def get_assessment_for_user(
    user: User, body_code: str, fiscal_year: int, guideline_code: str
) -> Assessment:
    """Read access: the assessment, or 404 when it does not exist or is another body's."""
    assessment = get_object_or_404(
        Assessment.objects.select_related(
            "body", "body__prefecture", "guideline", "survey_round", "excusal"
        ),
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


def get_reviewable_assessment(
    user: User, body_code: str, fiscal_year: int, guideline_code: str
) -> Assessment:
    """404 unless the user may read the assessment; 403 unless they may review it."""
    assessment = get_assessment_for_user(user, body_code, fiscal_year, guideline_code)
    if not can_review(user, assessment):
        raise PermissionDenied
    return assessment


def get_body_for_user(user: User, body_code: str) -> Body:
    """Read access to a body's own pages (its document settings): 404 unless the user reads it."""
    body = get_object_or_404(Body.objects.select_related("prefecture"), code=body_code)
    if not can_read_body(user, body):
        raise Http404
    return body


def may_edit_documents(user: User, body: Body) -> bool:
    """The body's staff set how its documents are headed (文書番号, 宛先, 決裁欄)."""
    return can_fill_body(user, body)


# --- Accounts -----------------------------------------------------------------------------------
# A national administrator manages every account; a prefecture reviewer manages the accounts of
# its prefecture and of its municipalities (the bodies it reads); staff and viewers manage nobody.
# Another prefecture's account is 404 to a reviewer; the account pages are 403 to staff.


def may_manage_accounts(user: User) -> bool:
    """The same people as the dashboards: reviewers (their prefecture) and national admins."""
    return may_use_dashboards(user)


def require_account_manager(user: User) -> None:
    if not may_manage_accounts(user):
        raise PermissionDenied


def managed_users_q(user: User) -> Q:
    """A filter on User for the accounts `user` manages (raises 403 for staff)."""
    require_account_manager(user)
    if user.is_national_admin:
        return Q()
    return readable_bodies_q(user, prefix="body__")


def account_events_q(user: User) -> Q:
    """A filter on AccountEvent: events of the accounts `user` manages (by the body at the time)."""
    return managed_users_q(user)


def get_managed_user(user: User, pk: int) -> User:
    """An account `user` manages: 403 for staff, 404 when it does not exist or is out of scope."""
    require_account_manager(user)
    account = get_object_or_404(User.objects.select_related("body__prefecture"), pk=pk)
    if not may_manage_user(user, account):
        raise Http404
    return account


def may_manage_user(user: User, account: User) -> bool:
    if not may_manage_accounts(user):
        return False
    if user.is_national_admin:
        return True
    return account.body is not None and may_read_body(user, account.body)


def may_assign(user: User, role: str, body: Body | None) -> bool:
    """Whether `user` may give an account `role` at `body` (invite, import, change).

    National administrators assign anything; a reviewer assigns staff and viewers of its
    prefecture and municipalities, and reviewers of its own prefecture.
    """
    if user.is_national_admin:
        return True
    if not user.is_prefecture_reviewer or body is None or not may_read_body(user, body):
        return False
    if role == User.Role.PREFECTURE_REVIEWER:
        return body.pk == user.body_id
    return role in (User.Role.BODY_STAFF, User.Role.BODY_VIEWER)


def require_mail_viewer(user: User) -> None:
    """Delivery failures of every e-mail: national administrators only."""
    require_national_admin(user)


def get_reopenable_assessment(
    user: User, body_code: str, fiscal_year: int, guideline_code: str
) -> Assessment:
    """404 unless the user may read the assessment; 403 unless they may reopen it."""
    assessment = get_assessment_for_user(user, body_code, fiscal_year, guideline_code)
    if not can_reopen(user, assessment):
        raise PermissionDenied
    return assessment


def get_guideline_import(user: User, pk: int) -> GuidelineImport:
    """A kept guideline upload: national administrators only (others 403), else 404."""
    require_national_admin(user)
    return get_object_or_404(GuidelineImport.objects.select_related("uploaded_by"), pk=pk)
