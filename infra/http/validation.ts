/**
 * Request validation with zod: a failed parse is a 400 problem listing each offending field, never
 * the input itself (which may be a password).
 */
import type { ZodType } from 'zod';
import { Problem } from './problem';

export type RequestPart = 'body' | 'query' | 'path' | 'header';

export function parseRequest<T>(schema: ZodType<T>, value: unknown, part: RequestPart): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.slice(0, 20).map((issue) => ({
    in: part,
    path: issue.path.map(String).join('.'),
    code: issue.code,
    message: issue.message,
  }));
  throw new Problem('invalid', 'REQUEST.INVALID', `the request ${part} is invalid`, { errors });
}
