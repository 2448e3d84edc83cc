#!/usr/bin/env bash
# Set up the host and run every check: lint, type-check, unit, integration and e2e tests.
# CI runs exactly this (through .ci/run) with CI=true, which turns a missing prerequisite into a
# failure instead of a skip.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh"
# shellcheck source=scripts/env.sh
. "$repo/scripts/env.sh"
cd "$repo"
echo "[test] lint"
npm run -s lint
echo "[test] type-check (src and tests)"
npx tsc -p tsconfig.test.json --noEmit
echo "[test] vitest"
results=$(mktemp /tmp/berth-vitest.XXXXXX.json)
trap 'rm -f "$results"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" || status=$?
# One plain closing line for CI: "vitest: N passed, N failed, N skipped".
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);' "$results" || true
exit "$status"
