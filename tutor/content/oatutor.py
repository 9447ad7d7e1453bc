"""OATutor's open content pool, in its own folder layout or one problem object per line (jsonl).

Folder layout (as in the OATutor-Content repository; also accepted as a zip)::

    content-pool/<problemId>/<problemId>.json
    content-pool/<problemId>/steps/<stepId>/<stepId>.json
    content-pool/<problemId>/steps/<stepId>/tutoring/<stepId>DefaultPathway.json
    skillModel.json          step id -> knowledge components (beside content-pool/, or inside it)

In the jsonl each line is a problem object whose ``steps`` carry their ``tutoring_pathways`` and
``knowledge_components``. The mapping to the native format is described in docs/formats.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .answers import CHOICE_LETTERS, AnswerNormalizer
from .base import ImportRequest, build_document, humanize, jsonl_lines, set_meta, slugify
from .errors import ContentError, ImportReport
from .safety import read_json
from .schema import MAX_HINTS_PER_STEP, ProblemSetDoc

PATHWAY = "DefaultPathway"
SKILL_MODEL = "skillModel.json"
PROBLEM_TYPES = {"TextBox", "MultipleChoice"}
_VARIABLE_RE = re.compile(r"@\{(\w+)\}")
_FIGURE_RE = re.compile(r"##(figure[^#\s]*)##")


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _quoted(value: Any, limit: int = 60) -> str:
    """A value as the report quotes it: its repr, shortened (a wrong value may be a whole object)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _path(parts: tuple[Any, ...]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@dataclass
class _Record:
    """One problem object and where each of its parts came from."""

    data: Any
    location: str  # "problems.jsonl:12" or the problem's JSON file in the folder
    step_files: list[str] = field(default_factory=list)  # folder layout only
    pathway_files: list[str] = field(default_factory=list)

    def at(self, *parts: Any) -> tuple[str, str]:
        """(location, field) for a JSON path inside this problem object."""
        if self.step_files and len(parts) >= 2 and parts[0] == "steps" and isinstance(parts[1], int):
            i = parts[1]
            if len(parts) >= 4 and parts[2] == "tutoring_pathways" and i < len(self.pathway_files):
                return self.pathway_files[i], _path(parts[4:]) if len(parts) > 4 else ""
            if i < len(self.step_files):
                return self.step_files[i], _path(parts[2:])
        return self.location, _path(parts)


class _Converter:
    """Turns problem objects into native problem records, reporting what it had to adapt or could not use."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.answers = AnswerNormalizer(report)
        self.skills: dict[str, str] = {}  # slug -> the knowledge component as OATutor spells it
        self.licenses: dict[str, int] = {}

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _text(self, rec: _Record, value: Any, *parts: Any, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.report.error(*rec.at(*parts), "is missing", code="missing")
                return None
            return ""
        if not isinstance(value, str):
            self.report.error(*rec.at(*parts), f"must be text, not {type(value).__name__}", code="type")
            return None
        return value

    def _figures(self, rec: _Record, text: str, *parts: Any) -> None:
        for m in _FIGURE_RE.finditer(text):
            self.report.warn(
                *rec.at(*parts), f"refers to {m.group(1)}, an image that is not imported", code="figure-missing"
            )

    @staticmethod
    def _vars(*scopes: Any) -> dict[str, str]:
        """Variables in scope; OATutor picks one of each variable's values at random, the import takes the first."""
        merged: dict[str, str] = {}
        for scope in scopes:
            if isinstance(scope, dict):
                for name, values in scope.items():
                    if isinstance(values, list) and values:
                        merged[str(name)] = str(values[0])
                    elif isinstance(values, str | int | float):
                        merged[str(name)] = str(values)
        return merged

    @staticmethod
    def _subst(text: str, variables: dict[str, str]) -> str:
        if not variables or "@{" not in text:
            return text
        return _VARIABLE_RE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)

    def _first_answer(self, rec: _Record, value: Any, *parts: Any) -> str | None:
        if not isinstance(value, list) or not value:
            self.report.error(*rec.at(*parts), "must be a list holding the answer", code="missing")
            return None
        first = value[0]
        if isinstance(first, bool) or not isinstance(first, str | int | float):
            self.report.error(*rec.at(*parts, 0), f"must be text, not {type(first).__name__}", code="type")
            return None
        answer = str(first).strip()
        if not answer:
            self.report.error(*rec.at(*parts, 0), "is empty", code="missing")
            return None
        return answer

    def _choices(self, rec: _Record, value: Any, variables: dict[str, str], *parts: Any) -> list[str] | None:
        if not isinstance(value, list) or not value:
            self.report.error(*rec.at(*parts), "a multiple-choice item needs a list of choices", code="missing")
            return None
        if not all(isinstance(c, str | int | float) and not isinstance(c, bool) for c in value):
            self.report.error(*rec.at(*parts), "choices must be text", code="type")
            return None
        choices = [self._subst(str(c).strip(), variables) for c in value]
        distinct = list(dict.fromkeys(choices))
        if len(distinct) != len(choices):
            self.report.warn(*rec.at(*parts), "repeated choices were merged", code="choices-repeated")
        return distinct

    # -- one problem -----------------------------------------------------------------------------------------------

    def problem(self, rec: _Record) -> dict[str, Any] | None:
        p = rec.data
        if not isinstance(p, dict):
            self.report.error(rec.location, "", "a problem must be a JSON object", code="type")
            return None
        errors_before = self.report.error_count
        pid = self._text(rec, p.get("id"), "id", required=True)
        if not pid:
            if pid == "":
                self.report.error(*rec.at("id"), "is empty", code="missing")
            return None
        variables = self._vars(p.get("variabilization"))
        title = self._subst(self._text(rec, p.get("title"), "title") or "", variables).strip()
        body = self._subst(self._text(rec, p.get("body"), "body") or "", variables).strip()
        lesson = p.get("lesson")
        lesson = lesson if isinstance(lesson, str) else ""
        if not title:
            title = lesson.strip() or pid
        if len(title) > 200:
            self.report.warn(*rec.at("title"), "longer than 200 characters; shortened", code="title-shortened")
            title = title[:199].rstrip() + "\u2026"
        self._figures(rec, body, "body")
        license_ = p.get("license")
        if isinstance(license_, str) and license_:
            self.licenses[license_] = self.licenses.get(license_, 0) + 1
        raw_steps = p.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            self.report.error(*rec.at("steps"), "a problem needs a list of steps", code="missing")
            return None
        steps = []
        for i, raw in enumerate(raw_steps):
            step = self._step(rec, raw, i, variables, fallback_prompt=body or title)
            if step is not None:
                steps.append(step)
        if self.report.error_count > errors_before:
            return None
        used_skills = list(dict.fromkeys(code for s in steps for code in s["skills"]))
        last = steps[-1]
        return {
            "slug": slugify(pid, max_length=119),
            "title": title,
            "text": body or title,
            "answer": last["answer"],
            "answer_type": last["answer_type"],
            "choices": last["choices"],
            "skills": used_skills,
            "steps": steps,
        }

    def _step(
        self, rec: _Record, s: Any, i: int, problem_vars: dict[str, str], *, fallback_prompt: str
    ) -> dict[str, Any] | None:
        if not isinstance(s, dict):
            self.report.error(*rec.at("steps", i), "a step must be a JSON object", code="type")
            return None
        variables = {**problem_vars, **self._vars(s.get("variabilization"))}
        if variables:
            self.report.warn(
                *rec.at("steps", i, "variabilization"),
                "variables take their first listed value: " + ", ".join(sorted(variables)),
                code="variables-fixed",
            )
        title = self._text(rec, s.get("stepTitle"), "steps", i, "stepTitle")
        body = self._text(rec, s.get("stepBody"), "steps", i, "stepBody")
        raw_answer = self._first_answer(rec, s.get("stepAnswer"), "steps", i, "stepAnswer")
        problem_type = s.get("problemType", "TextBox")
        if not isinstance(problem_type, str) or problem_type not in PROBLEM_TYPES:
            self.report.error(
                *rec.at("steps", i, "problemType"),
                f"{_quoted(problem_type)} is not one of {', '.join(sorted(PROBLEM_TYPES))}",
                code="invalid",
            )
            return None
        if title is None or body is None or raw_answer is None:
            return None
        parts = (self._subst(title.strip(), variables), self._subst(body.strip(), variables))
        prompt = "\n\n".join(part for part in parts if part)
        self._figures(rec, prompt, "steps", i, "stepTitle")
        if not prompt:
            self.report.warn(
                *rec.at("steps", i, "stepTitle"), "the step has no text; the problem's text is asked", code="no-prompt"
            )
            prompt = fallback_prompt
        raw_answer = self._subst(raw_answer, variables)
        choices: list[str] = []
        if problem_type == "MultipleChoice":
            found = self._choices(rec, s.get("choices"), variables, "steps", i, "choices")
            if found is None:
                return None
            choices = found
            declared = "multiple_choice"
        else:
            declared = "expression" if s.get("answerType", "string") == "arithmetic" else "text"
        location, field_ = rec.at("steps", i, "stepAnswer")
        answer, answer_type = self.answers.normalize(
            raw_answer, declared, role="step", location=location, field=field_, choices=choices
        )
        skills = []
        kcs = s.get("knowledge_components", [])
        if not isinstance(kcs, list) or not all(isinstance(k, str) for k in kcs):
            self.report.error(*rec.at("steps", i, "knowledge_components"), "must be a list of names", code="type")
            return None
        for kc in kcs:
            if not kc.strip(" _-"):
                self.report.warn(
                    *rec.at("steps", i, "knowledge_components"), "an empty skill name is skipped", code="empty-skill"
                )
                continue
            code = slugify(kc)
            self.skills.setdefault(code, kc)
            skills.append(code)
        hints = self._hints(rec, s.get("tutoring_pathways"), i, variables, answer)
        if hints is None:
            return None
        return {
            "prompt": prompt,
            "answer": answer,
            "answer_type": answer_type,
            "choices": choices,
            "skills": list(dict.fromkeys(skills)),
            "hints": hints,
        }

    # -- hint ladders ----------------------------------------------------------------------------------------------

    def _hints(
        self, rec: _Record, pathways: Any, i: int, variables: dict[str, str], step_answer: str
    ) -> list[dict[str, Any]] | None:
        if pathways is None:
            return []
        if not isinstance(pathways, dict):
            self.report.error(*rec.at("steps", i, "tutoring_pathways"), "must be an object", code="type")
            return None
        name = PATHWAY if PATHWAY in pathways else next(iter(sorted(pathways)), None)
        if name is None:
            return []
        items = pathways[name]
        if not isinstance(items, list):
            self.report.error(*rec.at("steps", i, "tutoring_pathways", name), "must be a list", code="type")
            return None
        ordered = self._in_dependency_order(rec, items, ("steps", i, "tutoring_pathways", name))
        if ordered is None:
            return None
        ladder: list[dict[str, Any]] = []
        for j, item in ordered:
            where = ("steps", i, "tutoring_pathways", name, j)
            hint = self._hint(rec, item, variables, where)
            if hint is not None:
                ladder.append(hint)
            subs = item.get("subHints") or []
            if isinstance(subs, list):
                for k, sub in enumerate(subs):
                    if isinstance(sub, dict):
                        sub_hint = self._hint(rec, sub, variables, (*where, "subHints", k))
                        if sub_hint is not None:
                            ladder.append(sub_hint)
        if len(ladder) > MAX_HINTS_PER_STEP:
            self.report.warn(
                *rec.at("steps", i, "tutoring_pathways", name),
                f"{len(ladder)} hints; the first {MAX_HINTS_PER_STEP} are kept",
                code="hints-cut",
            )
            ladder = ladder[:MAX_HINTS_PER_STEP]
        # OATutor's last hint usually tells the answer: mark it as the bottom-out so the tutor treats it as telling.
        if ladder and ladder[-1]["kind"] == "hint" and _states(ladder[-1]["text"], step_answer):
            ladder[-1]["kind"] = "bottom_out"
        return ladder

    def _in_dependency_order(
        self, rec: _Record, items: list[Any], where: tuple[Any, ...]
    ) -> list[tuple[int, dict[str, Any]]] | None:
        """Items ordered so each comes after the items it depends on, otherwise keeping the authored order.

        Repeated ids keep their first item; a dependency on an id that is not in the pathway is ignored (both are
        reported); a cycle is broken at the earliest authored item.
        """
        by_id: dict[str, tuple[int, dict[str, Any]]] = {}
        for j, item in enumerate(items):
            if not isinstance(item, dict):
                self.report.error(*rec.at(*where, j), "a hint must be a JSON object", code="type")
                return None
            item_id = str(item.get("id", j))
            if item_id in by_id:
                self.report.warn(
                    *rec.at(*where, j, "id"), f"repeats {item_id}; the repeat is skipped", code="duplicate"
                )
                continue
            by_id[item_id] = (j, item)
        deps: dict[str, list[str]] = {}
        for item_id, (j, item) in by_id.items():
            raw = item.get("dependencies") or []
            listed = [str(d) for d in raw] if isinstance(raw, list) else []
            for d in listed:
                if d not in by_id:
                    self.report.warn(
                        *rec.at(*where, j, "dependencies"), f"{d} is not in this pathway; ignored", code="dependency"
                    )
            deps[item_id] = [d for d in listed if d in by_id and d != item_id]
        done: set[str] = set()
        order: list[tuple[int, dict[str, Any]]] = []
        pending = list(by_id)
        while pending:
            ready = next((x for x in pending if all(d in done for d in deps[x])), None)
            if ready is None:
                ready = pending[0]
                self.report.warn(*rec.at(*where), f"dependencies form a cycle at {ready}", code="dependency")
            pending.remove(ready)
            done.add(ready)
            order.append(by_id[ready])
        return order

    def _hint(
        self, rec: _Record, item: dict[str, Any], outer_vars: dict[str, str], where: tuple[Any, ...]
    ) -> dict[str, Any] | None:
        variables = {**outer_vars, **self._vars(item.get("variabilization"))}
        text = item.get("text") if isinstance(item.get("text"), str) else ""
        title = item.get("title") if isinstance(item.get("title"), str) else ""
        body = self._subst((text or "").strip() or (title or "").strip(), variables)
        if not body:
            self.report.warn(*rec.at(*where, "text"), "an empty hint is skipped", code="empty-hint")
            return None
        self._figures(rec, body, *where, "text")
        kind = item.get("type", "hint")
        if kind == "hint":
            return {"kind": "hint", "text": body}
        if kind != "scaffold":
            self.report.error(*rec.at(*where, "type"), f"{_quoted(kind)} is neither hint nor scaffold", code="invalid")
            return None
        raw = self._first_answer(rec, item.get("hintAnswer"), *where, "hintAnswer")
        if raw is None:
            return None
        raw = self._subst(raw, variables)
        choices: list[str] = []
        if item.get("problemType") == "MultipleChoice":
            found = self._choices(rec, item.get("choices"), variables, *where, "choices")
            if found is None:
                return None
            choices = found
            declared = "multiple_choice"
            # Hints have no choice list of their own: the choices become part of the question.
            lines = [f"{CHOICE_LETTERS[n] if n < len(CHOICE_LETTERS) else n + 1}. {c}" for n, c in enumerate(choices)]
            body = body + "\n\n" + "\n".join(lines)
        else:
            declared = "expression" if item.get("answerType", "string") == "arithmetic" else "text"
        location, field_ = rec.at(*where, "hintAnswer")
        answer, answer_type = self.answers.normalize(
            raw, declared, role="scaffold", location=location, field=field_, choices=choices
        )
        return {"kind": "scaffold", "text": body, "answer": answer, "answer_type": answer_type}

    def skill_docs(self) -> list[dict[str, Any]]:
        return [
            {"code": code, "name": humanize(kc), "description": f"OATutor knowledge component {kc}"}
            for code, kc in sorted(self.skills.items())
        ]


def _states(text: str, answer: str) -> bool:
    """Whether a hint's text contains the answer (spacing and ``$`` delimiters aside)."""
    squeeze = re.compile(r"[\s$]+")
    a = squeeze.sub("", answer)
    return bool(a) and len(a) <= 200 and a in squeeze.sub("", text)


# -- reading the two layouts ---------------------------------------------------------------------------------------


def _jsonl_records(request: ImportRequest, report: ImportReport) -> Iterator[_Record]:
    for _, location, data in jsonl_lines(request, report):
        if data is not None:
            yield _Record(data=data, location=location)


def find_pool(root: Path) -> Path | None:
    """The folder holding ``<id>/<id>.json`` problem folders: ``root`` itself, its ``content-pool``, or either of
    those inside a single top folder (how zips of a folder usually look)."""
    candidates = [root, root / "content-pool"]
    children = [c for c in root.iterdir() if c.is_dir() and c.name != "__MACOSX"] if root.is_dir() else []
    if len(children) == 1:
        candidates += [children[0], children[0] / "content-pool"]
    for candidate in candidates:
        if candidate.is_dir() and any((d / f"{d.name}.json").is_file() for d in candidate.iterdir() if d.is_dir()):
            return candidate
    return None


def _skill_model(
    pool: Path, boundary: Path | None, report: ImportReport, source_root: Path, source: str
) -> dict[str, Any]:
    """OATutor's ``skillModel.json`` (step id -> knowledge components), looked for in the pool and the folders
    above it up to ``boundary``."""
    folder = pool.resolve()
    stop = (boundary or pool).resolve()
    while True:
        candidate = folder / SKILL_MODEL
        if candidate.is_file():
            try:
                data = read_json(candidate, source=_relative(candidate, source_root, source))
            except ContentError as exc:
                report.fail(exc)
                return {}
            if not isinstance(data, dict):
                report.error(_relative(candidate, source_root, source), "", "must map step ids to lists", code="type")
                return {}
            return data
        if folder == stop or stop not in folder.parents:
            break
        folder = folder.parent
    report.warn(source, SKILL_MODEL, "not found beside the content pool: steps get no skills", code="no-skill-model")
    return {}


def _relative(path: Path, root: Path, source: str) -> str:
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        return str(path)
    return f"{source}/{rel}" if str(rel) != "." else source


def _folder_records(request: ImportRequest, report: ImportReport) -> Iterator[_Record]:
    root = request.path
    pool = find_pool(root)
    if pool is None:
        report.error(request.source, "", "no OATutor problem folders (<id>/<id>.json) found", code="empty")
        return
    skill_model = _skill_model(pool, request.boundary, report, root, request.source)
    dirs = sorted((d for d in pool.iterdir() if d.is_dir() and not d.is_symlink()), key=lambda d: _natural(d.name))
    count = 0
    for d in dirs:
        if request.limit is not None and count >= request.limit:
            return
        problem_file = d / f"{d.name}.json"
        rel = _relative(problem_file, root, request.source)
        if not problem_file.is_file():
            report.warn(_relative(d, root, request.source), "", "not a problem folder; skipped", code="skipped")
            continue
        count += 1
        try:
            data = read_json(problem_file, source=rel)
        except ContentError as exc:
            report.fail(exc)
            continue
        record = _Record(data=data, location=rel)
        if not isinstance(data, dict):
            yield record
            continue
        steps: list[Any] = []
        steps_dir = d / "steps"
        step_dirs = sorted(
            (s for s in steps_dir.iterdir() if s.is_dir()) if steps_dir.is_dir() else (), key=lambda s: _natural(s.name)
        )
        for s in step_dirs:
            step_file = s / f"{s.name}.json"
            step_rel = _relative(step_file, root, request.source)
            if not step_file.is_file():
                report.error(_relative(s, root, request.source), "", f"{s.name}.json is missing", code="missing")
                continue
            try:
                step = read_json(step_file, source=step_rel)
            except ContentError as exc:
                report.fail(exc)
                continue
            pathways: dict[str, Any] = {}
            pathway_rel = ""
            tutoring = s / "tutoring"
            for pf in sorted(tutoring.glob(f"{s.name}*.json")) if tutoring.is_dir() else []:
                name = pf.stem[len(s.name) :] or PATHWAY
                pathway_rel = pathway_rel or _relative(pf, root, request.source)
                try:
                    pathways[name] = read_json(pf, source=_relative(pf, root, request.source))
                except ContentError as exc:
                    report.fail(exc)
                if name == PATHWAY:
                    pathway_rel = _relative(pf, root, request.source)
            if isinstance(step, dict):
                step = {**step, "tutoring_pathways": pathways}
                kcs = skill_model.get(str(step.get("id", s.name)), [])
                step["knowledge_components"] = kcs if isinstance(kcs, list) else []
            steps.append(step)
            record.step_files.append(step_rel)
            record.pathway_files.append(pathway_rel or step_rel)
        record.data = {**data, "steps": steps}
        yield record


class OATutorImporter:
    """OATutor content pool: the folder layout (or a zip of it), or the jsonl of problem objects."""

    name = "oatutor"
    label = "OATutor content pool (folder, zip or jsonl)"

    def detect(self, path: Path) -> bool:
        if path.is_dir():
            return find_pool(path) is not None
        if path.suffix.lower() == ".jsonl":
            first = _first_object(path)
            return isinstance(first, dict) and "steps" in first and "id" in first
        return False

    def read(self, request: ImportRequest, report: ImportReport) -> ProblemSetDoc | None:
        records = _folder_records(request, report) if request.path.is_dir() else _jsonl_records(request, report)
        converter = _Converter(report)
        problems: list[dict[str, Any]] = []
        locations: list[str] = []
        for record in records:
            report.records += 1
            if report.records % 1000 == 0:
                request.tick(f"read {report.records:,} problems")
            problem = converter.problem(record)
            if problem is not None:
                problems.append(problem)
                locations.append(record.location)
        license_ = max(converter.licenses, key=lambda k: converter.licenses[k], default="")
        stem = request.path.stem if request.path.is_file() else Path(request.source).stem or request.path.name
        meta = set_meta(
            request,
            fmt="oatutor",
            stem=stem,
            title=f"OATutor: {stem.replace('_', ' ')}",
            description="Problems from the OATutor open content pool (CAHLR, UC Berkeley), mostly from OpenStax "
            "textbooks; hints and scaffolds by the OATutor project.",
            source="oatutor",
            license=license_[:120],
        )
        request.tick("validating")
        return build_document(
            meta=meta, skills=converter.skill_docs(), problems=problems, locations=locations, report=report
        )


def _first_object(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            for raw in fh:
                line = raw.strip()
                if line:
                    return json.loads(line)
    except (OSError, ValueError):
        return None
    return None
