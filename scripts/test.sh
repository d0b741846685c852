#!/bin/sh
# Runs the whole vitest suite and ends with one plain summary line ("N passed, N failed, N skipped")
# that CI and people can read without knowing vitest's format.
set -u
cd "$(dirname "$0")/.."
mkdir -p .cache
report=.cache/vitest-report.json
rm -f "$report"
# Before any test: the layers and cycles (.dependency-cruiser.cjs), and the type check of the tests
# and scripts too (the lab's scenario list must cover every finding class).
npm run --silent layers || { echo "tests: not run, import layers violated (see above)"; exit 1; }
npx tsc -p tsconfig.check.json || { echo "tests: not run, tests or scripts do not type-check"; exit 1; }
# npm test has just built dist/: tests spawn the built CLI instead of transpiling sources each time.
if [ -f dist/bundle/main.js ]; then export EXETRACE_TEST_BUILT=1; fi
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
    if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
  ' "$report" || status=1
fi
exit $status
