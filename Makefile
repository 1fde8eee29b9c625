# webmessaging — the front door. `make demo` runs the examples; `make test` runs every suite.
#
# Each area adds its own targets in mk/<area>.mk and appends them to TEST_TARGETS, DEMO_TARGETS
# and BENCH_TARGETS, so the suites grow without everyone editing this file.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
PREFIX ?= /usr/local
ROOT := $(abspath .)
export CARGO_TERM_COLOR ?= never

TEST_TARGETS :=
DEMO_TARGETS :=
BENCH_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help test demo bench lint
help:
	@echo "make demo   - run the examples (Rust, C, Python, Node)"
	@echo "make test   - run every test suite"
	@echo "make bench  - run the benchmarks and print our figures beside the peers'"
	@echo "make lint   - cargo fmt --check and clippy -D warnings"

test: $(TEST_TARGETS)
	@echo "make test: all suites passed ($(TEST_TARGETS))"

demo: $(DEMO_TARGETS)

bench: $(BENCH_TARGETS)

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
