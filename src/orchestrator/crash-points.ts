/**
 * The test hook behind `BOT_CRASH_AT` (RELIABILITY.md rig): at the named point the process kills
 * itself with SIGKILL, exactly like a power cut, so crash tests exercise real recovery.
 * `name@N` crashes at the N-th time the point is reached (1-based).
 */
import { CRASH_POINT_NAMES, type CrashPointName, type CrashPoints, noCrashPoints } from './deps.ts';
import { ConfigError } from '../shared/errors.ts';

/** Crash points for a `BOT_CRASH_AT` value, or the no-op when it is null. */
export function crashPointsFor(spec: string | null, kill: () => void = () => process.kill(process.pid, 'SIGKILL')): CrashPoints {
  if (spec === null || spec === '') return noCrashPoints;
  const [name, countText] = spec.split('@');
  if (!CRASH_POINT_NAMES.includes(name as CrashPointName)) {
    throw new ConfigError(`BOT_CRASH_AT: unknown crash point; expected one of ${CRASH_POINT_NAMES.join(', ')}`);
  }
  const target = countText === undefined ? 1 : Number(countText);
  if (!Number.isInteger(target) || target < 1) throw new ConfigError('BOT_CRASH_AT: the count after @ must be a positive integer');
  let seen = 0;
  return {
    hit(point) {
      if (point !== name) return;
      seen += 1;
      if (seen === target) kill();
    },
  };
}
