"""Grade passback (LTI Assignment and Grade Services): a student's progress on a set, posted to the link's column."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import transaction
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from ..models import LtiIdentity, LtiResourceLink, TutoringSession
from .tool_config import registration_for

logger = logging.getLogger(__name__)
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def set_progress(*, session: TutoringSession) -> tuple[int, int]:
    """(problems of the session's set the student has solved, problems in the set), current versions only."""
    assert session.assignment is not None
    problems = session.assignment.problem_set.problems.filter(is_current=True)
    total = problems.count()
    solved = (
        TutoringSession.objects.filter(
            student_id=session.student_id, problem__in=problems, status=TutoringSession.Status.SOLVED
        )
        .values("problem_id")
        .distinct()
        .count()
    )
    return solved, total


def lti_scores_post(*, session_id: int) -> int:
    """Post the student's progress to every platform grade column the session's assignment is linked to.

    Idempotent: a score is the progress as it stands now, so posting it twice leaves the grade book as it was.
    Returns how many scores were posted; network and platform failures raise for the task to retry.
    """
    session = TutoringSession.objects.select_related("assignment__problem_set").filter(pk=session_id).first()
    if session is None or session.assignment is None:
        return 0
    links = (
        LtiResourceLink.objects.select_related("context__platform")
        .filter(assignment=session.assignment, context__platform__is_active=True)
        .exclude(lineitem_url="")
    )
    solved, total = set_progress(session=session)
    if total == 0:
        return 0
    posted = 0
    for link in links:
        if SCORE_SCOPE not in link.score_scopes:
            continue
        platform = link.context.platform
        identity = LtiIdentity.objects.filter(platform=platform, user_id=session.student_id).first()
        if identity is None:
            continue  # the student never came through this platform: the platform has no row for them
        grade = (
            Grade()
            .set_score_given(solved)
            .set_score_maximum(total)
            .set_user_id(identity.subject)
            .set_timestamp(datetime.now(UTC).isoformat())
            .set_activity_progress("Completed" if solved >= total else "InProgress")
            .set_grading_progress("FullyGraded")
        )
        service = AssignmentsGradesService(
            ServiceConnector(registration_for(platform)),
            {"scope": link.score_scopes, "lineitem": link.lineitem_url},
        )
        service.put_grade(grade, LineItem({"id": link.lineitem_url}))
        posted += 1
    return posted


def lti_scores_schedule(session: TutoringSession) -> None:
    """Queue the grade passback of a just-solved session once the current transaction commits, when its assignment
    is linked to a platform's grade column (most are not: no task for those).

    A broker that is down must not fail the tutor's turn; the next solved problem in the set posts the progress again.
    """
    from ..tasks import lti_scores_task  # the tasks module imports the services that call this

    if session.assignment_id is None:
        return
    graded = LtiResourceLink.objects.filter(assignment_id=session.assignment_id).exclude(lineitem_url="")
    if not graded.exists():
        return
    session_id = session.pk

    def send() -> None:
        try:
            lti_scores_task.delay(session_id)
        except Exception:  # any broker failure
            logger.warning("could not queue the grade passback of session %s", session_id)

    transaction.on_commit(send)
