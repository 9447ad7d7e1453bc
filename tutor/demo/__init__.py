"""Demo content and accounts so a fresh checkout has something to tutor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from ..content.native import load_native_file
from ..content.store import ImportSummary, problem_set_import
from ..models import Assignment, Classroom, Enrollment, User

CONTENT_DIR = Path(__file__).resolve().parent
# Published in the README on purpose: demo accounts exist only where load_demo was run (DEBUG by default).
DEMO_PASSWORD = "socratic-demo"  # noqa: S105
DEMO_JOIN_CODE = "MATH2345"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    full_name: str


DEMO_ACCOUNTS = (
    DemoAccount("demo-student", User.Role.STUDENT, "Alex Rivera"),
    DemoAccount("demo-student2", User.Role.STUDENT, "Sam Okafor"),
    DemoAccount("demo-teacher", User.Role.TEACHER, "Jordan Lee"),
    DemoAccount("demo-admin", User.Role.ADMIN, "Casey Admin"),
)


def demo_content_files() -> list[Path]:
    return sorted(CONTENT_DIR.glob("*.yaml"))


@transaction.atomic
def demo_load() -> list[ImportSummary]:
    """Load the demo problem sets, accounts, class and assignments. Safe to run again: nothing is duplicated and
    demo passwords are reset to the documented one."""
    summaries = [problem_set_import(load_native_file(path)) for path in demo_content_files()]
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        first, _, last = account.full_name.partition(" ")
        user, _ = User.objects.get_or_create(username=account.username)
        user.role = account.role
        user.first_name, user.last_name = first, last
        user.is_staff = user.is_superuser = account.role == User.Role.ADMIN
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        users[account.username] = user
    classroom, _ = Classroom.objects.get_or_create(
        join_code=DEMO_JOIN_CODE, defaults={"name": "Period 3 Math", "teacher": users["demo-teacher"]}
    )
    for username in ("demo-student", "demo-student2"):
        Enrollment.objects.get_or_create(classroom=classroom, student=users[username])
    for summary in summaries:
        Assignment.objects.get_or_create(
            classroom=classroom,
            problem_set=summary.problem_set,
            defaults={"hints_per_problem": 3, "tellings_per_problem": 1},
        )
    return summaries
