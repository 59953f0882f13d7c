#!/usr/bin/env bash
# The one test command: installs what the tests need when it is missing
# (Debian packages), then vets and runs every Go test.
#   scripts/test.sh            # all tests
#   scripts/test.sh -run Foo   # extra flags go to `go test`
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have_pg() {
  command -v pg_ctl >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}
have_pg || missing+=(postgresql postgresql-client)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v curl >/dev/null || missing+=(curl)   # the render-region drill fixture's API calls
command -v jq >/dev/null || missing+=(jq)
command -v chromium >/dev/null || missing+=(chromium)
# The editor test runs yaml-language-server (npm ci into schema/testdata/editor).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# The completion test loads the scripts into each shell.
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)

if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a cluster and a redis-server on install; the tests start their own.
  $SUDO service postgresql stop >/dev/null 2>&1 || true
  $SUDO service redis-server stop >/dev/null 2>&1 || true
fi
have_pg || { echo "test.sh: PostgreSQL server binaries still missing" >&2; exit 1; }
# Terraform is in no package registry: the machine must have it. Outside CI
# the terraform plugin's tests skip without it; in CI that would hide a hole.
if ! command -v terraform >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "test.sh: terraform is not on PATH; the terraform plugin's tests need the real binary (install it on the CI machine)" >&2
    exit 1
  fi
  echo "test.sh: terraform is not on PATH: the terraform plugin's tests will be skipped" >&2
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "test.sh: gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -count=1 "$@" ./...
