import { emailReservationDecider } from '../email-reservations/email-reservation';
import { given } from '../../test/support/decider-spec';
import { userDecider, type UserEvent } from './user';

const at = '2026-11-22T10:00:00.000Z';
const signedUp: UserEvent = {
  type: 'UserSignedUp',
  data: { userId: 'u1', email: 'ann@example.com', displayName: 'Ann', passwordHash: '$argon2id$hash', signedUpAt: at },
};

describe('user', () => {
  it('signs up once', () => {
    given(userDecider)
      .when({ type: 'SignUp', userId: 'u1', email: 'ann@example.com', displayName: 'Ann', passwordHash: '$argon2id$hash', at })
      .then([signedUp]);
    given(userDecider, signedUp)
      .when({ type: 'SignUp', userId: 'u1', email: 'ann@example.com', displayName: 'Ann', passwordHash: '$argon2id$hash', at })
      .thenFails('USER.ALREADY_EXISTS');
  });

  it('changes the display name, and records nothing when it is unchanged', () => {
    given(userDecider, signedUp)
      .when({ type: 'ChangeDisplayName', displayName: 'Annie', at })
      .then([{ type: 'UserDisplayNameChanged', data: { userId: 'u1', displayName: 'Annie', changedAt: at } }]);
    given(userDecider, signedUp).when({ type: 'ChangeDisplayName', displayName: 'Ann', at }).thenNothing();
  });

  it('a missing user cannot change anything', () => {
    given(userDecider).when({ type: 'ChangePassword', passwordHash: 'x', at }).thenFails('USER.NOT_FOUND');
    given(userDecider).when({ type: 'RenewPasswordHash', passwordHash: 'x', replacing: 'y', at }).thenFails('USER.NOT_FOUND');
  });

  it('renews the hash a log-in verified, and records nothing when the password changed in between', () => {
    given(userDecider, signedUp)
      .when({ type: 'RenewPasswordHash', passwordHash: 'v1:sealed', replacing: '$argon2id$hash', at })
      .then([{ type: 'UserPasswordHashRenewed', data: { userId: 'u1', passwordHash: 'v1:sealed', renewedAt: at } }]);
    const changed: UserEvent = { type: 'UserPasswordChanged', data: { userId: 'u1', passwordHash: 'v1:newer', changedAt: at } };
    given(userDecider, signedUp, changed).when({ type: 'RenewPasswordHash', passwordHash: 'v1:sealed', replacing: '$argon2id$hash', at }).thenNothing();
  });
});

describe('email reservation', () => {
  const reserved = { type: 'EmailReserved', data: { email: 'ann@example.com', userId: 'u1', reservedAt: at } } as const;

  it('reserves a free address', () => {
    given(emailReservationDecider).when({ type: 'ReserveEmail', email: 'ann@example.com', userId: 'u1', at, reservedUserExists: false }).then([reserved]);
  });

  it('refuses an address whose user exists, or whose sign-up may still be under way', () => {
    given(emailReservationDecider, reserved)
      .when({ type: 'ReserveEmail', email: 'ann@example.com', userId: 'u2', at: '2026-11-22T11:00:00.000Z', reservedUserExists: true })
      .thenFails('USER.EMAIL_TAKEN');
    given(emailReservationDecider, reserved)
      .when({ type: 'ReserveEmail', email: 'ann@example.com', userId: 'u2', at: '2026-11-22T10:00:30.000Z', reservedUserExists: false })
      .thenFails('USER.EMAIL_TAKEN');
  });

  it('takes over a reservation whose sign-up died before creating the user', () => {
    given(emailReservationDecider, reserved)
      .when({ type: 'ReserveEmail', email: 'ann@example.com', userId: 'u2', at: '2026-11-22T10:05:00.000Z', reservedUserExists: false })
      .then([{ type: 'EmailReserved', data: { email: 'ann@example.com', userId: 'u2', reservedAt: '2026-11-22T10:05:00.000Z' } }]);
  });
});
