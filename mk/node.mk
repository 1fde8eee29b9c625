# Node binding (bindings/node, the `webmessaging` npm package): the napi-rs addon built locally
# with cargo (nothing is downloaded at build or load time) and copied to the `.node` file the
# loader in bindings/node/index.js looks for. Tests use Node's own runner (`node --test`); the
# type check needs `typescript` and `@types/node`, which npm installs (from the registry, as
# source) into a build directory once.

NODE ?= node
NODE_TARGET_DIR := $(ROOT)/target/node
NODE_ADDON := $(ROOT)/bindings/node/webmessaging.node
NODE_SOURCES := $(shell find $(ROOT)/bindings/node/src $(ROOT)/core/src $(ROOT)/ipc/src -type f) \
	$(ROOT)/bindings/node/Cargo.toml $(ROOT)/bindings/node/build.rs $(ROOT)/core/Cargo.toml $(ROOT)/ipc/Cargo.toml

.PHONY: build-node test-node demo-node bench-node bench-node-ipc bench-node-codec node-check
TEST_TARGETS += test-node
DEMO_TARGETS += demo-node
BENCH_TARGETS += bench-node bench-node-codec bench-node-ipc

node-check:
	@command -v $(NODE) >/dev/null || { echo "node is required (>= 20): apt-get install nodejs"; exit 1; }

# Rebuilt only when a Rust source of the addon (or the core) changed.
$(NODE_ADDON): $(NODE_SOURCES)
	CARGO_TARGET_DIR=$(NODE_TARGET_DIR) $(CARGO) build -q --release -p webmessaging-node
	cp $(NODE_TARGET_DIR)/release/libwebmessaging_node.so $@

build-node: node-check $(NODE_ADDON)

# The TypeScript compiler for tests/node/tsc.test.js (`tsc --strict` over the README's examples).
NODE_TYPES_DIR := $(ROOT)/target/node-types
NODE_TSC := $(NODE_TYPES_DIR)/node_modules/typescript/bin/tsc
NPM ?= npm

$(NODE_TSC):
	mkdir -p $(NODE_TYPES_DIR)
	cd $(NODE_TYPES_DIR) && $(NPM) install --no-audit --no-fund --no-save --prefix . typescript@5 @types/node@20

test-node: build-node $(NODE_TSC)
	cd $(ROOT)/tests/node && WEBMESSAGING_TSC=$(NODE_TSC) $(NODE) --test

demo-node: build-node
	$(NODE) $(ROOT)/examples/node/worker-pool.js

bench-node: build-node
	$(NODE) $(ROOT)/examples/node/bench.js

# Node <-> Node between two processes: our cross-process port beside child_process.fork's IPC
# ('json' and 'advanced'), interleaved in one run.
bench-node-ipc: build-node
	$(NODE) $(ROOT)/examples/node/bench-ipc.js

# The JS codec alone (encode, decode) beside v8.serialize/v8.deserialize, per CPU second.
bench-node-codec: build-node
	$(NODE) $(ROOT)/examples/node/bench-codec.js
