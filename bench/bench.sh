#!/usr/bin/env bash
# `pnpm bench`: raise the open-files limit (20k idle connections per node need more than the
# default) where allowed, compile what the Parley target runs (`pnpm build`: incremental, about
# 2 s when nothing changed), then run the suite. Arguments go to bench/run.ts (--quick, --only ...).
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
node_modules/.bin/tsc -b tsconfig.build.json
exec node --import tsx bench/run.ts "$@"
