import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../../src/shared/keyed-queue.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyedQueue', () => {
  it('runs operations on one key in call order, one at a time', async () => {
    const queue = new KeyedQueue();
    const gate = deferred();
    const order: string[] = [];
    const first = queue.run('a', async () => {
      order.push('first:start');
      await gate.promise;
      order.push('first:end');
    });
    const second = queue.run('a', () => order.push('second'));
    await Promise.resolve();
    expect(order).toEqual(['first:start']);
    expect(queue.busy('a')).toBe(true);
    gate.resolve();
    await Promise.all([first, second]);
    expect(order).toEqual(['first:start', 'first:end', 'second']);
  });

  it('lets other keys run while one key is busy', async () => {
    const queue = new KeyedQueue();
    const gate = deferred();
    const blocked = queue.run('a', () => gate.promise);
    await expect(queue.run('b', () => 'b ran')).resolves.toBe('b ran');
    gate.resolve();
    await blocked;
  });

  it('rejects only the failing caller and keeps the queue going', async () => {
    const queue = new KeyedQueue();
    const failing = queue.run('a', () => {
      throw new Error('boom');
    });
    const next = queue.run('a', () => 'next');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  it('forgets a key once its last operation settled, and drain waits for all', async () => {
    const queue = new KeyedQueue();
    const gate = deferred();
    const pending = queue.run('a', () => gate.promise);
    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    gate.resolve();
    await pending;
    await draining;
    expect(drained).toBe(true);
    await Promise.resolve();
    expect(queue.busy('a')).toBe(false);
  });
});
