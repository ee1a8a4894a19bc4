/**
 * Labels (a note's tags and topics) as they are stored and searched: NFC, trimmed, one space between
 * words, lower case. The command side normalizes what it records with this, the query side what it
 * filters by, so "Grace " finds notes tagged "grace".
 */
export const normalizeLabel = (value: string): string => value.normalize('NFC').trim().replace(/\s+/gu, ' ').toLowerCase();

/** Normalized and de-duplicated, first occurrence kept. */
export const normalizeLabels = (values: readonly string[] | undefined): string[] => [...new Set((values ?? []).map(normalizeLabel))];
