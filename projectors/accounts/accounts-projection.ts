/** The `users` read model: who exists, with their email and display name (never their password hash). */
import type { UserEvent } from '../../domain/users/user';
import { unreachable } from '../../domain/shared/events';
import { upsertIfNewer, type Projection } from '../runtime/projection';

export const accountsProjection: Projection = {
  name: 'accounts',
  tables: ['users'],
  handles: ['UserSignedUp', 'UserDisplayNameChanged', 'UserPasswordChanged', 'UserPasswordHashRenewed'],
  apply(recorded, sql) {
    const event = recorded as unknown as UserEvent;
    const revision = recorded.streamRevision;
    switch (event.type) {
      case 'UserSignedUp':
        return upsertIfNewer(sql, 'users', ['id'], {
          id: event.data.userId,
          email: event.data.email,
          display_name: event.data.displayName,
          created_at: event.data.signedUpAt,
          updated_at: event.data.signedUpAt,
          revision,
        });
      case 'UserDisplayNameChanged':
        return sql('users')
          .where('id', event.data.userId)
          .andWhere('revision', '<', revision.toString())
          .update({ display_name: event.data.displayName, updated_at: event.data.changedAt, revision: revision.toString() });
      case 'UserPasswordChanged':
        return sql('users')
          .where('id', event.data.userId)
          .andWhere('revision', '<', revision.toString())
          .update({ updated_at: event.data.changedAt, revision: revision.toString() });
      case 'UserPasswordHashRenewed':
        // The same password recorded anew: nothing a reader sees has changed.
        return sql('users').where('id', event.data.userId).andWhere('revision', '<', revision.toString()).update({ revision: revision.toString() });
      default:
        return unreachable(event);
    }
  },
};
