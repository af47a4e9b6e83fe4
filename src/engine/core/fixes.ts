/**
 * What the user can do about a problem, as data: the engine names the thing and the cause, and each surface
 * phrases the fix in its own vocabulary (settings and commands in VS Code, flags, files and variables in the
 * CLI) here, in one place.
 */
export type Fix =
  | { readonly kind: 'catalogPath' }
  | { readonly kind: 'catalogSyntax' }
  | { readonly kind: 'catalogUrl' }
  | { readonly kind: 'catalogOffline' }
  /** A host that could not be resolved or reached. */
  | { readonly kind: 'network'; readonly host: string }
  /** A host that answered 401/403: it wants a token, sent only to `origin`. */
  | { readonly kind: 'credentials'; readonly origin: string }
  /** A file's source (URL, or hub repo/revision/file) that does not exist. */
  | { readonly kind: 'sourceNotFound' };

export type Surface = 'vscode' | 'cli';

/** The fix in the surface's words; `hubOrigin` tells the Hugging Face hub apart from other hosts. */
export function phraseFix(fix: Fix, surface: Surface, hubOrigin: string): string {
  const cli = surface === 'cli';
  switch (fix.kind) {
    case 'catalogPath':
      return cli ? 'fix the --catalog path or create the file' : 'fix the path in modelAvailability.catalogs or create the file';
    case 'catalogSyntax':
      return cli ? 'fix the syntax in that file' : 'fix the syntax and save';
    case 'catalogUrl':
      return cli ? 'check the --catalog URL and your connection (behind a proxy, set HTTPS_PROXY)' : 'check the URL and your connection, then Refresh';
    case 'catalogOffline':
      return cli ? 'using the last copy fetched' : 'using the last copy fetched. Refresh when you are back online';
    case 'network': {
      const hub = isHost(hubOrigin, fix.host);
      if (!cli) return 'check your connection, or VS Code\'s http.proxy setting if you are behind a proxy';
      return `check your connection; behind a proxy, set HTTPS_PROXY (and NO_PROXY for hosts to reach directly)${hub ? '; to use a mirror of the hub, set HF_ENDPOINT' : ''}`;
    }
    case 'sourceNotFound':
      return cli ? "check the file's url (or hf repo, revision and file) in the catalog file given with --catalog" : "check the file's url (or hf repo, revision and file) in its catalog, then Retry";
    case 'credentials': {
      const host = new URL(fix.origin).host;
      const hub = fix.origin === hubOrigin;
      if (!cli) return hub ? `set a Hugging Face token (Set Token for ${host}…)` : `Set Token for ${host}… adds one`;
      const netrc = `a "machine ${new URL(fix.origin).hostname} login USER password TOKEN" line in ~/.netrc (or the file NETRC names)`;
      return hub ? `set HF_TOKEN, or add ${netrc}` : `add ${netrc}`;
    }
  }
}

/** The message with its fix, when it has one. */
export function withFix(message: string, fix: Fix | undefined, surface: Surface, hubOrigin: string): string {
  return fix ? `${message}; ${phraseFix(fix, surface, hubOrigin)}` : message;
}

function isHost(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return url.host === host || url.hostname === host;
  } catch {
    return false;
  }
}
