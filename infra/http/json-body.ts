/**
 * JSON request bodies: only application/json (415 otherwise), a size limit (413), strict JSON (400),
 * invalid UTF-8 refused (400), and no nesting deeper than 32 levels (400).
 */
import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';
import { Problem } from './problem';

export const MAX_JSON_DEPTH = 32;

function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export function jsonBody(options: { limitBytes: number }): RequestHandler[] {
  const parser = express.json({
    limit: options.limitBytes,
    strict: true,
    type: () => true, // the content type is checked below, so a wrong one is 415, not an empty body
    verify: (_req, _res, buffer) => {
      if (!isValidUtf8(buffer)) throw new Problem('invalid', 'HTTP.INVALID_UTF8', 'the request body is not valid UTF-8');
    },
  });
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) {
      req.body = undefined;
      return next();
    }
    if (!req.is('application/json')) {
      return next(new Problem('unsupported_media_type', 'HTTP.UNSUPPORTED_MEDIA_TYPE', 'request bodies must be application/json'));
    }
    next();
  };
  const limitDepth: RequestHandler = (req, _res, next) => {
    if (req.body !== undefined && depthOf(req.body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return next(new Problem('invalid', 'HTTP.JSON_TOO_DEEP', `JSON may nest at most ${MAX_JSON_DEPTH} levels`));
    }
    next();
  };
  const parseIfJson: RequestHandler = (req, res, next) => (req.body === undefined && !req.is('application/json') ? next() : parser(req, res, next));
  return [requireJson, parseIfJson, limitDepth];
}

function isValidUtf8(buffer: Buffer): boolean {
  // Native, and without building a decoder and a string per request.
  return isUtf8(buffer);
}
