/**
 * Password credentials as the log keeps them: sealed argon2id hashes bound to their account, hashes
 * recorded in the clear still verifying, and which stored values a good log-in should record anew.
 */
import { sealedPasswordCredentials } from './password-credentials';
import { ARGON2_OPTIONS, createPasswordHasher } from './passwords';
import { generateSecretKey, SecretBox, SecretBoxError } from './secret-box';

const hasher = createPasswordHasher();
const oldKey = generateSecretKey();
const newKey = generateSecretKey();
const beforeRotation = sealedPasswordCredentials(hasher, new SecretBox([oldKey]));
const afterRotation = sealedPasswordCredentials(hasher, new SecretBox([newKey, oldKey]));

describe('password credentials', () => {
  it('records a sealed hash that verifies for its account only, and refuses a wrong password', async () => {
    const stored = await beforeRotation.create('user-1', 'a fine passphrase');
    expect(stored.startsWith('v1:')).toBe(true);
    expect(stored).not.toContain('argon2');
    expect(await beforeRotation.verify('user-1', stored, 'a fine passphrase')).toBe(true);
    expect(await beforeRotation.verify('user-1', stored, 'another passphrase')).toBe(false);
    await expect(beforeRotation.verify('user-2', stored, 'a fine passphrase')).rejects.toThrow(SecretBoxError);
  });

  it('verifies a hash recorded in the clear, and asks for it to be recorded anew', async () => {
    const clear = await hasher.hash('a fine passphrase');
    expect(await beforeRotation.verify('user-1', clear, 'a fine passphrase')).toBe(true);
    expect(beforeRotation.needsRenewal('user-1', clear)).toBe(true);
  });

  it('asks for renewal after a key rotation, and not for a value sealed with the current key and parameters', async () => {
    const sealedBefore = await beforeRotation.create('user-1', 'a fine passphrase');
    expect(beforeRotation.needsRenewal('user-1', sealedBefore)).toBe(false);
    expect(await afterRotation.verify('user-1', sealedBefore, 'a fine passphrase')).toBe(true);
    expect(afterRotation.needsRenewal('user-1', sealedBefore)).toBe(true);
    expect(afterRotation.needsRenewal('user-1', await afterRotation.create('user-1', 'a fine passphrase'))).toBe(false);
  });

  it('asks for renewal of a hash made with weaker argon2 parameters', async () => {
    const weaker = sealedPasswordCredentials(createPasswordHasher({ ...ARGON2_OPTIONS, memoryCost: 8_192, timeCost: 1 }), new SecretBox([newKey]));
    const stored = await weaker.create('user-1', 'a fine passphrase');
    expect(afterRotation.needsRenewal('user-1', stored)).toBe(true);
  });
});
