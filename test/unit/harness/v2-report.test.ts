// The cgroup v2 tier's summary (test/v2/report.ts) of the guest's vitest JSON report: counts, each
// file's time, every failure with its first lines, and a file that failed to load.
import { describe, expect, it } from 'vitest';
import { counts, parseReport, summaryLines } from '../../v2/report.js';

const REPORT = {
  numTotalTests: 4,
  numPassedTests: 2,
  numFailedTests: 1,
  numPendingTests: 1,
  numTodoTests: 0,
  success: false,
  testResults: [
    {
      name: '/repo/test/e2e/a.test.ts',
      status: 'failed',
      startTime: 1000,
      endTime: 3500,
      message: '',
      assertionResults: [
        { fullName: 'a passes', status: 'passed' },
        { fullName: 'a fails', status: 'failed', failureMessages: ['AssertionError: expected 1 to be 2\n    at a.test.ts:3:4'] },
        { fullName: 'a skips', status: 'skipped' },
      ],
    },
    { name: '/repo/test/e2e/b.test.ts', status: 'passed', startTime: 0, endTime: 500, message: '', assertionResults: [{ fullName: 'b passes', status: 'passed' }] },
    { name: '/repo/test/e2e/c.test.ts', status: 'failed', message: 'Error: cannot find module x', assertionResults: [] },
  ],
};

describe("the v2 tier's summary", () => {
  it('counts files, passed, failed and skipped tests', () => {
    expect(counts(parseReport(JSON.stringify(REPORT)))).toEqual({ files: 3, passed: 2, failed: 1, skipped: 1 });
  });

  it("prints each file's time and counts, then every failure with its message, paths relative to the checkout", () => {
    expect(summaryLines(parseReport(JSON.stringify(REPORT)), '/repo')).toEqual([
      '  test/e2e/a.test.ts: 2.5 s, 1 passed, 1 failed, 1 skipped',
      '  test/e2e/b.test.ts: 0.5 s, 1 passed, 0 failed, 0 skipped',
      '  test/e2e/c.test.ts: ? s, 0 passed, 0 failed, 0 skipped (failed to load)',
      'failures:',
      '  FAIL test/e2e/a.test.ts > a fails\n      AssertionError: expected 1 to be 2\n          at a.test.ts:3:4',
      '  FAIL test/e2e/c.test.ts\n      Error: cannot find module x',
    ]);
  });

  it('refuses a file that is not a vitest JSON report', () => {
    expect(() => parseReport('{"results": []}')).toThrow(/not a vitest JSON report/);
  });
});
