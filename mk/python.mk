# Python binding (bindings/python, the `webmessaging` package): a private virtual environment
# under build/, maturin and pytest from PyPI, the package built from source as a release wheel
# through its PEP 517 backend (exactly what `pip install ./bindings/python` does) and installed
# there. The tests run against that installed package, never the source tree.

PY_BASE ?= python3
PY_VENV := $(ROOT)/build/python-venv
PY := $(PY_VENV)/bin/python
PY_TARGET_DIR := $(ROOT)/target/python
PY_SOURCES := $(shell find $(ROOT)/bindings/python/src $(ROOT)/bindings/python/python $(ROOT)/core/src -type f) \
	$(ROOT)/bindings/python/Cargo.toml $(ROOT)/bindings/python/pyproject.toml $(ROOT)/core/Cargo.toml

.PHONY: python-install test-python demo-python bench-python
TEST_TARGETS += test-python
DEMO_TARGETS += demo-python
BENCH_TARGETS += bench-python

$(PY_VENV)/.ready:
	$(PY_BASE) -m venv $(PY_VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "maturin>=1.9.4,<2" "pytest>=8"
	touch $@

# Rebuilt only when a Rust or Python source of the package changed.
$(PY_VENV)/.installed: $(PY_VENV)/.ready $(PY_SOURCES)
	PATH="$(PY_VENV)/bin:$$PATH" CARGO_TARGET_DIR=$(PY_TARGET_DIR) $(PY) -m pip install -q --no-build-isolation --force-reinstall --no-deps $(ROOT)/bindings/python
	touch $@

python-install: $(PY_VENV)/.installed

test-python: python-install
	cd $(ROOT)/tests/python && $(PY) -m pytest -q

demo-python: python-install
	$(PY) $(ROOT)/examples/python/demo.py

bench-python: python-install
	$(PY) $(ROOT)/examples/python/bench.py
