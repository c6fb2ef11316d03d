#!/usr/bin/env bash
# From a fresh checkout to a trained CartPole-v1: installs what is missing (Mesa's software
# Vulkan driver on a Debian machine without one, when run as root; the npm dependencies), builds
# the package and trains CartPole-v1 with its preset, seed 0, into runs/CartPole-v1-seed0/.
# Extra arguments go to `webgpu-trpo train` (e.g. --env Pendulum-v1 --seed 3).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
WITH_CHROMIUM=0 setup_system
setup_npm
if [ "$#" -eq 0 ]; then set -- --env CartPole-v1 --seed 0; fi
npm run train --silent -- "$@"
