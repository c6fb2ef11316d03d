#!/usr/bin/env bash
# Runs the test suite on whatever WebGPU the machine has, installing what is missing first: on a
# Debian machine as root, Mesa's software Vulkan driver (when there is no Vulkan driver) and
# Debian's chromium for the browser tests; the npm dependencies when node_modules is absent or
# older than package-lock.json. Extra arguments go to vitest (e.g. test/mlp.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
setup_system
setup_npm
npx vitest run "$@"
