/**
 * The user account aggregate: sign-up, display name and password. Credentials are checked by the
 * caller (hashing is I/O-bound work); this decider records what was decided and guards the states.
 */
import type { Decider } from '../shared/decider';
import { conflict, notFound } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const userStreamId = (userId: string) => `user-${userId}`;

/**
 * `passwordHash` is opaque here: the command API records the argon2id hash sealed for this user
 * (infra/security/password-credentials.ts); events from before sealing began hold the hash in the clear.
 */
export type UserEvent =
  | DomainEvent<'UserSignedUp', { userId: string; email: string; displayName: string | null; passwordHash: string; signedUpAt: string }>
  | DomainEvent<'UserDisplayNameChanged', { userId: string; displayName: string | null; changedAt: string }>
  | DomainEvent<'UserPasswordChanged', { userId: string; passwordHash: string; changedAt: string }>
  /** The same password recorded anew (sealed with the current key, hashed with the current parameters). */
  | DomainEvent<'UserPasswordHashRenewed', { userId: string; passwordHash: string; renewedAt: string }>;

export type User =
  | { readonly status: 'none' }
  | {
      readonly status: 'active';
      readonly id: string;
      readonly email: string;
      readonly displayName: string | null;
      readonly passwordHash: string;
      readonly signedUpAt: string;
    };

export type UserCommand =
  | { readonly type: 'SignUp'; readonly userId: string; readonly email: string; readonly displayName: string | null; readonly passwordHash: string; readonly at: string }
  | { readonly type: 'ChangeDisplayName'; readonly displayName: string | null; readonly at: string }
  | { readonly type: 'ChangePassword'; readonly passwordHash: string; readonly at: string }
  /** Renews `replacing` (the value a log-in just verified); nothing when the password has changed since. */
  | { readonly type: 'RenewPasswordHash'; readonly passwordHash: string; readonly replacing: string; readonly at: string };

export const userDecider: Decider<UserCommand, UserEvent, User> = {
  initialState: { status: 'none' },

  decide(command, state) {
    switch (command.type) {
      case 'SignUp':
        if (state.status !== 'none') throw conflict('USER.ALREADY_EXISTS', 'the user already exists');
        return [
          {
            type: 'UserSignedUp',
            data: { userId: command.userId, email: command.email, displayName: command.displayName, passwordHash: command.passwordHash, signedUpAt: command.at },
          },
        ];
      case 'ChangeDisplayName':
        if (state.status !== 'active') throw notFound('USER.NOT_FOUND', 'no such user');
        if (state.displayName === command.displayName) return [];
        return [{ type: 'UserDisplayNameChanged', data: { userId: state.id, displayName: command.displayName, changedAt: command.at } }];
      case 'ChangePassword':
        if (state.status !== 'active') throw notFound('USER.NOT_FOUND', 'no such user');
        return [{ type: 'UserPasswordChanged', data: { userId: state.id, passwordHash: command.passwordHash, changedAt: command.at } }];
      case 'RenewPasswordHash':
        if (state.status !== 'active') throw notFound('USER.NOT_FOUND', 'no such user');
        if (state.passwordHash !== command.replacing) return [];
        return [{ type: 'UserPasswordHashRenewed', data: { userId: state.id, passwordHash: command.passwordHash, renewedAt: command.at } }];
      default:
        return unreachable(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'UserSignedUp':
        return {
          status: 'active',
          id: event.data.userId,
          email: event.data.email,
          displayName: event.data.displayName,
          passwordHash: event.data.passwordHash,
          signedUpAt: event.data.signedUpAt,
        };
      case 'UserDisplayNameChanged':
        return state.status === 'active' ? { ...state, displayName: event.data.displayName } : state;
      case 'UserPasswordChanged':
      case 'UserPasswordHashRenewed':
        return state.status === 'active' ? { ...state, passwordHash: event.data.passwordHash } : state;
      default:
        return unreachable(event);
    }
  },
};
