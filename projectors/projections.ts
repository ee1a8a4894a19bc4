/**
 * Every projection the projectors process runs. A capability adds its projection here; each gets its
 * own runner and checkpoint.
 */
import type { Projection } from './runtime/projection';

export const projections: readonly Projection[] = [];
