# Convenience front end over CMake: `make run` trains the default recipe, `make test` runs
# every test (C unit tests and the Lua specs, through ctest). Each first installs the Debian
# packages it needs (tools/deps.sh: apt-get as root, else it prints the command to run).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build run test test-asan bench clean
all: build

# which packages: build (to compile), run (+ the recipe's data), test (+ busted, tmux)
DEPS ?= build
deps:
	tools/deps.sh $(DEPS)

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: DEPS = run
run: build
	$(BUILD)/wick run recipes/fashion_mnist.lua

test: DEPS = test
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
