# Everything a fresh machine needs: `make demo` and `make test` create .venv and install
# what they use. Torch is pinned to the builds ../shared/TRAINING-OFFLINE.md found to
# work offline here; it is installed only for tests and training, never for the runtime.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
FULL_STAMP := $(VENV)/.full-installed
FAST_STAMP := $(VENV)/.fast-installed
DEMO_DIR ?= demo-out
DEMO_PORT ?= 8000

.PHONY: demo test test-fast bench install install-full clean lint vendor

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(FULL_STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[train,dev]'
	$(BIN)/pip install --quiet --no-deps cameratransform==1.2.1
	# Pretrained starting weights (models/pretrained.py): only the ONNX file inside is read.
	$(BIN)/pip install --quiet --no-deps nudenet==3.4.2
	touch $@

# Tests and linters without the training stack: what test-fast and lint need.
$(FAST_STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $@

install: $(RUNTIME_STAMP)
install-full: $(FULL_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/heyan sample-photos --out $(DEMO_DIR)/photos
	$(BIN)/heyan detect $(DEMO_DIR)/photos --out $(DEMO_DIR)/detect
	$(BIN)/heyan simulate-flight --out $(DEMO_DIR)/flight --photos 24 --seed 1
	$(BIN)/heyan ingest $(DEMO_DIR)/flight/photos --rivers $(DEMO_DIR)/flight/rivers.geojson --out $(DEMO_DIR)/tickets
	@echo
	@echo "Detections on sample photos: $(DEMO_DIR)/detect/annotated/  ($(DEMO_DIR)/detect/detections.jsonl)"
	@echo "Flight tickets:              $(DEMO_DIR)/tickets/tickets.geojson, tickets.xlsx, tickets.kml"
	@echo "Flight report (offline):     $(DEMO_DIR)/tickets/report.html, report.pdf"
	@echo
	$(BIN)/heyan demo-server --flight $(DEMO_DIR)/flight --data $(DEMO_DIR)/server --port $(DEMO_PORT)

test: $(FULL_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The inner loop: no torch install, no browser, no PostgreSQL, nothing marked slow.
test-fast: $(FAST_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow and not postgres and not browser"

lint: $(FAST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(FULL_STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run_all.py

# The viewer's front-end libraries from the npm registry (maintainers, by hand; CI never runs it).
vendor:
	tools/vendor_frontend.sh

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
