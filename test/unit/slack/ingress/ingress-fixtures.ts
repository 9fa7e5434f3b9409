/**
 * The ingress under test over fakes: the harness fixture (memory store, scripted model, fake
 * clock, real policy), the fake Slack port, a recording publisher and audit sink. The scripted
 * model asks to write `reports/r.md` (a gate under the test policy), then says "done".
 */
import type { AuditSink } from '../../../../src/orchestrator/deps.ts';
import { BotError, ErrorCode } from '../../../../src/shared/errors.ts';
import { silentLogger } from '../../../../src/shared/logger.ts';
import { IdentityCheck } from '../../../../src/slack/ingress/identity.ts';
import { SlackIngress } from '../../../../src/slack/ingress/slack-ingress.ts';
import { ThreadIndex } from '../../../../src/slack/ingress/thread-index.ts';
import type { IncomingClick, IncomingMessage, IncomingSubmission, IngressPublisher } from '../../../../src/slack/ingress/types.ts';
import { FakeSlackPort } from '../../../../src/slack/testing/fake-slack-port.ts';
import { MemoryRunStore } from '../../../../src/store/memory-run-store.ts';
import type { RoleDefinition } from '../../../../src/agents/role-types.ts';
import type { ModelPort } from '../../../../src/model/port.ts';
import { Router } from '../../../../src/routing/router.ts';
import { REQUESTER, ScriptedModel, makeHarness, writerRole, type Fixture } from '../../../support/harness-fixture.ts';

/** A transient store failure, as the durable store would raise one. */
export class StoreIoRetryable extends BotError {
  constructor(message: string) {
    super(ErrorCode.StoreIo, message, { retryable: true });
  }
}

/** A message event with test defaults (team T_LOCAL, app A_LOCAL, channel C1, the requester). */
export function inputMessage(partial: Partial<IncomingMessage> & { eventId: string; text: string }): IncomingMessage {
  return {
    teamId: 'T_LOCAL',
    appId: 'A_LOCAL',
    channel: 'C1',
    channelType: undefined,
    user: REQUESTER,
    ts: '1.000001',
    threadTs: undefined,
    retryNum: undefined,
    ...partial,
  };
}

/** A publisher that records what it was asked. */
export class RecordingPublisher implements IngressPublisher {
  readonly calls: unknown[][] = [];

  showProcessing(runId: string, gateId: string, userId: string): Promise<void> {
    this.calls.push(['showProcessing', runId, gateId, userId]);
    return Promise.resolve();
  }

  publishAppHome(userId: string): Promise<void> {
    this.calls.push(['publishAppHome', userId]);
    return Promise.resolve();
  }
}

/** An audit sink that keeps entries. */
export class RecordingAudit implements AuditSink {
  readonly entries: Parameters<AuditSink['append']>[0][] = [];

  append(entry: Parameters<AuditSink['append']>[0]): Promise<void> {
    this.entries.push(entry);
    return Promise.resolve();
  }
}

export interface IngressRig {
  ingress: SlackIngress;
  harness: Fixture['harness'];
  clock: Fixture['clock'];
  store: MemoryRunStore;
  model: ScriptedModel;
  slack: FakeSlackPort;
  publisher: RecordingPublisher;
  audit: RecordingAudit;
  threads: ThreadIndex;
  /** Another ingress over the same world (an empty in-memory dedupe, as after a restart). */
  newIngress(): SlackIngress;
  /** Mentions in C1 (thread 50.000001) and waits for the gate; its button identifiers. */
  pendingGate(): Promise<{ runId: string; gateId: string; nonce: string }>;
  click(userId: string, actionId: string, value: string): IncomingClick;
  submission(userId: string, callbackId: string, privateMetadata: string, values: IncomingSubmission['values']): IncomingSubmission;
  close(): Promise<void>;
}

let triggers = 0;

/** Options of {@link makeIngressRig}. */
export interface IngressRigOptions {
  /** Roles of the harness (default: the fixture's writer only). */
  roles?: RoleDefinition[];
  /** `routing.channels` for the ingress's router. */
  channels?: Record<string, string>;
  /** `routing.debounceMs` (default 0). */
  debounceMs?: number;
  /** Replaces the default scripted model (write → gate → "done"). */
  model?: ModelPort;
}

/** Roles for routing tests: the writer plus a researcher and a reviewer. */
export const ROUTING_ROLES: RoleDefinition[] = [
  writerRole,
  { name: 'researcher', category: 'worker', description: 'finds things out', instructions: 'You research.', tools: '*' },
  { name: 'reviewer', category: 'reviewer', description: 'reviews drafts', instructions: 'You review.', tools: '*' },
];

export function makeIngressRig(options: IngressRigOptions = {}): IngressRig {
  const store = new MemoryRunStore();
  const audit = new RecordingAudit();
  const model = ScriptedModel.fromSteps([{ calls: [{ name: 'workspace_write', args: { path: 'reports/r.md', content: 'report' } }] }, { content: 'done' }]);
  const fixture = makeHarness({ model: options.model ?? model, store, audit, ...(options.roles === undefined ? {} : { roles: options.roles }) });
  const roles = fixture.harness.deps.roles;
  const router = new Router({ roles: roles.list(), defaultRole: roles.defaultRole, channels: options.channels ?? {} });
  const slack = new FakeSlackPort();
  const publisher = new RecordingPublisher();
  const threads = new ThreadIndex();
  const build = (): SlackIngress =>
    new SlackIngress({
      harness: fixture.harness,
      slack,
      publisher,
      identity: new IdentityCheck({ teamId: 'T_LOCAL', appId: 'A_LOCAL' }),
      threads,
      botUserId: 'U_BOT',
      logger: silentLogger,
      clock: fixture.clock,
      router,
      debounceMs: options.debounceMs ?? 0,
    });
  const ingress = build();
  const others: SlackIngress[] = [];
  return {
    ingress,
    harness: fixture.harness,
    clock: fixture.clock,
    store,
    model,
    slack,
    publisher,
    audit,
    threads,
    newIngress() {
      const other = build();
      others.push(other);
      return other;
    },
    async pendingGate() {
      await ingress.handleMention(inputMessage({ eventId: 'EvGate', text: '<@U_BOT> write the report', ts: '50.000001' }));
      await ingress.settled();
      const gate = (await fixture.harness.getRun('ev_EvGate')).run.gates[0];
      if (gate === undefined) throw new Error('no gate');
      return { runId: gate.runId, gateId: gate.gateId, nonce: gate.nonce };
    },
    click(userId, actionId, value) {
      triggers += 1;
      return {
        actionId,
        value,
        userId,
        teamId: 'T_LOCAL',
        appId: 'A_LOCAL',
        triggerId: `trigger.${String(triggers)}`,
        channel: 'C1',
        messageTs: '50.000002',
        threadTs: '50.000001',
      };
    },
    submission(userId, callbackId, privateMetadata, values) {
      return { callbackId, privateMetadata, userId, teamId: 'T_LOCAL', appId: 'A_LOCAL', values };
    },
    async close() {
      await ingress.close();
      await ingress.settled();
      for (const other of others) {
        await other.close();
        await other.settled();
      }
      await fixture.harness.stop();
      fixture.cleanup();
    },
  };
}
