from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from knowledge_graph.models import Skill

from . import ratelimit
from .models import Assignment, ProblemSet, User


class LogInForm(AuthenticationForm):
    """The log-in form, counting each refused username and password towards the failed-log-in limits.

    The view refuses a locked-out attempt before this form runs (tutor/views/accounts.py), so a right password
    cannot be tried past the limit either.
    """

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            ratelimit.log_in_failed(username=username, address=ratelimit.client_address(self.request))
            raise
        if self.get_user() is not None:
            ratelimit.log_in_succeeded(username=username)
        return cleaned


class AdminLogInForm(LogInForm, AdminAuthenticationForm):
    """The Django admin's log-in form (staff only), sharing the app's failed-log-in counts."""


class StudentSignupForm(UserCreationForm[User]):
    join_code = forms.CharField(
        max_length=20,
        required=False,
        help_text="Optional: the code your teacher gave you.",
        label="Class join code",
    )

    class Meta:
        model = User
        fields = ("username",)


class JoinClassForm(forms.Form):
    join_code = forms.CharField(max_length=20, label="Class join code")


class ClassroomForm(forms.Form):
    name = forms.CharField(max_length=120, label="Class name")


class AssignmentForm(forms.ModelForm[Assignment]):
    problem_set = forms.ModelChoiceField(queryset=ProblemSet.objects.order_by("title"), label="Problem set")

    class Meta:
        model = Assignment
        fields = ("problem_set", "hints_per_problem", "tellings_per_problem", "hints_total")
        labels = {
            "hints_per_problem": "Hints per problem",
            "tellings_per_problem": "Steps the tutor may tell per problem",
            "hints_total": "Hints for the whole set (optional)",
        }

    def clean_hints_per_problem(self) -> int:
        value: int = self.cleaned_data["hints_per_problem"]
        if value > 20:
            raise forms.ValidationError("At most 20 hints per problem.")
        return value

    def clean_tellings_per_problem(self) -> int:
        value: int = self.cleaned_data["tellings_per_problem"]
        if value > 10:
            raise forms.ValidationError("At most 10 tellings per problem.")
        return value


class TeacherForm(UserCreationForm[User]):
    email = forms.EmailField(required=False)
    full_name = forms.CharField(max_length=150, required=False)

    class Meta:
        model = User
        fields = ("username",)


class MasteryOverrideForm(forms.Form):
    skill = forms.ModelChoiceField(queryset=Skill.objects.none(), to_field_name="code")
    mastery = forms.IntegerField(min_value=0, max_value=100, label="Mastery (%)")
    note = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label="Why")

    def __init__(self, *args: object, codes: set[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["skill"].queryset = Skill.objects.filter(code__in=codes).order_by("name")  # type: ignore[attr-defined]
