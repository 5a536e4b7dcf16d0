# dagdoc - build, test, sanitizers, fuzz, bench, install.
#
#   make            build ./dagdoc (installs missing Debian -dev packages first)
#   make test       unit + end-to-end tests; last line "N passed, N failed"
#   make check      the same tests on an ASan+UBSan build
#   make fuzz       build the libFuzzer targets and run each briefly
#   make bench      performance figures (see tests/bench/)
#   make demo       triage the bundled example, no server needed
#   make install PREFIX=/usr/local

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/dagdoc
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

PKGS       := libcurl libcjson libpcre2-8 libgit2 sqlite3 yaml-0.1 zlib libhs
CC         ?= cc
BUILD      ?= build
SAN        ?=
OPT        ?= -O2
# pkg-config runs lazily, once, at first use: after `make deps` has
# installed the libraries on a fresh machine.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
CFLAGS_ALL  = -std=c11 -Wall -Wextra -Werror $(OPT) -g $(SAN) \
              -Iinclude -Iconnectors \
              -DDD_VERSION='"$(VERSION)"' -DDD_DATADIR='"$(DATADIR)"' \
              $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL  = $(PKG_LIBS) -lm -lpthread $(LDLIBS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)

LIB_SRC    := $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard connectors/*.c)
LIB_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
DEPFILES   := $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d $(addsuffix .d,$(UNIT_BIN))

# Debian packages the build and the tests need; `make deps` installs the
# missing ones and does nothing when all are present.
DEB_PKGS   := build-essential pkg-config libcurl4-openssl-dev libcjson-dev \
              libpcre2-dev libgit2-dev libsqlite3-dev libyaml-dev zlib1g-dev \
              libcmocka-dev python3 python3-yaml python3-jsonschema git libvectorscan-dev \
              sqlite3 clang libclang-rt-14-dev ripgrep time hyperfine valgrind chromium
DEPS_STAMP := $(BUILD)/.deps-ok

.PHONY: all deps test check fuzz bench demo install clean unit e2e

all: $(DEPS_STAMP) dagdoc

deps: $(DEPS_STAMP)

$(DEPS_STAMP):
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@mkdir -p $(BUILD) && touch $@

dagdoc: $(BUILD)/dagdoc
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/dagdoc dagdoc; fi

$(BUILD)/dagdoc: $(BUILD)/src/main.o $(BUILD)/libdagdoc.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/libdagdoc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdagdoc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-unused-parameter -MMD -MP -o $@ $< $(BUILD)/libdagdoc.a $(LDFLAGS_ALL) -lcmocka $(LDLIBS_ALL)

unit: $(UNIT_BIN)

test: all unit
	@BUILD=$(BUILD) DAGDOC=$(abspath $(BUILD))/dagdoc tests/run.sh

check:
	@$(MAKE) --no-print-directory BUILD=build-san OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

fuzz: $(DEPS_STAMP)
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: all
	@tests/bench/run.sh

demo: all
	@examples/demo/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/patterns $(DESTDIR)$(DATADIR)/knowledge
	install -m 0755 $(BUILD)/dagdoc $(DESTDIR)$(BINDIR)/dagdoc
	install -m 0644 patterns/*.yaml $(DESTDIR)$(DATADIR)/patterns/
	install -m 0644 knowledge/*.yaml $(DESTDIR)$(DATADIR)/knowledge/
	@if [ -f dagdoc.1 ]; then install -d $(DESTDIR)$(MANDIR)/man1 && install -m 0644 dagdoc.1 $(DESTDIR)$(MANDIR)/man1/; fi
	@if [ -f examples/dagdoc.bash-completion ]; then install -d $(DESTDIR)$(BASHCOMPDIR) && \
	  install -m 0644 examples/dagdoc.bash-completion $(DESTDIR)$(BASHCOMPDIR)/dagdoc; fi

clean:
	rm -rf build build-san build-fuzz dagdoc

-include $(DEPFILES)
