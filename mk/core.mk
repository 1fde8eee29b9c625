# Rust core: unit and integration tests, the loom model, the Rust demo and channel benchmark.

LOOM_TARGET_DIR := $(ROOT)/target/loom

.PHONY: test-rust test-loom demo-rust bench-rust
TEST_TARGETS += test-rust test-loom
DEMO_TARGETS += demo-rust
BENCH_TARGETS += bench-rust

test-rust:
	$(CARGO) test --workspace --release

# loom needs its own cfg, hence its own target directory (otherwise every build flips flags).
test-loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=$(LOOM_TARGET_DIR) \
		$(CARGO) test -p webmessaging-core --release --test loom

demo-rust:
	$(CARGO) run --release -q -p webmessaging-core --example ping_pong

bench-rust:
	$(CARGO) bench -p webmessaging-core --bench channel
