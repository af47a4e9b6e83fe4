import * as os from 'node:os';
import * as path from 'node:path';

export interface CliOptions {
  readonly store: string;
  readonly catalogs: string[];
  readonly command: 'list' | 'download' | 'help';
  readonly ids: string[];
  readonly json: boolean;
  readonly connections?: number;
  readonly speedLimitMBps?: number;
  readonly maxRetries?: number;
}

export class UsageError extends Error {}

export const USAGE = `usage: model-availability [--store DIR] [--catalog FILE_OR_URL]... <command>
  list [--json]
  download <id>... [--connections N] [--speed-limit MBPS] [--max-retries N]

The store defaults to $MODEL_AVAILABILITY_STORE or ~/.cache/model-availability.
HF_TOKEN is sent to the Hugging Face hub (HF_ENDPOINT, default https://huggingface.co) for gated models.`;

export function defaultStore(env: NodeJS.ProcessEnv = process.env): string {
  return env.MODEL_AVAILABILITY_STORE || path.join(os.homedir(), '.cache', 'model-availability');
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  let store: string | undefined;
  const catalogs: string[] = [];
  const positional: string[] = [];
  let json = false;
  let connections: number | undefined;
  let speedLimitMBps: number | undefined;
  let maxRetries: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--store': store = value(); break;
      case '--catalog': catalogs.push(value()); break;
      case '--json': json = true; break;
      case '--connections': connections = number(flag, value(), 1, 64, true); break;
      case '--speed-limit': speedLimitMBps = number(flag, value(), 0, 1e6, false); break;
      case '--max-retries': maxRetries = number(flag, value(), 0, 100, true); break;
      case '-h': case '--help': return { store: '', catalogs, command: 'help', ids: [], json };
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
        positional.push(arg);
    }
  }
  const [command, ...ids] = positional;
  if (command !== 'list' && command !== 'download') {
    throw new UsageError(command ? `unknown command '${command}'` : 'missing command');
  }
  if (command === 'download' && ids.length === 0) throw new UsageError('download needs at least one model id');
  if (command === 'list' && ids.length > 0) throw new UsageError('list takes no ids');
  return { store: path.resolve(store ?? defaultStore(env)), catalogs, command, ids, json, connections, speedLimitMBps, maxRetries };
}

function number(flag: string, raw: string, min: number, max: number, integer: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not '${raw}'`);
  }
  return n;
}
