/**
 * Password hashing: the parameters written into each hash, verification both ways, and that a dummy
 * verification (unknown account) costs about what a real one does.
 */
import { performance } from 'node:perf_hooks';
import { ARGON2_OPTIONS, createPasswordHasher, passwordNeedsRehash } from './passwords';

const hasher = createPasswordHasher();

async function medianMs(runs: number, task: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await task();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

describe('password hashing', () => {
  it('given the default options, when a password is hashed, then the hash is argon2id with m=19456, t=2, p=1', async () => {
    const hash = await hasher.hash('correct horse battery staple');

    const [, algorithm, version, parameters, salt, digest] = hash.split('$');
    expect({ algorithm, version, salt: salt!.length > 0, digest: digest!.length > 0 }).toEqual({ algorithm: 'argon2id', version: 'v=19', salt: true, digest: true });
    // node-argon2 writes the parameters as m,p,t; read them whatever their order.
    expect(Object.fromEntries(parameters!.split(',').map((pair) => pair.split('=')))).toEqual({ m: '19456', t: '2', p: '1' });
    expect(ARGON2_OPTIONS).toEqual({ type: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  });

  it('given a hash, when the same password is verified, then it matches, and another password does not', async () => {
    const hash = await hasher.hash('correct horse battery staple');

    await expect(hasher.verify(hash, 'correct horse battery staple')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'correct horse battery stapler')).resolves.toBe(false);
  });

  it('given two hashes of one password, then they differ (each has its own salt)', async () => {
    const [first, second] = await Promise.all([hasher.hash('same password'), hasher.hash('same password')]);

    expect(first).not.toBe(second);
  });

  it('given a hash made with other parameters, then it needs a rehash, and one made with ours does not', async () => {
    const weaker = createPasswordHasher({ ...ARGON2_OPTIONS, memoryCost: 8_192, timeCost: 1 });

    expect(passwordNeedsRehash(await weaker.hash('a password here'))).toBe(true);
    expect(passwordNeedsRehash(await hasher.hash('a password here'))).toBe(false);
  });

  it('when verifyDummy is called with any password, then it says no', async () => {
    await expect(hasher.verifyDummy('correct horse battery staple')).resolves.toBe(false);
    await expect(hasher.verifyDummy('')).resolves.toBe(false);
  });

  it('given a warmed-up hasher, then a dummy verification takes about as long as a real one', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    await hasher.verifyDummy('warm-up'); // the dummy hash is made on first use
    await hasher.verify(hash, 'warm-up');

    // Interleaved rounds of medians, so that a noisy moment on the machine weighs on both sides alike.
    const ratios: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      const real = await medianMs(5, () => hasher.verify(hash, 'wrong password'));
      const dummy = await medianMs(5, () => hasher.verifyDummy('wrong password'));
      ratios.push(dummy / real);
    }
    ratios.sort((a, b) => a - b);
    const ratio = ratios[1]!;

    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
