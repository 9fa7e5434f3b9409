/**
 * Behaviour every {@link RunStore} must show (port.ts), run against the durable store and the
 * in-memory fake so the fake cannot drift from the real thing. Call {@link runStoreContract} from
 * each implementation's test file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, InvalidStateError, InvariantError, NotFoundError } from '../../../src/shared/errors.ts';
import type { RunStore } from '../../../src/store/port.ts';
import type { Gate, RunDoc } from '../../../src/store/run-schema.ts';
import { makeRunDoc, RUN_DOC_TIME } from '../../support/run-doc-factory.ts';

/** A fresh store and how to dispose of it. */
export interface ContractSubject {
  store: RunStore;
  cleanup(): Promise<void>;
}

/** A valid pending gate for `runId`. */
export function makeGate(runId: string, overrides: Partial<Gate> = {}): Gate {
  return {
    gateId: 'g_0001',
    runId,
    stepId: 's_1',
    tool: 'write_file',
    args: { path: 'reports/a.md' },
    argsHash: 'h'.repeat(64),
    policyVersion: 'policy-test',
    category: 'filesystem_write',
    risk: 'write',
    reason: 'writes a file',
    requestedBy: { userId: 'U_REQUESTER', source: 'cli' },
    lineage: ['writer'],
    approvers: ['U_APPROVER1'],
    fourEyes: true,
    nonce: 'nonce',
    status: 'pending',
    createdAt: RUN_DOC_TIME,
    expiresAt: RUN_DOC_TIME + 3_600_000,
    remindedAt: null,
    decidedBy: null,
    decidedAt: null,
    decisionReason: null,
    decisionSource: null,
    editedArgs: null,
    approvedHash: null,
    card: null,
    ...overrides,
  };
}

const BAD_IDS = ['../x', 'a/b', '', '..'];

/** Registers the shared RunStore cases under `describe(name)`. */
export function runStoreContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`${name}: RunStore contract`, () => {
    let subject: ContractSubject;
    let store: RunStore;

    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('creates and reads back a run', async () => {
      const doc = makeRunDoc({ run: { runId: 'r_a' } });
      const created = await store.create(doc);
      expect(created).toEqual(doc);
      expect(await store.get('r_a')).toEqual(doc);
    });

    it('returns deep copies: mutating a result or the input changes nothing', async () => {
      const doc = makeRunDoc({ run: { runId: 'r_a' } });
      const created = await store.create(doc);
      doc.run.task = 'changed input';
      created.run.task = 'changed result';
      const read = await store.get('r_a');
      read!.run.lineage.push('mutated');
      const again = await store.get('r_a');
      expect(again?.run.task).toBe('write a short report');
      expect(again?.run.lineage).toEqual(['writer']);
    });

    it('refuses a duplicate create with invalid_state "already exists" and keeps the original', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const duplicate = makeRunDoc({ run: { runId: 'r_a', task: 'other task' } });
      await expect(store.create(duplicate)).rejects.toThrow(InvalidStateError);
      await expect(store.create(duplicate)).rejects.toMatchObject({ code: ErrorCode.InvalidState, message: expect.stringContaining('already exists') });
      expect((await store.get('r_a'))?.run.task).toBe('write a short report');
    });

    it('lets exactly one of two concurrent creates of one id win', async () => {
      const results = await Promise.allSettled([
        store.create(makeRunDoc({ run: { runId: 'r_a', task: 'one' } })),
        store.create(makeRunDoc({ run: { runId: 'r_a', task: 'two' } })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
      expect(['one', 'two']).toContain((await store.get('r_a'))?.run.task);
    });

    it('returns undefined for a valid id that does not exist', async () => {
      expect(await store.get('r_missing')).toBeUndefined();
    });

    it.each(BAD_IDS)('refuses the malformed id %j with invalid_run_id', async (bad) => {
      await expect(store.get(bad)).rejects.toMatchObject({ code: ErrorCode.InvalidRunId });
      await expect(store.get(bad)).rejects.toThrow(NotFoundError);
      await expect(store.update(bad, () => undefined)).rejects.toMatchObject({ code: ErrorCode.InvalidRunId });
      const doc = makeRunDoc();
      doc.run.runId = bad;
      await expect(store.create(doc)).rejects.toMatchObject({ code: ErrorCode.InvalidRunId });
      expect(await store.list()).toEqual([]);
    });

    it('refuses to create an invalid document and stores nothing', async () => {
      const doc = makeRunDoc({ run: { runId: 'r_a' } });
      (doc.run as { status: string }).status = 'sleeping';
      await expect(store.create(doc)).rejects.toThrow(InvariantError);
      expect(await store.get('r_a')).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });

    it('updates on a copy and passes the result through', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const { doc, result } = await store.update('r_a', (draft) => {
        draft.run.usage.turns += 1;
        return 'done';
      });
      expect(result).toBe('done');
      expect(doc.run.usage.turns).toBe(1);
      doc.run.usage.turns = 99;
      expect((await store.get('r_a'))?.run.usage.turns).toBe(1);
    });

    it('does not let a draft leaked through the result change the stored run', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const { result: leaked } = await store.update('r_a', (draft) => {
        draft.run.lineage.push('reviewer');
        return draft;
      });
      leaked.run.lineage.push('leak');
      expect((await store.get('r_a'))?.run.lineage).toEqual(['writer', 'reviewer']);
    });

    it('refuses to update a missing run with run_not_found', async () => {
      await expect(store.update('r_missing', () => undefined)).rejects.toMatchObject({ code: ErrorCode.RunNotFound });
      expect(await store.get('r_missing')).toBeUndefined();
    });

    it('leaves the run unchanged when fn throws', async () => {
      const original = await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const boom = new Error('guard failed');
      await expect(
        store.update('r_a', (draft) => {
          draft.run.status = 'completed';
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await store.get('r_a')).toEqual(original);
      expect((await store.list())[0]?.status).toBe('running');
    });

    it('leaves the run unchanged when the result does not validate', async () => {
      const original = await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await expect(
        store.update('r_a', (draft) => {
          (draft.run as { status: string }).status = 'sleeping';
        }),
      ).rejects.toThrow(InvariantError);
      expect(await store.get('r_a')).toEqual(original);
    });

    it('refuses an async fn (lowdb pitfall: its changes would land later or never)', async () => {
      const original = await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await expect(
        store.update('r_a', async (draft) => {
          draft.run.usage.turns = 5;
        }),
      ).rejects.toThrow(/synchronous/);
      expect(await store.get('r_a')).toEqual(original);
    });

    it('refuses an update that changes the run id', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await expect(
        store.update('r_a', (draft) => {
          draft.run.runId = 'r_b';
        }),
      ).rejects.toThrow(InvariantError);
      expect(await store.get('r_b')).toBeUndefined();
    });

    it('serialises concurrent read-modify-writes of one run (no lost update)', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await Promise.all(
        Array.from({ length: 25 }, () =>
          store.update('r_a', (draft) => {
            draft.run.usage.turns += 1;
          }),
        ),
      );
      expect((await store.get('r_a'))?.run.usage.turns).toBe(25);
    });

    it('keeps going after a failed update in the chain', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const results = await Promise.allSettled([
        store.update('r_a', (draft) => {
          draft.run.usage.turns += 1;
        }),
        store.update('r_a', () => {
          throw new Error('fails');
        }),
        store.update('r_a', (draft) => {
          draft.run.usage.turns += 1;
        }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((await store.get('r_a'))?.run.usage.turns).toBe(2);
    });

    it('lists newest first and filters by status and parent', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_old', createdAt: RUN_DOC_TIME } }));
      await store.create(makeRunDoc({ run: { runId: 'r_new', createdAt: RUN_DOC_TIME + 10, status: 'waiting_approval' } }));
      await store.create(
        makeRunDoc({ run: { runId: 'r_child', createdAt: RUN_DOC_TIME + 5, parentRunId: 'r_old', rootRunId: 'r_old', depth: 1 } }),
      );
      expect((await store.list()).map((e) => e.runId)).toEqual(['r_new', 'r_child', 'r_old']);
      expect((await store.list({ status: 'running' })).map((e) => e.runId)).toEqual(['r_child', 'r_old']);
      expect((await store.list({ status: ['waiting_approval', 'completed'] })).map((e) => e.runId)).toEqual(['r_new']);
      expect((await store.list({ parentRunId: null })).map((e) => e.runId)).toEqual(['r_new', 'r_old']);
      expect((await store.list({ parentRunId: 'r_old' })).map((e) => e.runId)).toEqual(['r_child']);
    });

    it('lists the listing fields, including the pending gate count, and follows status changes', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.update('r_a', (draft) => {
        draft.run.status = 'waiting_approval';
        draft.run.updatedAt = RUN_DOC_TIME + 100;
        draft.run.gates.push(makeGate('r_a'), makeGate('r_a', { gateId: 'g_0002', status: 'approved' }));
      });
      expect(await store.list()).toEqual([
        {
          runId: 'r_a',
          status: 'waiting_approval',
          role: 'writer',
          task: 'write a short report',
          parentRunId: null,
          createdAt: RUN_DOC_TIME,
          updatedAt: RUN_DOC_TIME + 100,
          pendingGates: 1,
        },
      ]);
    });

    it('keeps the listed updatedAt of the last listing change when only other fields change', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      await store.update('r_a', (draft) => {
        draft.run.usage.turns = 3;
        draft.run.updatedAt = RUN_DOC_TIME + 50;
      });
      expect((await store.list())[0]?.updatedAt).toBe(RUN_DOC_TIME);
      await store.update('r_a', (draft) => {
        draft.run.status = 'completed';
        draft.run.updatedAt = RUN_DOC_TIME + 60;
      });
      expect((await store.list())[0]).toMatchObject({ status: 'completed', updatedAt: RUN_DOC_TIME + 60 });
    });

    it('returns copies from list', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const [entry] = await store.list();
      entry!.status = 'failed';
      expect((await store.list())[0]?.status).toBe('running');
    });

    it('close waits for pending writes, then refuses further use', async () => {
      await store.create(makeRunDoc({ run: { runId: 'r_a' } }));
      const pending = store.update('r_a', (draft: RunDoc) => {
        draft.run.usage.turns = 7;
      });
      await store.close();
      await expect(pending).resolves.toMatchObject({ doc: { run: { usage: { turns: 7 } } } });
      await expect(store.get('r_a')).rejects.toThrow(InvalidStateError);
      await expect(store.update('r_a', () => undefined)).rejects.toThrow(InvalidStateError);
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}
