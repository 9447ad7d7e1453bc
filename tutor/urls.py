from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from .forms import AdminLogInForm
from .lti import views as lti_views
from .views import (
    accounts,
    admin_tools,
    corrections,
    dashboard,
    exports,
    home,
    imports,
    problem_browser,
    sessions,
    skills,
    student,
    teacher,
)

# The admin's log-in form counts failed log-ins like the app's; accounts.admin_login refuses locked-out attempts.
admin.site.login_form = AdminLogInForm

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("accounts/login/", accounts.LimitedLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("student/", student.dashboard, name="student_dashboard"),
    path("student/join/", student.join_class, name="join_class"),
    path("student/sessions/", student.session_history, name="session_history"),
    path("student/skills/", skills.student_skills, name="student_skills"),
    path(
        "student/assignments/<int:assignment_id>/problems/<int:problem_id>/start/",
        student.session_start,
        name="session_start",
    ),
    path("sessions/<int:session_id>/", sessions.session_detail, name="session_detail"),
    path("turns/<int:turn_id>/corrections/", corrections.turn_correction, name="turn_correction"),
    path("teacher/", teacher.dashboard, name="teacher_dashboard"),
    path("teacher/classes/new/", teacher.class_create, name="class_create"),
    path("teacher/classes/<int:class_id>/", teacher.class_detail, name="class_detail"),
    path("teacher/classes/<int:class_id>/settings/", teacher.class_settings, name="class_settings"),
    path("teacher/classes/<int:class_id>/skills/", skills.class_skills, name="class_skills"),
    path(
        "teacher/classes/<int:class_id>/students/<int:student_id>/skills/",
        skills.class_student_skills,
        name="class_student_skills",
    ),
    path("teacher/classes/<int:class_id>/assignments/new/", teacher.assignment_create, name="assignment_create"),
    path(
        "teacher/classes/<int:class_id>/students/<int:student_id>/",
        teacher.class_student,
        name="class_student",
    ),
    path("teacher/classes/<int:class_id>/dashboard/", dashboard.class_dashboard, name="class_dashboard"),
    path(
        "teacher/classes/<int:class_id>/dashboard/recompute/",
        dashboard.class_figures_recompute,
        name="class_figures_recompute",
    ),
    path("teacher/classes/<int:class_id>/export/sessions.csv", exports.export_sessions, name="export_sessions"),
    path("teacher/classes/<int:class_id>/export/turns.csv", exports.export_turns, name="export_turns"),
    path("teacher/classes/<int:class_id>/export/mastery.csv", exports.export_mastery, name="export_mastery"),
    # LTI 1.3: the URLs entered in Canvas or Moodle (docs/operations.md "LTI 1.3").
    path("lti/login/", lti_views.lti_login, name="lti_login"),
    path("lti/launch/", lti_views.lti_launch, name="lti_launch"),
    path("lti/deep-link/", lti_views.lti_deep_link, name="lti_deep_link"),
    path("lti/jwks/", lti_views.lti_jwks, name="lti_jwks"),
    path("manage/teachers/", admin_tools.teachers, name="admin_teachers"),
    path("manage/model/", admin_tools.model_status_page, name="admin_model_status"),
    path("manage/problems/", problem_browser.problem_sets, name="admin_problem_sets"),
    path("manage/problems/<int:problem_id>/", problem_browser.problem_preview, name="admin_problem_preview"),
    path("manage/teachers/<int:user_id>/active/", admin_tools.teacher_active, name="admin_teacher_active"),
    path("manage/imports/", imports.imports, name="admin_imports"),
    path("manage/imports/<int:job_id>/", imports.import_job, name="admin_import_job"),
    path("manage/imports/<int:job_id>/retry/", imports.retry_import_job, name="admin_import_job_retry"),
    path("manage/imports/<int:job_id>/store/", imports.store_import_preview, name="admin_import_store"),
    path(
        "manage/imports/<int:job_id>/problems/<int:number>/",
        imports.import_preview_problem,
        name="admin_import_preview_problem",
    ),
    # Ahead of the admin's own URLs, so that every log-in to the admin passes the failed-log-in limit.
    path("admin/login/", accounts.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

handler404 = "django.views.defaults.page_not_found"
