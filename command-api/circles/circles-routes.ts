/**
 * Circle commands: create, update (name, description, open invites), delete, remove a member or leave,
 * issue and revoke invites, accept an invite. The circle decider decides who may do what; these routes
 * gather what it needs (the actor and their e-mail address, the clock, a fresh token) and, for changes
 * that decide who may read, wait until the query side and the sync feed know of them before answering,
 * so that a removed member's very next request or pull already reflects the removal.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { circleDecider, circleStreamId, type ActiveCircle, type Circle, type CircleCommand } from '../../domain/circles/circle';
import type { EventStore } from '../../infra/event-store/event-store';
import type { LogPosition } from '../../infra/event-store/log-position';
import { expectedRevisionFor, parseIfMatch } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { Logger } from '../../infra/logging/logger';
import type { ProjectionProgress } from '../../projectors/runtime/projection-progress';
import { findUser } from '../accounts/account-lookup';
import { email } from '../accounts/account-schemas';
import { handleCommand, loadAggregate, type CommandResult } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';
import { circleOfInviteToken, hashToken, newInviteToken } from '../sharing/tokens';

export interface CirclesDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly progress: ProjectionProgress;
  readonly logger: Logger;
  /** How long an invite lasts when the request does not say. */
  readonly inviteTtlHours: number;
  /** How long a membership change waits for the query side before answering anyway. */
  readonly membershipWaitMs?: number;
}

const name = z.string().trim().min(1).max(200);
const description = z.string().trim().max(2000).nullable();
const createBody = z.strictObject({ id: z.uuid().optional(), name, description: description.optional() });
const updateBody = z
  .strictObject({ name: name.optional(), description: description.optional(), openInvites: z.boolean().optional() })
  .refine((body) => Object.keys(body).length > 0, { message: 'change at least one of name, description, openInvites' });
const inviteBody = z.strictObject({ email: email.optional(), expiresAt: z.iso.datetime({ offset: true }).optional() });

const NOT_FOUND = 'CIRCLE.NOT_FOUND';
/** Projections a membership change must reach before its command answers. */
export const MEMBERSHIP_PROJECTIONS = ['circles', 'sync'] as const;

export function circleView(circle: ActiveCircle, viewerId: string) {
  return {
    id: circle.id,
    name: circle.name,
    description: circle.description,
    openInvites: circle.openInvites,
    role: circle.members[viewerId] ?? null,
    createdAt: circle.createdAt,
    updatedAt: circle.updatedAt,
  };
}

export function circlesRoutes(deps: CirclesDeps): RouteSpec[] {
  const { store, clock } = deps;

  async function decide(req: Request, circleId: string, command: CircleCommand, now: Date): Promise<CommandResult<Circle>> {
    const ifMatch = parseIfMatch(req.header('if-match'));
    const streamId = circleStreamId(circleId);
    if (ifMatch === undefined) return handleCommand(store, streamId, circleDecider, command, commandContext(req, now));
    const current = await loadAggregate(store, streamId, circleDecider);
    return handleCommand(store, streamId, circleDecider, command, commandContext(req, now), { expectedRevision: expectedRevisionFor(ifMatch, current.revision) });
  }

  async function awaitReaders(position: LogPosition | undefined): Promise<void> {
    if (!position) return;
    const reached = await deps.progress.waitFor(position, deps.membershipWaitMs ?? 5_000, { projections: MEMBERSHIP_PROJECTIONS });
    if (!reached) deps.logger.warn({ position }, 'circle change not yet visible to queries');
  }

  async function create(req: Request, res: Response) {
    const body = parseRequest(createBody, req.body, 'body');
    const actorId = actorOf(req);
    const circleId = (body.id ?? randomUUID()).toLowerCase();
    const now = clock();
    const result = await handleCommand(
      store,
      circleStreamId(circleId),
      circleDecider,
      { type: 'CreateCircle', circleId, name: body.name, description: body.description || null, actorId, at: now.toISOString() },
      commandContext(req, now),
      { expectedRevision: 'no_stream' },
    ).catch((error: unknown) => {
      if (error instanceof Error && 'code' in error && error.code === 'HTTP.PRECONDITION_FAILED') {
        throw new Problem('conflict', 'CIRCLE.ALREADY_EXISTS', 'a circle with this id already exists');
      }
      throw error;
    });
    await awaitReaders(result.position);
    respond(res, 201, circleView(active(result.state), actorId), { revision: result.revision, position: result.position, location: `/api/circles/${circleId}` });
  }

  async function update(req: Request, res: Response) {
    const circleId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(updateBody, req.body, 'body');
    const actorId = actorOf(req);
    const now = clock();
    const command: CircleCommand = {
      type: 'UpdateCircle',
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.description === undefined ? {} : { description: body.description || null }),
      ...(body.openInvites === undefined ? {} : { openInvites: body.openInvites }),
      actorId,
      at: now.toISOString(),
    };
    const result = await decide(req, circleId, command, now);
    respond(res, 200, circleView(active(result.state), actorId), { revision: result.revision, position: result.position });
  }

  async function remove(req: Request, res: Response) {
    const circleId = pathId(req, 'id', NOT_FOUND);
    const actorId = actorOf(req);
    const now = clock();
    const result = await decide(req, circleId, { type: 'DeleteCircle', actorId, at: now.toISOString() }, now);
    await awaitReaders(result.position);
    respond(res, 204, undefined, { position: result.position });
  }

  async function removeMember(req: Request, res: Response) {
    const circleId = pathId(req, 'id', NOT_FOUND);
    const userId = pathId(req, 'userId', 'CIRCLE.MEMBER_NOT_FOUND');
    const actorId = actorOf(req);
    const now = clock();
    const result = await decide(req, circleId, { type: 'RemoveCircleMember', userId, actorId, at: now.toISOString() }, now);
    await awaitReaders(result.position);
    respond(res, 204, undefined, { position: result.position });
  }

  async function invite(req: Request, res: Response) {
    const circleId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(inviteBody, req.body ?? {}, 'body');
    const actorId = actorOf(req);
    const now = clock();
    const inviteId = randomUUID();
    const token = newInviteToken(circleId);
    const expiresAt = body.expiresAt ? new Date(body.expiresAt).toISOString() : new Date(now.getTime() + deps.inviteTtlHours * 3_600_000).toISOString();
    const result = await decide(
      req,
      circleId,
      { type: 'IssueInvite', inviteId, email: body.email ?? null, tokenHash: hashToken(token), expiresAt, actorId, at: now.toISOString() },
      now,
    );
    // The token is shown here, once; only its hash is recorded.
    respond(res, 201, { id: inviteId, circleId, email: body.email ?? null, token, acceptPath: `/api/invites/${token}/accept`, expiresAt }, { revision: result.revision, position: result.position });
  }

  async function revokeInvite(req: Request, res: Response) {
    const circleId = pathId(req, 'id', NOT_FOUND);
    const inviteId = pathId(req, 'inviteId', 'INVITE.NOT_FOUND');
    const actorId = actorOf(req);
    const now = clock();
    const result = await decide(req, circleId, { type: 'RevokeInvite', inviteId, actorId, at: now.toISOString() }, now);
    respond(res, 204, undefined, { position: result.position });
  }

  /** Revoking with the token itself (what the owner was shown): the same as by the invite's id. */
  async function revokeInviteByToken(req: Request, res: Response) {
    const token = typeof req.params.token === 'string' ? req.params.token : '';
    const circleId = circleOfInviteToken(token);
    if (!circleId) throw new Problem('not_found', 'INVITE.NOT_FOUND', 'no such invite');
    const { state } = await loadAggregate(store, circleStreamId(circleId), circleDecider);
    const tokenHash = hashToken(token);
    const invite = state.status === 'active' ? Object.values(state.invites).find((candidate) => candidate.tokenHash === tokenHash) : undefined;
    if (!invite) throw new Problem('not_found', 'INVITE.NOT_FOUND', 'no such invite');
    const actorId = actorOf(req);
    const now = clock();
    const result = await decide(req, circleId, { type: 'RevokeInvite', inviteId: invite.id, actorId, at: now.toISOString() }, now);
    respond(res, 204, undefined, { position: result.position });
  }

  async function accept(req: Request, res: Response) {
    const token = typeof req.params.token === 'string' ? req.params.token : '';
    const circleId = circleOfInviteToken(token);
    if (!circleId) throw new Problem('not_found', 'INVITE.NOT_FOUND', 'no such invite');
    const actorId = actorOf(req);
    const user = await findUser(store, actorId);
    if (!user) throw new Problem('unauthorized', 'AUTH.INVALID_TOKEN', 'the account no longer exists');
    const now = clock();
    const result = await handleCommand(
      store,
      circleStreamId(circleId),
      circleDecider,
      { type: 'AcceptInvite', tokenHash: hashToken(token), actorEmail: user.email, actorId, at: now.toISOString() },
      commandContext(req, now),
    );
    await awaitReaders(result.position);
    respond(res, 200, circleView(active(result.state), actorId), { revision: result.revision, position: result.position, location: `/api/circles/${circleId}` });
  }

  return [
    { method: 'post', path: '/api/circles', access: 'user', summary: 'Create a circle (the caller becomes its owner)', body: createBody, responses: { 201: 'The circle (ETag, Location)' }, handler: create },
    { method: 'patch', path: '/api/circles/:id', access: 'user', summary: "Change a circle's name, description or open invites (owner)", body: updateBody, responses: { 200: 'The circle (ETag)' }, handler: update },
    { method: 'delete', path: '/api/circles/:id', access: 'user', summary: 'Delete a circle (owner)', responses: { 204: 'Deleted' }, handler: remove },
    { method: 'delete', path: '/api/circles/:id/members/:userId', access: 'user', summary: 'Remove a member (owner), or leave', responses: { 204: 'Removed' }, handler: removeMember },
    { method: 'post', path: '/api/circles/:id/invites', access: 'user', summary: 'Invite someone (owner): a single-use token, shown once', body: inviteBody, responses: { 201: '{id, circleId, email, token, acceptPath, expiresAt}' }, handler: invite },
    { method: 'delete', path: '/api/circles/:id/invites/:inviteId', access: 'user', summary: 'Revoke a pending invite (owner)', responses: { 204: 'Revoked' }, handler: revokeInvite },
    { method: 'delete', path: '/api/invites/:token', access: 'user', summary: 'Revoke a pending invite by its token (owner)', responses: { 204: 'Revoked' }, handler: revokeInviteByToken },
    { method: 'post', path: '/api/invites/:token/accept', access: 'user', summary: 'Accept an invite (its invitee, or anyone signed in for open invites)', responses: { 200: 'The circle joined' }, handler: accept },
  ];
}

function active(state: Circle): ActiveCircle {
  if (state.status !== 'active') throw new Problem('not_found', NOT_FOUND, 'no such circle');
  return state;
}
