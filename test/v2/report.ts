// The guest's vitest JSON report (--reporter=json) as a summary a person reads at the end of the run:
// counts, each file's time, and every failed test with the first lines of its failure.

interface AssertionResult {
  fullName: string;
  status: 'passed' | 'failed' | 'pending' | 'skipped' | 'todo' | string;
  failureMessages?: string[];
  duration?: number | null;
}

interface FileResult {
  name: string;
  status: string;
  startTime?: number;
  endTime?: number;
  message?: string;
  assertionResults: AssertionResult[];
}

export interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  success: boolean;
  testResults: FileResult[];
}

export interface Counts {
  readonly files: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export function parseReport(text: string): VitestReport {
  const report = JSON.parse(text) as VitestReport;
  if (!Array.isArray(report.testResults)) throw new Error('not a vitest JSON report: no testResults');
  return report;
}

export function counts(report: VitestReport): Counts {
  return {
    files: report.testResults.length,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + (report.numTodoTests ?? 0),
  };
}

const relative = (file: string, root: string) => (file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file);
const firstLines = (text: string, n: number) => text.split('\n').slice(0, n).map((l) => `      ${l}`).join('\n');

/** Lines of the summary: one per file (time, counts), then each failure. */
export function summaryLines(report: VitestReport, root: string): string[] {
  const files = report.testResults.map((file) => {
    const secondsTaken = file.startTime !== undefined && file.endTime !== undefined ? ((file.endTime - file.startTime) / 1000).toFixed(1) : '?';
    const by = (status: string) => file.assertionResults.filter((t) => t.status === status).length;
    const failedToLoad = file.status === 'failed' && file.assertionResults.length === 0 ? ' (failed to load)' : '';
    return `  ${relative(file.name, root)}: ${secondsTaken} s, ${by('passed')} passed, ${by('failed')} failed, ${file.assertionResults.length - by('passed') - by('failed')} skipped${failedToLoad}`;
  });
  const failures = report.testResults.flatMap((file) => [
    ...(file.status === 'failed' && file.message ? [`  FAIL ${relative(file.name, root)}\n${firstLines(file.message, 8)}`] : []),
    ...file.assertionResults
      .filter((t) => t.status === 'failed')
      .map((t) => `  FAIL ${relative(file.name, root)} > ${t.fullName}\n${firstLines((t.failureMessages ?? []).join('\n'), 8)}`),
  ]);
  return [...files, ...(failures.length > 0 ? ['failures:', ...failures] : [])];
}
