/**
 * Every projection the projectors process runs. A capability adds its projection here; each gets its
 * own runner and checkpoint.
 */
import { accountsProjection } from './accounts/accounts-projection';
import { aiPoliciesProjection } from './ai/ai-policies-projection';
import { aiUsageProjection } from './ai/ai-usage-projection';
import { attachmentsProjection } from './attachments/attachments-projection';
import { circlesProjection } from './circles/circles-projection';
import { documentsProjection } from './documents/documents-projection';
import { exportsProjection } from './exports/exports-projection';
import { graphProjection } from './graph/graph-projection';
import { notesProjection } from './notes/notes-projection';
import { notificationsProjection } from './notifications/notifications-projection';
import { prayerPointsProjection } from './prayer-points/prayer-points-projection';
import { remindersProjection } from './reminders/reminders-projection';
import type { Projection } from './runtime/projection';
import { syncProjection } from './sync/sync-projection';
import { workspacesProjection } from './workspaces/workspaces-projection';

export const projections: readonly Projection[] = [accountsProjection, workspacesProjection, documentsProjection, syncProjection, notesProjection, circlesProjection, prayerPointsProjection, graphProjection, attachmentsProjection, exportsProjection, aiUsageProjection, aiPoliciesProjection, remindersProjection, notificationsProjection];

export const projectionNames: readonly string[] = projections.map((projection) => projection.name);
