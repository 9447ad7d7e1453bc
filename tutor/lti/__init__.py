"""LTI 1.3: learning platforms (Canvas, Moodle) launch the tutor, pick problem sets by deep linking and receive grades.

``keys`` holds the tutor's own signing key, ``tool_config`` reads platform registrations for pylti1p3, ``services``
turns a verified launch into an account, a class and an assignment, ``grades`` posts scores back, ``views`` is the
thin HTTP edge.
"""
