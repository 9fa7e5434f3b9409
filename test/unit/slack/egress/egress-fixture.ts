/**
 * Shared setup for the egress unit tests: a harness over fakes (FakeClock, memory store,
 * scripted model), the FakeSlackPort with a user's message as the thread root, and a
 * SlackPublisher on both, plus a logger that records instead of printing.
 */
import type { ModelPort } from '../../../../src/model/port.ts';
import type { CoreLogger } from '../../../../src/orchestrator/deps.ts';
import type { PolicyConfigInput } from '../../../../src/policy/types.ts';
import { SlackPublisher } from '../../../../src/slack/egress/slack-publisher.ts';
import { FakeSlackPort, type FakeMessage } from '../../../../src/slack/testing/fake-slack-port.ts';
import type { RunDoc } from '../../../../src/store/run-schema.ts';
import { type Fixture, REQUESTER, ScriptedModel, makeHarness } from '../../../support/harness-fixture.ts';

export const CHANNEL = 'C_TEAM';
export const TEAM = 'T_TEAM';

/** One recorded log call. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: object;
  msg: string | undefined;
}

/** A CoreLogger that keeps lines for assertions and never prints. */
export class RecordingLogger implements CoreLogger {
  readonly lines: LogLine[] = [];
  debug(fields: object, msg?: string): void {
    this.lines.push({ level: 'debug', fields, msg });
  }
  info(fields: object, msg?: string): void {
    this.lines.push({ level: 'info', fields, msg });
  }
  warn(fields: object, msg?: string): void {
    this.lines.push({ level: 'warn', fields, msg });
  }
  error(fields: object, msg?: string): void {
    this.lines.push({ level: 'error', fields, msg });
  }
  at(level: LogLine['level']): LogLine[] {
    return this.lines.filter((line) => line.level === level);
  }
}

/** The scripted report task of the orchestrator tests: search, read, then a gated write. */
export function reportModel(): ModelPort {
  return ScriptedModel.fromSteps([
    { calls: [{ name: 'workspace_search', args: { query: 'durable execution' } }] },
    { calls: [{ name: 'workspace_read', args: { path: 'notes/durable-execution.md' } }] },
    { calls: [{ name: 'workspace_write', args: { path: 'reports/durable.md', content: '# Report: durable execution\n' } }] },
    { content: 'Report written to reports/durable.md. <!channel> please read it.' },
  ]);
}

export interface EgressFixture extends Fixture {
  port: FakeSlackPort;
  publisher: SlackPublisher;
  logger: RecordingLogger;
  threadTs: string;
  /** Lets queued Slack work (and timers the FakeClock released) run to completion. */
  settle(): Promise<void>;
  /** Starts a Slack-origin run in the thread and drives it until it pauses or ends. */
  startSlackRun(task?: string): Promise<RunDoc>;
  /** Creates a Slack-origin run without driving it. */
  createSlackRun(task?: string): Promise<RunDoc>;
  /** A new publisher on the same harness and port (a restarted bot). */
  restartPublisher(): SlackPublisher;
}

export interface EgressOptions {
  model?: ModelPort;
  policy?: PolicyConfigInput;
  statusIntervalMs?: number;
  /** Subscribe the publisher at once (default true). */
  start?: boolean;
  appHome?: boolean;
  /** The publisher's `subagentPostDelayMs` (default: the publisher's). */
  subagentPostDelayMs?: number;
}

let active: EgressFixture[] = [];

/** Builds the fixture; {@link cleanupEgress} stops publishers and removes tmp dirs. */
export function makeEgress(options: EgressOptions = {}): EgressFixture {
  const base = makeHarness({ model: options.model ?? reportModel(), ...(options.policy === undefined ? {} : { policy: options.policy }) });
  const port = new FakeSlackPort();
  const logger = new RecordingLogger();
  const threadTs = port.addUserMessage(CHANNEL, '<@U_BOT> write a report on durable execution');
  const build = (): SlackPublisher =>
    new SlackPublisher({
      harness: base.harness,
      port,
      clock: base.clock,
      logger,
      statusIntervalMs: options.statusIntervalMs ?? 1000,
      ...(options.appHome === true ? { appHome: { refreshOnChange: true } } : {}),
      ...(options.subagentPostDelayMs === undefined ? {} : { subagentPostDelayMs: options.subagentPostDelayMs }),
    });
  const fixture: EgressFixture = {
    ...base,
    port,
    logger,
    threadTs,
    publisher: build(),
    async settle() {
      for (let i = 0; i < 5; i += 1) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        await fixture.publisher.idle();
      }
    },
    createSlackRun(task = 'write a report on durable execution') {
      return base.harness.createRun({
        task,
        requestedBy: { userId: REQUESTER, source: 'slack' },
        origin: { kind: 'slack', teamId: TEAM, channel: CHANNEL, threadTs },
      });
    },
    startSlackRun(task = 'write a report on durable execution') {
      return base.harness.startRun({
        task,
        requestedBy: { userId: REQUESTER, source: 'slack' },
        origin: { kind: 'slack', teamId: TEAM, channel: CHANNEL, threadTs },
      });
    },
    restartPublisher() {
      fixture.publisher = build();
      return fixture.publisher;
    },
  };
  if (options.start ?? true) fixture.publisher.start();
  active.push(fixture);
  return fixture;
}

/** Stops every publisher made since the last call and removes the tmp workspaces. */
export async function cleanupEgress(): Promise<void> {
  const fixtures = active;
  active = [];
  for (const fixture of fixtures) {
    await fixture.publisher.stop();
    fixture.cleanup();
  }
}

/** The post key in a message's (or a postMessage input's) metadata, or ''. */
export function keyOf(input: unknown): string {
  const metadata = (input as { metadata?: { event_payload?: Record<string, unknown> } } | undefined)?.metadata;
  const key = metadata?.event_payload?.['key'];
  return typeof key === 'string' ? key : '';
}

/** Bot messages whose metadata key is `key`. */
export function postsWithKey(port: FakeSlackPort, key: string): FakeMessage[] {
  return port.botMessages().filter((m) => keyOf(m) === key);
}

/** postMessage calls for `key` (including failed ones). */
export function postCallsFor(port: FakeSlackPort, key: string): number {
  return port.callsOf('postMessage').filter((c) => keyOf(c.input) === key).length;
}

/** True when any block is an actions block (the card's buttons). */
export function hasButtons(message: FakeMessage | undefined): boolean {
  return (message?.blocks ?? []).some((block) => (block as { type?: string }).type === 'actions');
}

/** The JSON of a message's blocks, for text assertions. */
export function blocksText(message: FakeMessage | undefined): string {
  return JSON.stringify(message?.blocks ?? []);
}
