.PHONY: run test lint format
# Serve the app on the embedded defaults (creates .venv, installs, migrates, loads the demo).
run:
	scripts/run-dev
# Everything CI runs: ruff, mypy and the whole pytest suite.
test:
	scripts/test
format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .
