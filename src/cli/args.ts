import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_STORAGE_POLICY, type AnalyticsPeriod } from '../engine';

export interface CliOptions {
  readonly store: string;
  readonly catalogs: string[];
  /** False with --no-builtin: only the --catalog files. */
  readonly builtin: boolean;
  readonly command: CliCommand;
  readonly ids: string[];
  readonly json: boolean;
  /** verify --repair: repair what the check finds. */
  readonly repair: boolean;
  readonly connections?: number;
  readonly speedLimitMBps?: number;
  readonly maxRetries?: number;
  /** analytics / cleanup: the extension's global storage folder (where analytics.sqlite is). */
  readonly analyticsDir?: string;
  readonly period: AnalyticsPeriod;
  readonly dryRun: boolean;
  readonly keepRecentDays: number;
  readonly keepFrequentUses: number;
  readonly maxStorageGB: number;
  readonly pinned: string[];
  /** import / download: where to look for models already on this machine (`hf`, `ollama`, `lmstudio` or a folder); none: the tools' usual places. */
  readonly from: string[];
  /** import: write catalog entries for found models no catalog lists to this file. */
  readonly addToCatalog?: string;
  /** download: take a verified copy from another tool's store instead of downloading (off with --no-reuse). */
  readonly reuse: boolean;
  /** update --all: every model with an update. */
  readonly all: boolean;
  /** rollback --to: the version to go back to. */
  readonly to?: string;
  /** serve: the API's port on 127.0.0.1. */
  readonly port: number;
}

export type CliCommand = 'list' | 'download' | 'verify' | 'repair' | 'remove' | 'analytics' | 'cleanup' | 'import' | 'serve' | 'updates' | 'update' | 'rollback' | 'help';

const COMMANDS: readonly CliCommand[] = ['list', 'download', 'verify', 'repair', 'remove', 'analytics', 'cleanup', 'import', 'serve', 'updates', 'update', 'rollback'];

export class UsageError extends Error {}

export const USAGE = `usage: model-availability [--store DIR] [--catalog FILE_OR_URL]... [--no-builtin] <command>
  list [--json]                          every model, its state, health and catalog
  download <id>... [--connections N] [--speed-limit MBPS] [--max-retries N] [--from SOURCE]... [--no-reuse]
                                         a verified copy already on this machine is linked instead of downloaded
  verify [<id>...] [--json] [--repair]   full check (all installed models without ids)
  repair <id>...                         re-fetch only what is damaged
  remove <id>...                         delete a model's files and manifest
  analytics [--json] [--period 7|30|90|all]
                                         usage, performance and storage, from the extension's usage database
  cleanup [--dry-run] [--json] [--keep-recent-days N] [--keep-frequent-uses N] [--max-storage-gb N] [--pin ID]...
                                         remove what the storage policies propose (--dry-run only lists it)
  serve [--port N]                       the local HTTP + WebSocket API on 127.0.0.1 (default port 8000) until
                                         Ctrl-C or SIGTERM; prints its URL and the token file (<store>/api-token)
  (analytics, cleanup and serve use the extension's global storage; --analytics DIR names it)
  import [--from hf|ollama|lmstudio|DIR]... [--dry-run] [--json] [--add-to-catalog FILE]
                                         adopt models from the Hugging Face cache, Ollama, LM Studio or a folder:
                                         reflink, else hard link, else copy, each verified; --add-to-catalog writes
                                         entries for found models no catalog lists, then adopts them too
  updates [--json]                       the model updates the catalogs offer, with the bytes each would download
  update [<id>...] [--all]               download, verify and switch to the new version (the old one stays
                                         installed until then, and when the new one fails)
  rollback <id> [--to VERSION]           go back to another installed version (the newest other one), offline

--no-builtin leaves out the built-in catalog (by default it is merged with the --catalog files).
Exit codes: 0 every model ended verified (download, repair, verify), removed, switched (update, rollback);
3 ended ready, but a file has no sha256 to verify it with; 1 one did not; 2 a usage or catalog error.

The store defaults to $MODEL_AVAILABILITY_STORE or ~/.cache/model-availability.
$MODEL_AVAILABILITY_API_TOKEN, when set, is serve's token instead of the file's.
Models already on this machine are looked for in HF_HUB_CACHE (else $HF_HOME/hub, else ~/.cache/huggingface/hub),
OLLAMA_MODELS (else ~/.ollama/models) and ~/.lmstudio/models.
Credentials: HF_TOKEN for the Hugging Face hub (HF_ENDPOINT, default https://huggingface.co); for other
hosts, ~/.netrc (or the file NETRC names): "machine HOST login USER password TOKEN". Each goes only to its host.
Proxies: HTTPS_PROXY, HTTP_PROXY and NO_PROXY (or lower case), as curl reads them.`;

/** What a bad command line prints: the problem, and where to look (not the whole usage). */
export function usageErrorLine(err: UsageError): string {
  return `model-availability: ${err.message} (see model-availability --help)`;
}

export function defaultStore(env: NodeJS.ProcessEnv = process.env): string {
  return env.MODEL_AVAILABILITY_STORE || path.join(os.homedir(), '.cache', 'model-availability');
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  let store: string | undefined;
  const catalogs: string[] = [];
  let builtin = true;
  const positional: string[] = [];
  let json = false;
  let repair = false;
  let connections: number | undefined;
  let speedLimitMBps: number | undefined;
  let maxRetries: number | undefined;
  let analyticsDir: string | undefined;
  let period: AnalyticsPeriod = 30;
  let dryRun = false;
  let { keepRecentDays, keepFrequentUses } = DEFAULT_STORAGE_POLICY;
  let maxStorageGB = DEFAULT_STORAGE_POLICY.maxStorageGB ?? 0;
  const pinned: string[] = [];
  const from: string[] = [];
  let addToCatalog: string | undefined;
  let reuse = true;
  let all = false;
  let to: string | undefined;
  let port = 8000;
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
      case '--no-builtin': builtin = false; break;
      case '--json': json = true; break;
      case '--repair': repair = true; break;
      case '--connections': connections = number(flag, value(), 1, 64, true); break;
      case '--speed-limit': speedLimitMBps = number(flag, value(), 0, 1e6, false); break;
      case '--max-retries': maxRetries = number(flag, value(), 0, 100, true); break;
      case '--analytics': analyticsDir = path.resolve(value()); break;
      case '--period': period = periodOf(value()); break;
      case '--dry-run': dryRun = true; break;
      case '--keep-recent-days': keepRecentDays = number(flag, value(), 0, 36500, true); break;
      case '--keep-frequent-uses': keepFrequentUses = number(flag, value(), 0, 1e9, true); break;
      case '--max-storage-gb': maxStorageGB = number(flag, value(), 0, 1e6, false); break;
      case '--pin': pinned.push(value()); break;
      case '--from': from.push(value()); break;
      case '--add-to-catalog': addToCatalog = path.resolve(value()); break;
      case '--no-reuse': reuse = false; break;
      case '--all': all = true; break;
      case '--to': to = value(); break;
      case '-h': case '--help': return { store: '', catalogs, builtin, command: 'help', ids: [], json, repair, period, dryRun, keepRecentDays, keepFrequentUses, maxStorageGB, pinned, from, reuse, all, port };
      case '--port': port = number(flag, value(), 0, 65535, true); break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
        positional.push(arg);
    }
  }
  const [name, ...ids] = positional;
  const command = COMMANDS.find((c) => c === name);
  if (!command) throw new UsageError(name ? `unknown command '${name}'` : 'missing command');
  if (command === 'update' && (ids.length === 0) === !all) throw new UsageError('update needs model ids or --all (not both)');
  if (all && command !== 'update') throw new UsageError('--all goes with update');
  if (command === 'rollback' && ids.length !== 1) throw new UsageError('rollback needs exactly one model id');
  if (to !== undefined && command !== 'rollback') throw new UsageError('--to goes with rollback');
  if ((command === 'download' || command === 'repair' || command === 'remove') && ids.length === 0) {
    throw new UsageError(`${command} needs at least one model id`);
  }
  if ((command === 'list' || command === 'analytics' || command === 'cleanup' || command === 'import' || command === 'serve' || command === 'updates') && ids.length > 0) throw new UsageError(`${command} takes no ids`);
  if (dryRun && command !== 'cleanup' && command !== 'import') throw new UsageError('--dry-run goes with cleanup or import');
  if (from.length > 0 && command !== 'import' && command !== 'download') throw new UsageError('--from goes with import or download');
  if (addToCatalog !== undefined && command !== 'import') throw new UsageError('--add-to-catalog goes with import');
  if (!reuse && command !== 'download') throw new UsageError('--no-reuse goes with download');
  if (repair && command !== 'verify') throw new UsageError('--repair goes with verify');
  if (argv.some((a) => a === '--port' || a.startsWith('--port=')) && command !== 'serve') throw new UsageError('--port goes with serve');
  if (!builtin && catalogs.length === 0) throw new UsageError('--no-builtin needs at least one --catalog');
  return {
    store: path.resolve(store ?? defaultStore(env)), catalogs, builtin, command, ids, json, repair, connections, speedLimitMBps, maxRetries,
    analyticsDir, period, dryRun, keepRecentDays, keepFrequentUses, maxStorageGB, pinned, from, addToCatalog, reuse, all, to, port,
  };
}

function periodOf(raw: string): AnalyticsPeriod {
  if (raw === 'all') return 'all';
  if (raw === '7' || raw === '30' || raw === '90') return Number(raw) as 7 | 30 | 90;
  throw new UsageError(`--period must be 7, 30, 90 or all, not '${raw}'`);
}

function number(flag: string, raw: string, min: number, max: number, integer: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not '${raw}'`);
  }
  return n;
}
