# dagdoc - build, test, sanitizers, fuzz, bench, install.
#
#   make            build ./dagdoc (installs the missing build packages first)
#   make test       unit + end-to-end tests; last line "N passed, N failed"
#   make check      the same tests on an ASan+UBSan build
#   make fuzz       build the libFuzzer targets and run each briefly
#   make bench      performance figures (see tests/bench/)
#   make demo       triage the bundled example, no server needed
#   make format     clang-format the sources in place (.clang-format)
#   make install PREFIX=/usr/local
#
# Each target installs the Debian packages it needs and no more: `make`
# only the compiler and the -dev libraries; test, fuzz and bench add
# their own tools (see DEB_* below).

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/dagdoc
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

PKGS       := libcurl libcjson libpcre2-8 libgit2 sqlite3 libpq yaml-0.1 zlib libhs
CC         ?= cc
BUILD      ?= build
SAN        ?=
OPT        ?= -O2
# pkg-config runs lazily, once, at first use: after `make deps` has
# installed the libraries on a fresh machine.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
# The warning set every build uses (and must pass clean).  Not adopted:
# -Wdeclaration-after-statement (C11 code declares a variable where its
# value is known).
WARNINGS   := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2
CFLAGS_ALL  = -std=c11 $(WARNINGS) $(OPT) -g $(SAN) \
              -Iinclude -Iconnectors \
              -DDD_VERSION='"$(VERSION)"' -DDD_DATADIR='"$(DATADIR)"' \
              $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL  = $(PKG_LIBS) -lm -lpthread $(LDLIBS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)

# The library (libdagdoc.a: every stage, no printing) and the program
# (src/cmd/: the commands, which print).
LIB_SRC    := $(wildcard src/*.c) $(wildcard connectors/*.c)
LIB_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
CMD_SRC    := $(wildcard src/cmd/*.c)
CMD_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(CMD_SRC))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
DEPFILES   := $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(addsuffix .d,$(UNIT_BIN))

# Debian packages, by what needs them; a stamp per group records that
# the group is installed (`make deps` is the build group).
DEB_BUILD  := build-essential pkg-config libcurl4-openssl-dev libcjson-dev \
              libpcre2-dev libgit2-dev libsqlite3-dev libpq-dev libyaml-dev zlib1g-dev libvectorscan-dev
DEB_TEST   := libcmocka-dev python3 python3-yaml python3-jsonschema git sqlite3 chromium zsh fish postgresql
DEB_FUZZ   := clang libclang-rt-14-dev
DEB_BENCH  := ripgrep time hyperfine
DEB_DEV    := clang-format valgrind
DEPS_STAMP := $(BUILD)/.deps-build

# $(call deb_install,PACKAGES): apt-get install those not installed yet.
define deb_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@mkdir -p $(dir $@) && touch $@
endef

.PHONY: all deps test check fuzz bench demo format install clean unit e2e

all: $(DEPS_STAMP) dagdoc

deps: $(DEPS_STAMP)

$(DEPS_STAMP):
	$(call deb_install,$(DEB_BUILD))

$(BUILD)/.deps-test:
	$(call deb_install,$(DEB_TEST))

build/.deps-fuzz:
	$(call deb_install,$(DEB_FUZZ))

build/.deps-bench:
	$(call deb_install,$(DEB_TEST) $(DEB_BENCH))

build/.deps-dev:
	$(call deb_install,$(DEB_DEV))

dagdoc: $(BUILD)/dagdoc
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/dagdoc dagdoc; fi

$(BUILD)/dagdoc: $(CMD_OBJ) $(BUILD)/libdagdoc.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/libdagdoc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdagdoc.a | $(BUILD)/.deps-test
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-unused-parameter -MMD -MP -o $@ $< $(BUILD)/libdagdoc.a $(LDFLAGS_ALL) -lcmocka $(LDLIBS_ALL)

unit: $(UNIT_BIN)

test: all $(BUILD)/.deps-test unit
	@BUILD=$(BUILD) DAGDOC=$(abspath $(BUILD))/dagdoc tests/run.sh

check:
	@DAGDOC_TEST_BACKENDS=sqlite $(MAKE) --no-print-directory BUILD=build-san OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

fuzz: $(DEPS_STAMP) build/.deps-fuzz
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: all build/.deps-bench
	@tests/bench/run.sh

demo: all
	@examples/demo/run.sh

format: build/.deps-dev
	clang-format -i $(wildcard src/*.c src/*.h include/dagdoc/*.h connectors/*.c connectors/*.h)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/patterns $(DESTDIR)$(DATADIR)/knowledge \
	  $(DESTDIR)$(DATADIR)/schemas
	install -m 0755 $(BUILD)/dagdoc $(DESTDIR)$(BINDIR)/dagdoc
	install -m 0644 patterns/*.yaml $(DESTDIR)$(DATADIR)/patterns/
	install -m 0644 knowledge/*.yaml $(DESTDIR)$(DATADIR)/knowledge/
	install -m 0644 schemas/*.schema.json $(DESTDIR)$(DATADIR)/schemas/
	@if [ -f dagdoc.1 ]; then install -d $(DESTDIR)$(MANDIR)/man1 && install -m 0644 dagdoc.1 $(DESTDIR)$(MANDIR)/man1/; fi
	@if [ -f examples/dagdoc.bash-completion ]; then install -d $(DESTDIR)$(BASHCOMPDIR) && \
	  install -m 0644 examples/dagdoc.bash-completion $(DESTDIR)$(BASHCOMPDIR)/dagdoc; fi
	install -d $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0644 examples/_dagdoc $(DESTDIR)$(ZSHCOMPDIR)/_dagdoc
	install -m 0644 examples/dagdoc.fish $(DESTDIR)$(FISHCOMPDIR)/dagdoc.fish

clean:
	rm -rf build build-san build-fuzz dagdoc

-include $(DEPFILES)
