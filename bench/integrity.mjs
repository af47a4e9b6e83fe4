// Store-integrity benchmark (issue 4): a full verify of a 1 GiB model against `openssl dgst -sha256`,
// and the bytes a repair of one flipped byte transfers. Run directly (`node bench/integrity.mjs`, which
// builds dist/cli.js first) or call runIntegrityBench() from bench/run.mjs after its build.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, promises as fs, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, GiB, makeFile, MiB, verdict } from './benchFiles.mjs';
import { writeRangeHead } from '../scripts/rangeResponse.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const cliPath = path.join(root, 'dist', 'cli.js');
const PIECE = 16 * MiB;
const RUNS = 5;
/** A size that is a multiple of nothing, as real model files are. */
const SIZE = GiB + 12345;


/** A Range-capable server in this process that counts the body bytes it sends. */
function countingServer(file) {
  const size = statSync(file).size;
  const etag = `"${size}-${statSync(file).mtimeMs}"`;
  const state = { bytesSent: 0 };
  const server = http.createServer((req, res) => {
    const range = writeRangeHead(req, res, size, etag);
    if (!range) return;
    const { start, end } = range;
    const stream = createReadStream(file, { start, end, highWaterMark: 256 * 1024 });
    stream.on('data', (chunk) => { state.bytesSent += chunk.length; });
    stream.pipe(res);
    res.on('close', () => stream.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/${path.basename(file)}`,
    state,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code}: ${stderr}${stdout}`));
      else resolve({ seconds, stdout });
    });
  });
}

/** Best time of each command over `times` alternating runs, so a busy moment does not favour either. */
async function bestOfEach(times, a, b) {
  const best = [Infinity, Infinity];
  for (let i = 0; i < times; i++) {
    best[0] = Math.min(best[0], (await a()).seconds);
    best[1] = Math.min(best[1], (await b()).seconds);
  }
  return best;
}


export async function runIntegrityBench({ build = false } = {}) {
  if (build) {
    const r = spawnSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('build failed');
  }
  if (spawnSync('which', ['openssl']).status !== 0) throw new Error('openssl is not installed');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ma-bench-integrity-'));
  let server;
  try {
    const source = path.join(work, 'model.bin');
    await makeFile(source, SIZE);
    const sha = /([0-9a-f]{64})/.exec((await run('openssl', ['dgst', '-sha256', source])).stdout)[1];
    server = await countingServer(source);
    const store = path.join(work, 'store');
    const catalog = path.join(work, 'catalog.json');
    await fs.writeFile(catalog, JSON.stringify({ models: [{ id: 'bench-integrity', name: 'Integrity', version: '1', files: [{ path: 'model.bin', url: server.url, sha256: sha, size: SIZE }] }] }));
    const cli = (...args) => run(process.execPath, [cliPath, '--store', store, '--catalog', catalog, ...args]);
    await cli('download', 'bench-integrity');
    const installed = path.join(store, 'models', 'bench-integrity', '1', 'model.bin');

    // 1. Full verify (sha256 of every piece and of the whole file; the CLI end to end) vs openssl, both from a warm page cache.
    await run('openssl', ['dgst', '-sha256', installed]);
    const [openssl, verify] = await bestOfEach(RUNS, () => run('openssl', ['dgst', '-sha256', installed]), () => cli('verify', 'bench-integrity'));
    // `list` on the same store: the CLI's start-up (node, catalog, quick check), which openssl does not pay.
    const [startup] = await bestOfEach(RUNS, () => cli('list'), async () => ({ seconds: 0 }));
    const ratio = verify / openssl;
    console.log(`\n1 GiB + 12,345 B full verify: openssl dgst -sha256 ${fmt(openssl)} s, model-availability verify ${fmt(verify)} s (best of ${RUNS}, CLI end to end) -> ratio ${fmt(ratio)} (target <= 1.2) ${verdict(ratio <= 1.2)}`);
    console.log(`  without the CLI's ${fmt(startup)} s start-up: ${fmt(verify - startup)} s -> ratio ${fmt((verify - startup) / openssl)}`);

    // 2. Repair of one flipped byte in the middle: bytes transferred vs the whole file.
    const fh = await fs.open(installed, 'r+');
    const b = Buffer.alloc(1);
    const offset = Math.floor(SIZE / 2);
    await fh.read(b, 0, 1, offset);
    b[0] ^= 0xff;
    await fh.write(b, 0, 1, offset);
    await fh.close();
    server.state.bytesSent = 0;
    const repair = await cli('repair', 'bench-integrity');
    const sent = server.state.bytesSent;
    console.log(`1 GiB + 12,345 B repair of one flipped byte: ${sent} bytes transferred (${fmt(sent / MiB)} MiB) in ${fmt(repair.seconds)} s; ` +
      `${fmt((100 * sent) / SIZE, 3)}% of the ${fmt(SIZE / MiB, 0)} MiB a whole-file re-download (huggingface_hub, Ollama) transfers (target <= one ${PIECE / MiB} MiB piece) ${verdict(sent <= PIECE)}`);
    await cli('verify', 'bench-integrity');
    console.log('after the repair, verify is green');
  } finally {
    await server?.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${fmt(os.totalmem() / GiB, 1)} GiB RAM, node ${process.version}`);
  runIntegrityBench({ build: true }).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
