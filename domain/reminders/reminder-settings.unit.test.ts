import { given } from '../../test/support/decider-spec';
import { reminderSettingsDecider } from './reminder-settings';

const userId = '00000000-0000-4000-8000-00000000000a';
const now = '2026-04-01T00:00:00.000Z';
const webhook = { url: 'https://hooks.example.com/scriptorium', sealedSecret: 'v1:k1:aXY:c2VhbGVkLW9uZQ' };

describe('reminder settings decider', () => {
  it('sets the target retention within 0.7..0.97, and records nothing when it is unchanged', () => {
    given(reminderSettingsDecider).when({ type: 'SetTargetRetention', userId, targetRetention: 0.85, now }).then([{ type: 'TargetRetentionSet', data: { userId, targetRetention: 0.85, setAt: now } }]);
    given(reminderSettingsDecider).when({ type: 'SetTargetRetention', userId, targetRetention: 0.9, now }).thenNothing(); // the default
    given(reminderSettingsDecider).when({ type: 'SetTargetRetention', userId, targetRetention: 0.99, now }).thenFails('REMINDER.INVALID_RETENTION');
    given(reminderSettingsDecider).when({ type: 'SetTargetRetention', userId, targetRetention: 0.5, now }).thenFails('REMINDER.INVALID_RETENTION');
  });

  it('sets the channels; e-mail only where the server can send it', () => {
    const set = { type: 'SetNotificationChannels', userId, webhook, email: true, emailAvailable: true, now } as const;
    const recorded = { type: 'NotificationChannelsSet', data: { userId, webhook, email: true, setAt: now } } as const;
    given(reminderSettingsDecider).when(set).then([recorded]);
    given(reminderSettingsDecider, recorded).when(set).thenNothing();
    given(reminderSettingsDecider, recorded).when({ ...set, webhook: { ...webhook, sealedSecret: 'v1:k1:aXYy:c2VhbGVkLXR3bw' } }).then([
      { type: 'NotificationChannelsSet', data: { userId, webhook: { ...webhook, sealedSecret: 'v1:k1:aXYy:c2VhbGVkLXR3bw' }, email: true, setAt: now } },
    ]);
    given(reminderSettingsDecider).when({ ...set, emailAvailable: false }).thenFails('NOTIFICATIONS.EMAIL_NOT_CONFIGURED');
    given(reminderSettingsDecider).when({ ...set, email: false, emailAvailable: false }).then([{ type: 'NotificationChannelsSet', data: { userId, webhook, email: false, setAt: now } }]);
  });
});
