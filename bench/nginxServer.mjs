// nginx as the benchmark's file server when it is installed (sendfile: the server costs little CPU, so the
// client's own cost shows). One process (master_process off), so its CPU time is one /proc entry.
// `limit_rate` caps each connection, as a CDN does.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with code ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nginx did not start listening');
}

/** nginx's $connection is a serial number: this matches every fourth (divisible by 4, in decimal). */
const EVERY_FOURTH = '~(^[048]|[02468][048]|[13579][26])$';

/**
 * Serves `file` from nginx; `cap` bytes per second per connection (0 = none). With `slowCap`, every fourth
 * TCP connection the server accepts gets that cap instead: one connection in four is slow.
 */
export async function startNginx(file, cap, slowCap = 0) {
  const prefix = await fs.mkdtemp(path.join(path.dirname(file), 'nginx-'));
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  await fs.writeFile(conf, `
worker_processes 1;
master_process off;
daemon off;
error_log ${prefix}/error.log;
pid ${prefix}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/tmp;`).join(' ')}
  server {
    listen 127.0.0.1:${port};
    root ${path.dirname(file)};
    ${cap ? 'limit_rate $rate;' : ''}
  }
  map $connection $rate {
    ${slowCap ? `"${EVERY_FOURTH}" ${slowCap};` : ''}
    default ${cap};
  }
}
`);
  const child = spawn('nginx', ['-c', conf, '-p', prefix], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port, child);
  return {
    pid: child.pid,
    url: `http://127.0.0.1:${port}/${path.basename(file)}`,
    stop: async () => {
      child.kill();
      await fs.rm(prefix, { recursive: true, force: true });
    },
  };
}
