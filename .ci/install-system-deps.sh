#!/usr/bin/env bash
# Installs what WebGPU needs on a Debian bookworm machine without a GPU (run as root):
#  - Mesa's lavapipe Vulkan driver from bookworm-backports (Dawn rejects bookworm's Mesa 22.3),
#  - Debian's chromium for the browser tests (never a downloaded browser).
# Idempotent: skips what is already there.
set -euo pipefail

need_apt_update=1
apt_update() { if [ "$need_apt_update" = 1 ]; then apt-get update -qq; need_apt_update=0; fi; }

if [ ! -f /etc/apt/sources.list.d/bookworm-backports.sources ]; then
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

# lavapipe: a Mesa >= 25 ICD named lvp_icd*.json
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 \
   || ! dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -qE '^(2[4-9]|[3-9][0-9])\.'; then
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports \
    mesa-vulkan-drivers libvulkan1 >/dev/null
fi

if [ "${WITH_CHROMIUM:-1}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "system deps: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)" \
     "chromium $(command -v chromium >/dev/null && chromium --version 2>/dev/null | head -1 || echo none)"
