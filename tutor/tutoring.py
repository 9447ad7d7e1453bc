"""One tutoring turn, as services: plan it from the stored session, then store the reply with its consequences.

Planning only reads; completing writes everything in one transaction (the tutor turn, the dialogue state, the hint
budget, the session status, and the learner's mastery), so a turn and its evidence always land together. Between the
two, the consumer streams the model's phrasing; a reply that fails the guard is replaced by the template.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import Sum, prefetch_related_objects
from django.utils import timezone

from knowledge_graph import selectors as kg_selectors
from knowledge_graph import services as kg_services
from knowledge_graph.bkt import DEFAULT_PARAMS
from knowledge_graph.graph import SkillGraph
from knowledge_graph.models import Evidence, Skill, SkillParameters, SkillState
from knowledge_graph.recommend import ProblemOption, recommend_next
from pedagogy.attempts import with_attempts_flagged
from pedagogy.domain import Problem as DomainProblem
from pedagogy.guard import GuardContext
from pedagogy.plan import HintBudget, TurnPlan
from pedagogy.planner import plan_turn
from pedagogy.prompting import DialogueTurn, build_messages, text_answers
from pedagogy.realize import Delivery, deliver
from pedagogy.state import DialogueState

from .lti.grades import lti_scores_schedule
from .models import Assignment, Problem, Step, Turn, TutoringSession
from .services import session_start, turn_append_locked
from .session_figures import figures_schedule

PROBLEM_PREFETCH = ("skills", "steps__skills", "steps__hints", "steps__misconceptions")
HELP_MESSAGES = {"hint": "Can I have a hint?", "stuck": "I'm stuck."}


@dataclass(frozen=True)
class PlannedTurn:
    session_id: int
    plan: TurnPlan
    state: DialogueState
    messages: list[dict[str, str]]
    context: GuardContext
    planner_ms: float
    message: str | None = None
    mode: str = "paraphrase"
    # How many turns the dialogue state had when this turn was planned: if another turn has been stored since
    # (a second tab, on another worker), the plan is stale and is made again before it is kept.
    based_on_turns: int = 0
    # The session's last tutor text: the tutor never sends the same text twice in a row.
    previous: str | None = None
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class MasteryRow:
    code: str
    name: str
    mastery: float
    before: float | None = None

    @property
    def percent(self) -> int:
        return round(self.mastery * 100)

    @property
    def moved(self) -> int:
        # The difference of the two rounded percentages, so a "+N" always adds up with the figures shown beside it.
        return 0 if self.before is None else self.percent - round(self.before * 100)


@dataclass(frozen=True)
class SkillMove:
    code: str
    name: str
    before: int
    after: int


@dataclass(frozen=True)
class NextProblem:
    problem: Problem
    explanation: str


@dataclass(frozen=True)
class CompletedTurn:
    turn: Turn
    session: TutoringSession


# Every turn plans from the problem's content: its steps, hints, misconceptions and skills, five queries to load.
# Stored content does not change under a session (an import that changes a problem in use adds a new version, and
# one not in use is replaced by new rows), so each process keeps what it built, by row and content hash. Only an edit
# in the Django admin changes a row in place; the copy kept here lasts a minute, so such an edit reaches running
# sessions within that.
_DOMAIN_PROBLEM_SECONDS = 60.0
_DOMAIN_PROBLEMS_KEPT = 512
_domain_problems: dict[tuple[int, str], tuple[float, DomainProblem]] = {}


def domain_problem_for(problem: Problem) -> DomainProblem:
    """The planner's view of a stored problem, built at most once a minute per process."""
    key = (problem.pk, problem.content_hash)
    now = time.monotonic()
    kept = _domain_problems.get(key)
    if kept is not None and now - kept[0] < _DOMAIN_PROBLEM_SECONDS:
        return kept[1]
    prefetch_related_objects([problem], *PROBLEM_PREFETCH)
    built = problem.to_domain()
    if len(_domain_problems) >= _DOMAIN_PROBLEMS_KEPT:
        _domain_problems.clear()  # a process serves a few classes' problems; more than this is a sweep, not a class
    _domain_problems[key] = (now, built)
    return built


def budget_for(session: TutoringSession) -> HintBudget:
    """The assignment's limits; what the student spent on the assignment's other problems counts against its total."""
    assignment = session.assignment
    if assignment is None:
        return HintBudget()
    if assignment.hints_total is None:
        # Only an assignment-wide limit reads what the other problems used: without one, no query.
        return HintBudget(
            hints_per_problem=assignment.hints_per_problem, tells_per_problem=assignment.tellings_per_problem
        )
    others = TutoringSession.objects.filter(assignment=assignment, student_id=session.student_id).exclude(pk=session.pk)
    used = others.aggregate(h=Sum("hints_used"), t=Sum("tellings_used"))
    return HintBudget(
        hints_per_problem=assignment.hints_per_problem,
        tells_per_problem=assignment.tellings_per_problem,
        hints_per_assignment=assignment.hints_total,
        assignment_hints_used=used["h"] or 0,
        assignment_tells_used=used["t"] or 0,
    )


def dialogue(session_id: int, *, before_seq: int | None = None) -> list[DialogueTurn]:
    """The conversation as the planner and the model see it (notes left out), optionally up to a turn."""
    turns = Turn.objects.filter(session_id=session_id).exclude(role=Turn.Role.SYSTEM).order_by("seq")
    if before_seq is not None:
        turns = turns.filter(seq__lt=before_seq)
    return [
        DialogueTurn(role="tutor" if role == Turn.Role.TUTOR else "student", text=text)
        for role, text in turns.values_list("role", "text")
    ]


def turn_plan(*, session: TutoringSession, message: str | None, mode: str = "paraphrase") -> PlannedTurn:
    """Plan the tutor's next turn; reads only. ``message`` is None for the opening turn."""
    started = time.monotonic()
    problem = session.problem  # usually loaded with the session (select_related)
    domain_problem = domain_problem_for(problem)
    mastery = kg_selectors.mastery_for_learner(learner=session.student_id, codes=domain_problem.all_skills())
    inputs = PlanningInputs(
        session_id=session.pk,
        dialogue_state=session.dialogue_state or None,
        problem_text=problem.text,
        mastery=mastery,
        budget=budget_for(session),
        history=dialogue(session.pk),
    )
    return _plan_from(domain_problem, inputs, message=message, mode=mode, started=started)


def turn_plan_for(*, session_id: int, message: str | None, mode: str = "paraphrase") -> PlannedTurn:
    """:func:`turn_plan` for a session by id, reading what planning needs in one query on PostgreSQL.

    Under a class's burst, building and compiling the ORM's four reads (the session with its problem and assignment,
    the learner's mastery, the budget spent on the assignment, the dialogue) cost more CPU than planning itself, and
    every millisecond of it delays the model's first token of every reply queued behind it. The one statement below
    reads the same rows. It is used only while this process holds the problem's content (``domain_problem_for``)
    and that content tags the same skills the stored problem does; otherwise planning takes the ORM's way.
    """
    started = time.monotonic()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(planning_sql(), planning_values(session_id))
            row = cursor.fetchone()
        planned = None if row is None else plan_from_row(session_id, row, message=message, mode=mode, started=started)
        if planned is not None:
            return planned
    session = TutoringSession.objects.select_related("assignment", "problem").get(pk=session_id)
    return replace(turn_plan(session=session, message=message, mode=mode), started=started)


async def turn_plan_on(
    conn: psycopg.AsyncConnection[Any], *, session_id: int, message: str | None, mode: str = "paraphrase"
) -> PlannedTurn | None:
    """:func:`turn_plan_for` read on an asyncio PostgreSQL connection (a reply's own, tutor/reply_locks.py), from the
    event loop: no trip to the database threads before the model is asked. None where planning must take the ORM's
    way (the problem's content is not held in this process): the caller then plans with :func:`turn_plan_for`."""
    started = time.monotonic()
    cursor = await conn.execute(planning_sql(), planning_values(session_id))
    row = await cursor.fetchone()
    return None if row is None else plan_from_row(session_id, row, message=message, mode=mode, started=started)


def planning_values(session_id: int) -> dict[str, Any]:
    """The parameters of :func:`planning_sql`."""
    return {"session": session_id, "system_role": Turn.Role.SYSTEM.value}


@lru_cache(maxsize=1)
def planning_sql() -> str:
    """The session, its problem's text and content hash, its assignment's limits (with what the student's other
    sessions of the assignment spent, where it caps the total), its dialogue, and the learner's mastery of every
    skill the problem or its steps are tagged with (state, else the fitted prior), in one row. Named parameters
    (:func:`planning_values`), so the statement can be sent with others in one query (tutor/message_trip.py)."""
    session, problem, assignment = (m._meta.db_table for m in (TutoringSession, Problem, Assignment))
    turn, skill = Turn._meta.db_table, Skill._meta.db_table
    state, params = SkillState._meta.db_table, SkillParameters._meta.db_table
    # Table names from the models' own metadata; every value is a query parameter.
    return f"""
        SELECT s.problem_id, p.content_hash, p.text, s.dialogue_state::text,
               s.assignment_id, a.hints_per_problem, a.tellings_per_problem, a.hints_total,
               CASE WHEN a.hints_total IS NOT NULL THEN (
                   SELECT json_build_array(SUM(o.hints_used), SUM(o.tellings_used))::text FROM "{session}" o
                   WHERE o.assignment_id = s.assignment_id AND o.student_id = s.student_id AND o.id <> s.id
               ) END,
               (SELECT COALESCE(json_agg(json_build_array(t.role, t.text) ORDER BY t.seq), '[]')::text
                  FROM "{turn}" t WHERE t.session_id = s.id AND t.role <> %(system_role)s),
               (SELECT COALESCE(json_agg(json_build_array(k.code, ks.mastery, kp.prior)), '[]')::text
                  FROM "{skill}" k
                  LEFT JOIN "{state}" ks ON ks.skill_id = k.id AND ks.learner_id = s.student_id
                  LEFT JOIN "{params}" kp ON kp.skill_id = k.id
                 WHERE k.id IN ({_problem_skill_ids_sql("s.problem_id")}))
          FROM "{session}" s
          JOIN "{problem}" p ON p.id = s.problem_id
          LEFT JOIN "{assignment}" a ON a.id = s.assignment_id
         WHERE s.id = %(session)s
    """  # noqa: S608


def plan_from_row(session_id: int, row: Any, *, message: str | None, mode: str, started: float) -> PlannedTurn | None:
    """The plan from the planning query's row (:func:`planning_sql`); None when the problem's content is not held
    here (or tags other skills than the stored problem does: edited in the admin since it was built), for the ORM's
    way to plan."""
    (problem_id, content_hash, problem_text, state_json, assignment_id, per_problem, tells, total, used_json,
     history_json, skills_json) = row  # fmt: skip
    kept = _domain_problems.get((problem_id, content_hash))
    if kept is None or time.monotonic() - kept[0] >= _DOMAIN_PROBLEM_SECONDS:
        return None
    domain_problem = kept[1]
    codes = domain_problem.all_skills()
    found = {code: _mastery_or_prior(mastery, prior) for code, mastery, prior in json.loads(skills_json)}
    if set(found) != set(codes):
        return None
    if assignment_id is None:
        budget = HintBudget()
    elif total is None:
        budget = HintBudget(hints_per_problem=per_problem, tells_per_problem=tells)
    else:
        hints_used, tells_used = json.loads(used_json)
        budget = HintBudget(
            hints_per_problem=per_problem,
            tells_per_problem=tells,
            hints_per_assignment=total,
            assignment_hints_used=hints_used or 0,
            assignment_tells_used=tells_used or 0,
        )
    tutor = Turn.Role.TUTOR.value
    inputs = PlanningInputs(
        session_id=session_id,
        dialogue_state=json.loads(state_json) or None,
        problem_text=problem_text,
        mastery={code: found[code] for code in codes},
        budget=budget,
        history=[
            DialogueTurn(role="tutor" if role == tutor else "student", text=text)
            for role, text in json.loads(history_json)
        ],
    )
    return _plan_from(domain_problem, inputs, message=message, mode=mode, started=started)


@dataclass(frozen=True)
class PlanningInputs:
    """What planning a turn reads from the database, besides the problem's content."""

    session_id: int
    dialogue_state: dict[str, Any] | None
    problem_text: str
    mastery: dict[str, float]
    budget: HintBudget
    history: list[DialogueTurn]


def _plan_from(
    domain_problem: DomainProblem, inputs: PlanningInputs, *, message: str | None, mode: str, started: float
) -> PlannedTurn:
    state = DialogueState.from_json(inputs.dialogue_state) if inputs.dialogue_state else None
    plan, new_state = plan_turn(
        domain_problem,
        state,
        message,
        mastery=inputs.mastery,
        budget=inputs.budget,
        rng_seed=inputs.session_id * 1000 + (state.turns if state else 0),
    )
    history = inputs.history
    # Every attempt to get the answer or change the rules is named on its own turn and flags the session.
    earlier = [t.text for t in history if t.role == "student"]
    if message is not None and earlier and earlier[-1] == message:
        earlier.pop()  # the message itself, stored before it is planned
    right = [value for value in map(_fraction_or_none, new_state.student_values) if value is not None]
    plan = with_attempts_flagged(plan, message, earlier=earlier, right_values=right)
    context = GuardContext(problem_text=inputs.problem_text, dialogue=tuple(t.text for t in history))
    messages = build_messages(
        plan,
        history,
        problem_text=inputs.problem_text,
        mode=mode,  # type: ignore[arg-type]
        accepted_answers=text_answers(domain_problem),
    )
    planner_ms = (time.monotonic() - started) * 1000
    return PlannedTurn(
        inputs.session_id,
        plan,
        new_state,
        messages,
        context,
        planner_ms,
        message=message,
        mode=mode,
        based_on_turns=state.turns if state else 0,
        previous=next((t.text for t in reversed(history) if t.role == "tutor"), None),
    )


def _fraction_or_none(text: str) -> Fraction | None:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def _verdict_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "source": delivery.source,
        "ok": delivery.source == "model" or not delivery.rejections,
        "rejections": [{"source": src, "reasons": list(v.reasons)} for src, v in delivery.rejections],
    }


def hints_left(session: TutoringSession) -> int | None:
    """Hints the student may still ask for on this problem; None when the assignment sets no limit."""
    return budget_for(session).remaining(session.hints_used, session.tellings_used).hints


def mastery_before(turn: Turn) -> dict[str, float] | None:
    """Each skill's mastery before this turn's evidence, so the panel can show what moved."""
    # Written out, as the mastery rows below: every finished reply renders the panel, to every page watching.
    evidence, skill = Evidence._meta.db_table, Skill._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT k."code", e."before" FROM "{evidence}" e JOIN "{skill}" k ON k."id" = e."skill_id" '  # noqa: S608
            'WHERE e."turn_id" = %s AND e."kind" = %s ORDER BY e."id"',
            [turn.pk, Evidence.Kind.OBSERVATION.value],
        )
        rows = cursor.fetchall()
    before: dict[str, float] = {}
    for code, value in rows:
        before.setdefault(code, value)
    return before or None


def session_skill_moves(session: TutoringSession) -> list[SkillMove]:
    """How each skill the session gave evidence on moved from the session's start until now, for the wrap-up.

    The figures are the panel's own rows (stored mastery now, against mastery when the session started), so the
    two always agree, even when a teacher's override or another session changed a skill in between.
    """
    tutor_turns = Turn.objects.filter(session=session, role=Turn.Role.TUTOR).values("pk")
    practised = set(
        Evidence.objects.filter(
            learner_id=session.student_id, kind=Evidence.Kind.OBSERVATION, turn_id__in=tutor_turns
        ).values_list("skill__code", flat=True)
    )
    rows = _rows(session)
    rows = _with_before(rows, _mastery_at_start(session, rows))
    # ``percent - moved`` is the start figure rounded as the panel rounds it.
    return [SkillMove(r.code, r.name, r.percent - r.moved, r.percent) for r in rows if r.code in practised]


def mastery_rows(session: TutoringSession, before: dict[str, float] | None = None) -> list[MasteryRow]:
    """The problem's skills with the learner's mastery, for the session page's panel.

    While the problem is open a row's change is measured from ``before`` (the figures before the latest turn); once
    it is solved, from the start of the session, so the panel shows the same moves as the wrap-up beside it.
    """
    rows = _rows(session)
    if session.status == TutoringSession.Status.SOLVED:
        before = _mastery_at_start(session, rows)
    return _with_before(rows, before)


def _mastery_at_start(session: TutoringSession, rows: list[MasteryRow]) -> dict[str, float]:
    return kg_selectors.mastery_at(
        learner=session.student_id,
        codes=[r.code for r in rows],
        when=session.started_at,
        current={r.code: r.mastery for r in rows},
    )


def _rows(session: TutoringSession) -> list[MasteryRow]:
    """The problem's skills with name and mastery now, by name: one query.

    As ``kg_selectors.skill_mastery`` over the skills of the problem and its steps, written out: every finished reply
    renders these rows to every page watching, and the ORM took longer to build and compile the query than the
    database took to answer it.
    """
    with connection.cursor() as cursor:
        cursor.execute(_problem_mastery_sql(), [session.student_id, session.problem_id, session.problem_id])
        found = cursor.fetchall()
    rows = (MasteryRow(code, name, _mastery_or_prior(mastery, prior)) for code, name, mastery, prior in found)
    # By name; skills of the same name in the order of their codes, as the skills' own ordering gives them.
    return sorted(rows, key=lambda r: r.name)


def _mastery_or_prior(mastery: float | None, prior: float | None) -> float:
    """As ``kg_selectors`` reads mastery: the learner's state, else the skill's fitted prior, else the default prior."""
    if mastery is not None:
        return mastery
    return prior if prior is not None else DEFAULT_PARAMS.prior


def _problem_skill_ids_sql(problem: str) -> str:
    """The ids of the skills a problem (``problem``: an SQL expression for its id) or its steps are tagged with."""
    problem_skills, step_skills = Problem.skills.through._meta.db_table, Step.skills.through._meta.db_table
    # Table names from the models' metadata; ``problem`` is a column or a placeholder written in this module.
    return (
        f'SELECT ps.skill_id FROM "{problem_skills}" ps WHERE ps.problem_id = {problem} '  # noqa: S608
        f'UNION SELECT ss.skill_id FROM "{step_skills}" ss JOIN "{Step._meta.db_table}" st ON st.id = ss.step_id '
        f"WHERE st.problem_id = {problem}"
    )


@lru_cache(maxsize=1)
def _problem_mastery_sql() -> str:
    """Every skill the problem or its steps are tagged with: code, name, the learner's mastery, the fitted prior."""
    skill, state, params = Skill._meta.db_table, SkillState._meta.db_table, SkillParameters._meta.db_table
    return f"""
        SELECT k.code, k.name, ks.mastery, kp.prior
          FROM "{skill}" k
          LEFT JOIN "{state}" ks ON ks.skill_id = k.id AND ks.learner_id = %s
          LEFT JOIN "{params}" kp ON kp.skill_id = k.id
         WHERE k.id IN ({_problem_skill_ids_sql("%s")})
         ORDER BY k.code
    """  # noqa: S608


def _with_before(rows: list[MasteryRow], before: dict[str, float] | None) -> list[MasteryRow]:
    return [replace(r, before=(before or {}).get(r.code)) for r in rows]


def next_problem_for(session: TutoringSession) -> NextProblem | None:
    """The recommended next problem in the session's assignment, with the sentence that explains the choice."""
    if session.assignment is None:
        return None
    problems = list(
        Problem.objects.filter(problem_set_id=session.assignment.problem_set_id, is_current=True)
        .exclude(slug=session.problem.slug)
        .prefetch_related("steps__skills", "skills")
        .order_by("position")
    )
    solved = set(
        TutoringSession.objects.filter(
            student_id=session.student_id, status=TutoringSession.Status.SOLVED, problem__in=problems
        ).values_list("problem_id", flat=True)
    )
    options = [
        ProblemOption(
            problem_id=str(p.pk),
            skills=tuple(
                dict.fromkeys(
                    [s.code for s in p.skills.all()] + [s.code for st in p.steps.all() for s in st.skills.all()]
                )
            ),
        )
        for p in problems
        if p.pk not in solved
    ]
    if not options:
        return None
    codes = {c for o in options for c in o.skills}
    known = kg_selectors.skill_mastery(learner=session.student_id, skills=Skill.objects.filter(code__in=codes))
    graph: SkillGraph = kg_selectors.skill_graph()
    recent = list(
        TutoringSession.objects.filter(student_id=session.student_id)
        .order_by("-updated_at")
        .values_list("problem_id", flat=True)[:5]
    )
    choice = recommend_next(
        options,
        graph=graph,
        mastery={**dict.fromkeys(codes, DEFAULT_PARAMS.prior), **{m.code: m.mastery for m in known}},
        recent=[str(r) for r in recent],
        skill_names={m.code: m.name for m in known},
    )
    if choice is None:
        return None
    return NextProblem(
        problem=next(p for p in problems if str(p.pk) == choice.problem_id), explanation=choice.explanation
    )


@transaction.atomic
def turn_complete(*, planned: PlannedTurn, delivery: Delivery, backend: str) -> CompletedTurn:
    """Store the tutor's reply and everything it changes, in one transaction."""
    session = (
        TutoringSession.objects.select_for_update(of=("self",))
        .select_related("problem", "student", "assignment")
        .get(pk=planned.session_id)
    )
    stored_turns = int((session.dialogue_state or {}).get("turns", 0))
    if stored_turns != planned.based_on_turns:
        # Planned from a state another reply has since moved on: plan again from the stored state, under the lock,
        # and keep the planner's own wording (the streamed phrasing answered the stale plan).
        started = planned.started
        planned = replace(turn_plan(session=session, message=planned.message, mode=planned.mode), started=started)
        delivery = template_delivery(planned)
    plan = planned.plan
    latency_ms = round((time.monotonic() - planned.started) * 1000)
    # The session row is locked above and saved below (which stamps updated_at): no second lock, no second stamp.
    turn, _ = turn_append_locked(
        session=session,
        role=Turn.Role.TUTOR,
        text=delivery.text,
        move=f"{plan.move}:{plan.sub_kind}",
        plan={**plan.to_json(), "planner_ms": round(planned.planner_ms, 2)},
        guard_verdict=_verdict_json(delivery),
        backend=backend if delivery.phrased_by_model else "template",
        latency_ms=latency_ms,
    )
    session.dialogue_state = planned.state.to_json()
    # The dialogue state is the one count of what this problem has given away; the columns mirror it for reports.
    session.hints_used = planned.state.hints_used
    session.tellings_used = planned.state.tells_used
    session.needs_attention = session.needs_attention or bool(plan.flags)
    if plan.solved and session.status == TutoringSession.Status.ACTIVE:
        session.status = TutoringSession.Status.SOLVED
        session.finished_at = timezone.now()
        figures_schedule(session.pk)  # the teacher's figures of the finished session, after commit
        lti_scores_schedule(session)  # the learning platform's grade for the set, after commit
    session.save(
        update_fields=[
            "dialogue_state",
            "hints_used",
            "tellings_used",
            "needs_attention",
            "status",
            "finished_at",
            "updated_at",
        ]
    )
    # One observation per resolved step, as pedagogy.evidence decides; a step that is no evidence either way has none.
    kg_services.evidence_apply(
        learner=session.student,
        observations=[(o.skills, o.observation) for o in plan.outcomes if o.observation is not None],
        turn_id=turn.pk,
    )
    return CompletedTurn(turn=turn, session=session)


def template_delivery(planned: PlannedTurn) -> Delivery:
    """The plan's own wording, guarded like any reply (the degraded mode, and the opening turn)."""
    return deliver(None, planned.plan, planned.context, previous=planned.previous)


def session_open(*, session: TutoringSession) -> Turn | None:
    """Greet the student and ask the first question, once per session; the template needs no model."""
    if Turn.objects.filter(session=session).exists():
        return None
    planned = turn_plan(session=session, message=None)
    return turn_complete(planned=planned, delivery=template_delivery(planned), backend="template").turn


@transaction.atomic
def session_begin(*, student: Any, problem: Problem, assignment: Any) -> tuple[TutoringSession, bool]:
    """Resume the student's unfinished session on a problem, or start one with the tutor's opening question."""
    session, created = session_start(student=student, problem=problem, assignment=assignment)
    if created:
        session_open(session=session)
    return session, created


def turn_unanswered(session_id: int) -> Turn | None:
    """The student's turn that ends the transcript, when the session still takes messages: a reply to it is owed.

    Only meaningful while no reply is owed or under way anywhere (``reply_locks.claim_if_nothing_owed``): then such
    a turn is one whose reply was lost, its worker stopped between storing the student's turn and the tutor's.
    """
    last = (
        Turn.objects.filter(session_id=session_id)
        .exclude(role=Turn.Role.SYSTEM)
        .select_related("session")
        .order_by("-seq")
        .first()
    )
    if last is None or last.role != Turn.Role.STUDENT or last.session.status == TutoringSession.Status.ABANDONED:
        return None
    return last
