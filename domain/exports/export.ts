/**
 * An export: a user's request for their notes or documents as a Markdown zip or a PDF, built by a
 * reactor in the projectors process, downloadable until it expires, then deleted. Everything the
 * builder does is fed back as commands, so progress, completion, failure and expiry are events:
 * requested -> running (progress: items done of total) -> ready -> expired, or failed.
 * Only its owner may see it; to anyone else it does not exist.
 */
import type { Decider } from '../shared/decider';
import { conflict, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const exportStreamId = (exportId: string) => `export-${exportId}`;

export type ExportFormat = 'markdown' | 'pdf';
export type ExportScope = { readonly noteIds: readonly string[] } | { readonly all: true } | { readonly workspaceId: string };

export type ExportEvent =
  | DomainEvent<'ExportRequested', { exportId: string; ownerId: string; format: ExportFormat; scope: ExportScope; requestedAt: string }>
  | DomainEvent<'ExportProgressed', { exportId: string; done: number; total: number; at: string }>
  | DomainEvent<'ExportCompleted', { exportId: string; key: string; fileName: string; size: number; items: number; completedAt: string; expiresAt: string }>
  | DomainEvent<'ExportFailed', { exportId: string; code: string; reason: string; failedAt: string }>
  | DomainEvent<'ExportExpired', { exportId: string; expiredAt: string }>;

interface ExportBase {
  readonly id: string;
  readonly ownerId: string;
  readonly format: ExportFormat;
  readonly scope: ExportScope;
  readonly requestedAt: string;
  readonly done: number;
  readonly total: number | null;
}

export type Export =
  | { readonly status: 'none' }
  | (ExportBase & { readonly status: 'requested' | 'running' })
  | (ExportBase & { readonly status: 'ready' | 'expired'; readonly key: string; readonly fileName: string; readonly size: number; readonly expiresAt: string })
  | (ExportBase & { readonly status: 'failed'; readonly code: string; readonly reason: string });

export type ExportCommand =
  | { readonly type: 'RequestExport'; readonly exportId: string; readonly format: ExportFormat; readonly scope: ExportScope; readonly actorId: string; readonly at: string }
  | { readonly type: 'RecordExportProgress'; readonly done: number; readonly total: number; readonly at: string }
  | {
      readonly type: 'CompleteExport';
      readonly key: string;
      readonly fileName: string;
      readonly size: number;
      readonly items: number;
      readonly at: string;
      readonly expiresAt: string;
    }
  | { readonly type: 'FailExport'; readonly code: string; readonly reason: string; readonly at: string }
  | { readonly type: 'ExpireExport'; readonly at: string };

const NOT_FOUND = () => notFound('EXPORT.NOT_FOUND', 'no such export');

function existing(state: Export): Exclude<Export, { status: 'none' }> {
  if (state.status === 'none') throw NOT_FOUND();
  return state;
}

const building = (state: Export) => state.status === 'requested' || state.status === 'running';

export const exportDecider: Decider<ExportCommand, ExportEvent, Export> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'RequestExport': {
        if (state.status !== 'none') {
          const same = state.ownerId === command.actorId && state.format === command.format && JSON.stringify(state.scope) === JSON.stringify(command.scope);
          if (same) return [];
          throw conflict('EXPORT.ALREADY_EXISTS', 'an export with this id already exists');
        }
        return [{ type: 'ExportRequested', data: { exportId: command.exportId, ownerId: command.actorId, format: command.format, scope: command.scope, requestedAt: command.at } }];
      }
      case 'RecordExportProgress': {
        const current = existing(state);
        // A late or repeated report (a retried builder) never moves progress backwards.
        if (!building(current) || (command.done <= current.done && command.total === current.total && current.status === 'running')) return [];
        return [{ type: 'ExportProgressed', data: { exportId: current.id, done: Math.max(command.done, current.done), total: command.total, at: command.at } }];
      }
      case 'CompleteExport': {
        const current = existing(state);
        if (current.status === 'ready' && current.key === command.key) return [];
        if (!building(current)) throw conflict('EXPORT.NOT_BUILDING', `the export is ${current.status}`);
        const { key, fileName, size, items, at, expiresAt } = command;
        return [{ type: 'ExportCompleted', data: { exportId: current.id, key, fileName, size, items, completedAt: at, expiresAt } }];
      }
      case 'FailExport': {
        const current = existing(state);
        if (!building(current)) return [];
        return [{ type: 'ExportFailed', data: { exportId: current.id, code: command.code, reason: command.reason, failedAt: command.at } }];
      }
      case 'ExpireExport': {
        const current = existing(state);
        if (current.status !== 'ready') return [];
        if (command.at < current.expiresAt) throw conflict('EXPORT.NOT_EXPIRED', 'the export has not expired yet');
        return [{ type: 'ExportExpired', data: { exportId: current.id, expiredAt: command.at } }];
      }
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ExportRequested': {
        const { exportId, ownerId, format, scope, requestedAt } = event.data;
        return { status: 'requested', id: exportId, ownerId, format, scope, requestedAt, done: 0, total: null };
      }
      case 'ExportProgressed':
        return state.status === 'requested' || state.status === 'running' ? { ...state, status: 'running', done: event.data.done, total: event.data.total } : state;
      case 'ExportCompleted': {
        if (state.status === 'none') return state;
        const { key, fileName, size, items, expiresAt } = event.data;
        return { ...baseOf(state), status: 'ready', done: items, total: items, key, fileName, size, expiresAt };
      }
      case 'ExportFailed':
        return state.status === 'none' ? state : { ...baseOf(state), status: 'failed', code: event.data.code, reason: event.data.reason };
      case 'ExportExpired':
        return state.status === 'ready' ? { ...state, status: 'expired' } : state;
      default:
        return unreachable(event);
    }
  },
};

function baseOf(state: Exclude<Export, { status: 'none' }>): ExportBase {
  const { id, ownerId, format, scope, requestedAt, done, total } = state;
  return { id, ownerId, format, scope, requestedAt, done, total };
}

/** Only the owner sees an export. */
export function ownedExport(state: Export, actorId: string): Exclude<Export, { status: 'none' }> {
  if (state.status === 'none' || state.ownerId !== actorId) throw NOT_FOUND();
  return state;
}
