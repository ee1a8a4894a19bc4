/**
 * The safety check every prompt and every answer passes: a length limit and a block list of terms
 * (matched case-insensitively, after Unicode compatibility normalization and with runs of whitespace
 * folded, so `B L O C K` spacing tricks aside, the obvious variants are caught). A refusal is a 422
 * problem that says which check failed but never echoes the text or the term.
 */
import { Problem } from '../http/problem';

export interface SafetyPolicy {
  readonly maxPromptChars: number;
  readonly maxOutputChars: number;
  readonly blockList: readonly string[];
}

export type SafetyVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: 'too_long' | 'blocked_term' };

export function normalizeForSafety(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ');
}

export class SafetyCheck {
  private readonly terms: readonly string[];

  constructor(readonly limits: SafetyPolicy) {
    this.terms = limits.blockList.map(normalizeForSafety).map((term) => term.trim()).filter((term) => term.length > 0);
  }

  judge(text: string, limit: number): SafetyVerdict {
    if (text.length > limit) return { ok: false, reason: 'too_long' };
    const normalized = normalizeForSafety(text);
    return this.terms.some((term) => normalized.includes(term)) ? { ok: false, reason: 'blocked_term' } : { ok: true };
  }

  judgePrompt(text: string): SafetyVerdict {
    return this.judge(text, this.limits.maxPromptChars);
  }

  judgeOutput(text: string): SafetyVerdict {
    return this.judge(text, this.limits.maxOutputChars);
  }
}

export function safetyRefusal(part: 'prompt' | 'output', reason: 'too_long' | 'blocked_term', limit?: number): Problem {
  const code = part === 'prompt' ? 'AI.PROMPT_REFUSED' : 'AI.OUTPUT_REFUSED';
  const detail =
    reason === 'too_long'
      ? `the ${part === 'prompt' ? 'prompt with its context' : 'answer'} is longer than the ${limit ?? 'allowed'} characters allowed`
      : `the ${part === 'prompt' ? 'prompt or its context' : 'answer'} contains a term this service does not allow`;
  return new Problem('unprocessable', code, detail, { reason });
}
