import { createHash } from 'node:crypto';
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
      // A first download pins `main` to its commit, then resolves the file at that commit: both answer alike.
      if (url === '/api/models/org/tiny-GGUF/revision/main' || url === `/api/models/org/tiny-GGUF/revision/${COMMIT}`) {
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

/** The id git (and so the hub and its cache) gives a small file: sha1 of `blob <size>\0` and the bytes. */
export function gitBlobId(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

/**
 * A mock hub for one repository, `org/tiny-GGUF` at COMMIT, answering what the real `@huggingface/hub`
 * library asks for a snapshot download (model info, the tree, paths-info as JSON) and what the engine asks
 * (revision, paths-info form-encoded). Each file's bytes come from `cdn` (a redirect, as the real hub does).
 * `lfs` files carry their sha256 as lfs.oid; the others only their git blob id.
 */
export async function startRepoHub(cdn: FaultServer, files: readonly { name: string; lfs: boolean }[]) {
  const requests: HubRequest[] = [];
  const entry = (name: string, lfs: boolean): object => {
    const served = cdn.files.get(name);
    if (!served) throw new Error(`the cdn does not serve ${name}`);
    const size = served.data.length;
    return { type: 'file', path: name, size, oid: gitBlobId(served.data), ...(lfs && { lfs: { oid: served.sha256, size, pointerSize: 134 } }) };
  };
  const repo = '/api/models/org/tiny-GGUF';
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      const [url] = (req.url ?? '').split('?');
      const json = (value: unknown): void => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(value)); };
      if (url === `${repo}/revision/main` || url === `${repo}/revision/${COMMIT}`) {
        json({ _id: 'tiny', id: 'org/tiny-GGUF', sha: COMMIT, private: false, downloads: 0, likes: 0, lastModified: '2026-01-01T00:00:00.000Z' });
      } else if (url === `${repo}/tree/${COMMIT}`) {
        json(files.map((f) => entry(f.name, f.lfs)));
      } else if (url === `${repo}/paths-info/${COMMIT}` && req.method === 'POST') {
        const asked = req.headers['content-type']?.includes('json') ? (JSON.parse(body) as { paths: string[] }).paths : new URLSearchParams(body).getAll('paths');
        json(files.filter((f) => asked.includes(f.name)).map((f) => entry(f.name, f.lfs)));
      } else if (url.startsWith(`/org/tiny-GGUF/resolve/${COMMIT}/`)) {
        const name = decodeURIComponent(url.slice(`/org/tiny-GGUF/resolve/${COMMIT}/`.length));
        res.writeHead(302, { location: cdn.url(name, 'localhost') }).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * A mock hub for `org/tiny-GGUF` whose branch `main` can move: `commits` maps each commit to its files
 * (served by `cdn` as `<commit>-<name>`). Answers the engine's revision (with `?blobs=true`, siblings with
 * lfs sha256, as the real hub's model info), paths-info and resolve calls.
 */
export async function startBranchHub(cdn: FaultServer, commits: Map<string, readonly string[]>, main: string) {
  const requests: HubRequest[] = [];
  const state = { main };
  const repo = '/api/models/org/tiny-GGUF';
  const entry = (commit: string, name: string) => {
    const served = cdn.files.get(`${commit}-${name}`);
    if (!served) throw new Error(`the cdn does not serve ${commit}-${name}`);
    return { size: served.data.length, sha256: served.sha256 };
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      const [url, query] = (req.url ?? '').split('?');
      const json = (value: unknown): void => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(value)); };
      const rev = url.startsWith(`${repo}/revision/`) ? decodeURIComponent(url.slice(`${repo}/revision/`.length)) : undefined;
      const commitOf = (r: string) => (r === 'main' ? state.main : commits.has(r) ? r : undefined);
      if (rev !== undefined && commitOf(rev)) {
        const commit = commitOf(rev) ?? '';
        const siblings = (commits.get(commit) ?? []).map((name) => { const e = entry(commit, name); return { rfilename: name, size: e.size, lfs: { sha256: e.sha256, size: e.size, pointerSize: 134 } }; });
        json({ id: 'org/tiny-GGUF', sha: commit, ...(query?.includes('blobs=true') ? { siblings } : {}) });
      } else if (url.startsWith(`${repo}/paths-info/`) && req.method === 'POST') {
        const commit = url.slice(`${repo}/paths-info/`.length);
        const asked = new URLSearchParams(body).getAll('paths');
        json((commits.get(commit) ?? []).filter((n) => asked.includes(n)).map((n) => { const e = entry(commit, n); return { type: 'file', path: n, size: e.size, lfs: { oid: e.sha256, size: e.size } }; }));
      } else if (url.startsWith('/org/tiny-GGUF/resolve/')) {
        const [commit, ...name] = url.slice('/org/tiny-GGUF/resolve/'.length).split('/');
        res.writeHead(302, { location: cdn.url(`${commit}-${decodeURIComponent(name.join('/'))}`, 'localhost') }).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests,
    moveMain: (commit: string) => { state.main = commit; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
