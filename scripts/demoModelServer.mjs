// A small local model server for `npm start`: generated "model" files of a few MB, served on
// 127.0.0.1 with Range, ETag and HEAD like a CDN, a per-connection speed cap so progress is
// visible, and a gated file that needs a token — so every feature can be tried offline.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { writeRangeHead } from './rangeResponse.mjs';

export const DEMO_TOKEN = 'hf_demo_token';

/** The demo models: a few MB each, deterministic bytes so sha256s are stable across runs. */
export const DEMO_FILES = [
  { name: 'demo-chat-small.gguf', size: 6 * 1024 * 1024 },
  { name: 'demo-chat-tiny.gguf', size: 3 * 1024 * 1024 },
  { name: 'demo-embed.onnx', size: 2 * 1024 * 1024 },
  { name: 'demo-embed-tokenizer.json', size: 64 * 1024 },
  { name: 'demo-gated.gguf', size: 4 * 1024 * 1024 },
];

function block(seed, size) {
  // xorshift32: fast, deterministic filler that does not compress to nothing.
  const buf = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  return buf;
}

/** Writes the demo files (once) and returns { name, size, sha256 } for each. */
export async function ensureDemoFiles(dir) {
  await mkdir(dir, { recursive: true });
  const out = [];
  for (const [i, f] of DEMO_FILES.entries()) {
    const file = path.join(dir, f.name);
    if (!existsSync(file) || (await stat(file)).size !== f.size) await writeFile(file, block(0x9e3779b9 + i * 7919, f.size));
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk);
    out.push({ ...f, sha256: hash.digest('hex') });
  }
  return out;
}

function hasDemoToken(authorization = '') {
  if (authorization === `Bearer ${DEMO_TOKEN}`) return true;
  const basic = /^Basic (.+)$/.exec(authorization)?.[1];
  return basic !== undefined && Buffer.from(basic, 'base64').toString().split(':').slice(1).join(':') === DEMO_TOKEN;
}

/**
 * Serves `dir` on 127.0.0.1:port; files under /gated/ need DEMO_TOKEN, as `Authorization: Bearer DEMO_TOKEN`
 * (VS Code's Set Token) or as the password of Basic auth (a ~/.netrc entry, for the CLI).
 */
export function startDemoServer(dir, { port = 0, bytesPerSecond = 3 * 1024 * 1024 } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let name;
    try {
      name = decodeURIComponent(url.pathname.slice(1));
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad path');
      return;
    }
    if (name.startsWith('gated/')) {
      if (!hasDemoToken(req.headers.authorization)) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('This demo model is gated: set a token.');
        return;
      }
      name = name.slice('gated/'.length);
    }
    if (!DEMO_FILES.some((f) => f.name === name)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const file = path.join(dir, name);
    const { size, mtimeMs } = await stat(file);
    const etag = `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
    const range = writeRangeHead(req, res, size, etag);
    if (!range) return;
    const { start, end } = range;
    if (req.method === 'HEAD') { res.end(); return; }
    const stream = createReadStream(file, { start, end, highWaterMark: 64 * 1024 });
    // Cap each connection, like a CDN does, so downloads take a visible few seconds.
    const begun = Date.now();
    let sent = 0;
    let throttledUntil = 0;
    stream.on('data', (chunk) => {
      sent += chunk.length;
      if (!res.write(chunk)) stream.pause();
      const ahead = sent / bytesPerSecond * 1000 - (Date.now() - begun);
      if (ahead > 5) {
        stream.pause();
        throttledUntil = Date.now() + ahead;
        setTimeout(() => stream.resume(), ahead);
      }
    });
    res.on('drain', () => { if (Date.now() >= throttledUntil) stream.resume(); });
    stream.on('end', () => res.end());
    req.on('close', () => stream.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
