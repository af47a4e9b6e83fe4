import * as os from 'node:os';
import * as path from 'node:path';

export interface CliOptions {
  readonly store: string;
  readonly catalogs: string[];
  readonly command: CliCommand;
  readonly ids: string[];
  readonly json: boolean;
  /** verify --repair: repair what the check finds. */
  readonly repair: boolean;
  readonly connections?: number;
  readonly speedLimitMBps?: number;
  readonly maxRetries?: number;
}

export type CliCommand = 'list' | 'download' | 'verify' | 'repair' | 'remove' | 'help';

const COMMANDS: readonly CliCommand[] = ['list', 'download', 'verify', 'repair', 'remove'];

export class UsageError extends Error {}

export const USAGE = `usage: model-availability [--store DIR] [--catalog FILE_OR_URL]... <command>
  list [--json]
  download <id>... [--connections N] [--speed-limit MBPS] [--max-retries N]
  verify [<id>...] [--json] [--repair]   full check (all installed models without ids); exit 1 unless all end green
  repair <id>...                         re-fetch only what is damaged; exit 1 unless all end repaired
  remove <id>...                         delete a model's files and manifest

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
  let repair = false;
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
      case '--repair': repair = true; break;
      case '--connections': connections = number(flag, value(), 1, 64, true); break;
      case '--speed-limit': speedLimitMBps = number(flag, value(), 0, 1e6, false); break;
      case '--max-retries': maxRetries = number(flag, value(), 0, 100, true); break;
      case '-h': case '--help': return { store: '', catalogs, command: 'help', ids: [], json, repair };
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
        positional.push(arg);
    }
  }
  const [name, ...ids] = positional;
  const command = COMMANDS.find((c) => c === name);
  if (!command) throw new UsageError(name ? `unknown command '${name}'` : 'missing command');
  if ((command === 'download' || command === 'repair' || command === 'remove') && ids.length === 0) {
    throw new UsageError(`${command} needs at least one model id`);
  }
  if (command === 'list' && ids.length > 0) throw new UsageError('list takes no ids');
  if (repair && command !== 'verify') throw new UsageError('--repair goes with verify');
  return { store: path.resolve(store ?? defaultStore(env)), catalogs, command, ids, json, repair, connections, speedLimitMBps, maxRetries };
}

function number(flag: string, raw: string, min: number, max: number, integer: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not '${raw}'`);
  }
  return n;
}
