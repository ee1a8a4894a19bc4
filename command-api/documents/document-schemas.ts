/** Request bodies of the document routes: titles of 1..500 characters, content bounded in bytes. */
import { z } from 'zod';

export const title = z
  .string()
  .refine((value) => [...value].length >= 1 && [...value].length <= 500, { message: 'title must be 1 to 500 characters' });

export const createDocumentBody = z.strictObject({ id: z.uuid().optional(), title, content: z.string() });
export const updateDocumentBody = z.strictObject({ title, content: z.string() });
