/**
 * What is sent to the model: the caller's prompt as the user message, and the context (documents and
 * notes the caller may read) in the system message, each item fenced and labelled so the model can
 * tell them apart. Paraphrase prompts are built from the passage's KJV text and a named style.
 */
import type { ChatRequest } from '../../infra/ai/provider-wire';
import type { ContextItem } from './ai-access';

export const PARAPHRASE_STYLES = ['modern', 'simple', 'formal', 'children'] as const;
export type ParaphraseStyle = (typeof PARAPHRASE_STYLES)[number];

const STYLE_GUIDANCE: Record<ParaphraseStyle, string> = {
  modern: 'in clear, contemporary English',
  simple: 'in short, simple sentences with everyday words',
  formal: 'in dignified, formal English',
  children: 'so that a child of eight can follow it',
};

export function generateChat(model: string, prompt: string, context: readonly ContextItem[], maxTokens: number): ChatRequest {
  if (context.length === 0) return { model, prompt, maxTokens };
  const sections = context.map((item) => `<${item.kind} title=${JSON.stringify(item.title)}>\n${item.content}\n</${item.kind}>`);
  const system = `Use the following material from the user's ${context.some((item) => item.kind === 'note') ? 'documents and notes' : 'documents'} as context when you answer.\n\n${sections.join('\n\n')}`;
  return { model, system, prompt, maxTokens };
}

export function paraphraseChat(model: string, reference: string, original: string, style: ParaphraseStyle, maxTokens: number): ChatRequest {
  return {
    model,
    system: `You paraphrase Bible passages faithfully, ${STYLE_GUIDANCE[style]}. Keep the meaning; add no commentary. Answer with the paraphrase only.`,
    prompt: `${reference} (King James Version):\n${original}`,
    maxTokens,
  };
}

/** Everything the safety check reads of a request: instructions, context and prompt. */
export const chatText = (chat: ChatRequest) => (chat.system ? `${chat.system}\n\n${chat.prompt}` : chat.prompt);

/** A rough count (four characters a token) for when a provider reports none, as when a stream is cut. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);
