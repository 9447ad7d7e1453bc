from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from .views import accounts, admin_tools, corrections, home, imports, sessions, skills, student, teacher

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("accounts/login/", accounts.RateLimitedLoginView.as_view(), name="login"),
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
    path("manage/teachers/", admin_tools.teachers, name="admin_teachers"),
    path("manage/teachers/<int:user_id>/active/", admin_tools.teacher_active, name="admin_teacher_active"),
    path("manage/imports/", imports.imports, name="admin_imports"),
    path("manage/imports/<int:job_id>/", imports.import_job, name="admin_import_job"),
    path("admin/", admin.site.urls),
]

handler404 = "django.views.defaults.page_not_found"
