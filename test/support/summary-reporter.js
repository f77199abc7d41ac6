/**
 * Jest reporter: ends the run with one plain line, `tests: N passed, N failed, N skipped`, the closing line CI reads
 * (Jest's own summary is not one it knows). With JOURNEY_TEST_SUMMARY set, the line and the same counts as node's test
 * runner's closing TAP block are written to that file, so .ci/run can repeat them after stopping the servers, as the
 * last lines of its log.
 */
const { writeFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const total = results.numPassedTests + failed + skipped;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
    // the same counts in the closing block of node's test runner (TAP), which CI also reads
    const tap = [
      `# tests ${total}`,
      `# suites ${results.numTotalTestSuites}`,
      `# pass ${results.numPassedTests}`,
      `# fail ${failed}`,
      '# cancelled 0',
      `# skipped ${results.numPendingTests}`,
      `# todo ${results.numTodoTests}`,
      `# duration_ms ${Date.now() - results.startTime}`,
    ].join('\n');
    process.stdout.write(`${line}\n`);
    if (process.env.JOURNEY_TEST_SUMMARY) writeFileSync(process.env.JOURNEY_TEST_SUMMARY, `${tap}\n${line}\n`);
  }
}

module.exports = SummaryReporter;
