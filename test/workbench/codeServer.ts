import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const CODE_SERVER_ENTRY = path.join(REPO, '.vscode-test', 'code-server-4.100.3', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface CodeServerOptions {
  readonly vsixes: readonly string[];
  readonly folder: string;
  readonly userSettings?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  /** Runs once the user-data folder exists and before VS Code starts: e.g. to seed global storage. */
  readonly prepareUserData?: (userDataDir: string) => Promise<void>;
}

/** A real VS Code (code-server 4.100.3) on 127.0.0.1 with fresh user-data and extensions folders. */
export class CodeServer {
  private proc: ChildProcess | undefined;
  private output = '';
  port = 0;
  userDataDir = '';

  constructor(private readonly options: CodeServerOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(this.options.folder)}`;
  }

  get log(): string { return this.output; }

  async start(): Promise<void> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ma-cs-'));
    this.userDataDir = path.join(root, 'data');
    const extDir = path.join(root, 'extensions');
    await mkdir(path.join(this.userDataDir, 'User'), { recursive: true });
    const settings = {
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'telemetry.telemetryLevel': 'off',
      'workbench.enableExperiments': false,
      'update.mode': 'none',
      ...this.options.userSettings,
    };
    await writeFile(path.join(this.userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    await this.options.prepareUserData?.(this.userDataDir);
    for (const vsix of this.options.vsixes) {
      const r = spawnSync(process.execPath, [CODE_SERVER_ENTRY, '--extensions-dir', extDir, '--user-data-dir', this.userDataDir, '--install-extension', vsix], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`installing ${vsix} into code-server failed:\n${r.stdout}\n${r.stderr}`);
    }
    this.port = await freePort();
    this.proc = spawn(process.execPath, [
      CODE_SERVER_ENTRY, '--auth', 'none', '--bind-addr', `127.0.0.1:${this.port}`,
      '--extensions-dir', extDir, '--user-data-dir', this.userDataDir,
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
      this.options.folder,
    ], { env: await this.isolatedEnv(root), stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d: Buffer) => { this.output += d.toString(); });
    this.proc.stderr?.on('data', (d: Buffer) => { this.output += d.toString(); });
    await this.waitUntilServing();
  }

  /**
   * The machine's environment with a home of its own: the models, tokens and caches of whoever runs the tests
   * (an HF cache, ~/.ollama, ~/.netrc) must not show up in, or change, what a test sees. A test names what it wants.
   */
  private async isolatedEnv(root: string): Promise<NodeJS.ProcessEnv> {
    const home = path.join(root, 'home');
    await mkdir(home, { recursive: true });
    const env = Object.fromEntries(Object.entries(process.env)
      .filter(([key]) => !/^(HF_|HUGGING_FACE_|OLLAMA_|LMSTUDIO_|MODEL_AVAILABILITY_|XDG_)|^NETRC$/.test(key)));
    return { ...env, HOME: home, ...this.options.env };
  }

  private async waitUntilServing(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.proc?.exitCode != null) throw new Error(`code-server exited early:\n${this.output}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/healthz`);
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`code-server did not start within 60 s:\n${this.output}`);
  }

  /** The last lines of every log the extension wrote in this session. */
  async extensionLogTail(lines: number): Promise<string> {
    const logs = path.join(this.userDataDir, 'logs');
    const found: string[] = [];
    for (const entry of await readdir(logs, { recursive: true }).catch(() => [])) {
      if (!entry.includes('model-availability.model-availability') || !entry.endsWith('.log')) continue;
      const text = await readFile(path.join(logs, entry), 'utf8').catch(() => '');
      found.push(`        ${path.basename(entry)}:`, ...text.trimEnd().split('\n').slice(-lines).map((l) => `          ${l}`));
    }
    return found.join('\n');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode != null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    });
  }
}
