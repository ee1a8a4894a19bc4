/**
 * Finding an account by email on the command side, from the log itself (the reservation stream, then
 * the user stream), so it is never behind: "sign up, then log in at once" always works.
 */
import { emailReservationDecider, emailReservationStreamId } from '../../domain/email-reservations/email-reservation';
import { userDecider, userStreamId, type User } from '../../domain/users/user';
import type { EventStore } from '../../infra/event-store/event-store';
import { loadAggregate } from '../command-handling';

export type ActiveUser = Extract<User, { status: 'active' }>;

export async function findUserByEmail(store: EventStore, normalizedEmail: string): Promise<ActiveUser | undefined> {
  const reservation = await loadAggregate(store, emailReservationStreamId(normalizedEmail), emailReservationDecider);
  if (reservation.state.status !== 'reserved') return undefined;
  return findUser(store, reservation.state.userId);
}

export async function findUser(store: EventStore, userId: string): Promise<ActiveUser | undefined> {
  const { state } = await loadAggregate(store, userStreamId(userId), userDecider);
  return state.status === 'active' ? state : undefined;
}
