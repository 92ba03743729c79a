# Every target works on a fresh machine: each depends on `install`, which builds .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install bytecode run test test-all bench lint fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ground,pi,sim]'
	touch $(STAMP)

# The project's own modules compiled once, where the environment asks Python not to write bytecode
# as it imports (PYTHONDONTWRITEBYTECODE): each of a run's processes would compile what it imports.
# Up to date, this only compares times.
bytecode: install
	$(BIN)/python -m compileall -q fsw hil ground > /dev/null

run: bytecode
	$(BIN)/python -m hil.rigs.mission_run

# The default run leaves out the tests marked slow (long multi-process runs); test-all runs them too.
test: bytecode
	$(BIN)/python -m pytest -q -m "not slow"

test-all: bytecode
	$(BIN)/python -m pytest -q

bench: bytecode
	$(BIN)/python -m tests.bench

fuzz: install
	$(BIN)/pip install --quiet atheris || echo "atheris did not install: using the seeded mutation fuzzer"
	$(BIN)/python -m tests.fuzz --seconds $${FUZZ_SECONDS:-120}

# Types: the codec, the executive core, the device ports and the clock strictly; the rest as mypy's defaults.
lint: install
	$(BIN)/ruff check fsw hil ground tests
	$(BIN)/mypy
	$(BIN)/mypy --strict fsw/protocol fsw/core fsw/devices fsw/clock.py

clean:
	rm -rf $(VENV) build .pytest_cache
	find fsw hil ground tests -name __pycache__ -prune -exec rm -rf {} +
