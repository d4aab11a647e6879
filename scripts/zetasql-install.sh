#!/usr/bin/env bash
# Installs ZetaSQL's analyzer server (npm @fivetrandevelopers/zetasql, 112 MB, Linux x86-64)
# into a cache folder OUTSIDE the workspace, for packages/bigquery/test/zetasql-analysis.test.ts.
# It is not a workspace dependency, so a user's `npm ci` stays lean.
#   scripts/zetasql-install.sh                 installs into ~/.cache/smart-backfill/zetasql
#   SMART_BACKFILL_ZETASQL_DIR=/x scripts/...  installs into /x (the test reads the same variable)
set -euo pipefail
version=1.13.0
dir="${SMART_BACKFILL_ZETASQL_DIR:-$HOME/.cache/smart-backfill/zetasql}"
server="$dir/node_modules/@fivetrandevelopers/zetasql/lib/zetasql/remote_server.so"
if [ -x "$server" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/@fivetrandevelopers/zetasql/package.json" 2>/dev/null; then
  echo "== zetasql $version already installed in $dir"
  exit 0
fi
echo "== installing @fivetrandevelopers/zetasql@$version into $dir"
mkdir -p "$dir"
# --ignore-scripts: the package needs none (its server binary is in the tarball).
npm install --prefix "$dir" --no-audit --no-fund --no-save --ignore-scripts "@fivetrandevelopers/zetasql@$version"
test -x "$server" || { echo "zetasql-install: $server is missing after install" >&2; exit 1; }
