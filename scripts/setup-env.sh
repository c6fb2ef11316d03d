# Shared by quickstart.sh and test.sh (sourced, not run): installs what the project needs.

# System packages: only as root on Debian (apt-get), and only what is missing.
setup_system() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    bash .ci/install-system-deps.sh
  elif ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
    echo "no Vulkan driver found: run this as root on Debian to install Mesa's software driver" \
         "(see .ci/install-system-deps.sh), or install your GPU's driver" >&2
  fi
  # Dawn warns when XDG_RUNTIME_DIR is unset; give it a private one.
  if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR="$(mktemp -d)"
    export XDG_RUNTIME_DIR
  fi
}

# npm dependencies: `npm ci` when node_modules is absent or older than the lock file.
setup_npm() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
}
