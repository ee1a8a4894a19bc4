/**
 * What the event log keeps of a password: its argon2id hash, sealed with the secret box. The log is
 * replicated, read by auditors, printed by `scriptorium history --data` and never rewritten, so a
 * hash written there in the clear could be taken away and attacked offline forever. Sealed, it is
 * useless without a key from SECRETS_KEY (or the `secret_keys` table when that is unset).
 *
 * The seal's context is `password-hash:<userId>`: a sealed hash copied into another account's stream
 * does not open there. Hashes written in the clear before sealing began (they start with `$argon2`)
 * still verify; they stay in the log as written, since the log is append-only, but the next good
 * log-in records the password anew, sealed (`needsRenewal`), as it does after a key rotation or a
 * change of argon2 parameters, so that old keys can be retired once their users have logged in.
 *
 * A stored value that does not open (tampered with, or its key dropped from SECRETS_KEY) throws, like
 * a malformed hash does in `PasswordHasher.verify`: that is the operator's fault, not a wrong
 * password, and must never pass as one.
 */
import { passwordNeedsRehash, type PasswordHasher } from './passwords';
import type { SecretBox } from './secret-box';

export interface PasswordCredentials {
  /** The value to record in the user's stream for `password`: the sealed argon2id hash. */
  create(userId: string, password: string): Promise<string>;
  /** Whether `password` matches `stored` (sealed, or a hash recorded in the clear before sealing began). */
  verify(userId: string, stored: string, password: string): Promise<boolean>;
  /** Same cost as `verify`, always false: for an address with no account, so timing does not tell. */
  verifyDummy(password: string): Promise<false>;
  /**
   * Whether `stored` (already verified) should be recorded anew after a good log-in: it is in the clear,
   * sealed with a key that no longer seals (a rotation), or hashed with other argon2 parameters.
   */
  needsRenewal(userId: string, stored: string): boolean;
}

/** Hashes recorded before sealing began are PHC strings (`$argon2id$v=19$...`); sealed values never start with `$`. */
const CLEAR_HASH_PREFIX = '$';

const contextFor = (userId: string): string => `password-hash:${userId}`;

export function sealedPasswordCredentials(hasher: PasswordHasher, secrets: SecretBox): PasswordCredentials {
  return {
    async create(userId, password) {
      return secrets.seal(await hasher.hash(password), contextFor(userId));
    },
    async verify(userId, stored, password) {
      const hash = stored.startsWith(CLEAR_HASH_PREFIX) ? stored : secrets.open(stored, contextFor(userId));
      return hasher.verify(hash, password);
    },
    verifyDummy: (password) => hasher.verifyDummy(password),
    needsRenewal(userId, stored) {
      if (stored.startsWith(CLEAR_HASH_PREFIX) || secrets.sealedWithOlderKey(stored)) return true;
      return passwordNeedsRehash(secrets.open(stored, contextFor(userId)));
    },
  };
}
