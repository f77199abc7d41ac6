/**
 * Jest reporter: ends the run with one plain line, `tests: N passed, N failed, N skipped`, the closing line CI reads
 * (Jest's own summary is not one it knows). With JOURNEY_TEST_SUMMARY set, the line is also written to that file, so
 * .ci/run can repeat it after stopping the servers, as the last line of its log.
 */
const { writeFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed, ${results.numPendingTests + results.numTodoTests} skipped`;
    process.stdout.write(`${line}\n`);
    if (process.env.JOURNEY_TEST_SUMMARY) writeFileSync(process.env.JOURNEY_TEST_SUMMARY, `${line}\n`);
  }
}

module.exports = SummaryReporter;
