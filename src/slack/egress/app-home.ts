/**
 * The App Home tab of one user (DESIGN.md §8): the pending approvals they may decide, their active
 * runs, and their recent results. Everything is read from the store through the harness, so the
 * tab shows what is persisted (the buttons on it name gates; the click handler re-checks
 * authority). Rendering and its limits belong to `renderAppHome`.
 */
import type { Harness } from '../../orchestrator/harness.ts';
import { TERMINAL_STATUSES, type Gate, type RunDoc, type RunIndexEntry, type RunState } from '../../store/run-schema.ts';
import { canDecide, renderAppHome } from '../blocks/index.ts';
import type { SlackPort } from '../port.ts';

/** Recent results shown (the renderer cuts at the same number). */
export const APP_HOME_RECENT = 10;
/** Index entries scanned for the viewer's recent results, newest first (bounds the reads). */
export const APP_HOME_RECENT_SCAN = 200;

/** Input of {@link publishAppHome} and {@link buildAppHome}. */
export interface AppHomeRequest {
  harness: Harness;
  port: SlackPort;
  userId: string;
  now: number;
}

async function load(harness: Harness, entry: RunIndexEntry): Promise<RunDoc | undefined> {
  try {
    return await harness.getRun(entry.runId);
  } catch {
    // A run that vanished or fails to load is left off the tab rather than failing it.
    return undefined;
  }
}

/**
 * Builds the Home view for `userId` from the store:
 * - pending gates of non-terminal runs that the user may decide now (approver list, four-eyes
 *   and expiry from the gate itself: `canDecide`);
 * - the user's active runs (`requestedBy.userId === userId`), newest first;
 * - the user's last {@link APP_HOME_RECENT} finished runs. Only the viewer's own: a run's task and
 *   result may come from a channel the viewer cannot read, and App Home is visible to them alone.
 * Never throws for a run that fails to load (it is skipped); store listing errors propagate.
 */
export async function buildAppHome(request: Omit<AppHomeRequest, 'port'>): Promise<Record<string, unknown>> {
  const { harness, userId, now } = request;
  const entries = await harness.listRuns();
  const pending: { run: RunState; gate: Gate }[] = [];
  const active: RunDoc[] = [];
  const recent: RunDoc[] = [];
  const live = entries.filter((entry) => !TERMINAL_STATUSES.includes(entry.status));
  for (const entry of live) {
    const doc = await load(harness, entry);
    if (doc === undefined) continue;
    for (const gate of doc.run.gates) if (canDecide(gate, userId, now)) pending.push({ run: doc.run, gate });
    if (doc.run.requestedBy.userId === userId) active.push(doc);
  }
  const finished = entries
    .filter((entry) => TERMINAL_STATUSES.includes(entry.status))
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .slice(0, APP_HOME_RECENT_SCAN);
  for (const entry of finished) {
    if (recent.length >= APP_HOME_RECENT) break;
    const doc = await load(harness, entry);
    if (doc !== undefined && doc.run.requestedBy.userId === userId) recent.push(doc);
  }
  pending.sort((a, b) => a.gate.expiresAt - b.gate.expiresAt);
  const view = renderAppHome({ viewerId: userId, pending, active, recent, now });
  return { ...view };
}

/**
 * Publishes the Home tab for `userId` (`views.publish`).
 * @throws SlackApiError from the port; store errors from listing.
 */
export async function publishAppHome(request: AppHomeRequest): Promise<void> {
  const view = await buildAppHome(request);
  await request.port.publishHome({ userId: request.userId, view });
}
