/** Request bodies of the account routes. Unknown fields are refused; lengths are bounded before hashing. */
import { z } from 'zod';

export const email = z.string().trim().toLowerCase().max(254).pipe(z.email());
/** Bounded here only so that a huge string never reaches argon2; the policy gives the real rule. */
const password = z.string().min(1).max(1024);
const displayName = z.string().trim().min(1).max(100).nullable();

export const signUpBody = z.strictObject({ email, password, displayName: displayName.optional() });
export const logInBody = z.strictObject({ email, password });
export const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(256) });
export const changeProfileBody = z.strictObject({ displayName });
export const changePasswordBody = z.strictObject({ currentPassword: password, newPassword: password });
