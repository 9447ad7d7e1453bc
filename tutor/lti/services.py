"""Writes for LTI launches: the account, the class and the assignment a verified launch stands for.

Every function here takes claims that pylti1p3 has already verified (signature, audience, expiry, state, nonce,
deployment); they trust the claims' content but still refuse what the tutor cannot represent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import reverse

from .. import tutoring
from ..models import (
    Assignment,
    Classroom,
    Enrollment,
    LtiContext,
    LtiIdentity,
    LtiPlatform,
    LtiResourceLink,
    ProblemSet,
    TutoringSession,
    User,
)
from ..services import ServiceError

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLES_CLAIM = CLAIM + "roles"
CONTEXT_CLAIM = CLAIM + "context"
RESOURCE_LINK_CLAIM = CLAIM + "resource_link"
CUSTOM_CLAIM = CLAIM + "custom"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
# The custom parameter a deep-linked resource carries: the slug of the problem set it assigns.
PROBLEM_SET_PARAM = "problem_set"
INSTRUCTOR_ROLES = ("#Instructor", "#Administrator", "#ContentDeveloper")
LEARNER_ROLES = ("#Learner", "#Student")
DEFAULT_HINTS_PER_PROBLEM = 3
DEFAULT_TELLINGS_PER_PROBLEM = 1


class LaunchRefused(ServiceError):
    """A verified launch the tutor cannot honour (an unsupported role, a course without a class, ...)."""


@dataclass(frozen=True)
class LaunchOutcome:
    user: User
    classroom: Classroom
    assignment: Assignment | None
    destination: str


def role_from_claims(claims: dict[str, Any]) -> str:
    """Instructors (and course administrators) teach; learners study; any other role is refused."""
    roles = [str(r) for r in claims.get(ROLES_CLAIM) or []]
    if any(r.endswith(suffix) for r in roles for suffix in INSTRUCTOR_ROLES):
        return User.Role.TEACHER
    if any(r.endswith(suffix) for r in roles for suffix in LEARNER_ROLES):
        return User.Role.STUDENT
    raise LaunchRefused("The tutor admits course instructors and learners only.")


def _username(platform: LtiPlatform, subject: str) -> str:
    # The sub is opaque and may be long or contain anything; a digest keeps usernames short and safe to show.
    return f"lti{platform.pk}-{hashlib.sha256(subject.encode()).hexdigest()[:20]}"


def _user_for(platform: LtiPlatform, claims: dict[str, Any], role: str) -> User:
    subject = str(claims.get("sub") or "")
    if not subject or len(subject) > 255:
        raise LaunchRefused("The launch names no user.")
    identity = LtiIdentity.objects.select_related("user").filter(platform=platform, subject=subject).first()
    if identity is None:
        user = User(
            username=_username(platform, subject),
            role=role,
            first_name=str(claims.get("given_name") or "")[:150],
            last_name=str(claims.get("family_name") or "")[:150],
            email=str(claims.get("email") or "")[:254],
        )
        user.set_unusable_password()  # the platform signs them in; there is no password to guess
        user.save()
        LtiIdentity.objects.create(platform=platform, subject=subject, user=user)
        return user
    user = identity.user
    if not user.is_active:
        raise LaunchRefused("This account has been deactivated.")
    if user.role != role:
        raise LaunchRefused(f"This account is a {user.get_role_display().lower()} account in the tutor.")
    return user


def _placeholder_teacher(platform: LtiPlatform) -> User:
    """The owner of a course's class until its first instructor launches; it cannot sign in."""
    user, created = User.objects.get_or_create(
        username=f"lti{platform.pk}-course-owner",
        defaults={"role": User.Role.TEACHER, "is_active": False, "first_name": platform.name[:150]},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _class_for(platform: LtiPlatform, claims: dict[str, Any], user: User) -> Classroom:
    context = claims.get(CONTEXT_CLAIM) or {}
    context_id = str(context.get("id") or "")
    if not context_id or len(context_id) > 255:
        raise LaunchRefused("Open the tutor from inside a course.")
    link = (
        LtiContext.objects.select_for_update()
        .select_related("classroom")
        .filter(platform=platform, context_id=context_id)
        .first()
    )
    if link is None:
        teacher = user if user.is_teacher else _placeholder_teacher(platform)
        title = str(context.get("title") or context.get("label") or "Course")[:120]
        # Platform classes are joined by launching, never by code.
        classroom = Classroom.objects.create(teacher=teacher, name=title, is_open=False)
        link = LtiContext.objects.create(
            platform=platform, context_id=context_id, classroom=classroom, teacher_claimed=user.is_teacher
        )
    classroom = link.classroom
    if user.is_teacher:
        if not link.teacher_claimed:
            classroom.teacher = user
            classroom.save(update_fields=["teacher"])
            link.teacher_claimed = True
            link.save(update_fields=["teacher_claimed"])
        elif classroom.teacher_id != user.pk:
            raise LaunchRefused("This course's class belongs to another teacher in the tutor.")
    else:
        Enrollment.objects.get_or_create(classroom=classroom, student=user)
    return classroom


def _assignment_for(classroom: Classroom, claims: dict[str, Any]) -> Assignment | None:
    slug = str((claims.get(CUSTOM_CLAIM) or {}).get(PROBLEM_SET_PARAM) or "")
    if not slug:
        return None
    problem_set = ProblemSet.objects.filter(slug=slug).first()
    if problem_set is None:
        raise LaunchRefused(f"This link names a problem set the tutor does not have ({slug[:80]}).")
    assignment, _ = Assignment.objects.get_or_create(
        classroom=classroom,
        problem_set=problem_set,
        defaults={
            "hints_per_problem": DEFAULT_HINTS_PER_PROBLEM,
            "tellings_per_problem": DEFAULT_TELLINGS_PER_PROBLEM,
        },
    )
    return assignment


def _remember_link(
    platform: LtiPlatform, classroom: Classroom, claims: dict[str, Any], assignment: Assignment | None
) -> None:
    """Keep the link's grade column, so a solved problem can be reported back to it later."""
    link_id = str((claims.get(RESOURCE_LINK_CLAIM) or {}).get("id") or "")
    if not link_id or len(link_id) > 255:
        return
    ags = claims.get(AGS_CLAIM) or {}
    scopes = [str(s) for s in ags.get("scope") or []]
    lineitem = str(ags.get("lineitem") or "")
    if len(lineitem) > 500 or not lineitem.startswith(("https://", "http://")):
        lineitem = ""
    context = classroom.lti_context
    LtiResourceLink.objects.update_or_create(
        context=context,
        resource_link_id=link_id,
        defaults={"assignment": assignment, "lineitem_url": lineitem, "score_scopes": scopes},
    )


def _student_destination(student: User, assignment: Assignment | None) -> str:
    """The first problem of the set the student has not solved (resumed or begun), else their dashboard."""
    if assignment is None:
        return reverse("student_dashboard")
    problems = assignment.problem_set.problems.filter(is_current=True).order_by("position", "pk")
    solved = set(
        TutoringSession.objects.filter(
            student=student, problem__in=problems, status=TutoringSession.Status.SOLVED
        ).values_list("problem_id", flat=True)
    )
    problem = next((p for p in problems if p.pk not in solved), None)
    if problem is None:
        return reverse("student_dashboard")
    session, _ = tutoring.session_begin(student=student, problem=problem, assignment=assignment)
    return session.get_absolute_url()


@transaction.atomic
def lti_launch_accept(*, platform: LtiPlatform, claims: dict[str, Any]) -> LaunchOutcome:
    """Sign in (or create) the launching user, join the course's class, assign the link's set and say where to go."""
    role = role_from_claims(claims)
    user = _user_for(platform, claims, role)
    classroom = _class_for(platform, claims, user)
    assignment = _assignment_for(classroom, claims)
    _remember_link(platform, classroom, claims, assignment)
    destination = classroom.get_absolute_url() if user.is_teacher else _student_destination(user, assignment)
    return LaunchOutcome(user=user, classroom=classroom, assignment=assignment, destination=destination)


@transaction.atomic
def lti_deep_link_prepare(*, platform: LtiPlatform, claims: dict[str, Any]) -> LaunchOutcome:
    """An instructor's deep-linking request: sign them in and join the course, then they pick a set."""
    role = role_from_claims(claims)
    if role != User.Role.TEACHER:
        raise LaunchRefused("Only instructors add the tutor's problem sets to a course.")
    user = _user_for(platform, claims, role)
    classroom = _class_for(platform, claims, user)
    return LaunchOutcome(user=user, classroom=classroom, assignment=None, destination=classroom.get_absolute_url())
