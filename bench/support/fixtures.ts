/**
 * What the benchmark writes: one event type shaped like a real document edit, a JSON payload of about
 * 200 bytes, and the metadata every command handler attaches (correlation, causation, actor, time,
 * trace context). Every event gets its own id and, unless batched, its own stream.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { EventMetadata, EventToAppend, JsonValue } from '../../infra/event-store/event-store';

export const EVENT_TYPE = 'DocumentEdited';

export function documentStream(): string {
  return `Document-${randomUUID()}`;
}

export function documentEdited(): EventToAppend {
  return { id: randomUUID(), type: EVENT_TYPE, data: payload(), metadata: metadata() };
}

export function documentEditedBatch(count: number): EventToAppend[] {
  return Array.from({ length: count }, documentEdited);
}

/** About 200 bytes once serialized. */
export function payload(): JsonValue {
  return {
    documentId: randomUUID(),
    title: 'Quarterly planning notes',
    folderId: 'folder-7f3a9c',
    tags: ['planning', 'q4', 'draft'],
    wordCount: 1287,
    revisionNote: 'Moved the budget table.',
  };
}

export function metadata(): EventMetadata {
  const id = randomUUID();
  return {
    correlationId: id,
    causationId: id,
    actorId: 'user-2b9c4e1a',
    occurredAt: new Date().toISOString(),
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  };
}
