import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultServer } from './faultServer';

export const COMMIT = 'c0ffee'.padEnd(40, '0');
export const TOKEN = 'hf_test_token';

export interface HubRequest { method: string; url: string; authorization: string | undefined; body: string }

/**
 * A mock hub on 127.0.0.1: resolves `main` to a commit (with the files' sizes when asked for blobs), answers
 * paths-info with lfs oid and size, and redirects /resolve/ to a "CDN" on another host (the fault server on
 * localhost), as the real hub does.
 */
export async function startHub(cdn: FaultServer, file: { name: string; sha256: string; size: number }, gated: boolean) {
  const requests: HubRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      if (gated && req.headers.authorization !== `Bearer ${TOKEN}`) { res.writeHead(401).end(); return; }
      const url = req.url ?? '';
      if (url === '/api/models/org/tiny-GGUF/revision/main') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: 'org/tiny-GGUF', sha: COMMIT }));
      } else if (url === '/api/models/org/tiny-GGUF/revision/main?blobs=true') {
        // The repository's files with their sizes, as the real hub lists them for `files_metadata`.
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: 'org/tiny-GGUF', sha: COMMIT, siblings: [
          { rfilename: 'README.md', size: 120 },
          { rfilename: file.name, size: file.size, lfs: { sha256: file.sha256, size: file.size, pointerSize: 134 } },
        ] }));
      } else if (url === `/api/models/org/tiny-GGUF/paths-info/${COMMIT}` && req.method === 'POST') {
        const form = new URLSearchParams(body);
        const asked = form.getAll('paths');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(asked.filter((p) => p === file.name).map((p) => ({ type: 'file', path: p, size: file.size, lfs: { oid: file.sha256, size: file.size } }))));
      } else if (url === `/org/tiny-GGUF/resolve/${COMMIT}/${file.name}`) {
        res.writeHead(302, { location: cdn.url(file.name, 'localhost') }).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}
