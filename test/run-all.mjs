// `npm test`: every check and test suite, in order, with one closing line "N passed, N failed".
//   type-check, lint, engine unit tests (mocha, plain Node), the .vsix package check, and the
//   real-VS-Code tests (code-server + Chromium), which also run the extension-host suite.
// `--only unit|workbench` runs one part (the workbench part still builds and packages first).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSuite } from './support/buildSuite.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repo);
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const summaryFile = path.join(repo, 'test-results', 'summary.jsonl');
mkdirSync(path.dirname(summaryFile), { recursive: true });
writeFileSync(summaryFile, '');
const checks = { passed: 0, failed: 0, failedNames: [] };

function sh(cmd, args, opts = {}) {
  console.log(`\n▶ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, MA_TEST_SUMMARY: summaryFile, ...opts.env }, cwd: opts.cwd ?? repo });
  return r.status === 0;
}

function check(name, ok) {
  if (ok) checks.passed++; else { checks.failed++; checks.failedNames.push(name); }
  console.log(`${ok ? '✔' : '✘'} ${name}`);
  return ok;
}

if (!only) {
  check('type-check (tsc --noEmit, strict)', sh('npm', ['run', '--silent', 'typecheck']));
  check('lint (eslint)', sh('npm', ['run', '--silent', 'lint']));
}
if (!only || only === 'unit') {
  check('engine unit tests ran to the end', sh('npx', ['--no-install', 'mocha', '--config', 'test/unit/.mocharc.json'], { env: { MA_TEST_STAGE: 'unit' } }));
}
if (!only || only === 'workbench') {
  // Screenshots of this run only: stale ones (e.g. of a test that failed before) would mislead.
  rmSync(path.join(repo, 'test-results', 'workbench'), { recursive: true, force: true });
  const built = sh('npm', ['run', '--silent', 'package']);
  if (check('npm run package builds the .vsix', built)) {
    const vsix = path.join(repo, 'dist', 'model-availability.vsix');
    const size = statSync(vsix).size;
    const list = spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    const unwanted = list.filter((f) => /^extension\/(src|test|node_modules|webview-ui|out|bench)\//.test(f) || f.endsWith('.map'));
    console.log(`  .vsix: ${(size / 1024).toFixed(0)} KiB, ${list.length} entries`);
    check('the .vsix is under 3 MB', size < 3 * 1024 * 1024);
    check(`the .vsix has no sources, tests or node_modules${unwanted.length ? ` (found ${unwanted.join(', ')})` : ''}`, unwanted.length === 0);
  }
  mkdirSync(path.join(repo, 'out'), { recursive: true });
  rmSync(path.join(repo, 'out', 'model-availability-test-runner.vsix'), { force: true });
  const runner = sh('npx', ['--no-install', 'vsce', 'package', '--no-dependencies', '--out', path.join(repo, 'out', 'model-availability-test-runner.vsix')], { cwd: path.join(repo, 'test', 'vscode-runner') });
  await buildSuite();
  const ready = runner && sh('bash', ['scripts/ensure-workbench.sh']);
  if (check('the real VS Code (code-server 4.100.3) and Chromium are installed', ready)) {
    check('real-VS-Code tests ran to the end', sh('npx', ['--no-install', 'mocha', '--config', 'test/workbench/.mocharc.json'], { env: { MA_TEST_STAGE: 'workbench' } }));
  }
}

let passed = checks.passed;
let failed = checks.failed;
console.log('\nSummary');
for (const line of readFileSync(summaryFile, 'utf8').split('\n').filter(Boolean)) {
  const s = JSON.parse(line);
  console.log(`  ${s.suite}: ${s.passes} passed, ${s.failures} failed`);
  passed += s.passes;
  failed += s.failures;
}
console.log(`  checks: ${checks.passed} passed, ${checks.failed} failed${checks.failedNames.length ? ` (${checks.failedNames.join('; ')})` : ''}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
