// A minimal static file server with Range support and an optional per-connection speed cap,
// used by the benchmark when nginx is not installed. Usage: node staticServer.mjs <file> <capBytesPerSecond> [slowCap]
// With slowCap, every fourth TCP connection gets that cap instead (as bench/nginxServer.mjs does).
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { writeRangeHead } from '../scripts/rangeResponse.mjs';

const [file, capArg, slowArg] = process.argv.slice(2);
const fastCap = Number(capArg) || 0;
const slowCap = Number(slowArg) || 0;
let connections = 0;
const capOf = new WeakMap();
const size = statSync(file).size;
const etag = `"${size}-${statSync(file).mtimeMs}"`;
const name = `/${path.basename(file)}`;

const server = http.createServer((req, res) => {
  if (req.url !== name) {
    res.writeHead(404).end();
    return;
  }
  const range = writeRangeHead(req, res, size, etag);
  if (!range) return;
  const { start, end } = range;
  const stream = createReadStream(file, { start, end, highWaterMark: 256 * 1024 });
  const cap = capOf.get(req.socket) ?? fastCap;
  if (!cap) {
    stream.pipe(res);
    return;
  }
  const began = Date.now();
  let sent = 0;
  stream.on('data', (chunk) => {
    sent += chunk.length;
    const ok = res.write(chunk);
    const wait = began + (sent / cap) * 1000 - Date.now();
    if (wait > 0 || !ok) {
      stream.pause();
      const resume = () => setTimeout(() => stream.resume(), Math.max(0, wait));
      if (ok) resume(); else res.once('drain', resume);
    }
  });
  stream.on('end', () => res.end());
  res.on('close', () => stream.destroy());
});
server.on('connection', (socket) => {
  connections++;
  if (slowCap && connections % 4 === 0) capOf.set(socket, slowCap);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
