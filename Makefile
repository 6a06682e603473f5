# The two commands of the README's quick start: `make demo` and `make test`.
# Each makes the virtual environment first when it is missing; `demo` installs only what
# the package needs to run, `test` adds the test tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# Editable installs as a .pth path entry, not setuptools' import hook: mypy and pyright read
# only path entries, and would not find the package (nor its py.typed) behind a hook.
EDITABLE := --config-settings editable_mode=compat
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test typecheck lint bench report-screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) $(EDITABLE) -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) $(EDITABLE) -e '.[test]'
	touch $(RUN_STAMP) $(TEST_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/odm-dyn demo

# ruff and the type check first (every function typed; the configuration is [tool.mypy] in pyproject.toml).
test: lint typecheck
	$(BIN)/python -m pytest -q

typecheck: $(TEST_STAMP)
	$(BIN)/mypy odm_dyn

# odm_dyn against bare requests/urllib3, odm-api and aiopenapi3 (issue 6): a few minutes;
# writes bench/results/latest.md and latest.png.
$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) $(EDITABLE) -e '.[bench]'
	touch $(RUN_STAMP) $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run

# The picture of the contract report for the vendor's spec that the README shows: needs Debian's
# `chromium` (apt-get install chromium) and the vendor's spec beside the repository.
report-screenshot: $(TEST_STAMP)
	ODM_DYN_SCREENSHOT=docs/contract-report.png $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/test_report.py -k screenshot

lint: $(TEST_STAMP)
	$(BIN)/ruff check odm_dyn tests bench

clean:
	rm -rf $(VENV) build *.egg-info
