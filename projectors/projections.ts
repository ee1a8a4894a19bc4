/**
 * Every projection the projectors process runs. A capability adds its projection here; each gets its
 * own runner and checkpoint.
 */
import { accountsProjection } from './accounts/accounts-projection';
import { documentsProjection } from './documents/documents-projection';
import type { Projection } from './runtime/projection';
import { syncProjection } from './sync/sync-projection';
import { workspacesProjection } from './workspaces/workspaces-projection';

export const projections: readonly Projection[] = [accountsProjection, workspacesProjection, documentsProjection, syncProjection];

export const projectionNames: readonly string[] = projections.map((projection) => projection.name);
