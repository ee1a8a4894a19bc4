/**
 * Bearer-token authentication: a valid access token sets `req.auth`; anything else is a 401 with
 * WWW-Authenticate. Authorization (may this user touch that resource?) happens later, per resource.
 */
import type { RequestHandler } from 'express';
import { Problem } from './problem';

export interface AccessTokenVerifier {
  verify(token: string): Promise<{ userId: string; sessionId?: string }>;
}

export function authenticate(tokens: AccessTokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const header = req.header('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(header);
    if (!match) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return next(new Problem('unauthorized', 'AUTH.TOKEN_REQUIRED', 'a bearer access token is required'));
    }
    try {
      req.auth = await tokens.verify(match[1]!);
      next();
    } catch (error) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      next(error);
    }
  };
}
