/**
 * Account commands: sign up, log in, refresh, log out, change profile and password. Sign-up reserves
 * the address in its own stream first (`no_stream`: one winner however many race), then creates the
 * user. Log-in reads the account from the log and, for an unknown address, still spends one password
 * verification, so its answer and its timing are the same either way.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { emailReservationDecider, emailReservationStreamId } from '../../domain/email-reservations/email-reservation';
import { userDecider, userStreamId } from '../../domain/users/user';
import type { EventStore } from '../../infra/event-store/event-store';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { AccessTokens } from '../../infra/security/access-tokens';
import { checkPasswordPolicy } from '../../infra/security/password-policy';
import type { PasswordCredentials } from '../../infra/security/password-credentials';
import type { RateLimits } from '../../infra/security/rate-limits';
import type { RefreshTokens } from '../../infra/security/refresh-tokens';
import { handleCommand, loadAggregate, StaleRevision } from '../command-handling';
import { actorOf, commandContext, respond } from '../respond';
import { findUser, findUserByEmail, type ActiveUser } from './account-lookup';
import { changePasswordBody, changeProfileBody, logInBody, refreshBody, signUpBody } from './account-schemas';

export interface AccountsDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  /** Recorded sealed, never as a hash in the clear (see password-credentials.ts). */
  readonly passwords: PasswordCredentials;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly rateLimits: RateLimits;
}

const profileOf = (user: { id: string; email: string; displayName: string | null }) => ({ id: user.id, email: user.email, displayName: user.displayName });

function assertPasswordPolicy(password: string, email: string): void {
  const verdict = checkPasswordPolicy(password, { email });
  if (!verdict.ok) throw new Problem('unprocessable', verdict.code, verdict.message);
}

export function accountsRoutes(deps: AccountsDeps): RouteSpec[] {
  const { store, clock } = deps;

  async function startSession(userId: string) {
    const { refreshToken, familyId } = await deps.refreshTokens.issue(userId);
    const { accessToken, expiresIn } = await deps.accessTokens.sign(userId, { sessionId: familyId });
    return { accessToken, refreshToken, expiresIn };
  }

  /** Reserves the address for `userId`; EMAIL_TAKEN when another account holds it. */
  async function reserveEmail(req: Request, email: string, userId: string, now: Date): Promise<void> {
    const streamId = emailReservationStreamId(email);
    for (let attempt = 0; ; attempt++) {
      const current = await loadAggregate(store, streamId, emailReservationDecider);
      const reservedUserExists = current.state.status === 'reserved' && (await findUser(store, current.state.userId)) !== undefined;
      try {
        await handleCommand(
          store,
          streamId,
          emailReservationDecider,
          { type: 'ReserveEmail', email, userId, at: now.toISOString(), reservedUserExists },
          commandContext(req, now),
          { expectedRevision: current.revision },
        );
        return;
      } catch (error) {
        // Someone reserved it between our read and our append: decide again on what they wrote.
        if (!(error instanceof StaleRevision) || attempt >= 3) throw error;
      }
    }
  }

  async function signUp(req: Request, res: Response) {
    const body = parseRequest(signUpBody, req.body, 'body');
    await deps.rateLimits.consumeSignup(req.ip ?? 'unknown');
    assertPasswordPolicy(body.password, body.email);
    const userId = randomUUID();
    const passwordHash = await deps.passwords.create(userId, body.password);
    const now = clock();
    await reserveEmail(req, body.email, userId, now);
    const created = await handleCommand(
      store,
      userStreamId(userId),
      userDecider,
      { type: 'SignUp', userId, email: body.email, displayName: body.displayName ?? null, passwordHash, at: now.toISOString() },
      { ...commandContext(req, now), actorId: userId },
      { expectedRevision: 'no_stream' },
    );
    const session = await startSession(userId);
    respond(res, 201, { user: { id: userId, email: body.email, displayName: body.displayName ?? null }, ...session }, { position: created.position });
  }

  async function logIn(req: Request, res: Response) {
    const body = parseRequest(logInBody, req.body, 'body');
    const ip = req.ip ?? 'unknown';
    await deps.rateLimits.assertLoginAllowed(body.email, ip);
    const user = await findUserByEmail(store, body.email);
    const valid = user ? await deps.passwords.verify(user.id, user.passwordHash, body.password) : await deps.passwords.verifyDummy(body.password);
    if (!user || !valid) {
      await deps.rateLimits.recordLoginFailure(body.email, ip);
      throw new Problem('unauthorized', 'AUTH.INVALID_CREDENTIALS', 'the email address or the password is wrong');
    }
    await deps.rateLimits.resetLoginFailures(body.email);
    if (deps.passwords.needsRenewal(user.id, user.passwordHash)) await renewPasswordHash(req, user, body.password);
    respond(res, 200, { user: profileOf(user), ...(await startSession(user.id)) });
  }

  /** Records the password just verified anew: sealed with the current key, hashed with the current parameters. */
  async function renewPasswordHash(req: Request, user: ActiveUser, password: string): Promise<void> {
    const passwordHash = await deps.passwords.create(user.id, password);
    const now = clock();
    await handleCommand(
      store,
      userStreamId(user.id),
      userDecider,
      { type: 'RenewPasswordHash', passwordHash, replacing: user.passwordHash, at: now.toISOString() },
      { ...commandContext(req, now), actorId: user.id },
    );
  }

  async function refresh(req: Request, res: Response) {
    const body = parseRequest(refreshBody, req.body, 'body');
    const rotated = await deps.refreshTokens.rotate(body.refreshToken);
    if (!(await findUser(store, rotated.userId))) throw new Problem('unauthorized', 'AUTH.INVALID_REFRESH_TOKEN', 'the refresh token is not valid');
    const { accessToken, expiresIn } = await deps.accessTokens.sign(rotated.userId, { sessionId: rotated.familyId });
    respond(res, 200, { accessToken, refreshToken: rotated.refreshToken, expiresIn });
  }

  async function logOut(req: Request, res: Response) {
    const body = parseRequest(refreshBody, req.body, 'body');
    await deps.refreshTokens.revoke(body.refreshToken);
    respond(res, 204, undefined);
  }

  async function changeProfile(req: Request, res: Response) {
    const body = parseRequest(changeProfileBody, req.body, 'body');
    const userId = actorOf(req);
    const now = clock();
    const result = await handleCommand(store, userStreamId(userId), userDecider, { type: 'ChangeDisplayName', displayName: body.displayName, at: now.toISOString() }, commandContext(req, now));
    respond(res, 200, profileOf(active(result.state)), { position: result.position });
  }

  async function changePassword(req: Request, res: Response) {
    const body = parseRequest(changePasswordBody, req.body, 'body');
    const userId = actorOf(req);
    const user = await findUser(store, userId);
    if (!user) throw new Problem('not_found', 'USER.NOT_FOUND', 'no such user');
    if (!(await deps.passwords.verify(userId, user.passwordHash, body.currentPassword))) {
      throw new Problem('forbidden', 'AUTH.WRONG_PASSWORD', 'the current password is wrong');
    }
    assertPasswordPolicy(body.newPassword, user.email);
    const passwordHash = await deps.passwords.create(userId, body.newPassword);
    const now = clock();
    const result = await handleCommand(store, userStreamId(userId), userDecider, { type: 'ChangePassword', passwordHash, at: now.toISOString() }, commandContext(req, now));
    const sessionId = req.auth?.sessionId;
    await deps.refreshTokens.revokeAllForUser(userId, sessionId ? { exceptFamilyId: sessionId } : {});
    respond(res, 200, profileOf(active(result.state)), { position: result.position });
  }

  return [
    { method: 'post', path: '/api/auth/signup', access: 'public', summary: 'Create an account and start a session', body: signUpBody, responses: { 201: 'The new user, an access token and a refresh token' }, handler: signUp },
    { method: 'post', path: '/api/auth/login', access: 'public', summary: 'Start a session with email and password', body: logInBody, responses: { 200: 'The user, an access token and a refresh token' }, handler: logIn },
    { method: 'post', path: '/api/auth/refresh', access: 'public', summary: 'Rotate a refresh token for a new access token', body: refreshBody, responses: { 200: 'A new access token and the next refresh token' }, handler: refresh },
    { method: 'post', path: '/api/auth/logout', access: 'public', summary: 'End the session of a refresh token', body: refreshBody, responses: { 204: 'The session has ended' }, handler: logOut },
    { method: 'patch', path: '/api/me', access: 'user', summary: 'Change the display name', body: changeProfileBody, responses: { 200: 'The profile' }, handler: changeProfile },
    { method: 'post', path: '/api/me/password', access: 'user', summary: 'Change the password and end all other sessions', body: changePasswordBody, responses: { 200: 'The profile; other sessions have ended' }, handler: changePassword },
  ];
}

function active(state: ReturnType<typeof userDecider.evolve>): ActiveUser {
  if (state.status !== 'active') throw new Problem('not_found', 'USER.NOT_FOUND', 'no such user');
  return state;
}
