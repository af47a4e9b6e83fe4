// `npm start`: builds the extension, starts the offline demo model server, writes a demo workspace
// whose catalog points at it, and opens VS Code with the extension loaded:
//   - `code --extensionDevelopmentPath` when a `code` command exists;
//   - otherwise a local code-server sandbox on 127.0.0.1 (installed into .vscode-test/ on first run),
//     protected by a password that is printed with its URL.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_TOKEN, ensureDemoFiles, startDemoServer } from './demoModelServer.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(repo, '.demo');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: repo, ...opts });
  if (r.status !== 0) { console.error(`✘ ${cmd} ${args.join(' ')} failed`); process.exit(1); }
};
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** The preferred port when it is free (so bookmarks keep working), else any free one. */
async function pickPort(preferred) {
  const tryPort = (port) => new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(undefined)).listen(port, '127.0.0.1', () => {
      const got = s.address().port;
      s.close(() => resolve(got));
    });
  });
  return (await tryPort(preferred)) ?? tryPort(0);
}

console.log('• Building the extension');
run('npm', ['run', '--silent', 'package']);

console.log('• Preparing the demo models');
const files = await ensureDemoFiles(path.join(demo, 'models'));
const server = await startDemoServer(path.join(demo, 'models'), { port: await pickPort(47390) });
const base = `http://127.0.0.1:${server.address().port}`;
const f = Object.fromEntries(files.map((x) => [x.name, x]));
const file = (name, extra = {}) => ({ path: name, url: `${base}/${name}`, sha256: f[name].sha256, size: f[name].size, ...extra });
const catalog = {
  models: [
    { id: 'demo-chat-small', name: 'Chat Small', description: 'A small chat model; Chat Tiny is its compatible alternative.', version: '1.0.0', task: 'text-generation', family: 'llama', format: 'gguf', quantization: 'Q4_K_M', contextLength: 4096, quality: 0.6, alternatives: ['demo-chat-tiny'], files: [file('demo-chat-small.gguf')] },
    { id: 'demo-chat-tiny', name: 'Chat Tiny', version: '1.0.0', task: 'text-generation', family: 'llama', format: 'gguf', quantization: 'Q4_K_M', contextLength: 2048, quality: 0.45, files: [file('demo-chat-tiny.gguf')] },
    { id: 'demo-embed', name: 'Embeddings', description: 'Its tokenizer has no sha256 in the catalog, so it downloads but cannot be verified.', version: '1.0.0', task: 'feature-extraction', family: 'bert', format: 'onnx', quality: 0.5, files: [file('demo-embed.onnx'), { ...file('demo-embed-tokenizer.json'), path: 'tokenizer/tokenizer.json', sha256: undefined }] },
    { id: 'demo-gated', name: 'Gated (token)', description: `Needs a token: download it, press Set Token for 127.0.0.1:${server.address().port}… and paste ${DEMO_TOKEN}.`, version: '1.0.0', task: 'text-generation', family: 'llama', format: 'gguf', quality: 0.7, files: [{ ...file('demo-gated.gguf'), url: `${base}/gated/demo-gated.gguf` }] },
    { id: 'demo-missing', name: 'Missing (404)', description: 'Its file answers 404: shows what a failed download says.', version: '1.0.0', task: 'text-generation', format: 'gguf', files: [{ path: 'gone.gguf', url: `${base}/gone.gguf`, size: 1000 }] },
  ],
};
const workspace = path.join(demo, 'workspace');
await mkdir(path.join(workspace, '.vscode'), { recursive: true });
await writeFile(path.join(workspace, '.vscode', 'models.json'), JSON.stringify(catalog, null, 2) + '\n');
await writeFile(path.join(workspace, 'README.md'), `# Model Availability demo\n\nThe Explorer's **Models** view lists the models of \`.vscode/models.json\`, served offline by a local demo server at ${base}.\nThe gated demo model accepts the token \`${DEMO_TOKEN}\`.\n`);
console.log(`• Demo model server: ${base} (${files.length} files)`);

const stop = () => { server.close(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

if (has('code') && !process.env.MA_USE_CODE_SERVER) {
  console.log('• Opening VS Code with the extension loaded (Ctrl+C here stops the demo server)');
  spawn('code', ['--new-window', `--extensionDevelopmentPath=${repo}`, workspace], { stdio: 'inherit' });
} else {
  run('bash', ['scripts/ensure-workbench.sh', '--code-server-only']);
  const entry = path.join(repo, '.vscode-test', 'code-server-4.100.3', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const dataDir = path.join(demo, 'user-data');
  // A quiet sandbox: no walkthrough, and no offer to open this repository's git folder.
  const userSettings = path.join(dataDir, 'User', 'settings.json');
  await mkdir(path.dirname(userSettings), { recursive: true });
  if (!existsSync(userSettings)) {
    await writeFile(userSettings, JSON.stringify({ 'workbench.startupEditor': 'none', 'git.openRepositoryInParentFolders': 'never', 'telemetry.telemetryLevel': 'off' }, null, 2));
  }
  const extDir = path.join(demo, 'extensions');
  run(process.execPath, [entry, '--extensions-dir', extDir, '--user-data-dir', dataDir, '--force', '--install-extension', path.join(repo, 'dist', 'model-availability.vsix')], { stdio: 'ignore' });
  const port = await pickPort(47391);
  const password = randomBytes(12).toString('base64url');
  const cs = spawn(process.execPath, [entry, '--auth', 'password', '--bind-addr', `127.0.0.1:${port}`, '--extensions-dir', extDir, '--user-data-dir', dataDir,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override', '--disable-workspace-trust', workspace], { env: { ...process.env, PASSWORD: password }, stdio: ['ignore', 'pipe', 'pipe'] });
  cs.stdout.on('data', (d) => {
    const m = /HTTP server listening on (http:\/\/\S+)/.exec(d.toString());
    if (m) {
      console.log(`\n  Model Availability is running in VS Code (code-server) at:\n\n    ${m[1].replace(/\/$/, "")}/?folder=${encodeURIComponent(workspace)}\n\n  Password: ${password}\n  Ctrl+C stops it and the demo model server.\n`);
    }
  });
  cs.stderr.on('data', (d) => process.stderr.write(d));
  cs.on('exit', (code) => { server.close(); process.exit(code ?? 0); });
  process.on('SIGINT', () => cs.kill('SIGTERM'));
}
