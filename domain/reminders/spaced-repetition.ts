/**
 * Spaced repetition with FSRS (ts-fsrs, pure computation): a card's memory state after each rating,
 * as plain JSON so that it travels in events. Fuzz is off and so are the short-term (minutes-long)
 * learning steps: a note resurfaces after whole days, and the same review log always yields the same
 * schedule, which is what lets `replayReviews` recompute any reminder's schedule from its log.
 */
import { createEmptyCard, fsrs, Rating, type Card, type FSRS, type Grade } from 'ts-fsrs';

export type ReviewRating = 'again' | 'hard' | 'good' | 'easy';
export const REVIEW_RATINGS: readonly ReviewRating[] = ['again', 'hard', 'good', 'easy'];

export const DEFAULT_TARGET_RETENTION = 0.9;
export const MIN_TARGET_RETENTION = 0.7;
export const MAX_TARGET_RETENTION = 0.97;

/** FSRS's card, with times as ISO strings. */
export interface SpacedCard {
  readonly due: string;
  readonly stability: number;
  readonly difficulty: number;
  readonly scheduledDays: number;
  readonly learningSteps: number;
  readonly reps: number;
  readonly lapses: number;
  /** 0 new, 1 learning, 2 review, 3 relearning. */
  readonly state: number;
  readonly lastReview: string | null;
}

export interface Review {
  readonly rating: ReviewRating;
  readonly reviewedAt: string;
  readonly targetRetention: number;
}

const GRADES: Record<ReviewRating, Grade> = { again: Rating.Again, hard: Rating.Hard, good: Rating.Good, easy: Rating.Easy };

function schedulerFor(targetRetention: number): FSRS {
  return fsrs({ request_retention: targetRetention, enable_fuzz: false, enable_short_term: false });
}

function toJson(card: Card): SpacedCard {
  return {
    due: card.due.toISOString(),
    stability: card.stability,
    difficulty: card.difficulty,
    scheduledDays: card.scheduled_days,
    learningSteps: card.learning_steps,
    reps: card.reps,
    lapses: card.lapses,
    state: card.state,
    lastReview: card.last_review ? card.last_review.toISOString() : null,
  };
}

function fromJson(card: SpacedCard, reviewedAt: Date): Card {
  const lastReview = card.lastReview ? new Date(card.lastReview) : undefined;
  const elapsed = lastReview ? Math.max(0, Math.floor((reviewedAt.getTime() - lastReview.getTime()) / 86_400_000)) : 0;
  return {
    due: new Date(card.due),
    stability: card.stability,
    difficulty: card.difficulty,
    elapsed_days: elapsed,
    scheduled_days: card.scheduledDays,
    learning_steps: card.learningSteps,
    reps: card.reps,
    lapses: card.lapses,
    state: card.state,
    ...(lastReview ? { last_review: lastReview } : {}),
  };
}

/** A card never reviewed, created at `at`. */
export function newCard(at: string): SpacedCard {
  return toJson(createEmptyCard(new Date(at)));
}

/** The card after one review. */
export function reviewCard(card: SpacedCard, review: Review): SpacedCard {
  const at = new Date(review.reviewedAt);
  return toJson(schedulerFor(review.targetRetention).next(fromJson(card, at), at, GRADES[review.rating]).card);
}

/** The card a review log leads to, from a card created at `createdAt`: the schedule, recomputed. */
export function replayReviews(createdAt: string, reviews: readonly Review[]): SpacedCard {
  return reviews.reduce(reviewCard, newCard(createdAt));
}
