/**
 * The AI proxy's routes built from the configuration: the providers (with their circuit breakers),
 * the PostgreSQL-backed limits and the safety check. What service.ts calls.
 */
import type { Knex } from 'knex';
import { AiGateway, listOf } from '../../infra/ai/ai-gateway';
import { SafetyCheck } from '../../infra/ai/safety';
import { UsageLimits } from '../../infra/ai/usage-limits';
import type { Config } from '../../infra/config/config';
import type { EventStore } from '../../infra/event-store/event-store';
import type { RouteSpec } from '../../infra/http/routes';
import { aiAccess } from './ai-access';
import { aiRoutes } from './ai-routes';

export function aiProxyRoutes(config: Config, deps: { store: EventStore; db: Knex; clock: () => Date }): RouteSpec[] {
  return aiRoutes({
    store: deps.store,
    clock: deps.clock,
    gateway: new AiGateway(config),
    access: aiAccess({ store: deps.store, db: deps.db }),
    limits: new UsageLimits(
      deps.db,
      {
        requestsPerUserPerMinute: config.AI_REQUESTS_PER_USER_PER_MINUTE,
        tokensPerUserPerDay: config.AI_TOKENS_PER_USER_PER_DAY,
        dailySpendingCapMicroUsd: Math.round(config.AI_DAILY_SPENDING_CAP_USD * 1e6),
      },
      deps.clock,
    ),
    safety: new SafetyCheck({ maxPromptChars: config.AI_MAX_PROMPT_CHARS, maxOutputChars: config.AI_MAX_OUTPUT_CHARS, blockList: listOf(config.AI_BLOCKLIST) }),
  });
}
