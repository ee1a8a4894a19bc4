/**
 * Pages of the global log shared by the subscriptions of one store. Every projection runner of a
 * process tails the same log from (nearly always) the same checkpoint, so without this each page would
 * be read, sent and parsed once per runner. Here a page is read once: a read of the same page already
 * under way is joined, and the last pages read are kept for the runners that come for them a little
 * later (a slower projection finishing its batch).
 *
 * This is safe because a non-empty page never goes stale. A page after position P holds the events
 * after P up to its last one, and `readAll` only ever answers events below the oldest running
 * transaction, so no event can later appear among them: whenever it is read, that page is the same.
 * (It may be shorter than what a fresh read would answer; a subscription then simply reads again from
 * its last event. A page that a smaller limit cut short is not handed to a reader asking for more.)
 * Empty answers are never kept: "nothing yet" is stale the moment something is appended.
 */
import type { RecordedEvent } from './event-store';
import type { LogPosition } from './log-position';

export type PageReader = (fromPosition: LogPosition | 'start', limit: number) => Promise<RecordedEvent[]>;

export interface SharedPagesOptions {
  /** How many events the kept pages may hold together (default 5,000). */
  readonly maxKeptEvents?: number;
}

interface KeptPage {
  readonly events: RecordedEvent[];
  /** The limit it was read with: a page as long as that may have been cut short by it. */
  readonly limit: number;
}

export class SharedPages {
  private readonly inFlight = new Map<string, { readonly limit: number; readonly page: Promise<RecordedEvent[]> }>();
  /** Pages by the position they follow, with the limit they were read with; oldest first (Map keeps insertion order). */
  private readonly kept = new Map<string, KeptPage>();
  private keptEvents = 0;
  private readonly maxKeptEvents: number;

  constructor(
    private readonly readPage: PageReader,
    options: SharedPagesOptions = {},
  ) {
    this.maxKeptEvents = options.maxKeptEvents ?? 5_000;
  }

  /** The events after `fromPosition`, at most `limit` of them (possibly fewer than a fresh read would give). */
  async read(fromPosition: LogPosition | 'start', limit: number): Promise<RecordedEvent[]> {
    if (limit <= 0) return [];
    const key = fromPosition;
    const kept = this.kept.get(key);
    // A kept page serves any reader, unless it was cut short by a smaller limit than this reader's.
    if (kept && (kept.events.length >= limit || kept.events.length < kept.limit)) {
      return kept.events.length > limit ? kept.events.slice(0, limit) : kept.events;
    }
    const pending = this.inFlight.get(key);
    if (pending && pending.limit >= limit) {
      const page = await pending.page;
      return page.length > limit ? page.slice(0, limit) : page;
    }
    const page = this.readPage(fromPosition, limit);
    const entry = { limit, page };
    this.inFlight.set(key, entry);
    try {
      const events = await page;
      if (events.length > 0) this.keep(key, { events, limit });
      return events;
    } finally {
      if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
    }
  }

  private keep(key: string, page: KeptPage): void {
    const previous = this.kept.get(key);
    if (previous) {
      if (previous.events.length >= page.events.length) return;
      this.kept.delete(key);
      this.keptEvents -= previous.events.length;
    }
    this.kept.set(key, page);
    this.keptEvents += page.events.length;
    for (const [oldest, kept] of this.kept) {
      if (this.keptEvents <= this.maxKeptEvents || oldest === key) break;
      this.kept.delete(oldest);
      this.keptEvents -= kept.events.length;
    }
  }
}
