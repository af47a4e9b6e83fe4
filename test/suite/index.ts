import Mocha from 'mocha';
import { suiteNotes } from './notes';

export interface SuiteResult {
  readonly passes: number;
  readonly failures: number;
  readonly tests: { readonly title: string; readonly state: 'passed' | 'failed'; readonly error?: string }[];
  readonly notes: readonly string[];
}

/**
 * Runs the extension-host suite inside whatever VS Code loaded this file: @vscode/test-electron's
 * desktop build (`run`) or code-server through the test-runner extension (`runSuite`). One suite, two hosts.
 */
export async function runSuite(): Promise<SuiteResult> {
  // Results are collected from the runner's events below, so mocha's own reporter stays quiet.
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: Mocha.reporters.Base });
  mocha.suite.emit('pre-require', globalThis, 'extension-host', mocha);
  await import('./extension.test');
  await import('./api.test');
  const tests: SuiteResult['tests'][number][] = [];
  return new Promise((resolve) => {
    const runner = mocha.run(() => {
      resolve({ passes: tests.filter((t) => t.state === 'passed').length, failures: tests.filter((t) => t.state === 'failed').length, tests, notes: suiteNotes });
    });
    runner.on('pass', (t) => tests.push({ title: t.fullTitle(), state: 'passed' }));
    runner.on('fail', (t, err: Error) => tests.push({ title: t.fullTitle(), state: 'failed', error: err.stack ?? err.message }));
  });
}

export async function run(): Promise<void> {
  const result = await runSuite();
  for (const t of result.tests) console.log(`${t.state === 'passed' ? '  ✔' : '  ✘'} ${t.title}${t.error ? `\n${t.error}` : ''}`);
  for (const n of result.notes) console.log(`  · ${n}`);
  if (result.failures > 0) throw new Error(`${result.failures} extension-host tests failed`);
}
