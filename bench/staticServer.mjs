// A minimal static file server with Range support and an optional per-connection speed cap,
// used by the benchmark when nginx is not installed. Usage: node staticServer.mjs <file> <capBytesPerSecond>
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [file, capArg] = process.argv.slice(2);
const cap = Number(capArg) || 0;
const size = statSync(file).size;
const etag = `"${size}-${statSync(file).mtimeMs}"`;
const name = `/${path.basename(file)}`;

const server = http.createServer((req, res) => {
  if (req.url !== name) {
    res.writeHead(404).end();
    return;
  }
  let start = 0;
  let end = size - 1;
  let status = 200;
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (m && (!req.headers['if-range'] || req.headers['if-range'] === etag)) {
    start = Number(m[1]);
    end = m[2] ? Math.min(size - 1, Number(m[2])) : size - 1;
    status = 206;
  }
  const headers = { 'content-length': end - start + 1, 'accept-ranges': 'bytes', etag };
  if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(status, headers);
  const stream = createReadStream(file, { start, end, highWaterMark: 256 * 1024 });
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
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
