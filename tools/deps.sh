#!/bin/sh
# Installs the Debian packages wick needs for a purpose (`make build`/`run`/`test` and .ci/run
# call it first): as root with apt-get, otherwise it prints the exact command and fails.
#   tools/deps.sh build   compile wick with everything a CPU machine can have (Gloo for DDP,
#                         oneDNN for convolutions)
#   tools/deps.sh run     build + the default recipe's data (Fashion-MNIST)
#   tools/deps.sh test    run + busted (the specs), tmux (the REPL's terminal spec) and
#                         fortunes (the text of recipes/char_lm.lua and its spec)
#   tools/deps.sh ci      test + the optional peers: PyTorch and torchvision (interop specs),
#                         clang (fuzzing)
# WICK_SKIP_DEPS=1 skips the check (a machine set up by other means); on a system without
# dpkg it only says what it would have checked.
set -eu

build="build-essential cmake pkg-config lua5.4 liblua5.4-dev libopenblas-dev libyaml-dev
  libedit-dev zlib1g-dev libgloo-dev libdnnl-dev"
run="dataset-fashion-mnist"
test="lua-busted tmux fortunes"
ci="python3-torch python3-torchvision clang libclang-rt-14-dev libomp-dev"

purpose=${1:-build}
case "$purpose" in
  build) want="$build" ;;
  run) want="$build $run" ;;
  test) want="$build $run $test" ;;
  ci) want="$build $run $test $ci" ;;
  *) echo "tools/deps.sh: unknown purpose '$purpose' (expected build, run, test or ci)" >&2; exit 2 ;;
esac

if [ "${WICK_SKIP_DEPS:-0}" = 1 ]; then exit 0; fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "tools/deps.sh: not a Debian system: install the equivalents of: $(echo $want)" >&2
  exit 0
fi

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
missing=${missing# }

command="apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" != 0 ]; then
  {
    echo "wick needs these Debian packages ($purpose):$(printf ' %s' $missing)"
    echo "install them with:"
    echo
    echo "    sudo apt-get update && sudo $command"
    echo
    echo "(or set WICK_SKIP_DEPS=1 to go on without them)"
  } >&2
  exit 1
fi
echo "== tools/deps.sh: installing$(printf ' %s' $missing)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
