import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export const TOKEN_ENV = 'MODEL_AVAILABILITY_API_TOKEN';

/**
 * The API token: $MODEL_AVAILABILITY_API_TOKEN when set, else the file's, made once (32 random bytes, hex)
 * and readable only by the user (0600). Returns where it came from, for the log.
 */
export async function loadOrCreateToken(file: string, env: NodeJS.ProcessEnv = process.env): Promise<{ token: string; source: string }> {
  const fromEnv = env[TOKEN_ENV]?.trim();
  if (fromEnv) return { token: fromEnv, source: `$${TOKEN_ENV}` };
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    if (existing.length > 0) {
      // A file made by hand (or by an older copy) may be readable by others: tighten it.
      await fs.chmod(file, 0o600).catch(() => undefined);
      return { token: existing, source: file };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('hex');
  await fs.mkdir(path.dirname(file), { recursive: true });
  try {
    // Created private (0600) and exclusive: two processes starting together agree on the first one's token.
    await fs.writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, source: file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { token: (await fs.readFile(file, 'utf8')).trim(), source: file };
  }
}
