/**
 * Jest reporter: ends the run with one plain line, `tests: N passed, N failed, N skipped`, the closing line CI reads
 * (Jest's own summary is not one it knows), counting the console's vitest tests too. With JOURNEY_TEST_SUMMARY set,
 * the line and the same counts as node's test runner's closing TAP block are written to that file, so .ci/run can
 * repeat them after stopping the servers, as the last lines of its log.
 */
const { existsSync, readFileSync, writeFileSync } = require('node:fs');

/** The console's vitest counts (its JSON report, JOURNEY_CONSOLE_TESTS, written by `npm test` just before jest runs). */
function consoleCounts() {
  const file = process.env.JOURNEY_CONSOLE_TESTS;
  if (!file || !existsSync(file)) return { passed: 0, failed: 0, pending: 0, todo: 0, suites: 0 };
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return {
    passed: r.numPassedTests,
    failed: r.numFailedTests,
    pending: r.numPendingTests,
    todo: r.numTodoTests,
    suites: r.numTotalTestSuites,
  };
}

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const c = consoleCounts();
    const passed = results.numPassedTests + c.passed;
    const pending = results.numPendingTests + c.pending;
    const todo = results.numTodoTests + c.todo;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites + c.failed;
    const skipped = pending + todo;
    const total = passed + failed + skipped;
    const line = `tests: ${passed} passed, ${failed} failed, ${skipped} skipped`;
    // the same counts in the closing block of node's test runner (TAP), which CI also reads
    const tap = [
      `# tests ${total}`,
      `# suites ${results.numTotalTestSuites + c.suites}`,
      `# pass ${passed}`,
      `# fail ${failed}`,
      '# cancelled 0',
      `# skipped ${pending}`,
      `# todo ${todo}`,
      `# duration_ms ${Date.now() - results.startTime}`,
    ].join('\n');
    process.stdout.write(`${line}\n`);
    if (process.env.JOURNEY_TEST_SUMMARY) writeFileSync(process.env.JOURNEY_TEST_SUMMARY, `${tap}\n${line}\n`);
  }
}

module.exports = SummaryReporter;
