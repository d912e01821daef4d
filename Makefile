# SPDX-License-Identifier: GPL-2.0-or-later
# rstwatch — explain TCP resets on a Linux gateway.
#   make          build build/rstwatch (installs missing build packages if root)
#   make check    ... the test packages too, and run every test (unit, captures,
#                 corpus, fuzz, live namespaces; root)
#   make demo     ... and play every reset cause in namespaces (needs root)
#   make install  PREFIX=/usr/local DESTDIR=: program, man pages, config, unit,
#                 logrotate file; make uninstall removes them (not config, logs)

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
            -Wpointer-arith -Wvla -Werror
PKGS     := libmnl libnftnl libnetfilter_queue libpcap nettle libcap-ng jansson libnftables
CPPFLAGS += -D_GNU_SOURCE -Isrc -Infq -Irules
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS   += $(PKG_LIBS) -lpthread -lm

# Debian packages the build needs, and those only the tests and the demo need.
# `make` checks the first (and installs what is missing if root); `make check`
# and `make demo` the second too. A build whose libraries pkg-config already
# finds never asks dpkg or apt-get.
DEB_BUILD := build-essential pkg-config libmnl-dev libnftnl-dev libnetfilter-queue-dev \
             libpcap-dev nettle-dev libcap-ng-dev libjansson-dev libnftables-dev
DEB_TEST  := libcmocka-dev nftables iptables conntrack iproute2 tcpdump tshark clang \
             libclang-rt-14-dev python3-scapy python3-jsonschema prometheus procps groff-base \
             mandoc util-linux libcap2-bin chromium conntrackd keepalived rsyslog \
             rsyslog-relp nginx-light haproxy redis-server
DEPS_STAMP := build/.deps-build-ok
TEST_DEPS_STAMP := build/.deps-test-ok

# make install: PREFIX for the program and its man pages; the config, the
# logrotate file and the unit go where the system looks for them.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(SYSCONFDIR)/systemd/system
LOGDIR     ?= /var/log/rstwatch

CLI_SRC  := $(wildcard src/main*.c)
LIB_SRC  := $(filter-out $(CLI_SRC),$(wildcard src/*.c)) $(wildcard nfq/*.c) $(wildcard rules/*.c)
LIB_OBJ  := $(patsubst %.c,build/obj/%.o,$(LIB_SRC))
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(LIB_SRC))
TSAN_OBJ := $(patsubst %.c,build/tsan/%.o,$(LIB_SRC) $(CLI_SRC))
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

.PHONY: all deps deps-apt test-deps check unit live fuzz fuzz-long demo bench install uninstall clean

all: build/rstwatch

# install-missing WHAT PACKAGES: apt-get the packages dpkg lacks (root only).
define install-missing
	@mkdir -p build
	@missing=""; for p in $(2); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "$(1): missing Debian packages:$$missing (run as root to install them)" >&2; exit 1; fi; \
	  echo "$(1): installing$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@if command -v $(CC) >/dev/null && pkg-config --exists $(PKGS) 2>/dev/null; then :; else \
	  $(MAKE) --no-print-directory deps-apt; fi
	@pkg-config --exists $(PKGS) || { echo "deps: pkg-config cannot find: $(PKGS)" >&2; exit 1; }
	@mkdir -p build && touch $@

deps-apt:
	$(call install-missing,deps,$(DEB_BUILD))

test-deps: $(TEST_DEPS_STAMP)
$(TEST_DEPS_STAMP): $(DEPS_STAMP)
	$(call install-missing,test-deps,$(DEB_TEST))
	@touch $@

build/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

build/asan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g $(SAN) $(WARN) -MMD -MP -c -o $@ $<

# The daemon under ThreadSanitizer, for tests/live/t-races.sh (its threads
# share counters); TSan and ASan cannot share a build.
build/tsan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g -fsanitize=thread $(WARN) -MMD -MP -c -o $@ $<

build/tsan/rstwatch: $(TSAN_OBJ)
	$(CC) -fsanitize=thread -o $@ $^ $(LDLIBS)

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

build/asan/tests/%: tests/unit/%.c build/librstwatch-asan.a | $(TEST_DEPS_STAMP)
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
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) | $(TEST_DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(PKG_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined -o $@ $< $(LIB_SRC) $(LDLIBS)

unit: $(UNIT_BIN)
# clang comes with the test packages: look for it once they are installed.
fuzz: $(TEST_DEPS_STAMP)
	@if command -v $(FUZZ_CC) >/dev/null; then $(MAKE) --no-print-directory $(FUZZ_BIN); \
	else echo "fuzz: no $(FUZZ_CC), fuzz targets not built"; fi

# Every fuzz target for FUZZ_LONG_SECONDS in all (default an hour), by hand.
FUZZ_LONG_SECONDS ?= 3600
fuzz-long: fuzz
	FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) tests/fuzz/t-fuzz.sh

live: $(LIVE_BIN)
bench: all $(BENCH_BIN)

check: test-deps all build/asan/rstwatch build/tsan/rstwatch unit live fuzz
	@tests/run-suite.sh

demo: test-deps all
	@tests/demo.sh

# The unit names the installed program's path; the source copy says /usr/local.
install: build/rstwatch
	install -D -m 0755 build/rstwatch $(DESTDIR)$(SBINDIR)/rstwatch
	install -D -m 0644 rules/man/rstwatch.8 $(DESTDIR)$(MANDIR)/man8/rstwatch.8
	install -D -m 0644 rules/man/rstwatch.conf.5 $(DESTDIR)$(MANDIR)/man5/rstwatch.conf.5
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/rstwatch|$(SBINDIR)/rstwatch|' rules/rstwatch.service \
	  >$(DESTDIR)$(UNITDIR)/rstwatch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rstwatch.service
	install -D -m 0644 rules/rstwatch.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/rstwatch
	@# An edited config is the operator's: never overwritten.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/rstwatch/rstwatch.conf ]; then \
	  echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/rstwatch/rstwatch.conf"; else \
	  install -D -m 0644 rules/rstwatch.conf $(DESTDIR)$(SYSCONFDIR)/rstwatch/rstwatch.conf; fi
	install -d -m 0750 $(DESTDIR)$(LOGDIR)

# The config and the logs stay: they are the operator's data.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/rstwatch $(DESTDIR)$(MANDIR)/man8/rstwatch.8 \
	  $(DESTDIR)$(MANDIR)/man5/rstwatch.conf.5 $(DESTDIR)$(UNITDIR)/rstwatch.service \
	  $(DESTDIR)$(SYSCONFDIR)/logrotate.d/rstwatch
	@echo "uninstall: left $(DESTDIR)$(SYSCONFDIR)/rstwatch/ and $(DESTDIR)$(LOGDIR)/ in place"

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
