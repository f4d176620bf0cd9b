# Makefile - build, test and benchmark jibe.
#
#   make deps        install missing Debian packages and the Kafka jars (idempotent, quiet)
#   make             release build in build/release/
#   make asan        ASan+UBSan build in build/asan/
#   make test        build, then run unit and integration tests (release build)
#   make test-asan   the same tests on the sanitizer build
#   make valgrind    unit tests under valgrind (build/valgrind/)
#   make bench       benchmarks (prints figures; not a test)
#   make demo        the main job end to end: simulator, generated CloudTrail history, jibe run
#   make demo-kafka  the same in the distributed mode over a real Kafka broker
#   make clean

FLAVOR   ?= release
B        := build/$(FLAVOR)
PKGS     := rdkafka libcurl libcjson zlib libconfig
SIMPKGS  := libmicrohttpd
CC       ?= cc

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wpointer-arith -Wundef -Wvla \
            -Wimplicit-fallthrough -fno-common
ifeq ($(FLAVOR),asan)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
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
LDLIBS   += $(PKG_LIBS) -lm -pthread

LIB_SRC  := $(filter-out common/main.c,$(wildcard common/*.c producer/*.c consumer/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
SIM_SRC  := $(wildcard tests/sim/aasim/*.c)
GEN_SRC  := $(wildcard tests/gen/ctgen/*.c)
TU_SRC   := $(wildcard tests/unit/tu*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

BINS     := $(B)/jibe $(B)/jibe-aa-sim $(B)/jibe-ctgen

.SECONDARY:
.PHONY: all deps asan test test-asan unit valgrind bench clean demo demo-kafka
all: $(BINS) $(UNIT_BIN)

deps:
	@sh deploy/deps.sh
	@sh deploy/kafka/kafka.sh fetch

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libjibe.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/jibe: $(B)/common/main.o $(B)/libjibe.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/jibe-aa-sim: $(SIM_SRC:%.c=$(B)/%.o) $(B)/libjibe.a
	$(CC) $(LDFLAGS) -o $@ $^ $(SIM_LIBS) $(LDLIBS)

$(B)/jibe-ctgen: $(GEN_SRC:%.c=$(B)/%.o) $(B)/libjibe.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(TU_SRC:%.c=$(B)/%.o) $(B)/libjibe.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

asan:
	@$(MAKE) --no-print-directory FLAVOR=asan all

test: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh $(B)

test-asan:
	@$(MAKE) --no-print-directory FLAVOR=asan test

unit: all
	@JIBE_ONLY=unit sh tests/run.sh $(B)

valgrind:
	@$(MAKE) --no-print-directory FLAVOR=valgrind all
	@JIBE_ONLY=unit JIBE_VALGRIND=1 sh tests/run.sh build/valgrind

bench:
	@$(MAKE) --no-print-directory FLAVOR=release all
	@sh tests/bench/run.sh build/release
	@python3 tests/bench/e2e.py build/release

demo: deps
	@$(MAKE) --no-print-directory FLAVOR=release all
	@sh deploy/demo.sh build/release

demo-kafka: deps
	@$(MAKE) --no-print-directory FLAVOR=release all
	@DEMO_MODE=kafka sh deploy/demo.sh build/release

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
