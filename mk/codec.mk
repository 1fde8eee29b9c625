# Structured-clone codec: golden-vector drift check, fuzzing, benchmark against Node's v8.
#
# The codec's Rust tests (vectors, round trips, 200k-mutation garbage test) live in core/tests/
# and run with `cargo test --workspace --release` (test-rust); nothing here runs them twice.

CODEC_VECTORS := tests/vectors/v8-vectors.json
CODEC_FUZZ_SECONDS ?= 60

.PHONY: test-codec fuzz-codec bench-codec
TEST_TARGETS += test-codec
BENCH_TARGETS += bench-codec

# Regenerates the golden vectors with the installed Node and fails if they drifted from the
# committed file (a V8 change in what it writes; review and commit the new file if intended).
test-codec:
	@command -v node >/dev/null || { echo "test-codec: node is required to regenerate the golden vectors" >&2; exit 1; }
	@mkdir -p build
	node tests/vectors/generate.mjs build/v8-vectors.json
	@if cmp -s build/v8-vectors.json $(CODEC_VECTORS); then \
		echo "test-codec: golden vectors match Node $$(node --version) byte for byte"; \
	else \
		echo "test-codec: DRIFT: Node $$(node --version) writes different bytes than $(CODEC_VECTORS):" >&2; \
		diff <(tr ',' '\n' < $(CODEC_VECTORS)) <(tr ',' '\n' < build/v8-vectors.json) | head -40 >&2; \
		exit 1; \
	fi

# Deeper decoder fuzzing with cargo-fuzz (needs a nightly toolchain and cargo-fuzz).
fuzz-codec:
	@if ! $(CARGO) +nightly --version >/dev/null 2>&1; then \
		echo "!!! fuzz-codec SKIPPED: no nightly Rust toolchain (rustup toolchain install nightly) !!!"; \
	elif ! $(CARGO) +nightly fuzz --version >/dev/null 2>&1 && ! $(CARGO) install cargo-fuzz --locked; then \
		echo "!!! fuzz-codec SKIPPED: cargo-fuzz is not installed and could not be built !!!"; \
	else \
		node tests/vectors/seed-corpus.mjs fuzz/corpus/decode || echo "fuzz-codec: no node, starting from an empty corpus"; \
		mkdir -p fuzz/corpus/decode; \
		$(CARGO) +nightly fuzz run decode fuzz/corpus/decode -- -max_total_time=$(CODEC_FUZZ_SECONDS) -rss_limit_mb=2048; \
	fi

bench-codec:
	$(CARGO) bench -p webmessaging-core --bench codec
