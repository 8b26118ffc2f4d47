#!/usr/bin/env bash
# Builds the third-party binaries the tests and the benchmark run against, from their Go modules
# at pinned versions, into a cache outside the repository. A binary already in the cache is kept.
#   tools/build.sh            both
#   tools/build.sh traefik    one of: traefik, oauth2-proxy
# Prints nothing but the binary paths on stdout; progress goes to stderr.
# Module downloads are cached by Go itself (GOMODCACHE), the build cache by GOCACHE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${VIGIL_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil-tools}"

# Pinned versions. Traefik's comes from tools/traefik/go.mod (the wrapper module's require).
traefik_version="$(awk '$1 == "require" && $2 == "github.com/traefik/traefik/v3" { print $3 }' "$here/traefik/go.mod")"
oauth2_proxy_version="v7.15.6"

# One compile job at a time by default, at a low priority, for shared machines; CI, alone on its
# machine, sets VIGIL_BUILD_JOBS to the core count.
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -p=${VIGIL_BUILD_JOBS:-1}"
export CGO_ENABLED=0

build_traefik() {
  local out="$cache/traefik-$traefik_version/traefik"
  if [ ! -x "$out" ]; then
    echo "build: traefik $traefik_version -> $out (several minutes)" >&2
    mkdir -p "$(dirname "$out")"
    # Built from the wrapper module so Traefik's replace/exclude directives apply.
    (cd "$here/traefik" && nice go build -trimpath -o "$out.tmp" \
      -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$traefik_version" \
      github.com/traefik/traefik/v3/cmd/traefik)
    mv "$out.tmp" "$out"
  fi
  echo "$out"
}

build_oauth2_proxy() {
  local dir="$cache/oauth2-proxy-$oauth2_proxy_version"
  if [ ! -x "$dir/oauth2-proxy" ]; then
    echo "build: oauth2-proxy $oauth2_proxy_version -> $dir/oauth2-proxy" >&2
    mkdir -p "$dir"
    # oauth2-proxy's go.mod has no replace directives: a plain `go install` builds it.
    GOBIN="$dir" nice go install -trimpath -ldflags "-s -w" \
      "github.com/oauth2-proxy/oauth2-proxy/v7@$oauth2_proxy_version"
  fi
  echo "$dir/oauth2-proxy"
}

# The official Go tarball installs to /usr/local/go without touching the PATH of non-login shells.
command -v go >/dev/null || PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "build: go is not on the PATH (Go >= 1.26 is needed)" >&2; exit 1; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(traefik oauth2-proxy)
for target in "${targets[@]}"; do
  case "$target" in
    traefik) build_traefik ;;
    oauth2-proxy) build_oauth2_proxy ;;
    *) echo "build: unknown target '$target' (traefik, oauth2-proxy)" >&2; exit 2 ;;
  esac
done
