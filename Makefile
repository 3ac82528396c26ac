# stitch: see README.md.  `make` builds ./stitch; `make check` runs every test.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/stitch
DESTDIR ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS    := libcurl libarchive jansson sqlite3 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs jansson sqlite3 libcrypto 2>/dev/null) -ldl

ALL_CFLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -iquote src $(PKG_CFLAGS) \
	-DSTITCH_DATADIR='"$(DATADIR)"' -DSTITCH_VERSION='"$(VERSION)"' $(CFLAGS)
VERSION := 0.1.0

SRC_OBJ  := $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
CMD_OBJ  := $(patsubst %.c,%.o,$(sort $(wildcard cmd/*.c)))
UNIT_BIN := $(patsubst %.c,%,$(sort $(wildcard tests/unit/test_*.c)))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst %.c,%,$(FUZZ_SRC))
FUZZ_TIME ?= 60

DEPS_BUILD := gcc make pkg-config bubblewrap libcurl4-openssl-dev libarchive-dev libjansson-dev \
	libsqlite3-dev libssl-dev
DEPS_TEST  := python3 gzip xz-utils zstd binutils iproute2 curl iputils-ping nginx libnginx-mod-http-dav-ext \
              valgrind
DEPS_BENCH := libsolv-tools time
DEPS_FUZZ  := clang libclang-rt-14-dev

.PHONY: all check unit-tests bench torture fuzz fuzz-build install demo clean check-style deps

all: stitch

stitch: $(CMD_OBJ) libstitch.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CMD_OBJ) libstitch.a $(PKG_LIBS) $(LDFLAGS)

libstitch.a: $(SRC_OBJ)
	rm -f $@
	ar rcsD $@ $(SRC_OBJ)

%.o: %.c
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

tests/unit/test_%: tests/unit/test_%.c tests/unit/test.h libstitch.a
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< libstitch.a $(PKG_LIBS) $(LDFLAGS)

unit-tests: $(UNIT_BIN)

deps:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_TEST)

check:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_TEST)
	@$(MAKE) --no-print-directory all unit-tests
	@tests/run

bench:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_BENCH)
	@$(MAKE) --no-print-directory all
	@tests/bench/run

# Fault trials (kill -9 at random points, corrupt input): a few minutes.
torture:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_TEST) util-linux
	@$(MAKE) --no-print-directory all
	@tests/torture/run

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard src/*.c src/*.h)
	clang -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -iquote src $(PKG_CFLAGS) -g -O1 \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(wildcard src/*.c) $(PKG_LIBS)

fuzz-build:
	@tests/need-packages $(DEPS_BUILD) $(DEPS_FUZZ)
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@tests/fuzz/run $(FUZZ_TIME) $(FUZZ_BIN)

demo:
	@tests/need-packages $(DEPS_BUILD) binutils iproute2 curl iputils-ping
	@$(MAKE) --no-print-directory all
	@share/demo.sh

install: stitch
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/repo-index
	install -m 755 stitch $(DESTDIR)$(BINDIR)/stitch
	cp -R repo-index/. $(DESTDIR)$(DATADIR)/repo-index/
	cp -R share/. $(DESTDIR)$(DATADIR)/

check-style:
	@tests/check-style

clean:
	rm -f stitch libstitch.a src/*.o src/*.d cmd/*.o cmd/*.d $(UNIT_BIN) $(FUZZ_BIN)
	rm -rf tests/tmp

-include $(SRC_OBJ:.o=.d) $(CMD_OBJ:.o=.d)
