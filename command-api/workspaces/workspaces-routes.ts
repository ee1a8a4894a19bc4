/**
 * Workspace commands: create, rename, delete, and manage members. The workspace decider decides who
 * may do what; these routes gather what it needs (the actor, the clock, the member looked up by email)
 * and, for changes that decide who may read, wait until the query side knows of them before answering,
 * so that a removed member's very next request is refused.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { workspaceAiPolicyDecider, workspaceAiPolicyStreamId } from '../../domain/ai/workspace-ai-policy';
import { ownedBy, workspaceDecider, workspaceStreamId, type ActiveWorkspace, type Workspace, type WorkspaceCommand } from '../../domain/workspaces/workspace';
import type { EventStore } from '../../infra/event-store/event-store';
import type { LogPosition } from '../../infra/event-store/log-position';
import { expectedRevisionFor, parseIfMatch } from '../../infra/http/conditional';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import type { Logger } from '../../infra/logging/logger';
import type { ProjectionProgress } from '../../projectors/runtime/projection-progress';
import { findUser, findUserByEmail } from '../accounts/account-lookup';
import { email } from '../accounts/account-schemas';
import { handleCommand, loadAggregate, type CommandResult } from '../command-handling';
import { actorOf, commandContext, pathId, respond } from '../respond';

export interface WorkspacesDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly progress: ProjectionProgress;
  readonly logger: Logger;
  /** How long a membership change waits for the query side before answering anyway. */
  readonly membershipWaitMs?: number;
}

const name = z.string().trim().min(1).max(200);
const role = z.enum(['owner', 'member']);
const createBody = z.strictObject({ id: z.uuid().optional(), name });
const patchBody = z
  .strictObject({ name: name.optional(), aiProxy: z.boolean().optional() })
  .refine((body) => body.name !== undefined || body.aiProxy !== undefined, { message: 'send name, aiProxy or both' });
const addMemberBody = z.strictObject({ email, role: role.default('member') });
const changeRoleBody = z.strictObject({ role });

const NOT_FOUND = 'WORKSPACE.NOT_FOUND';

export function workspaceView(workspace: ActiveWorkspace, viewerId: string) {
  return { id: workspace.id, name: workspace.name, role: workspace.members[viewerId] ?? null, createdAt: workspace.createdAt };
}

export function workspacesRoutes(deps: WorkspacesDeps): RouteSpec[] {
  const { store, clock } = deps;

  async function decide(req: Request, workspaceId: string, command: WorkspaceCommand, now: Date): Promise<CommandResult<Workspace>> {
    const ifMatch = parseIfMatch(req.header('if-match'));
    const streamId = workspaceStreamId(workspaceId);
    if (ifMatch === undefined) return handleCommand(store, streamId, workspaceDecider, command, commandContext(req, now));
    const current = await loadAggregate(store, streamId, workspaceDecider);
    return handleCommand(store, streamId, workspaceDecider, command, commandContext(req, now), { expectedRevision: expectedRevisionFor(ifMatch, current.revision) });
  }

  /** Membership is what the query side authorizes with: let it catch up before answering. */
  async function awaitMembership(position: LogPosition | undefined): Promise<void> {
    if (!position) return;
    const reached = await deps.progress.waitFor(position, deps.membershipWaitMs ?? 5_000, { projections: ['workspaces'] });
    if (!reached) deps.logger.warn({ position }, 'membership change not yet visible to queries');
  }

  async function create(req: Request, res: Response) {
    const body = parseRequest(createBody, req.body, 'body');
    const actorId = actorOf(req);
    const workspaceId = body.id ?? randomUUID();
    const now = clock();
    const result = await handleCommand(
      store,
      workspaceStreamId(workspaceId),
      workspaceDecider,
      { type: 'CreateWorkspace', workspaceId, name: body.name, actorId, at: now.toISOString() },
      commandContext(req, now),
      { expectedRevision: 'no_stream' },
    ).catch((error: unknown) => {
      if (error instanceof Error && 'code' in error && error.code === 'HTTP.PRECONDITION_FAILED') {
        throw new Problem('conflict', 'WORKSPACE.ALREADY_EXISTS', 'a workspace with this id already exists');
      }
      throw error;
    });
    await awaitMembership(result.position);
    respond(res, 201, workspaceView(active(result.state), actorId), {
      revision: result.revision,
      position: result.position,
      location: `/api/workspaces/${workspaceId}`,
    });
  }

  /**
   * Renames, and/or sets whether members may use the AI proxy (the workspace's AI policy, its own
   * stream: domain/ai/workspace-ai-policy.ts). If-Match is about the workspace's revision either way.
   */
  async function update(req: Request, res: Response) {
    const workspaceId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(patchBody, req.body, 'body');
    const actorId = actorOf(req);
    const now = clock();
    const result = body.name !== undefined ? await decide(req, workspaceId, { type: 'RenameWorkspace', name: body.name, actorId, at: now.toISOString() }, now) : await ownedWorkspace(req, workspaceId, actorId);
    const workspace = active(result.state);
    const policyStream = workspaceAiPolicyStreamId(workspaceId);
    let position = result.position;
    let aiProxy: boolean;
    if (body.aiProxy === undefined) {
      aiProxy = (await loadAggregate(store, policyStream, workspaceAiPolicyDecider)).state.aiProxy;
    } else {
      const policy = await handleCommand(
        store,
        policyStream,
        workspaceAiPolicyDecider,
        { type: 'SetWorkspaceAiProxy', workspaceId, enabled: body.aiProxy, actorId, actorRole: workspace.members[actorId] ?? null, at: now.toISOString() },
        commandContext(req, now),
      );
      aiProxy = policy.state.aiProxy;
      if (policy.events.length > 0) position = policy.position;
    }
    respond(res, 200, { ...workspaceView(workspace, actorId), aiProxy }, { revision: result.revision, position });
  }

  /** The workspace for a change that does not append to it: owners only, and If-Match still holds. */
  async function ownedWorkspace(req: Request, workspaceId: string, actorId: string): Promise<CommandResult<Workspace>> {
    const current = await loadAggregate(store, workspaceStreamId(workspaceId), workspaceDecider);
    ownedBy(current.state, actorId);
    const ifMatch = parseIfMatch(req.header('if-match'));
    if (ifMatch && expectedRevisionFor(ifMatch, current.revision) !== current.revision) {
      throw new Problem('precondition_failed', 'HTTP.PRECONDITION_FAILED', 'the workspace has changed since the revision in If-Match');
    }
    return { state: current.state, revision: current.revision, position: current.position, events: [] };
  }

  async function remove(req: Request, res: Response) {
    const workspaceId = pathId(req, 'id', NOT_FOUND);
    const actorId = actorOf(req);
    const now = clock();
    const result = await decide(req, workspaceId, { type: 'DeleteWorkspace', actorId, at: now.toISOString() }, now);
    await awaitMembership(result.position);
    respond(res, 204, undefined, { position: result.position });
  }

  async function addMember(req: Request, res: Response) {
    const workspaceId = pathId(req, 'id', NOT_FOUND);
    const body = parseRequest(addMemberBody, req.body, 'body');
    const actorId = actorOf(req);
    // Only an owner learns whether an address has an account: check the workspace first.
    const current = await loadAggregate(store, workspaceStreamId(workspaceId), workspaceDecider);
    ownedBy(current.state, actorId);
    const member = await findUserByEmail(store, body.email);
    if (!member) throw new Problem('not_found', 'USER.NOT_FOUND', 'no account has this email address');
    const now = clock();
    const result = await decide(req, workspaceId, { type: 'AddMember', userId: member.id, role: body.role, actorId, at: now.toISOString() }, now);
    await awaitMembership(result.position);
    respond(res, 201, { userId: member.id, email: member.email, displayName: member.displayName, role: body.role }, { revision: result.revision, position: result.position });
  }

  async function changeRole(req: Request, res: Response) {
    const workspaceId = pathId(req, 'id', NOT_FOUND);
    const userId = pathId(req, 'userId', 'WORKSPACE.MEMBER_NOT_FOUND');
    const body = parseRequest(changeRoleBody, req.body, 'body');
    const actorId = actorOf(req);
    const now = clock();
    const result = await decide(req, workspaceId, { type: 'ChangeMemberRole', userId, role: body.role, actorId, at: now.toISOString() }, now);
    await awaitMembership(result.position);
    const member = await findUser(store, userId);
    respond(res, 200, { userId, email: member?.email ?? null, displayName: member?.displayName ?? null, role: body.role }, { revision: result.revision, position: result.position });
  }

  async function removeMember(req: Request, res: Response) {
    const workspaceId = pathId(req, 'id', NOT_FOUND);
    const userId = pathId(req, 'userId', 'WORKSPACE.MEMBER_NOT_FOUND');
    const actorId = actorOf(req);
    const now = clock();
    const result = await decide(req, workspaceId, { type: 'RemoveMember', userId, actorId, at: now.toISOString() }, now);
    await awaitMembership(result.position);
    respond(res, 204, undefined, { position: result.position });
  }

  return [
    { method: 'post', path: '/api/workspaces', access: 'user', summary: 'Create a workspace (the caller becomes its owner)', body: createBody, responses: { 201: 'The workspace (ETag, Location)' }, handler: create },
    { method: 'patch', path: '/api/workspaces/:id', access: 'user', summary: 'Rename a workspace and/or set whether members may use the AI proxy (owners)', body: patchBody, responses: { 200: 'The workspace with its aiProxy setting (ETag)' }, handler: update },
    { method: 'delete', path: '/api/workspaces/:id', access: 'user', summary: 'Delete a workspace (owners)', responses: { 204: 'Deleted' }, handler: remove },
    { method: 'post', path: '/api/workspaces/:id/members', access: 'user', summary: 'Add a member by email (owners)', body: addMemberBody, responses: { 201: 'The new member' }, handler: addMember },
    { method: 'patch', path: '/api/workspaces/:id/members/:userId', access: 'user', summary: "Change a member's role (owners)", body: changeRoleBody, responses: { 200: 'The member' }, handler: changeRole },
    { method: 'delete', path: '/api/workspaces/:id/members/:userId', access: 'user', summary: 'Remove a member (owners), or leave', responses: { 204: 'Removed' }, handler: removeMember },
  ];
}

function active(state: Workspace): ActiveWorkspace {
  if (state.status !== 'active') throw new Problem('not_found', NOT_FOUND, 'no such workspace');
  return state;
}
