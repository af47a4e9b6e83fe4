import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Credential, CredentialLookup } from '../engine';

interface NetrcEntry { readonly machine?: string; readonly login?: string; readonly password?: string }

/**
 * Parses a .netrc as curl, git and pip read it: `machine HOST login USER password SECRET` (on one line or
 * many), `default` for any other host, `macdef` bodies skipped up to the next blank line.
 */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  let current: { machine?: string; login?: string; password?: string } | undefined;
  const lines = text.split(/\r?\n/);
  for (let l = 0; l < lines.length; l++) {
    const words = lines[l].trim().split(/\s+/).filter(Boolean);
    for (let i = 0; i < words.length; i++) {
      const word = words[i];
      if (word.startsWith('#') && i === 0) break;
      const next = (): string | undefined => words[++i];
      if (word === 'machine') entries.push(current = { machine: next()?.toLowerCase() });
      else if (word === 'default') entries.push(current = {});
      else if (word === 'login' && current) current.login = next();
      else if (word === 'password' && current) current.password = next();
      else if (word === 'account') next();
      else if (word === 'macdef') {
        while (l + 1 < lines.length && lines[l + 1].trim() !== '') l++;
        break;
      }
    }
  }
  return entries;
}

/** `NETRC`, else ~/.netrc (~/_netrc on Windows, as curl). */
export function netrcPath(env: NodeJS.ProcessEnv): string {
  return env.NETRC || path.join(os.homedir(), process.platform === 'win32' ? '_netrc' : '.netrc');
}

/**
 * The CLI's credentials: HF_TOKEN for the hub's origin, else the netrc entry for the host (machine names a
 * host; the credential still goes only to the origin it was asked for). A netrc entry with a login is sent
 * as Basic auth (as curl does), one with only a password as a Bearer token.
 */
export function cliCredentials(hubOrigin: string, env: NodeJS.ProcessEnv = process.env): CredentialLookup {
  let netrc: NetrcEntry[] | undefined;
  const entries = (): NetrcEntry[] => {
    if (!netrc) {
      try {
        netrc = parseNetrc(readFileSync(netrcPath(env), 'utf8'));
      } catch {
        netrc = [];
      }
    }
    return netrc;
  };
  return async (origin) => {
    if (origin === hubOrigin && env.HF_TOKEN) return { token: env.HF_TOKEN };
    const host = new URL(origin).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const entry = entries().find((e) => e.machine === host) ?? entries().find((e) => e.machine === undefined);
    if (!entry?.password) return undefined;
    const credential: Credential = entry.login ? { token: entry.password, login: entry.login } : { token: entry.password };
    return credential;
  };
}
