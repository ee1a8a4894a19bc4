/**
 * Conditional requests on stream revisions. An ETag is strong and is the revision (`"7"`); If-Match
 * becomes the append's expected revision. `*` means "any current revision".
 */
import { Problem } from './problem';

export const etagOf = (revision: bigint) => `"${revision}"`;

export type IfMatch = { readonly kind: 'any' } | { readonly kind: 'revisions'; readonly revisions: readonly bigint[] };

/** Parses If-Match; undefined when absent. Weak or foreign tags can never match a strong comparison. */
export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return { kind: 'any' };
  if (value.length > 1024) throw new Problem('invalid', 'HTTP.INVALID_IF_MATCH', 'If-Match is too long');
  const revisions: bigint[] = [];
  for (const part of value.split(',')) {
    const tag = part.trim();
    const strong = /^"(\d{1,19})"$/.exec(tag);
    if (strong) revisions.push(BigInt(strong[1]!));
    else if (!/^(W\/)?"[^"]*"$/.test(tag)) throw new Problem('invalid', 'HTTP.INVALID_IF_MATCH', 'If-Match must be "*" or a list of entity tags');
  }
  return { kind: 'revisions', revisions };
}

/**
 * The expected revision an If-Match asks for, given the current one: the current revision when one of
 * its tags names it (or for `*`), else the first tag (which will fail as stale).
 */
export function expectedRevisionFor(ifMatch: IfMatch, current: bigint | 'no_stream'): bigint | 'no_stream' {
  if (ifMatch.kind === 'any') return current;
  if (typeof current === 'bigint' && ifMatch.revisions.includes(current)) return current;
  return ifMatch.revisions[0] ?? -1n;
}

/** Whether If-None-Match names this revision (so a GET may answer 304). */
export function ifNoneMatchHits(header: string | undefined, revision: bigint): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etagOf(revision));
}
