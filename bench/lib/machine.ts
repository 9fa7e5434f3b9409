/**
 * Notes about the machine a benchmark ran on, so numbers are read with their context: Node version,
 * CPUs, memory, and the fsync latency of the disk under `os.tmpdir()` (where every benchmark
 * writes), which bounds every durable write.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { nodeFs } from '../../src/store/fs-port.ts';
import { fmtBytes, fmtMs, summarize, timed } from './stats.ts';

/** The machine, as recorded in BENCHMARKS.md. */
export interface MachineNotes {
  node: string;
  platform: string;
  cpuCount: number;
  cpuModel: string;
  totalMemory: string;
  tmpdir: string;
  /** p50 of a 4 KiB write + fsync, then a directory fsync (one durable-write pair) under tmpdir. */
  fsyncP50: string;
}

/** Collects the notes; measures fsync latency with `samples` writes. */
export async function machineNotes(samples = 50): Promise<MachineNotes> {
  const dir = await mkdtemp(join(tmpdir(), 'harness-bench-fsync-'));
  const times: number[] = [];
  try {
    const payload = 'x'.repeat(4096);
    for (let i = 0; i < samples + 5; i += 1) {
      const { ms } = await timed(async () => {
        await nodeFs.writeFileFlush(join(dir, `f${i % 4}`), payload);
        await nodeFs.fsyncDir(dir);
      });
      if (i >= 5) times.push(ms);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const cpu = cpus();
  return {
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpuCount: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    totalMemory: fmtBytes(totalmem()),
    tmpdir: tmpdir(),
    fsyncP50: fmtMs(summarize(times).p50),
  };
}
