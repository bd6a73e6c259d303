#!/usr/bin/env bash
# Schemathesis in GraphQL mode against a running hub (reference data
# loaded), anonymous and with an admin key: no HTTP 5xx, no error without a
# client code (hooks.py), and every schema-violating input refused.
# Usage: VIGIE_BIN=path/to/vigie SCHEMATHESIS=path/to/schemathesis tests/conformance/fuzz.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vigie="${VIGIE_BIN:?set VIGIE_BIN to the vigie binary}"
schemathesis="${SCHEMATHESIS:-schemathesis}"
examples="${FUZZ_EXAMPLES:-15}"
dir="$(mktemp -d)"
port=$((24000 + RANDOM % 2000))
url="sqlite://$dir/vigie.db?mode=rwc"
RUST_LOG=warn VIGIE_NO_GEOGRAPHY=true "$vigie" --database-url "$url" serve --addr "127.0.0.1:$port" --rate-limit-ip 0 --rate-limit-key 0 &
hub=$!
trap 'kill "$hub" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 300); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done
key="$("$vigie" --database-url "$url" keys create --role admin --label fuzz 2>/dev/null)"
run() {
  SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here" "$schemathesis" run "http://127.0.0.1:$port/graphql" \
    --max-examples "$examples" --generation-deterministic --no-color \
    --exclude-checks not_a_server_error,positive_data_acceptance "$@"
}
echo "== anonymous"
run
echo "== admin key"
run -H "Authorization: Bearer $key"
