# Thin wrapper over CMake + ctest. See README.md and docs/build.md.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build test check asan fuzz bench run clean deps format

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check: test

asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DVG_SANITIZE=ON -DVG_WERROR=ON -DCMAKE_BUILD_TYPE=Debug"

fuzz:
	CC=clang-14 cmake -S . -B build-fuzz -G Ninja -DVG_FUZZ=ON -DVG_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS)

bench: build
	bench/run.sh

run: build
	./$(BUILD)/vigie server --demo

deps:
	sh scripts/deps.sh

format:
	git ls-files '*.c' '*.h' | xargs clang-format-14 -i

clean:
	rm -rf build build-asan build-fuzz
