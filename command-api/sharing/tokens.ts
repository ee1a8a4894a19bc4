/**
 * Bearer tokens for invites and public links: 256 random bits from the operating system, base64url.
 * Only their SHA-256 is ever recorded, so the log and the read models cannot hand one out again.
 * An invite token is prefixed with the circle's id (not a secret) so that accepting it can go straight
 * to the circle's stream, with no lookup table.
 */
import { createHash, randomBytes } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET_BYTES = 32;

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export function newSecretToken(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function newInviteToken(circleId: string): string {
  const prefix = Buffer.from(circleId.replace(/-/g, ''), 'hex');
  return Buffer.concat([prefix, randomBytes(SECRET_BYTES)]).toString('base64url');
}

/** The circle an invite token names, or undefined if it is not shaped like one of ours. */
export function circleOfInviteToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{64}$/.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length !== 16 + SECRET_BYTES) return undefined;
  const hex = bytes.subarray(0, 16).toString('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return UUID.test(id) ? id : undefined;
}
