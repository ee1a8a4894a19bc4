/**
 * The `documents` projection's edit, one statement that moves the row and writes its version row
 * (aggregate-versions.ts, `editedInPlace`): given a created document, when an edit is applied (as the
 * runner applies batches, through literals and prepared statements, and as its one-by-one fallback
 * does), then the row and the version row say what changed, sizes in UTF-8 bytes; and an edit applied
 * again (a redelivered batch) or one older than the row changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { JsonValue, RecordedEvent } from '../../infra/event-store/event-store';
import { LogPosition } from '../../infra/event-store/log-position';
import { documentsProjection } from '../../projectors/documents/documents-projection';
import { checkpointMoveSql, compileBatch, runBatchTransaction, statementBuilder } from '../../projectors/runtime/batch-sql';
import type { SqlStatement } from '../../projectors/runtime/projection';
import { createTestSchema, type TestSchema } from '../support/test-database';

const workspaceId = randomUUID();
const author = randomUUID();
const editor = randomUUID();
let position = 0n;

function recorded(type: string, documentId: string, revision: bigint, data: Record<string, JsonValue>): RecordedEvent {
  position += 1n;
  return {
    id: randomUUID(),
    type,
    data: { documentId, ...data },
    metadata: { occurredAt: '2026-11-23T10:00:00.000Z' } as RecordedEvent['metadata'],
    streamId: `document-${documentId}`,
    streamRevision: revision,
    position: LogPosition.of(1000n + position, position),
    recordedAt: new Date(),
  };
}

const created = (documentId: string, content: string) =>
  recorded('DocumentCreated', documentId, 0n, { workspaceId, title: 'Psalm 23', content, createdAt: '2026-11-23T10:00:00.000Z', createdBy: author });
const edited = (documentId: string, revision: bigint, title: string, content: string) =>
  recorded('DocumentEdited', documentId, revision, { title, content, editedAt: `2026-11-23T10:0${revision}:00.000Z`, editedBy: editor });

function statementsOf(event: RecordedEvent): SqlStatement[] {
  const built = documentsProjection.apply(event, statementBuilder);
  return Array.isArray(built) ? [...built] : [built as SqlStatement];
}

describe('the documents projection applies an edit in one statement', () => {
  let db: TestSchema;
  /** Batches as the runner sends them: literals, prepared once per shape and connection, one round trip. */
  let batchNumber = 0;
  async function applyAsBatch(...events: RecordedEvent[]): Promise<void> {
    const statements = compileBatch(events.flatMap(statementsOf));
    if (!statements) throw new Error('the statements could not be written as literals');
    batchNumber += 1;
    const checkpoint = checkpointMoveSql(`documents-test-${batchNumber}`, 'start', events[events.length - 1]!.position, events.length);
    expect(await runBatchTransaction(db.knex, checkpoint, statements)).toBe(true);
  }
  /** The runner's fallback: each statement run with parameters in one knex transaction. */
  async function applyOneByOne(...events: RecordedEvent[]): Promise<void> {
    await db.knex.transaction(async (trx) => {
      for (const event of events) {
        const built = documentsProjection.apply(event, trx);
        for (const statement of Array.isArray(built) ? built : [built]) await statement;
      }
    });
  }
  const rowOf = (id: string) => db.knex('documents').where({ id }).first('title', 'content', 'revision', 'updated_by');
  const versionsOf = (id: string) =>
    db.knex('document_versions').where({ document_id: id }).orderBy('revision').select('revision', 'change', 'by', 'title', 'size', 'size_delta', 'title_changed', 'content_changed');

  beforeAll(async () => {
    db = await createTestSchema('documents_projection');
  });
  afterAll(async () => {
    await db.drop();
  });

  describe.each([
    ['as a batch of literals', () => applyAsBatch],
    ['one statement at a time', () => applyOneByOne],
  ])('%s', (_label, applier) => {
    it('moves the row and records what changed, in bytes; a redelivered or older edit changes nothing', async () => {
      const apply = applier();
      const id = randomUUID();
      await apply(created(id, 'The Lord is my shepherd\n'));
      const first = edited(id, 1n, 'Psalm 23', 'The Lord is my shepherd\nI shall not want — ü\n');
      const second = edited(id, 2n, 'Psalm 23 (KJV)', 'The Lord is my shepherd\nI shall not want — ü\n');
      await apply(first, second);

      const expectedVersions = [
        { revision: '0', change: 'created', by: author, title: 'Psalm 23', size: 24, size_delta: 24, title_changed: true, content_changed: true },
        // 'I shall not want — ü\n' is 21 characters and 24 bytes (the dash takes 3, the ü 2).
        { revision: '1', change: 'edited', by: editor, title: 'Psalm 23', size: 48, size_delta: 24, title_changed: false, content_changed: true },
        { revision: '2', change: 'edited', by: editor, title: 'Psalm 23 (KJV)', size: 48, size_delta: 0, title_changed: true, content_changed: false },
      ];
      expect(await versionsOf(id)).toEqual(expectedVersions);
      const row = await rowOf(id);
      expect(row).toEqual({ title: 'Psalm 23 (KJV)', content: 'The Lord is my shepherd\nI shall not want — ü\n', revision: '2', updated_by: editor });

      await apply(first, second); // redelivered
      await apply(edited(id, 1n, 'Stale', 'an edit older than the row')); // older than the row
      expect(await versionsOf(id)).toEqual(expectedVersions);
      expect(await rowOf(id)).toEqual(row);
    });

    it('writes nothing for an edit of a document it has no row for', async () => {
      const apply = applier();
      const id = randomUUID();
      await apply(edited(id, 1n, 'Orphan', 'no row to move'));
      expect(await rowOf(id)).toBeUndefined();
      expect(await versionsOf(id)).toEqual([]);
    });
  });
});
