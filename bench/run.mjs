// `npm run bench`: downloads (issue 3), integrity (issue 4), analytics (issue 7) and the local API (issue 13) in one run, against
// local servers and real tools side by side, printing ratios and each target with PASS or MISS.
// Run with `npm run bench` (builds dist/cli.js first).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, GiB, makeFile, MiB, sha256, verdict } from './benchFiles.mjs';
import { runIntegrityBench } from './integrity.mjs';
import { startNginx } from './nginxServer.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cliPath = path.resolve(here, '..', 'dist', 'cli.js');
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS) || 3);
// BENCH_ONLY=download|integrity|analytics|api runs one part (all by default).
const ONLY = process.env.BENCH_ONLY;
const runs = (part) => !ONLY || ONLY === part;

const HAS_NGINX = spawnSync('which', ['nginx']).status === 0;

/** nginx when installed (as the issue asks), else our Node static server; `cap` bytes/s per connection. */
async function startServer(file, cap) {
  if (HAS_NGINX) {
    const ngx = await startNginx(file, cap);
    return { url: ngx.url, cpu: () => cpuSeconds(ngx.pid) ?? 0, stop: ngx.stop };
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(here, 'staticServer.mjs'), file, String(cap)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', (d) => resolve({
      url: `http://127.0.0.1:${String(d).trim()}/${path.basename(file)}`,
      cpu: () => cpuSeconds(child.pid) ?? 0,
      stop: async () => { child.kill(); },
    }));
  });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** User + system CPU seconds of a live process (all its threads), from /proc; undefined once it is gone. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Runs a command, sampling its peak RSS (VmHWM) and CPU time from /proc while it runs. The CPU figure is
 * the last sample (up to 50 ms short): enough to see whether a run was CPU-bound on a small machine.
 */
function runTimed(command, args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    let peakKb = 0;
    let cpu = 0;
    const sample = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
        cpu = cpuSeconds(child.pid) ?? cpu;
      } catch { /* exited */ }
    }, 50);
    child.on('close', (code) => {
      clearInterval(sample);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${path.basename(command)} exited ${code}: ${stderr}`));
      else resolve({ seconds, peakMb: peakKb / 1024, cpu });
    });
  });
}

const runCli = (args) => runTimed(process.execPath, [cliPath, ...args]);

async function engineDownload(work, name, url, sha, size, extra) {
  const store = path.join(work, `store-${name}`);
  const catalog = path.join(work, `catalog-${name}.json`);
  await fs.writeFile(catalog, JSON.stringify({ models: [{ id: `bench-${name}`, name, version: '1', files: [{ path: 'file.bin', url, sha256: sha, size }] }] }));
  const r = await runCli(['--store', store, '--catalog', catalog, 'download', `bench-${name}`, ...extra]);
  await fs.rm(store, { recursive: true, force: true });
  return r;
}

async function timeCurl(url, out) {
  const r = await runTimed('curl', ['-s', '-f', '-o', out, url]);
  await fs.rm(out);
  return r;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  if (!existsSync(cliPath)) throw new Error('dist/cli.js is missing: run `node esbuild.mjs --production` first');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ma-bench-'));
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${fmt(os.totalmem() / GiB, 1)} GiB RAM, node ${process.version}`);
  console.log(`server: ${HAS_NGINX ? 'nginx (sendfile; limit_rate for the per-connection cap)' : 'Node static server (nginx is not installed: `apt-get install nginx-light` to use it)'}`);
  if (runs('download')) try {
    const big = path.join(work, 'big.bin');
    await makeFile(big, GiB);
    const bigSha = await sha256(big);

    // 1. engine (with sha256) vs curl (without), 1 GiB, unthrottled. Shared 2-core machines are noisy: both
    // run back to back in each round, and the medians count.
    const plain = await startServer(big, 0);
    await timeCurl(plain.url, path.join(work, 'warm.bin')); // warm the page cache for both
    const rounds = [];
    console.log(`\n1 GiB, ${ROUNDS} rounds of curl then the engine:`);
    for (let i = 0; i < ROUNDS; i++) {
      const server0 = plain.cpu();
      const curl = await timeCurl(plain.url, path.join(work, 'curl.bin'));
      const server1 = plain.cpu();
      const engine = await engineDownload(work, 'plain', plain.url, bigSha, GiB, ['--connections', '1']);
      const server2 = plain.cpu();
      rounds.push({ curl, engine, ratio: engine.seconds / curl.seconds });
      console.log(`  round ${i + 1}: curl ${fmt(curl.seconds)} s, engine ${fmt(engine.seconds)} s, ratio ${fmt(engine.seconds / curl.seconds)}; ` +
        `CPU s (user+sys): curl ${fmt(curl.cpu)} + server ${fmt(server1 - server0)}, engine ${fmt(engine.cpu)} + server ${fmt(server2 - server1)}`);
    }
    await plain.stop();
    const curlSeconds = median(rounds.map((r) => r.curl.seconds));
    const engineSeconds = median(rounds.map((r) => r.engine.seconds));
    const ratio = median(rounds.map((r) => r.ratio));
    const peakMb = Math.max(...rounds.map((r) => r.engine.peakMb));
    console.log(`\n1 GiB: curl -o ${fmt(curlSeconds)} s, engine with sha256 ${fmt(engineSeconds)} s -> ratio ${fmt(ratio)} (median of ${ROUNDS} rounds; target <= 1.15) ${verdict(ratio <= 1.15)}`);
    // Why the ratio is what it is: the engine does curl's work (receive, write) plus two sha256 passes
    // (whole file, and each piece for later repairs). Spread perfectly over every core, it still needs
    // its CPU time divided by the cores; on a machine with few cores that bound is what the ratio meets.
    const best = Math.min(...rounds.map((r) => r.engine.seconds)) / Math.min(...rounds.map((r) => r.curl.seconds));
    const engineCpu = median(rounds.map((r) => r.engine.cpu));
    const curlCpu = median(rounds.map((r) => r.curl.cpu));
    const cores = os.cpus().length;
    console.log(`  best round of each: ratio ${fmt(best)}; CPU s (median): curl ${fmt(curlCpu)}, engine ${fmt(engineCpu)} -> ` +
      `on ${cores} cores the engine cannot take less than ${fmt(engineCpu / cores)} s = ${fmt(engineCpu / cores / curlSeconds)}x curl`);
    console.log(`peak RSS of the CLI during the 1 GiB download: ${fmt(peakMb, 1)} MB (highest of ${ROUNDS} rounds; target <= 150) ${verdict(peakMb <= 150)}`);

    // 2. 4 connections vs 1 against a server capping each connection.
    const capped = path.join(work, 'capped.bin');
    await makeFile(capped, 256 * MiB);
    const cappedSha = await sha256(capped);
    const cap = 16 * MiB;
    const cappedServer = await startServer(capped, cap);
    const one = await engineDownload(work, 'one', cappedServer.url, cappedSha, 256 * MiB, ['--connections', '1']);
    const four = await engineDownload(work, 'four', cappedServer.url, cappedSha, 256 * MiB, ['--connections', '4']);
    await cappedServer.stop();
    const speedup = one.seconds / four.seconds;
    console.log(`\n256 MiB, server capped at ${cap / MiB} MiB/s per connection: 1 connection ${fmt(one.seconds)} s, 4 connections ${fmt(four.seconds)} s -> ${fmt(speedup)}x (target >= 3.5) ${verdict(speedup >= 3.5)}`);

    // 3. speed limit 5 MB/s (10^6 bytes, as the setting and --speed-limit say).
    const limited = path.join(work, 'limited.bin');
    await makeFile(limited, 50 * MiB);
    const limitedServer = await startServer(limited, 0);
    const lim = await engineDownload(work, 'limited', limitedServer.url, await sha256(limited), 50 * MiB, ['--speed-limit', '5']);
    await limitedServer.stop();
    const measured = (50 * MiB) / 1e6 / lim.seconds;
    const off = (measured - 5) / 5;
    console.log(`\nspeed limit 5 MB/s on 50 MiB: ${fmt(lim.seconds)} s -> ${fmt(measured)} MB/s average (${off >= 0 ? '+' : ''}${fmt(off * 100, 1)}%, target within 5%) ${verdict(Math.abs(off) <= 0.05)}`);
    console.log('(the average includes process start-up and the final verification)');
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }

  // 4. Integrity: a full verify of 1 GiB vs openssl, and the bytes a one-byte repair transfers.
  if (runs('integrity')) {
    console.log('\nIntegrity:');
    await runIntegrityBench();
  }

  // 5. Analytics with a million recorded events (its own script: it loads the TypeScript sources).
  if (runs('analytics')) {
    console.log('\nAnalytics:');
    spawnSync(process.execPath, [path.join(here, 'analytics.mjs')], { stdio: 'inherit' });
  }

  // 6. The local API: status/detailed with 500 models, and the CPU a 50-client WebSocket fan-out adds to a download.
  if (runs('api')) {
    console.log('\nLocal API:');
    spawnSync(process.execPath, [path.join(here, 'localApi.mjs')], { stdio: 'inherit' });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
