# Python binding (bindings/python, the `webmessaging` package).
#
# `make wheel` builds what we ship: one abi3 wheel for CPython >= 3.10, release, stripped and
# built without debug info, into build/dist/ (maturin from PyPI, in a private build venv under build/).
# `make test-python` installs that very wheel into a fresh virtual environment whose PATH has no
# Rust toolchain (as a user with only Python would), with pytest and mypy from PyPI, then runs the
# suite against it and checks the stubs (_native.pyi) against the compiled module with
# mypy.stubtest. The tests never import the source tree (tests/python/conftest.py refuses it).

PY_BASE ?= python3
PY_VENV := $(ROOT)/build/python-venv
PY := $(PY_VENV)/bin/python
PY_TEST_VENV := $(ROOT)/build/python-test-venv
PY_TARGET_DIR := $(ROOT)/target/python
PY_DIST := $(ROOT)/build/dist
PY_WHEEL_STAMP := $(PY_DIST)/.webmessaging-wheel
PY_SOURCES := $(shell find $(ROOT)/bindings/python/src $(ROOT)/bindings/python/macros/src $(ROOT)/bindings/python/python $(ROOT)/core/src $(ROOT)/ipc/src -type f) \
	$(ROOT)/bindings/python/Cargo.toml $(ROOT)/bindings/python/macros/Cargo.toml \
	$(ROOT)/bindings/python/pyproject.toml $(ROOT)/core/Cargo.toml $(ROOT)/ipc/Cargo.toml $(ROOT)/Cargo.lock
# PATH without any directory that holds cargo or rustc: what the wheel's user has.
PY_NORUST_PATH := $(shell printf '%s\n' "$$PATH" | tr ':' '\n' | while read -r d; do \
	[ -n "$$d" ] && [ ! -e "$$d/cargo" ] && [ ! -e "$$d/rustc" ] && printf '%s:' "$$d"; done | sed 's/:$$//')

.PHONY: wheel python-install python-test-venv test-python demo-python bench-python bench-python-ipc
TEST_TARGETS += test-python
DEMO_TARGETS += demo-python
BENCH_TARGETS += bench-python

$(PY_VENV)/.ready:
	$(PY_BASE) -m venv $(PY_VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "maturin>=1.9.4,<2"
	touch $@

# Rebuilt only when a Rust or Python source of the package changed. CARGO_PROFILE_RELEASE_DEBUG=0:
# the workspace's release profile keeps line tables for profiling; the shipped module has none.
$(PY_WHEEL_STAMP): $(PY_VENV)/.ready $(PY_SOURCES)
	mkdir -p $(PY_DIST)
	rm -f $(PY_DIST)/webmessaging-*.whl
	CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_TARGET_DIR=$(PY_TARGET_DIR) $(PY_VENV)/bin/maturin build \
		--quiet --release --strip -m $(ROOT)/bindings/python/Cargo.toml -o $(PY_DIST)
	ls $(PY_DIST)/webmessaging-*-abi3-*.whl
	touch $@

wheel: $(PY_WHEEL_STAMP)

# A fresh environment for every new wheel; --only-binary: pip must not build anything itself.
$(PY_TEST_VENV)/.ready: $(PY_WHEEL_STAMP)
	rm -rf $(PY_TEST_VENV)
	PATH="$(PY_NORUST_PATH)" $(PY_BASE) -m venv $(PY_TEST_VENV)
	PATH="$(PY_NORUST_PATH)" $(PY_TEST_VENV)/bin/python -m pip install -q --only-binary :all: \
		"pytest>=8" "mypy>=1.11" $(PY_DIST)/webmessaging-*-abi3-*.whl
	touch $@

python-test-venv: $(PY_TEST_VENV)/.ready

test-python: $(PY_TEST_VENV)/.ready
	@PATH="$(PY_TEST_VENV)/bin:$(PY_NORUST_PATH)" sh -c '! command -v cargo && ! command -v rustc' >/dev/null \
		|| { echo "test-python: a Rust toolchain is still on PATH" >&2; exit 1; }
	cd $(ROOT)/tests/python && PATH="$(PY_TEST_VENV)/bin:$(PY_NORUST_PATH)" python -m pytest -q
	cd $(ROOT)/tests/python && MYPY_CACHE_DIR=$(PY_TEST_VENV)/mypy-cache PATH="$(PY_TEST_VENV)/bin:$(PY_NORUST_PATH)" \
		python -m mypy.stubtest webmessaging._native

# The demo and the benchmark run against the same wheel, in the build venv.
$(PY_VENV)/.installed: $(PY_VENV)/.ready $(PY_WHEEL_STAMP)
	$(PY) -m pip install -q --force-reinstall --no-deps $(PY_DIST)/webmessaging-*-abi3-*.whl
	touch $@

python-install: $(PY_VENV)/.installed

demo-python: python-install
	$(PY) $(ROOT)/examples/python/demo.py

bench-python: python-install
	$(PY) $(ROOT)/examples/python/bench.py
	$(PY) $(ROOT)/examples/python/bench_ipc.py

# Python <-> Python between two processes, against multiprocessing.Pipe (also part of bench-python).
bench-python-ipc: python-install
	$(PY) $(ROOT)/examples/python/bench_ipc.py
