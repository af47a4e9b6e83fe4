// Mocha's spec reporter, plus a one-line JSON summary appended to $MA_TEST_SUMMARY so that
// test/run-all.mjs can add up every stage into one "N passed, N failed" line.
const fs = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.MA_TEST_SUMMARY;
      if (!file) return;
      const { passes, failures, pending } = this.stats;
      fs.appendFileSync(file, JSON.stringify({ suite: process.env.MA_TEST_STAGE ?? 'mocha', passes, failures, pending }) + '\n');
    });
  }
}
module.exports = SummaryReporter;
