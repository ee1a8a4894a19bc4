/**
 * Request bodies of the note routes, and how their labels are normalized. Titles are 1..500 characters
 * (as documents'), content is bounded in bytes by the handler, `dateTime` is ISO-8601 with a zone
 * (answered back in UTC). Tags and topics are trimmed, inner whitespace collapsed, Unicode-normalized
 * (NFC) and lower-cased, then de-duplicated keeping the first: "Grace " and "grace" are one tag.
 */
import { z } from 'zod';
import { normalizeLabel } from '../../infra/text/labels';
import { title } from '../documents/document-schemas';

export const MAX_TAGS = 50;
export const MAX_TAG_CHARACTERS = 64;
export const MAX_TOPICS = 20;
export const MAX_TOPIC_CHARACTERS = 100;
/** References one scripture review may add or remove. */
export const MAX_REVIEWED_REFERENCES = 100;


const label = (max: number) =>
  z.string().refine((value) => {
    const length = [...normalizeLabel(value)].length;
    return length >= 1 && length <= max;
  }, `must be 1 to ${max} characters (after trimming)`);


const dateTime = z.iso.datetime({ offset: true });
const tags = z.array(label(MAX_TAG_CHARACTERS)).max(MAX_TAGS);
const topics = z.array(label(MAX_TOPIC_CHARACTERS)).max(MAX_TOPICS);

export const createNoteBody = z.strictObject({ id: z.uuid().optional(), title, content: z.string(), dateTime, tags: tags.optional(), topics: topics.optional() });
/** A replacement: tags and topics left out mean none. */
export const updateNoteBody = z.strictObject({ title, content: z.string(), dateTime, tags: tags.optional(), topics: topics.optional() });

const reference = z.string().min(1).max(200);
export const reviewScriptureBody = z.strictObject({
  add: z.array(reference).max(MAX_REVIEWED_REFERENCES).optional(),
  remove: z.array(reference).max(MAX_REVIEWED_REFERENCES).optional(),
});
