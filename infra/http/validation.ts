/**
 * Request validation with zod: a failed parse is a 400 problem listing each offending field, never
 * the input itself (which may be a password). Text that no store can keep is refused here too, for
 * every route at once: a NUL character (PostgreSQL text and jsonb reject it) and an unpaired UTF-16
 * surrogate (not Unicode; jsonb rejects its escape).
 */
import type { ZodType } from 'zod';
import { Problem } from './problem';

export type RequestPart = 'body' | 'query' | 'path' | 'header';

export function parseRequest<T>(schema: ZodType<T>, value: unknown, part: RequestPart): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) {
    const unstorable = unstorableTextPath(parsed.data, [], 0);
    if (unstorable) {
      throw new Problem('invalid', 'REQUEST.INVALID', `the request ${part} is invalid`, {
        errors: [{ in: part, path: unstorable.join('.'), code: 'invalid_text', message: 'text must not contain NUL characters or unpaired surrogates' }],
      });
    }
    return parsed.data;
  }
  const errors = parsed.error.issues.slice(0, 20).map((issue) => ({
    in: part,
    path: issue.path.map(String).join('.'),
    code: issue.code,
    message: issue.message,
  }));
  throw new Problem('invalid', 'REQUEST.INVALID', `the request ${part} is invalid`, { errors });
}

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path of the first string (or key) holding unstorable text, if any; parsed data is at most a few levels deep. */
function unstorableTextPath(value: unknown, path: string[], depth: number): string[] | undefined {
  if (typeof value === 'string') return UNSTORABLE_TEXT.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = unstorableTextPath(value[index], [...path, String(index)], depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE_TEXT.test(key)) return [...path, '(key)'];
    const found = unstorableTextPath(item, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}
