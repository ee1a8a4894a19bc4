/** The password policy: length in code points, common passwords, and the account's own e-mail. */
import { checkPasswordPolicy } from './password-policy';

describe('password policy', () => {
  it('given 7 characters, then it is too short; given 8, then it is fine', () => {
    expect(checkPasswordPolicy('vq3#kzp')).toMatchObject({ ok: false, code: 'PASSWORD.TOO_SHORT' });
    expect(checkPasswordPolicy('vq3#kzpw')).toEqual({ ok: true });
  });

  it('given 128 characters, then it is fine; given 129, then it is too long', () => {
    expect(checkPasswordPolicy('x7'.repeat(64))).toEqual({ ok: true });
    expect(checkPasswordPolicy('x7'.repeat(64) + 'q')).toMatchObject({ ok: false, code: 'PASSWORD.TOO_LONG' });
  });

  it('given characters outside the BMP, then each counts as one (code points, not UTF-16 units)', () => {
    const fourEmoji = '🔐🦉🌒🪐'; // 8 UTF-16 units
    const eightEmoji = '🔐🦉🌒🪐🧭🪴🫖🛶';
    const oneHundredTwentyEightEmoji = '🔐🦉🌒🪐🧭🪴🫖🛶'.repeat(16); // 256 UTF-16 units

    expect(checkPasswordPolicy(fourEmoji)).toMatchObject({ ok: false, code: 'PASSWORD.TOO_SHORT' });
    expect(checkPasswordPolicy(eightEmoji)).toEqual({ ok: true });
    expect(checkPasswordPolicy(oneHundredTwentyEightEmoji)).toEqual({ ok: true });
  });

  it('given no upper case, digit or symbol, then it is still fine (no composition rules)', () => {
    expect(checkPasswordPolicy('quiet lantern meadow')).toEqual({ ok: true });
  });

  it.each(['password', 'iloveyou', 'qwertyuiop', '12345678', 'PassWord1', 'SUNSHINE'])(
    'given the common password %s in any case, then it is too common',
    (password) => {
      expect(checkPasswordPolicy(password)).toMatchObject({ ok: false, code: 'PASSWORD.TOO_COMMON' });
    },
  );

  it('given the e-mail address or its local part, in any case, then it is refused', () => {
    const context = { email: 'Ada.Lovelace@example.org' };

    expect(checkPasswordPolicy('ada.lovelace@example.org', context)).toMatchObject({ ok: false, code: 'PASSWORD.TOO_COMMON' });
    expect(checkPasswordPolicy('ADA.LOVELACE', context)).toMatchObject({ ok: false, code: 'PASSWORD.TOO_COMMON' });
    expect(checkPasswordPolicy('ada.lovelace!', context)).toEqual({ ok: true });
  });

  it('given a failure, then it carries a message for the client', () => {
    const result = checkPasswordPolicy('short');

    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/8/);
  });
});
