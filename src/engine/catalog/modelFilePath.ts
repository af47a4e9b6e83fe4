const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;
// Characters Windows refuses in file names, and control characters everywhere.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[<>:"|?*\u0000-\u001f]/;

/**
 * Why a catalog file path is unsafe, or undefined when it is a plain relative path that stays inside
 * the model's folder under both POSIX and Windows rules.
 */
export function modelFilePathProblem(p: string): string | undefined {
  if (p.length === 0) return 'is empty';
  if (p.includes('\\')) return "uses a backslash: use '/' between folders (UNC and Windows paths are not allowed)";
  if (p.startsWith('/')) return "is absolute: give a path relative to the model's folder";
  if (/^[A-Za-z]:/.test(p)) return "starts with a drive letter: give a path relative to the model's folder";
  if (FORBIDDEN_CHARS.test(p)) return 'contains a character that is not allowed in file names (<>:"|?* or a control character)';
  for (const segment of p.split('/')) {
    if (segment === '..') return "has a '..' segment, which would leave the model's folder";
    if (segment === '.') return "has a '.' segment: write the path without it";
    if (segment === '') return "has an empty segment ('//' or a trailing '/')";
    if (/[. ]$/.test(segment)) return `has a segment ending in '.' or a space ('${segment}'), which Windows cannot store`;
    if (WINDOWS_RESERVED.test(segment)) return `uses '${segment}', a device name reserved on Windows`;
  }
  if (/\.part(\.(json|reserve|repair|lock(\.owner\.json)?))?$/i.test(p)) return "ends in '.part' or '.part.json' (or another '.part.' name), names the store keeps for partial downloads";
  return undefined;
}
