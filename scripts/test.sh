#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian machine: installs the Debian packages
# the tests need when they are missing (scripts/system-deps.sh: tshark, iptables, chromium, the real
# tools of kernel parity), the npm dependencies when they are missing, then type-checks, checks the
# import rules and runs vitest. The last line is the plain "N passed, N failed" summary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh

[ -d node_modules ] || npm ci --no-audit --no-fund

npx tsc --noEmit -p .
npx depcruise src --config .dependency-cruiser.cjs --output-type err

results=$(mktemp)
parity_results=$(mktemp)
trap 'rm -f "$results" "$parity_results"' EXIT
status=0
if [ "$#" -gt 0 ]; then
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
  echo '{"numPassedTests":0,"numFailedTests":0,"numPendingTests":0}' >"$parity_results"
else
  # Kernel parity (test/parity) runs last and alone, one file at a time: the real programs it
  # times against each other (a client and its SCHED_IDLE server, pinned to one CPU) must not share
  # the machine's two cores with the rest of the suite.
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results" --exclude 'test/parity/**' || status=$?
  npx vitest run --reporter=default --reporter=json --outputFile.json="$parity_results" --fileParallelism=false test/parity || status=$?
fi
node -e '
  const fs = require("fs");
  const [a, b] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const sum = (k) => (a[k] ?? 0) + (b[k] ?? 0);
  const skipped = sum("numPendingTests");
  console.log(`${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" "$parity_results" || true
exit $status
