// How a static server answers a request for a file of `size` bytes with validator `etag`: the whole file,
// the asked byte range (Range, honouring If-Range), or 416. Shared by the demo model server and the
// benchmark servers, so they all speak HTTP ranges the same way.

/** @returns {{ status: 200 | 206 | 416, start: number, end: number, headers: Record<string, string | number> }} end is inclusive */
export function rangeResponse(req, size, etag) {
  const base = { 'accept-ranges': 'bytes', etag, 'content-type': 'application/octet-stream' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (!m || (m[1] === '' && m[2] === '') || (ifRange && ifRange !== etag)) {
    return { status: 200, start: 0, end: size - 1, headers: { ...base, 'content-length': size } };
  }
  const start = m[1] !== '' ? Number(m[1]) : Math.max(0, size - Number(m[2]));
  const end = m[1] !== '' && m[2] !== '' ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (start > end || start >= size) return { status: 416, start: 0, end: -1, headers: { 'content-range': `bytes */${size}` } };
  return { status: 206, start, end, headers: { ...base, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` } };
}

/** Writes the status and headers; answers 416 completely. Returns the byte range to send, or undefined. */
export function writeRangeHead(req, res, size, etag) {
  const { status, start, end, headers } = rangeResponse(req, size, etag);
  res.writeHead(status, headers);
  if (status === 416) {
    res.end();
    return undefined;
  }
  return { start, end };
}
