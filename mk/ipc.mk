# Cross-process ports (crate webmessaging-ipc): frame-reader fuzzing and the transport benchmark.
#
# The transport's tests (ports between processes, close and crash, hostile peers, descriptor
# counts, 100k randomized frame mutations) are Rust integration tests in ipc/tests/ and run in
# test-rust (`cargo test --workspace --release`); nothing here runs them twice.

IPC_FUZZ_SECONDS ?= 600
IPC_FUZZ_TEST_SECONDS ?= 20

.PHONY: test-ipc-fuzz fuzz-ipc bench-ipc
TEST_TARGETS += test-ipc-fuzz
BENCH_TARGETS += bench-ipc

# $(1): seconds. Needs a nightly toolchain and cargo-fuzz; without them it says so loudly and
# passes (the stable randomized test in ipc/tests/transport_frames.rs always runs).
define ipc_fuzz
	@if ! $(CARGO) +nightly --version >/dev/null 2>&1; then \
		echo "!!! $@ SKIPPED: no nightly Rust toolchain (rustup toolchain install nightly) !!!"; \
	elif ! $(CARGO) +nightly fuzz --version >/dev/null 2>&1 && ! $(CARGO) install cargo-fuzz --locked; then \
		echo "!!! $@ SKIPPED: cargo-fuzz is not installed and could not be built !!!"; \
	else \
		mkdir -p fuzz/corpus/frames; \
		$(CARGO) +nightly fuzz run frames fuzz/corpus/frames -- -max_total_time=$(1) -rss_limit_mb=2048; \
	fi
endef

# A bounded frame-reader fuzz run inside `make test`.
test-ipc-fuzz:
	$(call ipc_fuzz,$(IPC_FUZZ_TEST_SECONDS))

# The long run.
fuzz-ipc:
	$(call ipc_fuzz,$(IPC_FUZZ_SECONDS))

bench-ipc:
	$(CARGO) bench -p webmessaging-ipc --bench transport
