/**
 * Password hashing: argon2id with OWASP's minimum parameters, set explicitly so that a library upgrade
 * never changes them silently. The parameters travel inside each hash string, so hashes made with
 * older parameters keep verifying after these change (see `passwordNeedsRehash`).
 *
 * `verifyDummy` exists for sign-in with an unknown account: it spends the same time as a real verify
 * and then says no, so response time does not tell whether an account exists.
 */
import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';

export interface Argon2Options {
  readonly type: typeof argon2.argon2id;
  /** KiB */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export const ARGON2_OPTIONS: Argon2Options = Object.freeze({
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** same cost as verify, always false: used when the account does not exist, so timing does not reveal it */
  verifyDummy(password: string): Promise<false>;
}

export function createPasswordHasher(options: Argon2Options = ARGON2_OPTIONS): PasswordHasher {
  const hashOptions = { ...options };
  let dummyHash: Promise<string> | undefined;
  // Made on first need, with the same parameters, from a secret nobody knows: nothing can match it.
  const dummy = (): Promise<string> => (dummyHash ??= argon2.hash(randomBytes(32).toString('base64url'), hashOptions));

  return {
    hash: (password) => argon2.hash(password, hashOptions),
    // A malformed stored hash throws: that is our fault, not a wrong password, and must not pass as one.
    verify: (hash, password) => argon2.verify(hash, password),
    async verifyDummy(password) {
      await argon2.verify(await dummy(), password);
      return false;
    },
  };
}

/** True when a stored hash was made with other parameters than these (re-hash it after a good sign-in). */
export function passwordNeedsRehash(hash: string, options: Argon2Options = ARGON2_OPTIONS): boolean {
  const { memoryCost, timeCost, parallelism } = options;
  return !hash.startsWith('$argon2id$') || argon2.needsRehash(hash, { memoryCost, timeCost, parallelism });
}
