import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { PIECE } from '../../support/downloadFixtures';

export interface CliRun { code: number | null; stdout: string; stderr: string }

const CLI = path.resolve('src/cli.ts');

/** Runs the CLI from source in a child process, with small pieces and fast retries. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, MODEL_AVAILABILITY_PIECE_SIZE: String(PIECE), MODEL_AVAILABILITY_RETRY_BASE_MS: '20', MODEL_AVAILABILITY_LOCK_STALE_MS: '2000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

export const cli = (args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun> => startCli(args, env).done;
