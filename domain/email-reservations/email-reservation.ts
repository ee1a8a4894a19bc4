/**
 * Email reservations: one stream per normalized address, created with `no_stream`, so two sign-ups
 * with one address cannot both win (a read-model check could not promise that). A reservation whose
 * user was never created (the sign-up died between its two appends) may be taken over once it is old.
 */
import type { Decider } from '../shared/decider';
import { conflict } from '../shared/errors';
import { unreachable, type DomainEvent } from '../shared/events';

export const emailReservationStreamId = (normalizedEmail: string) => `email-${normalizedEmail}`;

/** How long a reservation without a user is protected: longer than any sign-up takes. */
export const ABANDONED_RESERVATION_MS = 60_000;

export type EmailReservationEvent = DomainEvent<'EmailReserved', { email: string; userId: string; reservedAt: string }>;

export type EmailReservation =
  | { readonly status: 'free' }
  | { readonly status: 'reserved'; readonly email: string; readonly userId: string; readonly reservedAt: string };

export interface ReserveEmail {
  readonly type: 'ReserveEmail';
  readonly email: string;
  readonly userId: string;
  readonly at: string;
  /** Looked up by the caller: does the user holding the current reservation exist? */
  readonly reservedUserExists: boolean;
}

export type EmailReservationCommand = ReserveEmail;

export const emailReservationDecider: Decider<EmailReservationCommand, EmailReservationEvent, EmailReservation> = {
  initialState: { status: 'free' },

  decide(command, state) {
    switch (command.type) {
      case 'ReserveEmail': {
        if (state.status === 'reserved') {
          const abandoned = !command.reservedUserExists && Date.parse(command.at) - Date.parse(state.reservedAt) > ABANDONED_RESERVATION_MS;
          if (!abandoned) throw conflict('USER.EMAIL_TAKEN', 'an account with this email address already exists');
        }
        return [{ type: 'EmailReserved', data: { email: command.email, userId: command.userId, reservedAt: command.at } }];
      }
      default:
        return unreachable(command.type);
    }
  },

  evolve(_state, event) {
    switch (event.type) {
      case 'EmailReserved':
        return { status: 'reserved', email: event.data.email, userId: event.data.userId, reservedAt: event.data.reservedAt };
      default:
        return unreachable(event.type);
    }
  },
};
