/**
 * The configured providers, built once from the configuration: which providers exist (a provider is
 * configured when its key is set), which models each may be asked for (the allow-list), and one
 * ProviderClient per provider with its own circuit breaker. With no provider configured the proxy is
 * disabled and the AI routes answer 503 `AI.DISABLED`. Keys stay inside the clients.
 */
import type { Config } from '../config/config';
import { CircuitBreaker } from './circuit-breaker';
import { ProviderClient } from './provider-client';
import { WIRES, type ProviderName } from './provider-wire';

export interface AiTarget {
  readonly provider: ProviderName;
  readonly model: string;
}

export interface AiGatewayOptions {
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

interface ConfiguredProvider {
  readonly client: ProviderClient;
  readonly models: readonly string[];
}

export const listOf = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export class AiGateway {
  private readonly providers = new Map<ProviderName, ConfiguredProvider>();
  readonly maxOutputTokens: number;
  private readonly paraphrase: AiTarget | undefined;
  private readonly inputPricePerMillion: number;
  private readonly outputPricePerMillion: number;

  constructor(config: Config, options: AiGatewayOptions = {}) {
    const configured: Array<[ProviderName, string | undefined, string, string | undefined]> = [
      ['openai', config.AI_OPENAI_API_KEY, config.AI_OPENAI_BASE_URL, config.AI_OPENAI_MODELS],
      ['anthropic', config.AI_ANTHROPIC_API_KEY, config.AI_ANTHROPIC_BASE_URL, config.AI_ANTHROPIC_MODELS],
    ];
    for (const [name, apiKey, baseUrl, models] of configured) {
      if (!apiKey) continue;
      const breaker = new CircuitBreaker({ failureThreshold: config.AI_CIRCUIT_FAILURE_THRESHOLD, openMs: config.AI_CIRCUIT_OPEN_SECONDS * 1000, ...(options.now ? { now: options.now } : {}) });
      const client = new ProviderClient({
        wire: WIRES[name],
        baseUrl,
        apiKey,
        timeoutMs: config.AI_TIMEOUT_MS,
        maxRetries: config.AI_MAX_RETRIES,
        retryBaseDelayMs: config.AI_RETRY_BASE_DELAY_MS,
        breaker,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      this.providers.set(name, { client, models: listOf(models) });
    }
    this.maxOutputTokens = config.AI_MAX_OUTPUT_TOKENS;
    this.inputPricePerMillion = config.AI_PRICE_INPUT_USD_PER_MILLION_TOKENS;
    this.outputPricePerMillion = config.AI_PRICE_OUTPUT_USD_PER_MILLION_TOKENS;
    this.paraphrase = this.resolveParaphraseTarget(config.AI_PARAPHRASE_MODEL);
  }

  get enabled(): boolean {
    return this.providers.size > 0;
  }

  /** The client for a provider and model the configuration allows; undefined otherwise. */
  client(target: AiTarget): ProviderClient | undefined {
    const provider = this.providers.get(target.provider);
    return provider && provider.models.includes(target.model) ? provider.client : undefined;
  }

  /** Which provider and model paraphrases: AI_PARAPHRASE_MODEL, else the first allowed model of the first provider. */
  paraphraseTarget(): AiTarget | undefined {
    return this.paraphrase;
  }

  costMicroUsd(tokensIn: number, tokensOut: number): number {
    return Math.ceil(tokensIn * this.inputPricePerMillion + tokensOut * this.outputPricePerMillion);
  }

  private resolveParaphraseTarget(setting: string | undefined): AiTarget | undefined {
    if (setting) {
      const [provider, ...rest] = setting.split(':');
      const target = { provider: provider as ProviderName, model: rest.join(':') };
      return this.client(target) ? target : undefined;
    }
    for (const [provider, configured] of this.providers) {
      const model = configured.models[0];
      if (model) return { provider, model };
    }
    return undefined;
  }
}
