import { given } from '../../test/support/decider-spec';
import { notificationDecider } from './notification';

const ann = '00000000-0000-4000-8000-00000000000a';
const eve = '00000000-0000-4000-8000-00000000000e';
const notificationId = '00000000-0000-4000-8000-0000000000f1';
const read = { type: 'MarkNotificationRead', notificationId, recipientId: ann, actorId: ann, now: '2026-04-01T00:00:00.000Z' } as const;

describe('notification decider', () => {
  it('records that its recipient read it, once', () => {
    const event = { type: 'NotificationRead', data: { notificationId, userId: ann, readAt: '2026-04-01T00:00:00.000Z' } } as const;
    given(notificationDecider).when(read).then([event]);
    given(notificationDecider, event).when({ ...read, now: '2026-04-02T00:00:00.000Z' }).thenNothing();
  });

  it('is not found for anyone else, or when there is no such notification', () => {
    given(notificationDecider).when({ ...read, actorId: eve }).thenFails('NOTIFICATION.NOT_FOUND');
    given(notificationDecider).when({ ...read, recipientId: null }).thenFails('NOTIFICATION.NOT_FOUND');
  });
});
