# Convenience front end over CMake: `make run` trains the default recipe, `make test` runs
# every test (C unit tests and the Lua specs, through ctest).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all build run test test-asan bench clean
all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/wick run recipes/fashion_mnist.lua

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The same tests under AddressSanitizer + UndefinedBehaviorSanitizer (CPU-only: the CUDA
# runtime and ASan do not mix).
test-asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug -DWICK_SANITIZE=ON -DWICK_CUDA=OFF"

bench: build
	bench/run.sh $(BUILD)/wick

clean:
	rm -rf $(BUILD) build-asan
