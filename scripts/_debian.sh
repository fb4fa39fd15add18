# Debian packages the project needs (sourced by scripts/demo and scripts/test): installed when
# missing and we may (root, apt-get); otherwise the command to run is printed.
RUNTIME_PACKAGES=(libmagic1 libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk)

debian_ensure() {
  local need=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${need[*]} …"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null
  else
    echo "needed first: sudo apt-get install ${need[*]}" >&2
    return 1
  fi
}
