/**
 * The ack-latency measurement behind `slack-http-ack` (issue B) and `slack-socket-ack` (issue F):
 * the real bot and a bare Bolt app, each in its own child process, answer the same Approve clicks
 * (`block_actions` payloads as Slack sends them) with 10 and with 200 in flight, in alternating
 * segments of the same run; then the bot again while a background load keeps ~100 scripted runs
 * executing in it (and the bare app once more under that machine load, for context).
 *
 * What the bot's clicks hit: real gate cards, made by mentions before the timed loops. Clicks go
 * round-robin over a segment's cards, `CLICKS_PER_CARD` per card, all from an approver: the first
 * click on a card decides its gate (durable decision, card update, the run resumes: tool write,
 * result post), the later ones are late clicks (store read, refusal, audit line, ephemeral
 * answer) — the P8 double-click case. All of that work happens in the bot's process after the ack,
 * so it competes with the next acks; the latency measured is the client's, from sending the signed
 * request (or envelope) to its answer (or ack).
 */
import { performance } from 'node:perf_hooks';
import type { LocalSlack } from '../../src/local-workspace/server.ts';
import { type ChildStats, ClickFactory, type GateCard, type LoopResult, RunLoad, ThreadWatcher, closedLoop, httpSender, isOutcome, journalQuiet, loadNote, loadNow, makeGateCards, makeSlackWorld, socketSender, spawnBareBolt, spawnBot, startBenchSlack, APPROVER } from './slack-bench.ts';
import { type Summary, fmtMs, summarize } from './stats.ts';
import type { BenchContext, MetricRow } from './types.ts';
import type { Payload } from '../../src/local-workspace/events.ts';

/** Approve clicks per gate card: one decides it, the rest are late clicks. */
export const CLICKS_PER_CARD = 20;

/** One in-flight level's numbers. */
export interface LevelResult {
  inFlight: number;
  botIdle: Pooled;
  bareIdle: Pooled;
  botLoaded: Pooled;
  bareLoaded: Pooled;
}

/** Segments pooled: every latency, total requests over total wall time. */
export interface Pooled {
  summary: Summary;
  requestsPerSecond: number;
  errors: string[];
  over3s: number;
}

/** Everything {@link measureAcks} measured. */
export interface AckReport {
  mode: 'http' | 'socket';
  levels: LevelResult[];
  loopIdle: ChildStats;
  loopLoaded: ChildStats;
  load: { loops: number; completedDuring: number; measuringMs: number; runMs: Summary; failures: string[]; mentions: number; unackedMentions: number; lastDeliveryError: string | undefined };
  cards: number;
  decided: number;
  refusals: number;
  setupNotes: string[];
}

function pool(results: readonly LoopResult[]): Pooled {
  const latencies = results.flatMap((r) => r.latencies);
  const elapsed = results.reduce((sum, r) => sum + r.elapsedMs, 0);
  return {
    summary: summarize(latencies),
    requestsPerSecond: (latencies.length / elapsed) * 1000,
    errors: results.flatMap((r) => r.errors),
    over3s: latencies.filter((ms) => ms > 3000).length,
  };
}

function worst(stats: readonly ChildStats[]): ChildStats {
  return {
    loopDelayP50Ms: Math.max(...stats.map((s) => s.loopDelayP50Ms)),
    loopDelayP99Ms: Math.max(...stats.map((s) => s.loopDelayP99Ms)),
    loopDelayMaxMs: Math.max(...stats.map((s) => s.loopDelayMaxMs)),
    rssBytes: Math.max(...stats.map((s) => s.rssBytes)),
  };
}

/** Runs the whole measurement in `mode`. */
export async function measureAcks(mode: 'http' | 'socket', ctx: BenchContext): Promise<AckReport> {
  const levels = ctx.quick
    ? [
        { inFlight: 10, clicks: 60 },
        { inFlight: 200, clicks: 200 },
      ]
    : [
        { inFlight: 10, clicks: 400 },
        { inFlight: 200, clicks: 1200 },
      ];
  const idleSegments = ctx.quick ? 1 : 3;
  const loadedSegments = ctx.quick ? 1 : 2;
  const loadLoops = ctx.quick ? 20 : 100;

  const loadAtStart = loadNow();
  const world = await makeSlackWorld();
  const slack = await startBenchSlack();
  // Socket Mode delivers to the newest connection, so the bare app gets a workspace of its own.
  const bareSlack: LocalSlack = mode === 'socket' ? await startBenchSlack() : slack;
  const watcher = new ThreadWatcher(slack);
  const stops: (() => Promise<void>)[] = [];
  try {
    const setupStart = performance.now();
    const bot = await spawnBot(world, slack, mode);
    stops.push(() => bot.stop());
    const bare = await spawnBareBolt(bareSlack, mode, world.dir);
    stops.push(() => bare.stop());
    const toBot = mode === 'http' ? httpSender(slack, bot.url ?? '') : socketSender(slack);
    const toBare = mode === 'http' ? httpSender(bareSlack, bare.url ?? '') : socketSender(bareSlack);
    const factory = new ClickFactory(slack);

    // Every card the timed loops click, made up front (by mentions, as a user would).
    const cardsFor = (clicks: number): number => Math.ceil(clicks / CLICKS_PER_CARD);
    const needed = 1 + levels.reduce((sum, l) => sum + cardsFor(l.clicks) * (idleSegments + loadedSegments), 0);
    ctx.log(`  making ${String(needed)} gate cards by mention...`);
    const all = await makeGateCards(slack, watcher, needed, 10);
    const cardsMs = performance.now() - setupStart;
    let taken = 0;
    const take = (n: number): GateCard[] => {
      const out = all.slice(taken, taken + n);
      taken += n;
      return out;
    };

    // Warm-up (not recorded): JIT, connection pools, the bot's first decisions.
    const warmCards = take(1);
    await closedLoop(factory.approvals(warmCards, 100), 10, toBot);
    await closedLoop(factory.approvals(warmCards, 100), 10, toBare);
    await journalQuiet(slack, 500);

    const segment = async (cards: GateCard[], clicks: number, inFlight: number, to: (p: Payload) => Promise<void>): Promise<LoopResult> =>
      closedLoop(factory.approvals(cards, clicks), inFlight, to);

    const idleStats: ChildStats[] = [];
    const results = new Map<number, { botIdle: LoopResult[]; bareIdle: LoopResult[]; botLoaded: LoopResult[]; bareLoaded: LoopResult[] }>();
    for (const level of levels) {
      const r = { botIdle: [] as LoopResult[], bareIdle: [] as LoopResult[], botLoaded: [] as LoopResult[], bareLoaded: [] as LoopResult[] };
      results.set(level.inFlight, r);
      for (let s = 0; s < idleSegments; s += 1) {
        const cards = take(cardsFor(level.clicks));
        const runBot = async (): Promise<void> => {
          bot.resetStats();
          r.botIdle.push(await segment(cards, level.clicks, level.inFlight, toBot));
          idleStats.push(await bot.stats());
          await journalQuiet(slack, 500);
        };
        const runBare = async (): Promise<void> => {
          r.bareIdle.push(await segment(cards, level.clicks, level.inFlight, toBare));
        };
        // Alternate who goes first, so a drift in machine load does not favour one side.
        if (s % 2 === 0) {
          await runBot();
          await runBare();
        } else {
          await runBare();
          await runBot();
        }
        ctx.log(`  idle, ${String(level.inFlight)} in flight, segment ${String(s + 1)}/${String(idleSegments)} done`);
      }
    }

    ctx.log(`  starting the background load: ${String(loadLoops)} mention loops of scripted runs...`);
    const load = new RunLoad(slack, watcher);
    load.start(loadLoops);
    await load.warm(loadLoops);
    const completedBefore = load.completed;
    const measuringStart = performance.now();
    const loadedStats: ChildStats[] = [];
    for (const level of levels) {
      const r = results.get(level.inFlight);
      if (r === undefined) continue;
      for (let s = 0; s < loadedSegments; s += 1) {
        const cards = take(cardsFor(level.clicks));
        bot.resetStats();
        r.botLoaded.push(await segment(cards, level.clicks, level.inFlight, toBot));
        loadedStats.push(await bot.stats());
        if (s === 0) r.bareLoaded.push(await segment(cards, level.clicks, level.inFlight, toBare));
        ctx.log(`  loaded, ${String(level.inFlight)} in flight, segment ${String(s + 1)}/${String(loadedSegments)} done (${String(load.completed)} load runs completed)`);
      }
    }
    const measuringMs = performance.now() - measuringStart;
    const completedDuring = load.completed - completedBefore;
    await load.stop();
    // A slow load may still be finishing; the counts below are taken as they are then.
    await journalQuiet(slack, 1500).catch(() => undefined);

    // What the clicks did in the bot: decisions (a result posted in the card's thread) and refusals.
    const decided = all.filter((c) => slack.state.replies(c.card.channel, c.thread).some(isOutcome)).length;
    const refusals = slack.state.ephemeralsFor(APPROVER).length;

    return {
      mode,
      levels: levels.map((level) => {
        const r = results.get(level.inFlight);
        if (r === undefined) throw new Error('missing level');
        return { inFlight: level.inFlight, botIdle: pool(r.botIdle), bareIdle: pool(r.bareIdle), botLoaded: pool(r.botLoaded), bareLoaded: pool(r.bareLoaded) };
      }),
      loopIdle: worst(idleStats),
      loopLoaded: worst(loadedStats),
      load: { loops: loadLoops, completedDuring, measuringMs, runMs: summarize(load.runMs), failures: load.failures, mentions: load.mentions, unackedMentions: load.unackedMentions, lastDeliveryError: load.lastDeliveryError },
      cards: all.length,
      decided,
      refusals,
      setupNotes: [
        `Setup (not timed): ${String(all.length)} gate cards made by mentions in ${fmtMs(cardsMs)} (${fmtMs(cardsMs / all.length)} per card at 10 concurrent mentions), then 100 warm-up clicks to each app.`,
        `Per in-flight level: ${String(idleSegments)} idle segment(s) alternating bot/bare (who goes first alternates), then ${String(loadedSegments)} segment(s) of the bot under load and 1 of the bare app under the same machine load; sizes: ${levels.map((l) => `${String(l.clicks)} clicks at ${String(l.inFlight)} in flight`).join(', ')} per segment, ${String(CLICKS_PER_CARD)} clicks per card.`,
        loadNote(loadAtStart),
      ],
    };
  } finally {
    watcher.close();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await slack.close();
    if (bareSlack !== slack) await bareSlack.close();
    await world.cleanup();
  }
}

/** Detail rows shared by both ack benchmarks. */
export function ackRows(report: AckReport): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const l of report.levels) {
    rows.push({ label: `${String(l.inFlight)} in flight, bot idle: ack latency`, summary: l.botIdle.summary });
    rows.push({ label: `${String(l.inFlight)} in flight, bare Bolt idle: ack latency`, summary: l.bareIdle.summary });
    rows.push({ label: `${String(l.inFlight)} in flight, bot with ${String(report.load.loops)} runs executing: ack latency`, summary: l.botLoaded.summary });
    rows.push({ label: `${String(l.inFlight)} in flight, bare Bolt under the same machine load (context): ack latency`, summary: l.bareLoaded.summary });
  }
  for (const l of report.levels) {
    rows.push({
      label: `${String(l.inFlight)} in flight, requests/s`,
      value: `bot ${l.botIdle.requestsPerSecond.toFixed(0)} idle, ${l.botLoaded.requestsPerSecond.toFixed(0)} loaded; bare Bolt ${l.bareIdle.requestsPerSecond.toFixed(0)} idle, ${l.bareLoaded.requestsPerSecond.toFixed(0)} under load`,
    });
    const errors = [...l.botIdle.errors, ...l.botLoaded.errors, ...l.bareIdle.errors, ...l.bareLoaded.errors];
    rows.push({
      label: `${String(l.inFlight)} in flight, failures and acks over 3 s`,
      value: `bot: ${String(l.botIdle.errors.length + l.botLoaded.errors.length)} failed, ${String(l.botIdle.over3s + l.botLoaded.over3s)} over 3 s; bare: ${String(l.bareIdle.errors.length + l.bareLoaded.errors.length)} failed, ${String(l.bareIdle.over3s + l.bareLoaded.over3s)} over 3 s${errors.length > 0 ? ` (first: ${errors[0] ?? ''})` : ''}`,
    });
  }
  rows.push({
    label: "bot's event-loop delay (its own monitorEventLoopDelay, worst segment)",
    value: `idle p99 ${fmtMs(report.loopIdle.loopDelayP99Ms)} (max ${fmtMs(report.loopIdle.loopDelayMaxMs)}); loaded p99 ${fmtMs(report.loopLoaded.loopDelayP99Ms)} (max ${fmtMs(report.loopLoaded.loopDelayMaxMs)}); RSS up to ${(report.loopLoaded.rssBytes / 2 ** 20).toFixed(0)} MiB`,
  });
  rows.push({
    label: 'background load',
    value: `${String(report.load.loops)} mention loops; ${String(report.load.completedDuring)} runs completed while the loaded segments ran (${((report.load.completedDuring / report.load.measuringMs) * 1000).toFixed(1)} runs/s); mention → result p50 ${fmtMs(report.load.runMs.p50)}, p99 ${fmtMs(report.load.runMs.p99)}; ${String(report.load.failures.length)} load failures`,
  });
  rows.push({
    label: 'load mentions whose event deliveries were not acked within 3 s',
    value: `${String(report.load.unackedMentions)} of ${String(report.load.mentions)}${report.load.lastDeliveryError === undefined ? '' : ` (last: ${report.load.lastDeliveryError})`}; no retry is sent (the bot already has the event), the run is still waited for`,
  });
  rows.push({
    label: 'what the clicks did in the bot',
    value: `${String(report.decided)} of ${String(report.cards)} cards decided and their runs finished (first click); ${String(report.refusals)} late clicks answered with an ephemeral refusal`,
  });
  return rows;
}
