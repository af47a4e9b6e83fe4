import type { IncomingMessage } from 'node:http';
import { ApiError } from './apiError';

/** The largest request body the API reads; more is 413 (nothing it accepts comes close). */
export const MAX_BODY_BYTES = 64 * 1024;

export type BodyFields = Readonly<Record<string, unknown>>;

/**
 * Reads a JSON or form-encoded (the guide's `requests.post(url, {…})`) object body; an empty body is `{}`.
 * Over 64 KiB → 413, malformed → 400, any other content type → 415.
 */
export async function readBody(req: IncomingMessage): Promise<BodyFields> {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return parseJson(text);
  if (type === 'application/x-www-form-urlencoded') return parseForm(text);
  throw new ApiError(415, 'unsupported_media_type', `send the body as application/json or application/x-www-form-urlencoded, not '${type || 'no content type'}'`);
}

function tooLarge(): ApiError {
  return new ApiError(413, 'body_too_large', `the request body is over ${MAX_BODY_BYTES / 1024} KiB; send only the fields the endpoint takes`);
}

function parseJson(text: string): BodyFields {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'malformed_json', `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError(400, 'malformed_json', 'the body must be a JSON object');
  return value as BodyFields;
}

function parseForm(text: string): BodyFields {
  const fields: Record<string, string> = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const [rawKey, rawValue] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    try {
      fields[decodeURIComponent(rawKey.replace(/\+/g, ' '))] = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      throw new ApiError(400, 'malformed_form', `the form field '${rawKey.slice(0, 40)}' is not valid URL encoding`);
    }
  }
  return fields;
}

/** Field readers: a form sends every value as a string, JSON as its own type; both are accepted. */
export const field = {
  string(body: BodyFields, name: string, required: boolean): string | undefined {
    const v = body[name];
    if (v === undefined || v === '') {
      if (required) throw new ApiError(400, 'missing_field', `'${name}' is required`);
      return undefined;
    }
    if (typeof v !== 'string') throw new ApiError(400, 'invalid_field', `'${name}' must be a string`);
    return v;
  },
  oneOf<T extends string>(body: BodyFields, name: string, allowed: readonly T[], required: boolean): T | undefined {
    const v = field.string(body, name, required);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw new ApiError(400, 'invalid_field', `'${name}' must be one of ${allowed.join(', ')}, not '${v.slice(0, 40)}'`);
    return v as T;
  },
  integer(body: BodyFields, name: string, min: number, max: number): number | undefined {
    const v = body[name];
    if (v === undefined || v === '') return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new ApiError(400, 'invalid_field', `'${name}' must be an integer from ${min} to ${max}`);
    return n;
  },
  boolean(body: BodyFields, name: string, required: boolean): boolean | undefined {
    const v = body[name];
    if (v === undefined || v === '') {
      if (required) throw new ApiError(400, 'missing_field', `'${name}' is required`);
      return undefined;
    }
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw new ApiError(400, 'invalid_field', `'${name}' must be true or false`);
  },
};
