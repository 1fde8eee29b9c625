# C ABI (libwebmessaging): header drift check, C tests in three modes (plain, ASan+UBSan,
# valgrind), installed-tree pkg-config test, C demos, C-vs-Rust benchmark, `make install`, and
# the C programs of cross-process ports (matrix agent, demo child, C-to-C benchmark).

C_PROFILE_DIR  := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/release
C_LIBDIR       := $(C_PROFILE_DIR)
C_HEADER       := $(ROOT)/include/webmessaging.h
C_BUILD        := $(ROOT)/target/c-tests
C_TOOLS        := $(ROOT)/target/tools
CBINDGEN_VERSION := 0.29.4
CBINDGEN       := $(C_TOOLS)/bin/cbindgen
CC             ?= cc
CXX            ?= c++
C_STD_FLAGS    := -std=c11 -Wall -Wextra -Werror -g -O1 -pthread
C_SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
C_TESTS        := $(sort $(wildcard $(ROOT)/tests/c/*.c))
C_TEST_NAMES   := $(basename $(notdir $(C_TESTS)))
C_MAJOR        := $(shell sed -n 's/^pub const WM_VERSION_MAJOR: u32 = \([0-9]*\);/\1/p' $(ROOT)/ffi/src/lib.rs)
C_VERSION      := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(ROOT)/Cargo.toml | head -1)
# The library leaks nothing at exit: ASan's leak checker stays on with no suppressions. Valgrind
# needs one, for an interior-pointer false positive in the core (see tests/c/valgrind.supp).
C_ASAN_ENV     := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
C_VALGRIND     := valgrind -q --fair-sched=yes --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
                  --suppressions=$(ROOT)/tests/c/valgrind.supp

.PHONY: c-lib c-tools header test-c test-c-header test-c-plain test-c-asan test-c-valgrind \
	test-c-install demo-c bench-c install ipc-agent-c ipc-child-c test-c-ipc-agent bench-c-ipc
TEST_TARGETS  += test-c
DEMO_TARGETS  += demo-c
BENCH_TARGETS += bench-c bench-c-ipc

# Installs what the C targets need, only when missing: valgrind and pkg-config from Debian
# packages, cbindgen built from source (crates.io, pinned, locked) into target/tools.
c-tools:
	@command -v valgrind >/dev/null && command -v pkg-config >/dev/null || { \
		echo "installing valgrind and pkg-config"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind pkg-config; }
	@[ -x $(CBINDGEN) ] && $(CBINDGEN) --version | grep -q ' $(CBINDGEN_VERSION)$$' || \
		$(CARGO) install cbindgen --version $(CBINDGEN_VERSION) --locked --root $(C_TOOLS)

# The SONAME is libwebmessaging.so.<major>: give the build directory that name too, so test
# binaries linked against it there find it at run time.
c-lib:
	$(CARGO) build --release -p webmessaging-ffi
	ln -sf libwebmessaging.so $(C_LIBDIR)/libwebmessaging.so.$(C_MAJOR)

# Regenerates the committed header.
header: c-tools
	$(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate webmessaging-ffi --output $(C_HEADER) ffi

test-c: test-c-header test-c-plain test-c-asan test-c-valgrind test-c-install test-c-ipc-agent

# The committed header must equal a fresh one, and compile on its own as C11 and C++17.
test-c-header: c-tools
	@mkdir -p $(C_BUILD)
	$(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate webmessaging-ffi --output $(C_BUILD)/webmessaging.h ffi
	@diff -u $(C_HEADER) $(C_BUILD)/webmessaging.h || { \
		echo "include/webmessaging.h is stale: run 'make header' and commit it"; exit 1; }
	echo '#include "webmessaging.h"' | $(CC) -std=c11 -Wall -Wextra -Werror -Wpedantic -I include -x c -fsyntax-only -
	echo '#include "webmessaging.h"' | $(CXX) -std=c++17 -Wall -Wextra -Werror -Wpedantic -I include -x c++ -fsyntax-only -
	@echo "header: up to date; compiles as C11 and C++17"

test-c-plain: c-lib
	@mkdir -p $(C_BUILD)/plain
	@set -e; for t in $(C_TEST_NAMES); do \
		$(CC) $(C_STD_FLAGS) -I include -o $(C_BUILD)/plain/$$t tests/c/$$t.c \
			-L $(C_LIBDIR) -lwebmessaging -lm -Wl,-rpath,$(C_LIBDIR); done
	@set -e; for t in $(C_TEST_NAMES); do echo "== plain: $$t"; $(C_BUILD)/plain/$$t; done

test-c-asan: c-lib
	@mkdir -p $(C_BUILD)/asan
	@set -e; for t in $(C_TEST_NAMES); do \
		$(CC) $(C_STD_FLAGS) $(C_SAN_FLAGS) -I include -o $(C_BUILD)/asan/$$t tests/c/$$t.c \
			-L $(C_LIBDIR) -lwebmessaging -lm -Wl,-rpath,$(C_LIBDIR); done
	@set -e; for t in $(C_TEST_NAMES); do echo "== asan+ubsan: $$t"; $(C_ASAN_ENV) $(C_BUILD)/asan/$$t; done

test-c-valgrind: c-lib c-tools test-c-plain
	@set -e; for t in $(C_TEST_NAMES); do echo "== valgrind: $$t"; \
		WM_TEST_SCALE=valgrind $(C_VALGRIND) $(C_BUILD)/plain/$$t; done

# `make install` into a scratch prefix, then build an example with pkg-config only.
C_TEST_PREFIX := $(C_BUILD)/prefix
test-c-install: c-tools
	rm -rf $(C_TEST_PREFIX)
	$(MAKE) --no-print-directory install PREFIX=$(C_TEST_PREFIX)
	@readelf -d $(C_TEST_PREFIX)/lib/libwebmessaging.so | grep -q 'SONAME.*libwebmessaging.so.$(C_MAJOR)\]' || { \
		echo "SONAME does not carry the major version"; exit 1; }
	@! readelf -S $(C_TEST_PREFIX)/lib/libwebmessaging.so $(C_TEST_PREFIX)/lib/libwebmessaging.a 2>/dev/null \
		| grep -q '\.debug_' || { echo "the installed libraries carry debug info"; exit 1; }
	@echo "installed sizes: $$(du -b $(C_TEST_PREFIX)/lib/libwebmessaging.so.$(C_VERSION) $(C_TEST_PREFIX)/lib/libwebmessaging.a | awk '{printf "%s %s bytes; ", $$2, $$1}')"
	PKG_CONFIG_PATH=$(C_TEST_PREFIX)/lib/pkgconfig sh -c '$(CC) -std=c11 -Wall -Wextra -Werror -pthread \
		-o $(C_BUILD)/installed_ping_pong examples/c/ping_pong.c \
		$$(pkg-config --cflags --libs webmessaging) -Wl,-rpath,$(C_TEST_PREFIX)/lib'
	$(C_BUILD)/installed_ping_pong
	PKG_CONFIG_PATH=$(C_TEST_PREFIX)/lib/pkgconfig sh -c '$(CC) -std=c11 -Wall -Wextra -Werror -pthread \
		-o $(C_BUILD)/installed_ping_pong_static examples/c/ping_pong.c \
		$$(pkg-config --cflags webmessaging) $(C_TEST_PREFIX)/lib/libwebmessaging.a \
		$$(pkg-config --static --libs-only-l webmessaging | sed "s/-lwebmessaging//")'
	$(C_BUILD)/installed_ping_pong_static
	@echo "installed tree: shared and static builds via pkg-config work"

# Installs stripped libraries: the build tree keeps its debug info (release builds carry it for
# profiling), the installed .so keeps only its dynamic symbols and the .a only what linking needs
# (no debug info, no local symbols, no embedded LLVM bitcode).
STRIP ?= strip
install: c-lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(C_LIBDIR)/libwebmessaging.so $(DESTDIR)$(PREFIX)/lib/libwebmessaging.so.$(C_VERSION)
	$(STRIP) --strip-unneeded $(DESTDIR)$(PREFIX)/lib/libwebmessaging.so.$(C_VERSION)
	ln -sf libwebmessaging.so.$(C_VERSION) $(DESTDIR)$(PREFIX)/lib/libwebmessaging.so.$(C_MAJOR)
	ln -sf libwebmessaging.so.$(C_MAJOR) $(DESTDIR)$(PREFIX)/lib/libwebmessaging.so
	install -m 0644 $(C_LIBDIR)/libwebmessaging.a $(DESTDIR)$(PREFIX)/lib/libwebmessaging.a
	$(STRIP) --strip-unneeded --remove-section=.llvmbc --remove-section=.llvmcmd \
		$(DESTDIR)$(PREFIX)/lib/libwebmessaging.a
	install -m 0644 $(C_HEADER) $(DESTDIR)$(PREFIX)/include/webmessaging.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(C_VERSION)|g' ffi/webmessaging.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/webmessaging.pc

C_EXAMPLES := ping_pong epoll_server
demo-c: c-lib
	@mkdir -p $(C_BUILD)/examples
	@set -e; for e in $(C_EXAMPLES); do \
		$(CC) $(C_STD_FLAGS) -I include -o $(C_BUILD)/examples/$$e examples/c/$$e.c \
			-L $(C_LIBDIR) -lwebmessaging -lm -Wl,-rpath,$(C_LIBDIR); done
	@set -e; for e in $(C_EXAMPLES); do echo "== examples/c/$$e.c"; $(C_BUILD)/examples/$$e; done

bench-c: c-lib
	@mkdir -p $(C_BUILD)/bench
	$(CC) -std=c11 -O2 -pthread -I include -o $(C_BUILD)/bench/bench_c tests/c/bench/bench_c.c \
		-L $(C_LIBDIR) -lwebmessaging -lm -Wl,-rpath,$(C_LIBDIR)
	$(CARGO) build --release -q -p webmessaging-ffi --example bench_core
	sh tests/c/bench/run.sh $(C_BUILD)/bench/bench_c $(C_PROFILE_DIR)/examples/bench_core

# Cross-process ports: the C agent of the cross-language matrix (tests/ipc/agent.c; the runner
# that mixes languages is tests/ipc/run_matrix.py) and the C child of the demo.
IPC_BUILD := $(ROOT)/build/ipc
ipc-agent-c: c-lib
	@mkdir -p $(IPC_BUILD)
	$(CC) $(C_STD_FLAGS) -I include -o $(IPC_BUILD)/agent-c tests/ipc/agent.c \
		-L $(C_LIBDIR) -lwebmessaging -lm -Wl,-rpath,$(C_LIBDIR)

ipc-child-c: c-lib
	@mkdir -p $(IPC_BUILD)
	$(CC) $(C_STD_FLAGS) -I include -o $(IPC_BUILD)/child-c examples/ipc/child.c \
		-L $(C_LIBDIR) -lwebmessaging -lm -Wl,-rpath,$(C_LIBDIR)

# The matrix's C row against itself: a C driver, a C child and a C third process.
test-c-ipc-agent: ipc-agent-c
	WM_VECTORS=$(ROOT)/tests/vectors/v8-vectors.json timeout 120 $(IPC_BUILD)/agent-c c c

# C-to-C between two processes: 16-byte messages one way and round trips, each beside a raw
# Unix-socket write/read loop between the same two processes, interleaved.
bench-c-ipc: c-lib
	@mkdir -p $(C_BUILD)/bench
	$(CC) -std=c11 -O2 -pthread -I include -o $(C_BUILD)/bench/bench_ipc tests/c/bench/bench_ipc.c \
		-L $(C_LIBDIR) -lwebmessaging -lm -Wl,-rpath,$(C_LIBDIR)
	$(C_BUILD)/bench/bench_ipc
