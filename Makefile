# The two commands a user types: `make demo` and `make test`. Both install into .venv first when it is
# missing or older than the requirement files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.vpd_mm-installed
PYTEST_ARGS ?=
PRESET ?= default

.PHONY: install test demo clean-venv

install: $(STAMP)

$(STAMP): requirements/base.txt requirements/openmmlab.txt pyproject.toml setup.py Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/base.txt
	$(PIP) install -q --no-deps -r requirements/openmmlab.txt
	# the xtcocotools wheel is built against numpy 1.x; build it against the installed numpy 2
	$(PIP) install -q --no-binary xtcocotools --no-build-isolation xtcocotools==1.14.3
	$(PIP) install -q --no-deps --no-build-isolation -e .
	$(PY) -c "import vpd_mm, mmaction.models, mmpose.apis, torchvision; print('vpd_mm environment ready')"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

demo: $(STAMP)
	$(PY) tools/demo.py --preset $(PRESET)

clean-venv:
	rm -rf $(VENV)
