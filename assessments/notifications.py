"""E-mails sent when an assessment changes status (after the change is committed).

- submitted: the reviewers — the prefecture's reviewers for a municipality, the national
  administrators for a prefecture;
- returned / approved: the body's staff.
One message per recipient, so nobody sees the others' addresses. The messages are queued
(assessments.mail) and sent by the task queue, so a mail server that is down never turns the
committed change into an error page.
"""

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from assessments.mail import mail_queue
from assessments.models import Assessment, AssessmentTransition, User

Status = Assessment.Status

TEMPLATES = {
    Status.SUBMITTED: ("email/assessment_submitted_subject.txt", "email/assessment_submitted.txt"),
    Status.RETURNED: ("email/assessment_returned_subject.txt", "email/assessment_returned.txt"),
    Status.APPROVED: ("email/assessment_approved_subject.txt", "email/assessment_approved.txt"),
}


def recipients(assessment: Assessment, to_status: str) -> QuerySet[User]:
    """Active users with an e-mail address who should hear about this change."""
    users = User.objects.filter(is_active=True).exclude(email="")
    if to_status == Status.SUBMITTED:
        if assessment.body.is_prefecture:
            return users.filter(role=User.Role.NATIONAL_ADMIN)
        return users.filter(role=User.Role.PREFECTURE_REVIEWER, body=assessment.body.prefecture)
    return users.filter(role=User.Role.BODY_STAFF, body_id=assessment.body_id)


def notify_transition(transition_id: int) -> int:
    """Queue the e-mails for one recorded transition; return how many were queued."""
    transition = AssessmentTransition.objects.select_related(
        "assessment__body__prefecture", "assessment__guideline", "by"
    ).get(pk=transition_id)
    if transition.to_status not in TEMPLATES:
        return 0
    assessment = transition.assessment
    subject_template, body_template = TEMPLATES[Assessment.Status(transition.to_status)]
    site = settings.SITE_URL.rstrip("/")
    context = {
        "assessment": assessment,
        "transition": transition,
        "comments": assessment.review_comments.filter(
            needs_fix=True, resolved_at__isnull=True
        ).select_related("measure"),
        "assessment_url": site + assessment.get_absolute_url(),
        "review_url": site + reverse("review", kwargs=assessment.url_kwargs),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(subject_template, context).split())
        body = render_to_string(body_template, context)
    sent = 0
    for user in recipients(assessment, transition.to_status):
        mail_queue(to=user.email, subject=subject, body=body, purpose="notification")
        sent += 1
    return sent
