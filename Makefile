# rstwatch — explain TCP resets on a Linux gateway.
#   make          install missing Debian packages, build build/rstwatch
#   make check    ... and run every test (unit, captures, corpus, fuzz, live namespaces)
#   make demo     ... and play every reset cause in namespaces (needs root)

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
            -Wpointer-arith -Wvla -Werror
PKGS     := libmnl libnftnl libnetfilter_queue libpcap nettle libcap-ng
CPPFLAGS += -D_GNU_SOURCE -Isrc -Infq -Irules
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

# Debian packages the build, the tests and the demo need. `deps` installs the
# missing ones (apt-get needs root); everything else only checks.
DEB_BUILD := build-essential pkg-config libmnl-dev libnftnl-dev libnetfilter-queue-dev \
             libpcap-dev nettle-dev libcap-ng-dev libcmocka-dev
DEB_TEST  := nftables iptables conntrack iproute2 tcpdump tshark clang libclang-rt-14-dev \
             python3-scapy python3-jsonschema prometheus procps chromium
DEPS_STAMP := build/.deps-ok

CLI_SRC  := $(wildcard src/main*.c)
LIB_SRC  := $(filter-out $(CLI_SRC),$(wildcard src/*.c)) $(wildcard nfq/*.c) $(wildcard rules/*.c)
LIB_OBJ  := $(patsubst %.c,build/obj/%.o,$(LIB_SRC))
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(LIB_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))
LIVE_SRC := $(wildcard tests/live/*.c)
LIVE_BIN := $(patsubst tests/live/%.c,build/asan/live/%,$(LIVE_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,build/bench/%,$(BENCH_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
# Test tables use positional initialisers that leave trailing fields zero.
TEST_WARN := -Wno-missing-prototypes -Wno-missing-field-initializers
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all deps check unit live fuzz fuzz-long demo bench clean

all: build/rstwatch

deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@mkdir -p build
	@missing=""; for p in $(DEB_BUILD) $(DEB_TEST); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: need root to apt-get install$$missing" >&2; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@pkg-config --exists $(PKGS) || { echo "deps: pkg-config cannot find: $(PKGS)" >&2; exit 1; }
	@touch $@

build/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

build/asan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g $(SAN) $(WARN) -MMD -MP -c -o $@ $<

build/librstwatch.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

build/librstwatch-asan.a: $(ASAN_OBJ)
	$(AR) rcs $@ $^

CLI_OBJ  := $(patsubst %.c,build/obj/%.o,$(CLI_SRC))
CLI_ASAN := $(patsubst %.c,build/asan/%.o,$(CLI_SRC))

build/rstwatch: $(CLI_OBJ) build/librstwatch.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# The same program under ASan/UBSan: what the capture, corpus and live tests run.
build/asan/rstwatch: $(CLI_ASAN) build/librstwatch-asan.a
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

build/asan/tests/%: tests/unit/%.c build/librstwatch-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g $(SAN) $(WARN) $(TEST_WARN) -o $@ $< \
	  build/librstwatch-asan.a $(LDLIBS) -lcmocka

# Helper programs of the live tests (traffic makers, probes), under ASan too.
build/asan/live/%: tests/live/%.c build/librstwatch-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g $(SAN) $(WARN) -Wno-missing-prototypes -o $@ $< \
	  build/librstwatch-asan.a $(LDLIBS)

# Benchmark programs (not tests): optimised, no sanitizers.
build/bench/%: bench/%.c build/librstwatch.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -O2 -g $(WARN) -Wno-missing-prototypes -o $@ $< \
	  build/librstwatch.a $(LDLIBS)

# libFuzzer targets need clang; without it `make fuzz` says so and does nothing.
FUZZ_CC ?= clang
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined -o $@ $< $(LIB_SRC) $(LDLIBS)

unit: $(UNIT_BIN)
fuzz: $(if $(shell command -v $(FUZZ_CC)),$(FUZZ_BIN),)

# Every fuzz target for FUZZ_LONG_SECONDS in all (default an hour), by hand.
FUZZ_LONG_SECONDS ?= 3600
fuzz-long: fuzz
	FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) tests/fuzz/t-fuzz.sh

live: $(LIVE_BIN)
bench: all $(BENCH_BIN)

check: all build/asan/rstwatch unit live fuzz
	@tests/run-suite.sh

demo: all
	@tests/demo.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
