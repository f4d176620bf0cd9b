# Makefile - build, test and benchmark jibe.
#
#   make deps        install missing Debian packages and the Kafka jars (idempotent, quiet):
#                    everything CI needs; `sh deploy/deps.sh runtime` is what a server needs
#   make             release build in build/release/
#   make asan        ASan+UBSan build in build/asan/
#   make test        build, then run unit and integration tests (release build)
#   make test-asan   the same tests on the sanitizer build
#   make test-clang  the same tests built with clang, ASan+UBSan (build/clang-asan/)
#   make fuzz        libFuzzer harnesses of tests/fuzz/ (clang), each run FUZZ_SECONDS (60) s
#   make valgrind    unit tests under valgrind (build/valgrind/)
#   make bench       benchmarks (prints figures; not a test)
#   make format      reformat every C file of common/, producer/, consumer/, tests/ (.clang-format)
#   make format-check  list the files that make format would change; fails if there are any (CI)
#   make check-layering  which folder may include which header (tests/check-layering.sh; CI)
#   make install     install jibe, its man pages, example config, systemd units, logrotate file
#                    (PREFIX=/usr/local, DESTDIR for a staging root; IB=BUILD_DIR installs
#                    the binary of another build directory)
#   make deb         a Debian package of this tree in build/deb/ (packaging/deb/build.sh)
#   make man         the man pages in $(B)/man/ (jibe.cfg.5 from the option table)
#   make demo        the main job end to end: simulator, generated CloudTrail history, jibe run
#   make demo-kafka  the same in the distributed mode over a real Kafka broker
#   make clean
#
# CC=clang (or any clang) builds into build/clang-$(FLAVOR), gcc into build/$(FLAVOR), so the
# objects of two compilers never mix.
#
# INFLATE=isal|zlib picks the library the CloudTrail reader inflates gzip with
# (common/ct_inflate_*.c): ISA-L (libisal-dev, several times faster) by default where
# pkg-config or its header finds it, else zlib. A build with the other choice than the
# default goes to its own directory (build/release-zlib), so the two never mix:
# `make INFLATE=zlib unit` runs the unit tests on the zlib back end. `jibe version` names it.

FLAVOR   ?= release
CC       ?= cc
IS_CLANG := $(if $(findstring clang,$(notdir $(CC))),1,)
HAVE_ISAL := $(shell pkg-config --exists libisal 2>/dev/null && echo 1 || \
               { [ -f /usr/include/isa-l/igzip_lib.h ] && echo 1; })
INFLATE_DEFAULT := $(if $(HAVE_ISAL),isal,zlib)
INFLATE  ?= $(INFLATE_DEFAULT)
ifeq ($(filter $(INFLATE),isal zlib),)
$(error INFLATE=$(INFLATE): choose isal or zlib)
endif
ifeq ($(INFLATE)$(HAVE_ISAL),isal)
$(error INFLATE=isal: ISA-L is not installed (Debian: libisal-dev; make deps installs it))
endif
INFLATE_DIR := $(if $(filter-out $(INFLATE_DEFAULT),$(INFLATE)),-$(INFLATE))
B        := build/$(if $(IS_CLANG),clang-)$(FLAVOR)$(INFLATE_DIR)
FUZZ_B   := build/clang-fuzz$(INFLATE_DIR)
# zlib stays linked either way: the tests, the generator and the simulator deflate with it.
PKGS     := rdkafka libcurl libcjson zlib libconfig libmicrohttpd
SIMPKGS  :=
FUZZ_SECONDS ?= 60

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wpointer-arith -Wundef -Wvla \
            -Wimplicit-fallthrough -fno-common
# float-cast-overflow: clang's "undefined" has it, gcc's does not (a double out of an
# integer's range, e.g. 1e300 read as int64_t).
ifeq ($(FLAVOR),asan)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow \
            -fno-sanitize-recover=all
LDSAN    := -fsanitize=address,undefined,float-cast-overflow
else ifeq ($(FLAVOR),fuzz)
# clang only: coverage for libFuzzer in every object; the harness links the fuzzer's main.
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
            -fno-sanitize-recover=all
LDSAN    := -fsanitize=address,undefined
else ifeq ($(FLAVOR),valgrind)
OPT      := -O0 -g
else
OPT      := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(SIMPKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SIM_LIBS   = $(shell pkg-config --libs $(SIMPKGS) 2>/dev/null)

CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Icommon -Iproducer -Iconsumer $(PKG_CFLAGS)
CFLAGS   += $(OPT) $(WARN)
LDFLAGS  += $(LDSAN)
ifeq ($(INFLATE),isal)
LDLIBS   += $(or $(shell pkg-config --libs libisal 2>/dev/null),-lisal)
endif
LDLIBS   += $(PKG_LIBS) -lm -pthread

# The command layer (common/cli/) is the jibe binary's own: the only code that includes the
# stage headers of producer/ and consumer/; libjibe.a (stages, transport, client) never
# includes it.
LIB_SRC  := $(filter-out common/ct_inflate_$(if $(filter isal,$(INFLATE)),zlib,isal).c, \
              $(wildcard common/*.c producer/*.c consumer/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CLI_SRC  := $(wildcard common/cli/*.c)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
SIM_SRC  := $(wildcard tests/sim/aasim/*.c)
GEN_SRC  := $(wildcard tests/gen/ctgen/*.c)
TU_SRC   := $(wildcard tests/unit/tu*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Each harness tests/fuzz/fuzz_NAME.c is built twice: with libFuzzer (make fuzz), and with
# tests/fuzz/replay.c as the unit test test_fuzz_NAME that replays the committed inputs of
# tests/fuzz/regress/NAME/ and tests/fuzz/corpus/NAME/ on every compiler and flavour.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(B)/tests/test_fuzz_%)
FUZZ_BIN := $(FUZZ_NAMES:%=$(B)/fuzz/fuzz_%)

# `make bench` programs: tests/bench/NAME.c -> $(B)/bench/NAME, built with `all` so every
# compiler and flavour checks them.
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)

BINS     := $(B)/jibe $(B)/jibe-aa-sim $(B)/jibe-ctgen

.SECONDARY:
.PHONY: all deps asan test test-asan test-clang unit valgrind bench clean demo demo-kafka \
        fuzz fuzz-build format format-check check-layering install deb man soak FORCE
all: $(BINS) $(UNIT_BIN) $(REPLAY_BIN) $(BENCH_BIN)

deps:
	@sh deploy/deps.sh
	@sh deploy/kafka/kafka.sh fetch

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libjibe.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/jibe: $(CLI_OBJ) $(B)/libjibe.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/jibe-aa-sim: $(SIM_SRC:%.c=$(B)/%.o) $(B)/libjibe.a
	$(CC) $(LDFLAGS) -o $@ $^ $(SIM_LIBS) $(LDLIBS)

$(B)/jibe-ctgen: $(GEN_SRC:%.c=$(B)/%.o) $(B)/libjibe.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(TU_SRC:%.c=$(B)/%.o) $(B)/libjibe.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(B)/bench/%: $(B)/tests/bench/%.o $(B)/libjibe.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/test_fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/replay.o $(B)/libjibe.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/fuzz/replay.o: CPPFLAGS += -DJB_REPLAY_TOP='"$(CURDIR)"'

# `jibe --version` names the git revision it was built from (JIBE_GIT_REV overrides it, for a
# build from a tarball); the stamp file rebuilds cli_common.o when the revision changes.
JIBE_GIT_REV ?= $(shell git -C $(CURDIR) describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
$(B)/git-rev.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(JIBE_GIT_REV)' | cmp -s - $@ || echo '$(JIBE_GIT_REV)' >$@
$(B)/common/cli/cli_common.o: $(B)/git-rev.stamp
$(B)/common/cli/cli_common.o: CPPFLAGS += -DJB_GIT_REV='"$(JIBE_GIT_REV)"'
FORCE:

$(B)/fuzz/fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/libjibe.a
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

asan:
	@$(MAKE) --no-print-directory FLAVOR=asan all

test: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh $(B)

test-asan:
	@$(MAKE) --no-print-directory FLAVOR=asan test

test-clang:
	@$(MAKE) --no-print-directory CC=clang FLAVOR=asan test

fuzz-build:
	@$(MAKE) --no-print-directory CC=clang FLAVOR=fuzz $(FUZZ_B)/fuzz/all

$(FUZZ_B)/fuzz/all: $(FUZZ_BIN)

# Each harness runs FUZZ_SECONDS; new inputs go to build/clang-fuzz/corpus/NAME (the committed
# seeds are read, never written), a crash is saved under build/clang-fuzz/crash/NAME/ and fails
# the target: copy it to tests/fuzz/regress/NAME/ once fixed.
fuzz: fuzz-build
	@set -e; for n in $(FUZZ_NAMES); do \
		d=$(FUZZ_B); mkdir -p $$d/corpus/$$n $$d/crash/$$n; \
		echo "fuzz $$n: $(FUZZ_SECONDS) s"; \
		$$d/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=20 \
			-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$$d/crash/$$n/ \
			$$d/corpus/$$n tests/fuzz/corpus/$$n >$$d/fuzz-$$n.log 2>&1 || { \
			tail -n 60 $$d/fuzz-$$n.log; \
			echo "fuzz $$n: FAILED (log: $$d/fuzz-$$n.log, input: $$d/crash/$$n/)"; exit 1; }; \
		grep -E '^stat::(number_of_executed_units|new_units_added)' $$d/fuzz-$$n.log | \
			sed "s/^/    $$n /"; \
	done

# kill -9 soak (tests/soak/soak.sh): SOAK_MODE=embedded|kafka|both, SOAK_KILLS (50 per mode),
# SOAK_SEED (printed; replays the plan); not part of `make test` (CI runs the short
# tests/integration/0490-soak-short.sh).
soak: deps
	@$(MAKE) --no-print-directory FLAVOR=release all
	@sh tests/soak/soak.sh build/release

unit: all
	@JIBE_ONLY=unit sh tests/run.sh $(B)

valgrind:
	@$(MAKE) --no-print-directory FLAVOR=valgrind all
	@JIBE_ONLY=unit JIBE_VALGRIND=1 sh tests/run.sh build/valgrind

bench:
	@$(MAKE) --no-print-directory FLAVOR=release all
	@build/$(if $(IS_CLANG),clang-)release$(INFLATE_DIR)/bench/bench_sha256
	@sh tests/bench/run.sh build/$(if $(IS_CLANG),clang-)release$(INFLATE_DIR)
	@python3 tests/bench/e2e.py build/$(if $(IS_CLANG),clang-)release$(INFLATE_DIR)
	@python3 tests/bench/metrics.py build/$(if $(IS_CLANG),clang-)release$(INFLATE_DIR)

# The embedded demo needs neither Java nor Maven: only the Debian packages, not the Kafka jars.
demo:
	@sh deploy/deps.sh demo
	@$(MAKE) --no-print-directory FLAVOR=release all
	@sh deploy/demo.sh build/release

demo-kafka: deps
	@$(MAKE) --no-print-directory FLAVOR=release all
	@DEMO_MODE=kafka sh deploy/demo.sh build/release

# Install layout. Units, sysusers.d and man pages under PREFIX (systemd and man read
# /usr/local too); the logrotate file under SYSCONFDIR, /etc whatever the PREFIX (logrotate
# reads only /etc/logrotate.d). The units name $(BINDIR)/jibe.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/jibe
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR  ?= /etc
IB          ?= $(B)
UNITS       := $(wildcard deploy/systemd/*.service)
DEB_DIR     ?= build/deb

# jibe.cfg.5 comes from the option table, like deploy/jibe.cfg.example, so the two agree.
%/man/jibe.cfg.5: %/jibe
	@mkdir -p $(dir $@)
	$< check-config --man >$@.tmp && mv $@.tmp $@

man: $(B)/man/jibe.cfg.5

install: $(IB)/jibe $(IB)/man/jibe.cfg.5
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 755 $(IB)/jibe $(DESTDIR)$(BINDIR)/jibe
	install -m 644 man/jibe.1 $(DESTDIR)$(MANDIR)/man1/jibe.1
	install -m 644 $(IB)/man/jibe.cfg.5 $(DESTDIR)$(MANDIR)/man5/jibe.cfg.5
	install -m 644 deploy/jibe.cfg.example $(DESTDIR)$(DOCDIR)/jibe.cfg.example
	install -m 644 packaging/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/jibe.conf
	install -m 644 deploy/logrotate/jibe $(DESTDIR)$(SYSCONFDIR)/logrotate.d/jibe
	for u in $(UNITS); do \
		sed 's|/usr/bin/jibe |$(BINDIR)/jibe |' $$u >$(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done

# dpkg-deb over a staging root (no debhelper needed; dpkg-shlibdeps names the libraries).
deb: $(IB)/jibe $(IB)/man/jibe.cfg.5
	@rm -rf $(DEB_DIR)/stage
	@$(MAKE) --no-print-directory -s install IB=$(IB) PREFIX=/usr DESTDIR=$(abspath $(DEB_DIR))/stage/debian/jibe
	@sh packaging/deb/build.sh $(DEB_DIR)/stage $(DEB_DIR)

# Every C source and header of the four source folders. Generated or vendored files would be
# listed in FORMAT_EXCLUDE (there are none today: cJSON, zlib and the others come from Debian).
FORMAT_EXCLUDE :=
FORMAT_SRC = $(filter-out $(FORMAT_EXCLUDE),$(sort $(shell find common producer consumer tests \
                 -name '*.[ch]' -type f 2>/dev/null)))
CLANG_FORMAT ?= clang-format

format:
	@command -v $(CLANG_FORMAT) >/dev/null || { echo "format: $(CLANG_FORMAT) is missing (make deps installs it)"; exit 1; }
	@$(CLANG_FORMAT) -i $(FORMAT_SRC)

format-check:
	@command -v $(CLANG_FORMAT) >/dev/null || { echo "format-check: $(CLANG_FORMAT) is missing (make deps installs it)"; exit 1; }
	@bad=0; for f in $(FORMAT_SRC); do \
		$(CLANG_FORMAT) "$$f" | cmp -s - "$$f" && continue; \
		[ $$bad -eq 0 ] && echo "format-check: these files differ from .clang-format (make format rewrites them):"; \
		echo "  $$f"; bad=$$((bad + 1)); \
	done; \
	if [ $$bad -ne 0 ]; then echo "format-check: $$bad file(s) to reformat ($$($(CLANG_FORMAT) --version))"; exit 1; fi; \
	echo "format-check: $(words $(FORMAT_SRC)) files laid out as .clang-format says"

check-layering:
	@sh tests/check-layering.sh --self-test
	@sh tests/check-layering.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f 2>/dev/null)
