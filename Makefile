# depotd: `make demo` and `make test` set everything up on a fresh Debian 12 machine (as root) and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_TEST  = meson test --print-errorlogs --num-processes 2

.PHONY: all setup build test test-fast test-asan demo bench clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja: | setup
	meson setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja: | setup
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The whole suite, then again under AddressSanitizer + UndefinedBehaviorSanitizer, except the suite `long`
# (depot days whose code paths the other control tests run under the sanitizers too), to keep CI well under 15 min.
test: build $(ASAN_BUILD)/build.ninja
	@scripts/run-tests.sh $(BUILD) $(ASAN_BUILD):long

test-fast: build
	@scripts/run-tests.sh $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
