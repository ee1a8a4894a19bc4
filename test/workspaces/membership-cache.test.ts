/**
 * The command side's membership answers (WorkspaceMembership): kept while wake-ups are live, dropped
 * whenever the workspaces projection says it wrote, never kept across such a word or past their time,
 * and never kept at all while wake-ups are down.
 */
import { randomUUID } from 'node:crypto';
import { WorkspaceMembership } from '../../command-api/workspaces/membership';
import { InProcessWakeups, NoWakeups, WakeupTopics } from '../../infra/wakeups/wakeups';
import { createTestSchema, type TestSchema } from '../support/test-database';

describe('workspace membership answers', () => {
  let db: TestSchema;
  const workspaceId = randomUUID();

  beforeAll(async () => {
    db = await createTestSchema('membership_cache');
    await db.knex('workspaces').insert({ id: workspaceId, name: 'W', created_at: new Date(), updated_at: new Date(), revision: 0 });
  });
  afterAll(() => db.drop());

  const addMember = (userId: string) => db.knex('workspace_members').insert({ workspace_id: workspaceId, user_id: userId, role: 'member', added_at: new Date(), revision: 0 });
  const removeMember = (userId: string) => db.knex('workspace_members').where({ workspace_id: workspaceId, user_id: userId }).del();
  /** Lets InProcessWakeups deliver (it queues each listener as a microtask). */
  const delivered = () => new Promise((resolve) => setImmediate(resolve));

  it('given a kept answer, when the workspaces projection announces a write, then the next answer is read afresh', async () => {
    const wakeups = new InProcessWakeups();
    const membership = new WorkspaceMembership(db.knex, wakeups);
    const userId = randomUUID();
    await addMember(userId);
    expect(await membership.isMember(workspaceId, userId)).toBe(true);
    await removeMember(userId);
    expect(await membership.isMember(workspaceId, userId)).toBe(true); // kept: no word of the change yet
    wakeups.publish(WakeupTopics.projectionChanged('workspaces'), 'x');
    await delivered();
    expect(await membership.isMember(workspaceId, userId)).toBe(false);
    await addMember(userId);
    wakeups.publish(WakeupTopics.projectionChanged('workspaces'), 'x');
    await delivered();
    expect(await membership.isMember(workspaceId, userId)).toBe(true);
    membership.close();
  });

  it('never keeps an answer past ttlMs', async () => {
    let now = 1_000;
    const membership = new WorkspaceMembership(db.knex, new InProcessWakeups(), { ttlMs: 100, now: () => now });
    const userId = randomUUID();
    expect(await membership.isMember(workspaceId, userId)).toBe(false);
    await addMember(userId);
    now += 99;
    expect(await membership.isMember(workspaceId, userId)).toBe(false);
    now += 2;
    expect(await membership.isMember(workspaceId, userId)).toBe(true);
    membership.close();
  });

  it('does not keep an answer read while a change was announced', async () => {
    const wakeups = new InProcessWakeups();
    const membership = new WorkspaceMembership(db.knex, wakeups);
    const userId = randomUUID();
    await addMember(userId);
    const reading = membership.isMember(workspaceId, userId);
    wakeups.publish(WakeupTopics.projectionChanged('workspaces'), 'x');
    await delivered();
    expect(await reading).toBe(true);
    await removeMember(userId);
    expect(await membership.isMember(workspaceId, userId)).toBe(false);
    membership.close();
  });

  it('given wake-ups that are not live, asks the database every time', async () => {
    const membership = new WorkspaceMembership(db.knex, new NoWakeups());
    const userId = randomUUID();
    expect(await membership.isMember(workspaceId, userId)).toBe(false);
    await addMember(userId);
    expect(await membership.isMember(workspaceId, userId)).toBe(true);
    await removeMember(userId);
    expect(await membership.isMember(workspaceId, userId)).toBe(false);
    membership.close();
  });

  it('keeps at most maxEntries answers, dropping the oldest', async () => {
    const membership = new WorkspaceMembership(db.knex, new InProcessWakeups(), { maxEntries: 2 });
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    for (const userId of [a, b, c]) expect(await membership.isMember(workspaceId, userId)).toBe(false);
    await addMember(a);
    await addMember(c);
    expect(await membership.isMember(workspaceId, a)).toBe(true); // dropped: read afresh
    expect(await membership.isMember(workspaceId, c)).toBe(false); // still kept
    membership.close();
  });
});
