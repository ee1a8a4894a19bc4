/**
 * What a new password must be, after NIST SP 800-63B: 8 to 128 characters (code points, so that
 * emoji and accented letters count as one), no composition rules, and not a password attackers try
 * first: the common-password list that ships with zxcvbn-ts, or the account's own e-mail address.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export type PasswordPolicyResult =
  | { ok: true }
  | { ok: false; code: 'PASSWORD.TOO_SHORT' | 'PASSWORD.TOO_LONG' | 'PASSWORD.TOO_COMMON'; message: string };

let commonPasswords: ReadonlySet<string> | undefined;

function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase()));
  return commonPasswords.has(password.toLowerCase());
}

function isTheEmail(password: string, email: string | undefined): boolean {
  if (!email) return false;
  const candidate = password.toLowerCase();
  const address = email.trim().toLowerCase();
  const localPart = address.slice(0, Math.max(address.lastIndexOf('@'), 0));
  return candidate === address || (localPart !== '' && candidate === localPart);
}

export function checkPasswordPolicy(password: string, context?: { email?: string }): PasswordPolicyResult {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    return { ok: false, code: 'PASSWORD.TOO_SHORT', message: `the password must have at least ${PASSWORD_MIN_LENGTH} characters` };
  }
  if (length > PASSWORD_MAX_LENGTH) {
    return { ok: false, code: 'PASSWORD.TOO_LONG', message: `the password must have at most ${PASSWORD_MAX_LENGTH} characters` };
  }
  if (isTheEmail(password, context?.email)) {
    return { ok: false, code: 'PASSWORD.TOO_COMMON', message: 'the password must not be the e-mail address' };
  }
  if (isCommonPassword(password)) {
    return { ok: false, code: 'PASSWORD.TOO_COMMON', message: 'the password is too common: it is on lists that attackers try first' };
  }
  return { ok: true };
}
