import { describe, expect, it } from 'vitest';
import { MemoryRunStore } from '../../../src/store/memory-run-store.ts';
import { makeRunDoc } from '../../support/run-doc-factory.ts';
import { runStoreContract } from './run-store-contract.ts';

runStoreContract('MemoryRunStore', async () => {
  const store = new MemoryRunStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryRunStore', () => {
  it('leaves state unchanged when the persist step fails', async () => {
    const store = new MemoryRunStore();
    const original = await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
    store.failNextWrite(new Error('disk full'));
    await expect(
      store.update('r_a', (draft) => {
        draft.run.status = 'completed';
      }),
    ).rejects.toThrow('disk full');
    expect(await store.get('r_a')).toEqual(original);
    expect((await store.list())[0]?.status).toBe('running');
    expect(store.writes).toBe(1);
  });

  it('counts successful writes only', async () => {
    const store = new MemoryRunStore();
    await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
    await store.update('r_a', (draft) => {
      draft.run.usage.turns = 1;
    });
    await expect(store.update('r_a', () => Promise.resolve())).rejects.toThrow();
    expect(store.writes).toBe(2);
  });
});
