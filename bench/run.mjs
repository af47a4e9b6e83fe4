// `npm run bench`: downloads (issues 3, 15), integrity (issue 4), analytics (issue 7) and the local API (issue 13) in one run, against
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
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS) || 5);
/** Idle time before each 1 GiB run (BENCH_SETTLE_MS): see the 1 GiB contest. */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000);
// Sizes that are multiples of nothing, as real model files are.
const BIG = GiB + 12345;
const SPLIT = 200 * MiB + 1;
/** The per-connection cap of the split tests, and the slow connection's (half). */
const CAP = 20e6;
// BENCH_ONLY=download|split|integrity|analytics|api runs one part (all by default; split is part of download).
const ONLY = process.env.BENCH_ONLY;
const runs = (part) => !ONLY || ONLY === part;

// BENCH_SERVER=node uses the Node static server even where nginx is installed. The capped (split) tests always
// use it: nginx's limit_rate lets every request send one second's worth at once (its formula allows
// rate × (elapsed + 1 s)), which inflated the split ratios above 4×; our server paces each request from its
// first byte.
const HAS_NGINX = process.env.BENCH_SERVER !== 'node' && spawnSync('which', ['nginx']).status === 0;

/**
 * nginx for the unthrottled tests when installed (as the issue asks), else our Node static server; `cap`
 * bytes/s per connection (always the Node server), and with `slowCap` every fourth TCP connection gets
 * that cap instead.
 */
async function startServer(file, cap, slowCap = 0) {
  if (HAS_NGINX && !cap) {
    const ngx = await startNginx(file, cap, slowCap);
    return { url: ngx.url, cpu: () => cpuSeconds(ngx.pid) ?? 0, stop: ngx.stop };
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(here, 'staticServer.mjs'), file, String(cap), String(slowCap)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  // Every run starts with nothing dirty in the page cache: what the previous tool wrote is flushed first, untimed.
  spawnSync('sync');
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

/** `curl -o` then `sha256sum`: what a script that verifies does; the times and CPU add up. */
async function timeCurlSha(url, out, sha) {
  const curl = await runTimed('curl', ['-s', '-f', '-o', out, url]);
  const check = await runTimed('sh', ['-c', `echo "${sha}  ${out}" | sha256sum -c --quiet`]);
  await fs.rm(out);
  return { seconds: curl.seconds + check.seconds, cpu: curl.cpu + check.cpu, peakMb: curl.peakMb };
}

/** Debian's aria2c, one connection, verifying the sha256 after the download (it exits non-zero on a mismatch). */
async function timeAria2(url, dir, sha) {
  const r = await runTimed('aria2c', ['-q', '-x1', `--checksum=sha-256=${sha}`, '--allow-overwrite=true', '--auto-file-renaming=false', '-d', dir, '-o', 'aria2.bin', url]);
  await fs.rm(path.join(dir, 'aria2.bin'));
  return r;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const load = () => os.loadavg().map((l) => fmt(l)).join(' ');

/** One target line: the figure, the target and PASS or MISS. */
function report(what, value, target, ok) {
  console.log(`${what}: ${fmt(value)} (target ${target}) ${verdict(ok)}`);
}

/** 4 connections vs 1 on SPLIT bytes, median of ROUNDS rounds; `slow` makes one connection in four half as fast. */
async function splitTest(work, sha, file, slow) {
  const oneServer = await startServer(file, CAP);
  const fourServer = slow ? await startServer(file, CAP, CAP / 2) : oneServer;
  const ratios = [];
  for (let i = 0; i < ROUNDS; i++) {
    const one = await engineDownload(work, 'one', oneServer.url, sha, SPLIT, ['--connections', '1']);
    const four = await engineDownload(work, 'four', fourServer.url, sha, SPLIT, ['--connections', '4']);
    ratios.push(one.seconds / four.seconds);
    console.log(`  round ${i + 1}: 1 connection ${fmt(one.seconds)} s, 4 connections ${fmt(four.seconds)} s -> ${fmt(one.seconds / four.seconds)}x`);
  }
  await oneServer.stop();
  if (slow) await fourServer.stop();
  return median(ratios);
}

async function main() {
  if (!existsSync(cliPath)) throw new Error('dist/cli.js is missing: run `node esbuild.mjs --production` first');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ma-bench-'));
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${fmt(os.totalmem() / GiB, 1)} GiB RAM, node ${process.version}`);
  console.log(`server: ${HAS_NGINX ? 'nginx (sendfile)' : 'Node static server (nginx is used when installed, unless BENCH_SERVER=node)'} unthrottled; the capped split tests use the Node static server (a cap paced from each request's first byte, no burst)`);
  console.log(`load average at the start (1, 5, 15 min): ${load()}`);
  if (runs('download') || runs('split')) try {
    if (ONLY !== 'split') {
      const big = path.join(work, 'big.bin');
      await makeFile(big, BIG);
      const bigSha = await sha256(big);

      // 1. The engine (verifying its sha256) against its peers, 1 GiB + 12,345 B, unthrottled. Shared 2-core
      // machines are noisy: all run back to back in each round, and the medians of the ratios count.
      const plain = await startServer(big, 0);
      await timeCurl(plain.url, path.join(work, 'warm.bin')); // warm the page cache for all
      const rounds = [];
      console.log(`\n1 GiB + 12,345 B, ${ROUNDS} rounds of curl -o, curl -o + sha256sum, aria2c -x1 --checksum, the engine (4 connections, the default) and the engine with 1:`);
      for (let i = 0; i < ROUNDS; i++) {
        // The order turns by one each round, so each contender goes first once.
        const contenders = [
          ['curl', () => timeCurl(plain.url, path.join(work, 'curl.bin'))],
          ['curlSha', () => timeCurlSha(plain.url, path.join(work, 'curl.bin'), bigSha)],
          ['aria2', () => timeAria2(plain.url, work, bigSha)],
          ['engine', () => engineDownload(work, 'plain', plain.url, bigSha, BIG, [])],
          ['engine1', () => engineDownload(work, 'plain1', plain.url, bigSha, BIG, ['--connections', '1'])],
        ];
        const round = {};
        let serverForEngine = 0;
        let serverForPeers = 0;
        for (let k = 0; k < contenders.length; k++) {
          const [name, run] = contenders[(i + k) % contenders.length];
          // Each run starts on memory that has been free for a while, as on a user's machine: a 1 GiB write into
          // memory freed moments before cost 0.27 s of kernel time here, into memory free for 2 s or more 1.1 s
          // (this VM reports free pages to its host), so the tool that followed another's deletion got the cheap
          // memory. The rotating order did not help: the engine always ran right after aria2c.
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          const before = plain.cpu();
          round[name] = await run();
          if (name === 'engine') serverForEngine = plain.cpu() - before;
          else if (name !== 'engine1') serverForPeers += plain.cpu() - before;
        }
        const { curl, curlSha, aria2, engine, engine1 } = round;
        rounds.push(round);
        console.log(`  round ${i + 1}: curl ${fmt(curl.seconds)} s, curl+sha256sum ${fmt(curlSha.seconds)} s, aria2c ${fmt(aria2.seconds)} s, engine ${fmt(engine.seconds)} s, engine -c1 ${fmt(engine1.seconds)} s; ` +
          `CPU s (user+sys): curl ${fmt(curl.cpu)}, aria2c ${fmt(aria2.cpu)}, engine ${fmt(engine.cpu)}, engine -c1 ${fmt(engine1.cpu)}; server for the engine ${fmt(serverForEngine)} (for the three peers ${fmt(serverForPeers)})`);
      }
      await plain.stop();
      const med = (pick) => median(rounds.map(pick));
      console.log(`\nmedians of ${ROUNDS} rounds: curl -o ${fmt(med((r) => r.curl.seconds))} s, curl -o + sha256sum ${fmt(med((r) => r.curlSha.seconds))} s, ` +
        `aria2c -x1 --checksum ${fmt(med((r) => r.aria2.seconds))} s, engine ${fmt(med((r) => r.engine.seconds))} s, engine --connections 1 ${fmt(med((r) => r.engine1.seconds))} s`);
      const vsCurl = med((r) => r.engine.seconds / r.curl.seconds);
      report('engine with sha256 / curl -o (no verification)', vsCurl, '<= 1.0', vsCurl <= 1.0);
      const vsCurl1 = med((r) => r.engine1.seconds / r.curl.seconds);
      report('engine --connections 1 with sha256 / curl -o', vsCurl1, '<= 1.0', vsCurl1 <= 1.0);
      console.log(`engine / (curl -o then sha256sum): ${fmt(med((r) => r.engine.seconds / r.curlSha.seconds))}`);
      const vsAria = med((r) => r.engine.seconds / r.aria2.seconds);
      report('engine / aria2c -x1 --checksum=sha-256', vsAria, '<= 0.7', vsAria <= 0.7);
      const cores = os.cpus().length;
      const engineCpu = med((r) => r.engine.cpu);
      console.log(`  CPU s (median): curl ${fmt(med((r) => r.curl.cpu))}, engine ${fmt(engineCpu)} -> on ${cores} cores the engine cannot take less than ` +
        `${fmt(engineCpu / cores)} s = ${fmt(engineCpu / cores / med((r) => r.curl.seconds))}x curl's median`);
      const peakMb = Math.max(...rounds.flatMap((r) => [r.engine.peakMb, r.engine1.peakMb]));
      report(`peak RSS of the CLI during the 1 GiB download, MB (highest of ${ROUNDS} rounds)`, peakMb, '<= 150', peakMb <= 150);
    }

    // 2. 4 connections vs 1 against a server capping each connection: equal caps, then one connection in four at half.
    const split = path.join(work, 'split.bin');
    await makeFile(split, SPLIT);
    const splitSha = await sha256(split);
    console.log(`\n200 MiB + 1 B, server capped at ${CAP / 1e6} MB/s per connection, ${ROUNDS} rounds:`);
    const equal = await splitTest(work, splitSha, split, false);
    report('4 connections vs 1, equal caps (median)', equal, '>= 3.5', equal >= 3.5);
    console.log(`200 MiB + 1 B, every fourth TCP connection capped at ${CAP / 2e6} MB/s (the 1-connection run gets ${CAP / 1e6}):`);
    const slow = await splitTest(work, splitSha, split, true);
    report('4 connections vs 1, one connection in four at half speed (median)', slow, '>= 3.0', slow >= 3.0);

    if (ONLY !== 'split') {
      // 3. speed limit 5 MB/s (10^6 bytes, as the setting and --speed-limit say).
      const limited = path.join(work, 'limited.bin');
      await makeFile(limited, 50 * MiB);
      const limitedServer = await startServer(limited, 0);
      const lim = await engineDownload(work, 'limited', limitedServer.url, await sha256(limited), 50 * MiB, ['--speed-limit', '5']);
      await limitedServer.stop();
      const measured = (50 * MiB) / 1e6 / lim.seconds;
      const off = (measured - 5) / 5;
      console.log(`\nspeed limit 5 MB/s on 50 MiB: ${fmt(lim.seconds)} s -> ${fmt(measured)} MB/s average (${off >= 0 ? '+' : ''}${fmt(off * 100, 1)}%, target within ±5 %) ${verdict(Math.abs(off) <= 0.05)}`);
      console.log('(the average includes process start-up and the final verification)');
    }
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
  console.log(`\nload average at the end (1, 5, 15 min): ${load()}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
