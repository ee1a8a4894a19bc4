/**
 * The AI proxy: POST /api/ai/generate (a prompt with optional context, answered as JSON or relayed
 * token by token as Server-Sent Events) and POST /api/ai/paraphrase (a passage's KJV text, paraphrased).
 * Both name the workspace whose AI policy they use. Every request takes one path:
 *
 *   validate -> member of the workspace (404) -> context readable (404) -> every workspace involved
 *   allows the proxy (403) -> a provider and model configured (503 / 422) -> per-user and deployment
 *   limits (429 / 503) -> safety check of the prompt (422) -> the provider call (timeout, retries,
 *   circuit breaker: 503 when it fails) -> safety check of the answer (422) -> usage recorded as an
 *   event (never the prompt or the answer) -> the answer, with the event's log position as
 *   X-Consistency-Token.
 *
 * A client that disconnects aborts the provider call (streamed or not); the call is still recorded,
 * as `cancelled`, with the tokens seen so far.
 */
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { aiCallDecider, aiCallStreamId, type AiCallOutcome, type AiCallPurpose } from '../../domain/ai/ai-call';
import { normalizeReference } from '../../domain/scripture/references';
import type { AiGateway, AiTarget } from '../../infra/ai/ai-gateway';
import { CircuitOpenError } from '../../infra/ai/circuit-breaker';
import { ProviderCallCancelled, ProviderFailure, type ProviderClient } from '../../infra/ai/provider-client';
import { PROVIDER_NAMES, type ChatRequest } from '../../infra/ai/provider-wire';
import { safetyRefusal, type SafetyCheck } from '../../infra/ai/safety';
import { formatSse } from '../../infra/ai/sse';
import type { UsageLimits } from '../../infra/ai/usage-limits';
import type { EventStore } from '../../infra/event-store/event-store';
import type { LogPosition } from '../../infra/event-store/log-position';
import { Problem } from '../../infra/http/problem';
import type { RouteSpec } from '../../infra/http/routes';
import { parseRequest } from '../../infra/http/validation';
import { verseText } from '../../infra/scripture/scripture-text';
import { handleCommand } from '../command-handling';
import { actorOf, commandContext, CONSISTENCY_HEADER } from '../respond';
import type { AiAccess } from './ai-access';
import { chatText, estimateTokens, generateChat, PARAPHRASE_STYLES, paraphraseChat } from './ai-prompts';

export interface AiRoutesDeps {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly gateway: AiGateway;
  readonly access: AiAccess;
  readonly limits: UsageLimits;
  readonly safety: SafetyCheck;
}

export const MAX_CONTEXT_IDS = 20;

export const generateBody = z.strictObject({
  workspaceId: z.uuid(),
  provider: z.enum(PROVIDER_NAMES),
  model: z.string().trim().min(1).max(200),
  prompt: z.string().min(1).max(200_000),
  contextIds: z.array(z.uuid()).max(MAX_CONTEXT_IDS).optional(),
  stream: z.boolean().optional(),
});

export const paraphraseBody = z.strictObject({
  workspaceId: z.uuid(),
  reference: z.string().trim().min(1).max(120),
  style: z.enum(PARAPHRASE_STYLES).default('modern'),
});

interface CallRecord {
  readonly callId: string;
  readonly purpose: AiCallPurpose;
  readonly workspaceId: string;
  readonly target: AiTarget;
  readonly startedAt: number;
}

export function aiRoutes(deps: AiRoutesDeps): RouteSpec[] {
  const { gateway, access, limits, safety, clock } = deps;

  /** The configured client for a provider and model, or the problem that says why there is none. */
  function clientFor(target: AiTarget): ProviderClient {
    if (!gateway.enabled) throw disabled();
    const client = gateway.client(target);
    if (!client) throw new Problem('unprocessable', 'AI.MODEL_NOT_ALLOWED', `${target.provider} ${target.model} is not a provider and model this service offers`);
    return client;
  }

  /** Records the call's usage as its own event and counts its tokens and cost; answers the log position. */
  async function record(req: Request, call: CallRecord, outcome: AiCallOutcome, tokensIn: number, tokensOut: number): Promise<LogPosition | undefined> {
    const userId = actorOf(req);
    const now = clock();
    const costMicroUsd = gateway.costMicroUsd(tokensIn, tokensOut);
    const usage = {
      callId: call.callId,
      userId,
      workspaceId: call.workspaceId,
      purpose: call.purpose,
      provider: call.target.provider,
      model: call.target.model,
      tokensIn,
      tokensOut,
      latencyMs: Math.max(0, Math.round(performance.now() - call.startedAt)),
      outcome,
      costMicroUsd,
    };
    const [result] = await Promise.all([
      handleCommand(deps.store, aiCallStreamId(call.callId), aiCallDecider, { type: 'RecordAiCall', usage, at: now.toISOString() }, commandContext(req, now), { expectedRevision: 'no_stream' }),
      limits.record(userId, tokensIn + tokensOut, costMicroUsd),
    ]);
    return result.position;
  }

  /** Aborts when the client goes away before its answer has been sent. */
  function clientGone(res: Response): AbortController {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    return controller;
  }

  function checkPrompt(chat: ChatRequest): void {
    const verdict = safety.judgePrompt(chatText(chat));
    if (!verdict.ok) throw safetyRefusal('prompt', verdict.reason, safety.limits.maxPromptChars);
  }

  /** One non-streamed call: the answer, safety-checked, with the call recorded whatever happens. */
  async function completeCall(req: Request, res: Response, call: CallRecord, client: ProviderClient, chat: ChatRequest) {
    const disconnect = clientGone(res);
    try {
      const answer = await client.complete(chat, disconnect.signal);
      const verdict = safety.judgeOutput(answer.text);
      if (!verdict.ok) {
        await record(req, call, 'refused', answer.tokensIn, answer.tokensOut);
        throw safetyRefusal('output', verdict.reason, safety.limits.maxOutputChars);
      }
      const position = await record(req, call, 'succeeded', answer.tokensIn, answer.tokensOut);
      return { answer, position };
    } catch (error) {
      if (error instanceof Problem) throw error;
      const outcome = outcomeOf(error);
      await record(req, call, outcome, outcome === 'cancelled' ? estimateTokens(chatText(chat)) : 0, 0);
      throw problemOf(error);
    }
  }

  async function generate(req: Request, res: Response) {
    const body = parseRequest(generateBody, req.body, 'body');
    // A stream cannot be stored for replay: a retry would get an empty answer. Say so instead.
    if (body.stream && req.header('idempotency-key') !== undefined) {
      throw new Problem('invalid', 'AI.STREAM_NOT_REPLAYABLE', 'a streamed answer cannot be replayed: send Idempotency-Key only without stream: true');
    }
    const actorId = actorOf(req);
    const workspaceId = body.workspaceId.toLowerCase();
    // Looked up together; membership is judged first, so a stranger learns nothing from the context ids.
    const contextLookup = access.readableContext(body.contextIds ?? [], actorId);
    contextLookup.catch(() => undefined);
    await access.assertMember(workspaceId, actorId);
    const context = await contextLookup;
    await access.assertProxyAllowed([workspaceId, ...context.flatMap((item) => (item.workspaceId ? [item.workspaceId] : []))]);
    const target: AiTarget = { provider: body.provider, model: body.model };
    const client = clientFor(target);
    await limits.admit(actorId);
    const chat = generateChat(body.model, body.prompt, context, gateway.maxOutputTokens);
    const call: CallRecord = { callId: randomUUID(), purpose: 'generate', workspaceId, target, startedAt: performance.now() };
    try {
      checkPrompt(chat);
    } catch (refusal) {
      await record(req, call, 'refused', 0, 0);
      throw refusal;
    }
    if (body.stream) return streamCall(req, res, call, client, chat);
    const { answer, position } = await completeCall(req, res, call, client, chat);
    if (position) res.setHeader(CONSISTENCY_HEADER, position);
    res.status(200).json({
      id: call.callId,
      provider: target.provider,
      model: target.model,
      text: answer.text,
      usage: { tokensIn: answer.tokensIn, tokensOut: answer.tokensOut },
    });
  }

  /**
   * Relays the answer as Server-Sent Events: `start` {id, provider, model}, then `token` {text} as
   * each piece arrives, then `done` {id, usage, consistencyToken}, or `error` {a problem} when the
   * provider fails or the answer is refused mid-way. Until the provider has accepted the call nothing is
   * sent, so a failure before that is an ordinary problem answer.
   */
  async function streamCall(req: Request, res: Response, call: CallRecord, client: ProviderClient, chat: ChatRequest) {
    const disconnect = clientGone(res);
    let stream;
    try {
      stream = await client.openStream(chat, disconnect.signal);
    } catch (error) {
      const outcome = outcomeOf(error);
      await record(req, call, outcome, 0, 0);
      throw problemOf(error);
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(formatSse('start', { id: call.callId, provider: call.target.provider, model: call.target.model }));
    let text = '';
    let tokensIn: number | undefined;
    let tokensOut: number | undefined;
    let outcome: AiCallOutcome = 'succeeded';
    let failure: Problem | undefined;
    try {
      for await (const chunk of stream) {
        if (chunk.type === 'usage') {
          tokensIn = chunk.tokensIn ?? tokensIn;
          tokensOut = chunk.tokensOut ?? tokensOut;
          continue;
        }
        text += chunk.text;
        const verdict = safety.judgeOutput(text);
        if (!verdict.ok) {
          // Leaving the loop ends the upstream request; the refused piece is never relayed.
          outcome = 'refused';
          failure = safetyRefusal('output', verdict.reason, safety.limits.maxOutputChars);
          break;
        }
        res.write(formatSse('token', { text: chunk.text }));
      }
    } catch (error) {
      outcome = outcomeOf(error);
      failure = problemOf(error);
    }
    const position = await record(req, call, outcome, tokensIn ?? estimateTokens(chatText(chat)), tokensOut ?? estimateTokens(text));
    if (outcome === 'cancelled' || res.writableEnded || res.destroyed) return;
    if (failure) res.write(formatSse('error', problemJson(failure)));
    else res.write(formatSse('done', { id: call.callId, usage: { tokensIn: tokensIn ?? null, tokensOut: tokensOut ?? null }, consistencyToken: position ?? null }));
    res.end();
  }

  async function paraphrase(req: Request, res: Response) {
    const body = parseRequest(paraphraseBody, req.body, 'body');
    const actorId = actorOf(req);
    const workspaceId = body.workspaceId.toLowerCase();
    await access.assertMember(workspaceId, actorId);
    await access.assertProxyAllowed([workspaceId]);
    if (!gateway.enabled) throw disabled();
    const target = gateway.paraphraseTarget();
    if (!target) throw new Problem('unavailable', 'AI.PARAPHRASE_UNAVAILABLE', 'no model is configured for paraphrasing');
    const client = clientFor(target);
    const reference = normalizeReference(body.reference);
    if (!reference) throw new Problem('unprocessable', 'SCRIPTURE.INVALID_REFERENCE', 'not a single Bible reference this service knows');
    const original = verseText(reference)
      .map((verse) => verse.text)
      .join(' ');
    await limits.admit(actorId);
    const chat = paraphraseChat(target.model, reference, original, body.style, gateway.maxOutputTokens);
    const call: CallRecord = { callId: randomUUID(), purpose: 'paraphrase', workspaceId, target, startedAt: performance.now() };
    try {
      checkPrompt(chat);
    } catch (refusal) {
      await record(req, call, 'refused', 0, 0);
      throw refusal;
    }
    const { answer, position } = await completeCall(req, res, call, client, chat);
    if (position) res.setHeader(CONSISTENCY_HEADER, position);
    res.status(200).json({
      id: call.callId,
      reference,
      style: body.style,
      original,
      paraphrase: answer.text.trim(),
      provider: target.provider,
      model: target.model,
      usage: { tokensIn: answer.tokensIn, tokensOut: answer.tokensOut },
    });
  }

  return [
    {
      method: 'post',
      path: '/api/ai/generate',
      access: 'user',
      summary: "Ask a provider through the service's AI proxy (optionally streamed as Server-Sent Events)",
      body: generateBody,
      responses: { 200: '{id, provider, model, text, usage}; with stream: true, text/event-stream of start, token, done (or error) events' },
      handler: generate,
    },
    {
      method: 'post',
      path: '/api/ai/paraphrase',
      access: 'user',
      summary: 'Paraphrase a Bible passage (its KJV text looked up here) through the AI proxy',
      body: paraphraseBody,
      responses: { 200: '{id, reference, style, original, paraphrase, provider, model, usage}' },
      handler: paraphrase,
    },
  ];
}

function disabled(): Problem {
  return new Problem('unavailable', 'AI.DISABLED', 'the AI proxy is not configured on this service; use your own key in the app');
}

function outcomeOf(error: unknown): AiCallOutcome {
  if (error instanceof ProviderCallCancelled) return 'cancelled';
  if (error instanceof CircuitOpenError) return 'unavailable';
  return 'provider_failed';
}

/** Provider trouble as our problem: always 503, with the reason in the code and never the provider's words. */
function problemOf(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof CircuitOpenError) {
    return new Problem('unavailable', 'AI.PROVIDER_UNAVAILABLE', 'the AI provider is failing; try again later', undefined, { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) });
  }
  if (error instanceof ProviderCallCancelled) return new Problem('invalid', 'HTTP.REQUEST_ABORTED', 'the request was aborted');
  if (error instanceof ProviderFailure) {
    const retryAfter = error.retryAfterMs === undefined ? undefined : { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) };
    switch (error.reason) {
      case 'rate_limited':
        return new Problem('unavailable', 'AI.PROVIDER_BUSY', 'the AI provider is refusing more requests for now', undefined, retryAfter);
      case 'timeout':
        return new Problem('unavailable', 'AI.PROVIDER_TIMEOUT', 'the AI provider did not answer in time');
      default:
        return new Problem('unavailable', 'AI.PROVIDER_FAILED', 'the AI provider could not answer');
    }
  }
  // Anything else (a bug of ours) goes to the problem handler as the 500 it is.
  throw error;
}

function problemJson(problem: Problem) {
  return { type: `https://scriptorium.dev/problems/${problem.code.toLowerCase().replace(/[._]/g, '-')}`, title: 'AI answer stopped', status: problem.kind === 'unprocessable' ? 422 : 503, detail: problem.message, code: problem.code, ...(problem.details ?? {}) };
}
