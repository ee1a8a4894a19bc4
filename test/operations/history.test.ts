/** `scriptorium history <stream>`: one stream's events with their positions and metadata, for auditors. */
import { userStreamId } from '../../domain/users/user';
import { LogPosition } from '../../infra/event-store/log-position';
import { signUp, startTestService, type SignedUpUser, type TestService } from '../support/test-service';
import { cli } from './operations-support';

describe('history', () => {
  let t: TestService;
  let ann: SignedUpUser;

  beforeAll(async () => {
    t = await startTestService('history');
    ann = await signUp(t.http, { displayName: 'Ann' });
    await t.http.patch('/api/me').set(ann.auth).send({ displayName: 'Ann B.' }).expect(200);
  });
  afterAll(() => t.close());

  it("given a user who renamed themselves, when their stream's history is asked for, then both events show in order with their metadata", async () => {
    const recorded = await t.service.platform.store.readStream(userStreamId(ann.id));

    const run = await cli(t, ['history', userStreamId(ann.id), '--json']);

    expect(run.code).toBe(0);
    const history = JSON.parse(run.stdout);
    expect(history.stream).toBe(userStreamId(ann.id));
    expect(history.nextRevision).toBeNull();
    expect(history.events).toEqual([
      {
        revision: 0,
        type: 'UserSignedUp',
        position: recorded[0]!.position,
        recordedAt: recorded[0]!.recordedAt.toISOString(),
        occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        correlationId: expect.any(String),
        causationId: expect.any(String),
        actorId: ann.id,
        eventId: recorded[0]!.id,
      },
      expect.objectContaining({ revision: 1, type: 'UserDisplayNameChanged', position: recorded[1]!.position, actorId: ann.id }),
    ]);
    expect(LogPosition.parse(history.events[0].position)).toBeDefined();
    expect(history.events[0].position < history.events[1].position).toBe(true);
    expect(history.events[0].data).toBeUndefined();
  });

  it('given --limit and --from, then the history is cut and says where to continue, and continues there', async () => {
    const first = JSON.parse((await cli(t, ['history', userStreamId(ann.id), '--json', '--limit', '1'])).stdout);
    expect(first.events.map((event: { type: string }) => event.type)).toEqual(['UserSignedUp']);
    expect(first.nextRevision).toBe(1);

    const rest = JSON.parse((await cli(t, ['history', userStreamId(ann.id), '--json', '--from', String(first.nextRevision)])).stdout);
    expect(rest.events.map((event: { revision: number; type: string }) => [event.revision, event.type])).toEqual([[1, 'UserDisplayNameChanged']]);
    expect(rest.nextRevision).toBeNull();
  });

  it('given --data, then the payloads are included; and a table is printed for people', async () => {
    const withData = JSON.parse((await cli(t, ['history', userStreamId(ann.id), '--json', '--data'])).stdout);
    expect(withData.events[1].data).toMatchObject({ userId: ann.id, displayName: 'Ann B.' });

    const table = await cli(t, ['history', userStreamId(ann.id)]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^REV\s+TYPE\s+POSITION\s+RECORDED AT\s+OCCURRED AT\s+ACTOR\s+CORRELATION\s+CAUSATION$/m);
    expect(table.stdout).toMatch(new RegExp(`^\\s*0\\s+UserSignedUp\\s+\\d{20}\\.\\d{20}\\s+\\S+\\s+\\S+\\s+${ann.id}\\s`, 'm'));
    expect(table.stdout).toMatch(/^\s*1\s+UserDisplayNameChanged\s/m);
  });

  it('given a stream with no events, then the history is empty, and a bad --limit is a usage error', async () => {
    const empty = await cli(t, ['history', 'user-00000000-0000-4000-8000-000000000000', '--json']);
    expect(empty.code).toBe(0);
    expect(JSON.parse(empty.stdout).events).toEqual([]);

    const bad = await cli(t, ['history', userStreamId(ann.id), '--limit', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a positive integer');
  });
});
