/**
 * The fault suite's checker must be able to fail: given a log and a history that break each rule
 * (an acknowledged write missing from the log, an operation applied twice, a refused one that wrote,
 * diverged replicas, a read behind its own write), it reports exactly that; given a healthy pair, nothing.
 */
import type pg from 'pg';
import { LogPosition } from '../../infra/event-store/log-position';
import { checkLog, checkReadYourWrites, compareReplicas, type Anomaly } from './checker';
import type { Operation } from './workload';

interface Row {
  transaction_id: string;
  global_position: string;
  stream_id: string;
  stream_revision: string;
  event_type: string;
  correlation_id: string | null;
}

const fakeClient = (rows: Row[]) => ({ query: async () => ({ rows }) }) as unknown as pg.Client;
const position = (n: number) => LogPosition.of(100n, BigInt(n));
const event = (n: number, stream: string, revision: number, type: string, correlation: string): Row => ({
  transaction_id: '100',
  global_position: String(n),
  stream_id: stream,
  stream_revision: String(revision),
  event_type: type,
  correlation_id: correlation,
});

function op(overrides: Partial<Operation> & Pick<Operation, 'id' | 'kind'>): Operation {
  return { actor: 'a', method: 'PUT', path: '/x', attempts: [{ at: 0, status: 200 }], outcome: 'acked', status: 200, startedAt: 0, ...overrides };
}

describe('fault suite checker', () => {
  const healthyLog = [event(1, 'document-d', 0, 'DocumentCreated', 'op1'), event(2, 'document-d', 1, 'DocumentEdited', 'op2')];
  const healthyHistory = [
    op({ id: 'op1', kind: 'create-document', stream: 'document-d', etag: '"0"', consistencyToken: position(1), status: 201 }),
    op({ id: 'op2', kind: 'edit-document', stream: 'document-d', etag: '"1"', consistencyToken: position(2) }),
    op({ id: 'op3', kind: 'edit-document', stream: 'document-d', outcome: 'rejected', status: 412 }),
  ];

  it('given a log holding every acknowledged write once, then no anomaly', async () => {
    const anomalies: Anomaly[] = [];
    const summary = await checkLog(fakeClient(healthyLog), 's', healthyHistory, anomalies);
    expect(anomalies).toEqual([]);
    expect(summary).toMatchObject({ events: 2, acked: 2, checkedTokens: 2, uncorrelatedEvents: 0 });
  });

  it('given an acknowledged edit whose event is missing, then acked-in-log', async () => {
    const anomalies: Anomaly[] = [];
    await checkLog(fakeClient([healthyLog[0]!]), 's', healthyHistory, anomalies);
    expect(anomalies.map((a) => a.check)).toEqual(['acked-in-log', 'acked-in-log', 'acked-in-log']);
    expect(anomalies.every((a) => a.detail.includes('[op2]'))).toBe(true);
  });

  it('given an edit applied twice by its retries, then exactly-once', async () => {
    const anomalies: Anomaly[] = [];
    await checkLog(fakeClient([...healthyLog, event(3, 'document-d', 2, 'DocumentEdited', 'op2')]), 's', healthyHistory, anomalies);
    expect(anomalies.map((a) => a.check)).toEqual(['exactly-once', 'exactly-once']);
  });

  it('given a refused edit that wrote anyway, then no-write-when-refused', async () => {
    const anomalies: Anomaly[] = [];
    await checkLog(fakeClient([...healthyLog, event(3, 'document-d', 2, 'DocumentEdited', 'op3')]), 's', healthyHistory, anomalies);
    expect(anomalies.map((a) => a.check)).toEqual(['no-write-when-refused']);
  });

  it('given an answer whose token names another operation\'s event, then acked-in-log', async () => {
    const anomalies: Anomaly[] = [];
    const history = [healthyHistory[0]!, op({ id: 'op2', kind: 'edit-document', stream: 'document-d', etag: '"1"', consistencyToken: position(1) })];
    await checkLog(fakeClient(healthyLog), 's', history, anomalies);
    expect(anomalies.map((a) => a.check)).toEqual(['acked-in-log']);
  });

  it('given replicas that differ, then sync-converges names the entity', () => {
    const change = (revision: number) => ({ entity: 'document' as const, id: 'd', workspaceId: 'w', op: 'upsert' as const, revision, data: { title: 't' } });
    const anomalies: Anomaly[] = [];
    expect(compareReplicas('a', { entities: new Map([['document:d', change(1)]]) }, { entities: new Map([['document:d', change(1)]]) }, anomalies)).toBe(1);
    expect(anomalies).toEqual([]);
    compareReplicas('a', { entities: new Map([['document:d', change(1)]]) }, { entities: new Map([['document:d', change(2)]]) }, anomalies);
    compareReplicas('a', { entities: new Map() }, { entities: new Map([['document:d', change(2)]]) }, anomalies);
    expect(anomalies.map((a) => a.check)).toEqual(['sync-converges', 'sync-converges']);
  });

  it('given a read with a token that shows an older revision, then read-your-writes', () => {
    const anomalies: Anomaly[] = [];
    checkReadYourWrites(
      [
        { actor: 'a', documentId: 'd', expectedRevision: 3, status: 200, revision: 3 },
        { actor: 'a', documentId: 'd', expectedRevision: 3, status: 503 },
        { actor: 'a', documentId: 'd', expectedRevision: 3, status: 200, revision: 2 },
      ],
      anomalies,
    );
    expect(anomalies.map((a) => a.check)).toEqual(['read-your-writes']);
  });
});
