import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatProblem, loadCatalogs, problemMessage, parseCatalog, type CatalogProblem } from '../../../src/engine/catalog/catalogLoader';

const SHA = 'a'.repeat(64);
const goodFile = { path: 'm.gguf', url: 'https://example.test/m.gguf', sha256: SHA, size: 10 };

function catalog(...models: object[]): string {
  return JSON.stringify({ models }, null, 2);
}

function onlyProblem(text: string): CatalogProblem {
  const { problems } = parseCatalog(text, '/cat/a.models.json');
  assert.equal(problems.length, 1, `expected one problem, got: ${problems.map((x) => formatProblem(x, 'vscode')).join('\n')}`);
  return problems[0];
}

describe('catalog parsing', () => {
  it('loads a valid model with defaults for name, version and alternatives', () => {
    const { models, problems } = parseCatalog(catalog({ id: 'tiny', files: [goodFile] }), 'x.json');
    assert.deepEqual(problems, []);
    assert.equal(models.length, 1);
    assert.equal(models[0].name, 'tiny');
    assert.equal(models[0].version, 'latest');
    assert.deepEqual(models[0].alternatives, []);
    assert.deepEqual(models[0].files[0].source, { kind: 'url', url: 'https://example.test/m.gguf' });
  });

  it('normalises sha256 to lower case and defaults an hf revision to main', () => {
    const { models } = parseCatalog(catalog({ id: 'h', files: [
      { path: 'a', url: 'https://x.test/a', sha256: 'AB'.repeat(32) },
      { path: 'b', hf: { repo: 'o/r', file: 'b.bin' } },
    ] }), 'x');
    assert.equal(models[0].files[0].sha256, 'ab'.repeat(32));
    assert.deepEqual(models[0].files[1].source, { kind: 'hf', repo: 'o/r', revision: 'main', file: 'b.bin' });
  });

  it('names file, line, JSON path and reason for unparsable JSON', () => {
    const p = onlyProblem('{ "models": [ { "id": "x", } ] }');
    assert.equal(p.jsonPath, '(document)');
    assert.match(p.message, /not valid JSON/);
    assert.ok(p.range, 'a syntax error has a position');
    assert.match(formatProblem(p, 'vscode'), /^\/cat\/a\.models\.json:1:\d+: is not valid JSON .*; fix the syntax and save$/);
    assert.match(formatProblem(p, 'cli'), /^\/cat\/a\.models\.json:1:\d+: is not valid JSON .*; fix the syntax in that file$/);
  });

  it('rejects an id with upper case or a leading dash, pointing at the id', () => {
    const text = catalog({ id: 'Bad-Id', files: [goodFile] });
    const p = onlyProblem(text);
    assert.equal(p.jsonPath, 'models[0].id');
    assert.match(p.message, /lower-case/);
    assert.equal(p.range?.start.line, 3, 'the range points at the id line');
    assert.equal(onlyProblem(catalog({ id: '-x', files: [goodFile] })).jsonPath, 'models[0].id');
  });

  it('requires an id and at least one file', () => {
    assert.equal(onlyProblem(catalog({ files: [goodFile] })).jsonPath, 'models[0].id');
    const p = onlyProblem(catalog({ id: 'x', files: [] }));
    assert.equal(p.jsonPath, 'models[0].files');
    assert.match(p.message, /at least one file/);
  });

  it('requires exactly one of url or hf', () => {
    const none = onlyProblem(catalog({ id: 'x', files: [{ path: 'a' }] }));
    assert.equal(none.jsonPath, 'models[0].files[0]');
    assert.match(none.message, /exactly one source/);
    const both = onlyProblem(catalog({ id: 'x', files: [{ path: 'a', url: 'https://x.test/a', hf: { repo: 'o/r', file: 'a' } }] }));
    assert.match(both.message, /exactly one source/);
  });

  it('accepts only http(s) URLs', () => {
    for (const url of ['file:///etc/passwd', 'ftp://x.test/a', 'javascript:alert(1)']) {
      const p = onlyProblem(catalog({ id: 'x', files: [{ path: 'a', url }] }));
      assert.equal(p.jsonPath, 'models[0].files[0].url');
      assert.match(p.message, /http:\/\/ or https:\/\//);
    }
  });

  it('checks sha256 format, size type and unknown properties', () => {
    assert.match(onlyProblem(catalog({ id: 'x', files: [{ ...goodFile, sha256: 'abc' }] })).message, /64 hexadecimal/);
    assert.equal(onlyProblem(catalog({ id: 'x', files: [{ ...goodFile, size: '10' }] })).jsonPath, 'models[0].files[0].size');
    const unknown = onlyProblem(catalog({ id: 'x', fiels: [], files: [goodFile] }));
    assert.equal(unknown.jsonPath, 'models[0].fiels');
    assert.match(unknown.message, /not a known property/);
  });

  const unsafePaths: [string, RegExp][] = [
    ['/etc/passwd', /absolute/],
    ['../escape.bin', /'\.\.' segment/],
    ['a/../../b', /'\.\.' segment/],
    ['C:/Windows/x', /drive letter/],
    ['c:x', /drive letter/],
    ['\\\\server\\share\\x', /backslash/],
    ['dir\\file', /backslash/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['./a', /'\.' segment/],
    ['CON', /reserved on Windows/],
    ['dir/nul.txt', /reserved on Windows/],
    ['name.', /ending in '\.'/],
    ['a?b', /not allowed/],
    ['model.gguf.part', /partial downloads/],
  ];
  for (const [p, reason] of unsafePaths) {
    it(`rejects the file path ${JSON.stringify(p)}`, () => {
      const problem = onlyProblem(catalog({ id: 'x', files: [{ path: p, url: 'https://x.test/a' }] }));
      assert.equal(problem.jsonPath, 'models[0].files[0].path');
      assert.match(problem.message, reason);
    });
  }

  it('accepts nested relative paths', () => {
    const { problems } = parseCatalog(catalog({ id: 'x', files: [{ path: 'onnx/model.onnx', url: 'https://x.test/a' }] }), 'x');
    assert.deepEqual(problems, []);
  });

  it('rejects a duplicate id in one file and keeps the first', () => {
    const { models, problems } = parseCatalog(catalog({ id: 'x', files: [goodFile] }, { id: 'x', files: [goodFile] }), 'f');
    assert.equal(models.length, 1);
    assert.equal(problems[0].jsonPath, 'models[1].id');
    assert.match(problems[0].message, /duplicates the id 'x' of models\[0\]/);
  });

  it('rejects a file path listed twice (case-insensitively)', () => {
    const p = onlyProblem(catalog({ id: 'x', files: [goodFile, { ...goodFile, path: 'M.GGUF' }] }));
    assert.equal(p.jsonPath, 'models[0].files[1].path');
  });

  it('keeps the valid models of a catalog that has a bad one', () => {
    const { models, problems } = parseCatalog(catalog({ id: 'good', files: [goodFile] }, { id: 'bad', files: [{ path: '../x', url: 'https://x.test' }] }), 'f');
    assert.deepEqual(models.map((m) => m.id), ['good']);
    assert.equal(problems.length, 1);
  });

  it('rejects a document without a models array', () => {
    const { models, problems } = parseCatalog('{"model": []}', 'f');
    assert.equal(models.length, 0);
    assert.deepEqual(problems.map((p) => `${p.jsonPath}: ${p.message}`), [
      'models: is required but missing',
      'model: is not a known property (check its spelling)',
    ]);
  });
});

describe('catalog merging', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'ma-cat-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('merges files in order, reports duplicates across files with both names, and still loads the rest', async () => {
    const a = path.join(dir, 'a.models.json');
    const b = path.join(dir, 'b.models.json');
    const broken = path.join(dir, 'broken.models.json');
    await writeFile(a, catalog({ id: 'one', files: [goodFile] }, { id: 'two', files: [goodFile] }));
    await writeFile(b, catalog({ id: 'three', files: [goodFile] }, { id: 'one', files: [goodFile] }));
    await writeFile(broken, '{ nope');
    const res = await loadCatalogs([{ kind: 'file', path: a }, { kind: 'file', path: broken }, { kind: 'file', path: b }]);
    assert.deepEqual(res.models.map((m) => m.id), ['one', 'two', 'three']);
    const dup = res.problems.find((p) => /duplicates/.test(p.message));
    assert.ok(dup);
    assert.equal(dup.origin, b);
    assert.equal(dup.jsonPath, 'models[1].id');
    assert.ok(dup.message.includes(a), 'names the first file');
    assert.ok(res.problems.some((p) => p.origin === broken && /not valid JSON/.test(p.message)));
  });

  it('lets a catalog override a built-in model of the same id', async () => {
    const a = path.join(dir, 'a.models.json');
    await writeFile(a, catalog({ id: 'tinyllama-1.1b-chat-q4', name: 'Mine', files: [goodFile] }));
    const res = await loadCatalogs([{ kind: 'file', path: a }, { kind: 'builtin' }]);
    const tl = res.models.filter((m) => m.id === 'tinyllama-1.1b-chat-q4');
    assert.equal(tl.length, 1);
    assert.equal(tl[0].name, 'Mine');
    assert.deepEqual(res.problems, []);
  });

  it('ships a built-in catalog that validates cleanly', async () => {
    const res = await loadCatalogs([{ kind: 'builtin' }]);
    assert.deepEqual(res.problems, []);
    assert.ok(res.models.length >= 3);
    assert.ok(res.models.every((m) => m.files.every((f) => f.source.kind === 'hf')));
  });

  it('reports a missing catalog file and a non-http URL with a next step', async () => {
    const res = await loadCatalogs([{ kind: 'file', path: path.join(dir, 'nope.json') }, { kind: 'url', url: 'file:///etc/x.json' }]);
    assert.match(problemMessage(res.problems[0], 'vscode'), /does not exist; fix the path in modelAvailability\.catalogs/);
    assert.match(problemMessage(res.problems[0], 'cli'), /does not exist; fix the --catalog path/);
    assert.match(res.problems[1].message, /not an http\(s\) URL/);
  });

  it('fetches URL catalogs and reports fetch failures without losing the others', async () => {
    const a = path.join(dir, 'a.models.json');
    await writeFile(a, catalog({ id: 'local', files: [goodFile] }));
    const fetchText = async (url: string) => {
      if (url.endsWith('/ok.json')) return catalog({ id: 'remote', files: [goodFile] });
      throw new Error('Response code 404 (Not Found)');
    };
    const res = await loadCatalogs([{ kind: 'url', url: 'https://cat.test/ok.json' }, { kind: 'url', url: 'https://cat.test/missing.json' }, { kind: 'file', path: a }], { fetchText });
    assert.deepEqual(res.models.map((m) => m.id), ['remote', 'local']);
    assert.match(problemMessage(res.problems[0], 'vscode'), /could not be fetched \(Response code 404.*check the URL and your connection/);
  });

  it("keeps listing a URL catalog's models from its last good copy while offline", async () => {
    const cacheDir = path.join(dir, 'cache');
    let online = true;
    const fetchText = async () => {
      if (!online) throw new Error('getaddrinfo ENOTFOUND cat.test');
      return catalog({ id: 'remote', files: [goodFile] });
    };
    const source = [{ kind: 'url' as const, url: 'https://cat.test/models.json' }];
    assert.deepEqual((await loadCatalogs(source, { fetchText, cacheDir })).models.map((m) => m.id), ['remote']);
    online = false;
    const offline = await loadCatalogs(source, { fetchText, cacheDir });
    assert.deepEqual(offline.models.map((m) => m.id), ['remote']);
    assert.equal(offline.problems.length, 1);
    assert.equal(offline.problems[0].severity, 'warning');
    assert.match(problemMessage(offline.problems[0], 'vscode'), /ENOTFOUND.*using the last copy fetched/);
    const noCache = await loadCatalogs(source, { fetchText });
    assert.deepEqual(noCache.models, []);
  });

  it('warns about alternatives that no catalog defines', async () => {
    const a = path.join(dir, 'a.models.json');
    await writeFile(a, catalog({ id: 'x', alternatives: ['ghost'], files: [goodFile] }));
    const res = await loadCatalogs([{ kind: 'file', path: a }]);
    assert.equal(res.problems.length, 1);
    assert.equal(res.problems[0].severity, 'warning');
    assert.equal(res.problems[0].jsonPath, 'models[0].alternatives[0]');
  });
});
