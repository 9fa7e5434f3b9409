import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode, StoreCorruptError } from '../../../src/shared/errors.ts';
import { DurableJsonFile, isTempFileName, parseJsonStrict } from '../../../src/store/durable-json-file.ts';
import { RecordingFs, nodeFs } from '../../../src/store/fs-port.ts';
import { makeTmpDir } from './tmp-dir.ts';

const Doc = z.strictObject({ n: z.int() });
type Doc = z.infer<typeof Doc>;

describe('DurableJsonFile', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTmpDir());
    file = join(dir, 'doc.json');
  });
  afterEach(() => cleanup());

  const adapter = (fs = new RecordingFs(nodeFs), options: { quarantine?: boolean } = {}) =>
    new DurableJsonFile<Doc>(file, { fs, validate: (raw) => Doc.parse(raw), now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6), ...options });

  describe('write (P3: tmp + fsync, rename, directory fsync, in that order)', () => {
    it('first write: writeFileFlush(tmp) → rename(tmp, target) → fsyncDir(dir), nothing after', async () => {
      const fs = new RecordingFs(nodeFs);
      await adapter(fs).write({ n: 1 });
      // The `.bak` link attempt finds no previous file (ENOENT) and is skipped.
      expect(fs.calls.map((c) => c.op)).toEqual(['link', 'writeFileFlush', 'rename', 'fsyncDir']);
      const [, write, rename, sync] = fs.calls;
      expect(write!.path.startsWith(join(dir, '.doc.json.'))).toBe(true);
      expect(isTempFileName(write!.path.slice(dir.length + 1))).toBe(true);
      expect(write!.path).toMatch(new RegExp(`\\.doc\\.json\\.${process.pid}\\.[0-9a-f]+\\.tmp$`));
      expect(rename).toEqual({ op: 'rename', path: write!.path, to: file });
      expect(sync).toEqual({ op: 'fsyncDir', path: dir });
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ n: 1 });
    });

    it('later writes keep the previous file as .bak before the same durable sequence', async () => {
      const fs = new RecordingFs(nodeFs);
      const a = adapter(fs);
      await a.write({ n: 1 });
      fs.clear();
      await a.write({ n: 2 });
      const ops = fs.calls.map((c) => c.op);
      expect(ops).toEqual(['link', 'rename', 'unlink', 'writeFileFlush', 'rename', 'fsyncDir']);
      expect(fs.calls[0]).toMatchObject({ path: file });
      expect(fs.calls[1]?.to).toBe(`${file}.bak`);
      expect(fs.calls[2]).toMatchObject({ path: fs.calls[0]!.to });
      expect(fs.calls[4]).toMatchObject({ path: fs.calls[3]!.path, to: file });
      expect(JSON.parse(await readFile(`${file}.bak`, 'utf8'))).toEqual({ n: 1 });
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ n: 2 });
    });

    it('uses a fresh temp name per write', async () => {
      const fs = new RecordingFs(nodeFs);
      const a = adapter(fs);
      await Promise.all([a.write({ n: 1 }), a.write({ n: 2 }), a.write({ n: 3 })]);
      const temps = fs.calls.filter((c) => c.op === 'writeFileFlush').map((c) => c.path);
      expect(new Set(temps).size).toBe(3);
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ n: 3 }); // call order wins
    });

    it('resolves only after the directory fsync', async () => {
      let release: () => void = () => undefined;
      const fs = new RecordingFs(nodeFs, {
        before: (call) => (call.op === 'fsyncDir' ? new Promise<void>((r) => (release = r)) : undefined),
      });
      let done = false;
      const pending = adapter(fs)
        .write({ n: 1 })
        .then(() => (done = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(fs.calls.at(-1)?.op).toBe('fsyncDir');
      expect(done).toBe(false);
      release();
      await pending;
      expect(done).toBe(true);
    });

    it('a failed rename leaves the old file, no temp file, and a store_io error', async () => {
      await adapter().write({ n: 1 });
      const fs = new RecordingFs(nodeFs, {
        before: (call) => {
          if (call.op === 'rename' && call.to === file) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        },
      });
      await expect(adapter(fs).write({ n: 2 })).rejects.toMatchObject({ code: ErrorCode.StoreIo, details: { errno: 'EIO' } });
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ n: 1 });
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    });

    it('falls back to copying when hard links are not available', async () => {
      await adapter().write({ n: 1 });
      const fs = new RecordingFs(nodeFs, {
        before: (call) => {
          if (call.op === 'link') throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
        },
      });
      await adapter(fs).write({ n: 2 });
      expect(fs.calls.map((c) => c.op)).toContain('copyFile');
      expect(JSON.parse(await readFile(`${file}.bak`, 'utf8'))).toEqual({ n: 1 });
    });
  });

  describe('read', () => {
    it('returns null for a missing file and creates nothing', async () => {
      expect(await adapter().read()).toBeNull();
      expect(await readdir(dir)).toEqual([]);
    });

    it('returns the validated document', async () => {
      await writeFile(file, '{"n": 4}');
      expect(await adapter().read()).toEqual({ n: 4 });
    });

    it.each([
      ['empty', ''],
      ['truncated', '{"n": '],
      ['invalid', '{"n": "four"}'],
      ['extra key', '{"n": 4, "x": 1}'],
      ['__proto__ key', '{"n": 4, "__proto__": {"polluted": true}}'],
    ])('quarantines a %s file with its bytes and throws StoreCorruptError', async (_name, bytes) => {
      await writeFile(file, bytes);
      const error = await adapter().read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreCorruptError);
      const quarantinedTo = (error as StoreCorruptError).details['quarantinedTo'];
      expect(quarantinedTo).toBe(`${file}.corrupt-2026-01-02T03-04-05-006Z`);
      expect(await readFile(quarantinedTo as string, 'utf8')).toBe(bytes);
      await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((error as StoreCorruptError).details['bak']).toBeNull();
    });

    it('names the .bak when there is one, and never restores it on its own', async () => {
      const a = adapter();
      await a.write({ n: 1 });
      await a.write({ n: 2 });
      await writeFile(file, '{');
      await expect(a.read()).rejects.toMatchObject({ details: { bak: `${file}.bak` }, message: expect.stringContaining('doc.json.bak') });
      await expect(readFile(file)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(JSON.parse(await readFile(`${file}.bak`, 'utf8'))).toEqual({ n: 1 });
    });

    it('does not overwrite an earlier quarantine file from the same millisecond', async () => {
      await writeFile(file, 'first');
      await expect(adapter().read()).rejects.toThrow(StoreCorruptError);
      await writeFile(file, 'second');
      await expect(adapter().read()).rejects.toMatchObject({ details: { quarantinedTo: `${file}.corrupt-2026-01-02T03-04-05-006Z-1` } });
      expect(await readFile(`${file}.corrupt-2026-01-02T03-04-05-006Z`, 'utf8')).toBe('first');
    });

    it('leaves a bad file in place when quarantine is off (read-only users)', async () => {
      await writeFile(file, '{');
      await expect(adapter(undefined, { quarantine: false }).read()).rejects.toMatchObject({ details: { quarantinedTo: null } });
      expect(await readFile(file, 'utf8')).toBe('{');
    });

    it('wraps other read failures as store_io', async () => {
      const fs = new RecordingFs(nodeFs, {
        before: (call) => {
          if (call.op === 'readFile') throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        },
      });
      await expect(adapter(fs).read()).rejects.toMatchObject({ code: ErrorCode.StoreIo });
    });
  });

  describe('parseJsonStrict', () => {
    it.each(['__proto__', 'constructor', 'prototype'])('rejects a nested %s key', (key) => {
      expect(() => parseJsonStrict(`{"a": [{"b": {"${key}": 1}}]}`)).toThrow(/forbidden key/);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('parses ordinary JSON', () => {
      expect(parseJsonStrict('{"a": [1, {"proto": true}]}')).toEqual({ a: [1, { proto: true }] });
    });
  });
});
