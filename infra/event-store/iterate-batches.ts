/**
 * Event-by-event iteration of a batch-oriented subscription: what every LogSubscription's
 * `[Symbol.asyncIterator]` is, whatever feeds its batches.
 */
import type { LogSubscription, RecordedEvent } from './event-store';

export async function* eventsOf(subscription: Pick<LogSubscription, 'nextBatch' | 'closed'>, pageSize: number): AsyncGenerator<RecordedEvent> {
  while (!subscription.closed) {
    const batch = await subscription.nextBatch(pageSize);
    for (const event of batch) {
      if (subscription.closed) return;
      yield event;
    }
  }
}
