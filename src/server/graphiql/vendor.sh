#!/usr/bin/env bash
# GraphiQL's assets, served by the hub itself from src/server/graphiql/:
# the browser builds of graphiql, react and react-dom, pinned here, taken
# unchanged from their npm packages (npm checks each package's integrity)
# and stored gzip-compressed, with their licences.
#
#   src/server/graphiql/vendor.sh           writes the files
#   src/server/graphiql/vendor.sh --check   checks the committed files are
#                                           the packages' own (CI runs it)
set -euo pipefail
cd "$(dirname "$0")"

# package@version  file in the package  file served
ASSETS=(
  "graphiql@3.8.3 graphiql.min.js graphiql.min.js"
  "graphiql@3.8.3 graphiql.min.css graphiql.min.css"
  "react@18.3.1 umd/react.production.min.js react.production.min.js"
  "react-dom@18.3.1 umd/react-dom.production.min.js react-dom.production.min.js"
)
LICENCES=(
  "graphiql@3.8.3 LICENSE LICENSE.graphiql"
  "react@18.3.1 LICENSE LICENSE.react"
)

check=false
[ "${1:-}" = "--check" ] && check=true

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unpacked() {
  local package="$1" dir="$work/$1"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    (cd "$work" && npm pack --silent "$package" >/dev/null)
    tar -xzf "$work/$(echo "${package%@*}" | tr -d @ | tr / -)-${package##*@}.tgz" -C "$dir"
  fi
  echo "$dir/package"
}

status=0
for line in "${ASSETS[@]}" "${LICENCES[@]}"; do
  read -r package inside served <<<"$line"
  source="$(unpacked "$package")/$inside"
  case "$served" in LICENSE.*) stored="$served" ;; *) stored="$served.gz" ;; esac
  if $check; then
    if [ "$stored" = "$served" ]; then same() { cmp -s "$source" "$stored"; }
    else same() { gzip -dc "$stored" | cmp -s "$source" -; }; fi
    if same; then echo "ok   $stored ($package $inside)"
    else echo "DIFF $stored is not $package's $inside" >&2; status=1; fi
  elif [ "$stored" = "$served" ]; then
    cp "$source" "$stored"
  else
    gzip -9n <"$source" >"$stored"
  fi
done
exit $status
