/** Account queries: the caller's own profile, and the public keys that verify access tokens. */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';

export interface AccountsQueriesDeps {
  readonly db: Knex;
  readonly jwks: () => { keys: object[] };
}

export function accountsQueries(deps: AccountsQueriesDeps): RouteSpec[] {
  async function me(req: Request, res: Response) {
    const row = await deps.db('users').where('id', req.auth!.userId).first('id', 'email', 'display_name');
    if (!row) throw new Problem('not_found', 'USER.NOT_FOUND', 'no such user (send X-Consistency-Token right after signing up)');
    res.json({ id: row.id, email: row.email, displayName: row.display_name });
  }

  function jwks(_req: Request, res: Response) {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(deps.jwks());
  }

  return [
    { method: 'get', path: '/api/me', access: 'user', summary: 'The signed-in user', responses: { 200: 'The profile' }, handler: me },
    { method: 'get', path: '/.well-known/jwks.json', access: 'public', summary: 'Public keys that verify access tokens', responses: { 200: 'A JSON Web Key Set' }, handler: jwks },
  ];
}
