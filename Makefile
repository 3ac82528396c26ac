# stitch: see README.md.  `make` builds ./stitch; `make check` runs every test.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/stitch
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS    := libcurl libarchive jansson sqlite3 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs jansson sqlite3 libcrypto 2>/dev/null) -ldl -pthread
# The stitch binary links jansson, sqlite and libcrypto's SHA-256 statically
# (Debian's own .a files from the same -dev packages): mapping and relocating
# the shared libcrypto alone costs every command about 2 ms at start, more
# than a no-op build does.  Rebuild stitch to take a security update of these
# three.  libcurl and libarchive stay shared, loaded when first used (src/dl.h).
STITCH_LIBS := $(shell pkg-config --libs-only-L jansson sqlite3 libcrypto 2>/dev/null) \
	-Wl,-Bstatic -ljansson -lsqlite3 -lcrypto -Wl,-Bdynamic -lm -ldl -pthread

# SAN=1: AddressSanitizer and UndefinedBehaviorSanitizer.  Everything it
# builds goes under _san/ (_san/stitch, _san/tests/unit/test_*), so a
# sanitizer build never mixes with a normal one; `make check SAN=1` tests it.
SAN ?=
ifeq ($(SAN),1)
O        := _san/
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
O        :=
SANFLAGS :=
endif
# Compile in parallel on every core; `make -jN` on the command line wins,
# and a sub-make shares its parent's job slots.
NPROC := $(shell nproc 2>/dev/null || echo 1)
ifeq ($(MAKELEVEL)$(filter -j%,$(MAKEFLAGS)),0)
MAKEFLAGS += -j$(NPROC)
endif

ALL_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -iquote src $(PKG_CFLAGS) \
	-DSTITCH_DATADIR='"$(DATADIR)"' -DSTITCH_VERSION='"$(VERSION)"' $(CFLAGS) $(SANFLAGS)
VERSION := 0.1.0

SRC_OBJ  := $(patsubst %.c,$(O)%.o,$(sort $(wildcard src/*.c)))
CMD_OBJ  := $(patsubst %.c,$(O)%.o,$(sort $(wildcard cmd/*.c)))
UNIT_BIN := $(patsubst %.c,$(O)%,$(sort $(wildcard tests/unit/test_*.c)))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst %.c,%,$(FUZZ_SRC))
FUZZ_TIME ?= 60

DEPS_BUILD := gcc make pkg-config bubblewrap libcurl4-openssl-dev libarchive-dev libjansson-dev \
	libsqlite3-dev libssl-dev
DEPS_TEST  := python3 graphviz fish gzip xz-utils zstd binutils iproute2 curl iputils-ping nginx libnginx-mod-http-dav-ext \
              valgrind tmux groff-base mandoc zsh tcpdump qemu-system-x86
DEPS_BENCH := libsolv-tools time
DEPS_FUZZ  := clang libclang-rt-14-dev

.PHONY: all check check-san unit-tests bench torture fuzz fuzz-build install demo clean check-style deps

all: $(O)stitch

$(O)stitch: $(CMD_OBJ) $(O)libstitch.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CMD_OBJ) $(O)libstitch.a $(STITCH_LIBS) $(LDFLAGS)

# stitch finds the bundled index beside its binary: _san/stitch too.
ifneq ($(O),)
all: $(O)repo-index
$(O)repo-index:
	@mkdir -p $(@D)
	ln -sfn ../repo-index $@
endif

$(O)libstitch.a: $(SRC_OBJ)
	rm -f $@
	ar rcsD $@ $(SRC_OBJ)

$(O)%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)tests/unit/test_%: tests/unit/test_%.c tests/unit/test.h $(O)libstitch.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(O)libstitch.a $(PKG_LIBS) $(LDFLAGS)

unit-tests: $(UNIT_BIN)

deps:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_TEST)

# TIERS=: the tiers tests/run runs (unit cases cli memcheck user; default
# all of them).  With SAN=1 tests/run uses _san/ and skips memcheck.
check:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_TEST)
	@$(MAKE) --no-print-directory all unit-tests
	@STITCH_BUILD=$(O) TIERS="$(TIERS)" tests/run

# The sanitizer build of every tier that runs stitch end to end (what CI runs).
check-san:
	@$(MAKE) --no-print-directory check SAN=1 TIERS="$(or $(TIERS),unit cli)"

bench:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_BENCH)
	@$(MAKE) --no-print-directory all
	@tests/bench/run

# Fault trials (kill -9 at random points, corrupt input): a few minutes.
torture:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_TEST) util-linux
	@$(MAKE) --no-print-directory all
	@tests/torture/run

# The fuzzers share one clang build of src/ under _fuzz/ (compiled once, not
# once per fuzzer).
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -iquote src $(PKG_CFLAGS) -g -O1
FUZZ_OBJ    := $(patsubst %.c,_fuzz/%.o,$(sort $(wildcard src/*.c)))

_fuzz/src/%.o: src/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<

_fuzz/libstitch.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcsD $@ $(FUZZ_OBJ)

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c _fuzz/libstitch.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< _fuzz/libstitch.a $(PKG_LIBS)

fuzz-build:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_FUZZ)
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@tests/fuzz/run $(FUZZ_TIME) $(FUZZ_BIN)

demo:
	@tests/need-packages $(DEPS_BUILD) binutils iproute2 curl iputils-ping qemu-system-x86
	@$(MAKE) --no-print-directory all
	@share/demo.sh

install: $(O)stitch
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/repo-index
	install -m 755 $(O)stitch $(DESTDIR)$(BINDIR)/stitch
	cp -R repo-index/. $(DESTDIR)$(DATADIR)/repo-index/
	cp -R share/. $(DESTDIR)$(DATADIR)/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 644 share/man/man1/stitch.1 $(DESTDIR)$(MANDIR)/man1/stitch.1
	install -m 644 share/completion/stitch.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/stitch
	install -m 644 share/completion/_stitch $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_stitch

check-style:
	@tests/check-style

clean:
	rm -f stitch libstitch.a src/*.o src/*.d cmd/*.o cmd/*.d $(UNIT_BIN) $(FUZZ_BIN)
	rm -rf tests/tmp _san _fuzz

-include $(SRC_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
