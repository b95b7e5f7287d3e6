# Thin front for Meson. The two commands of the README:
#   make run    install what is missing, build, start the demo server
#   make test   build and run every test (unit, ASan+UBSan, fuzz smoke,
#               integration); the last line is "N passed, M failed"
BUILD ?= build
DEMO_DIR ?= demo

.PHONY: all deps build run test bench clean install

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	./$(BUILD)/ternd --demo $(DEMO_DIR)

test: build
	@scripts/run-tests

bench: build
	@scripts/install-deps --bench
	bench/smtp-accept

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
