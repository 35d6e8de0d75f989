# Every target creates .venv with `python3 -m venv` and installs what it needs; nothing else is assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
IID := $(BIN)/iid
YEAR ?= 2024
SCALE ?= 1
TASK_RUNNER ?= default
STAMP := $(VENV)/.installed
# test modules run on two worker processes, each module whole on one worker (module fixtures built once)
TEST_WORKERS ?= 2

.PHONY: demo test lint bench install clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv

# --compile-bytecode: uv does not write .pyc files by default (pip does), and where PYTHONDONTWRITEBYTECODE
# is set (this machine) Python never caches them either, so every start compiled every module it
# imported: `import great_expectations` took 7.6 s instead of 3.5 s, `import prefect` 2.3 s instead of 1.2 s.
# The project's own modules (an editable install) are compiled too: 8,500 lines, ~0.06 s in every process
# that imports them all. A module edited afterwards is compiled again as it is imported, as before.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[test]' \
		|| $(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m compileall -q flows expectations transforms
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(IID) generate --year $(YEAR)
	$(IID) run --year $(YEAR)
	$(IID) summary --year $(YEAR)

lint: $(STAMP)
	$(BIN)/ruff check flows transforms expectations tests
	$(BIN)/mypy

# headless Chromium for the report's browser test (Debian package; root or sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| (sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium; the browser test will not run"; }

# lint and Chromium's install side by side: on a fresh machine apt (network and disk) goes on while mypy checks.
# The tests' temporary files (their homes, DuckDB files, Prefect's SQLite databases) go to a folder in memory
# (/dev/shm, tmpfs) where there is one, removed afterwards: on this machine's disk every DuckDB checkpoint and
# every SQLite commit of the tests' Prefect servers waits for fsync (up to ~20 s of a module's run waited on the
# disk; none on tmpfs). TEST_TMP=disk keeps them in the system's temporary folder.
TEST_TMP ?= memory
test: $(STAMP)
	$(MAKE) -j2 lint chromium
	@scratch=""; \
	if [ "$(TEST_TMP)" = memory ]; then scratch=$$(mktemp -d -p /dev/shm iid-tests.XXXXXX 2>/dev/null) || scratch=""; fi; \
	if [ -n "$$scratch" ]; then \
		trap 'rm -rf "$$scratch"' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
		echo "tests' temporary files in $$scratch (tmpfs, removed as the tests end)"; export TMPDIR="$$scratch"; \
	fi; \
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(IID) bench --scale $(SCALE) --year $(YEAR) --task-runner $(TASK_RUNNER)

clean:
	rm -rf data/raw data/warehouse data/published .pytest_cache .mypy_cache .ruff_cache
