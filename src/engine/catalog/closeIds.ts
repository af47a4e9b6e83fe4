/** Ids that look like `wanted`: shared substrings first, then small edit distance. */
export function closeIds(wanted: string, ids: readonly string[], max = 3): string[] {
  const w = wanted.toLowerCase();
  return ids
    .map((id) => ({ id, score: id.includes(w) || w.includes(id) ? 0 : editDistance(w, id.toLowerCase()) }))
    .filter((c) => c.score <= Math.max(3, Math.floor(w.length / 2)))
    .sort((a, b) => a.score - b.score || a.id.localeCompare(b.id))
    .slice(0, max)
    .map((c) => c.id);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
