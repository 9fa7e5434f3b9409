import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingFs, isErrno, nodeFs } from '../../../src/store/fs-port.ts';
import { makeTmpDir } from './tmp-dir.ts';

describe('fs port', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTmpDir());
  });
  afterEach(() => cleanup());

  it('openExclusive creates once and then fails with EEXIST', async () => {
    const path = join(dir, 'lock');
    await nodeFs.openExclusive(path, 'one');
    await expect(nodeFs.openExclusive(path, 'two')).rejects.toSatisfy((error: unknown) => isErrno(error, 'EEXIST'));
    expect(await readFile(path, 'utf8')).toBe('one');
  });

  it('appendFileFlush appends and writeFileFlush replaces', async () => {
    const path = join(dir, 'f');
    await nodeFs.appendFileFlush(path, 'a\n');
    await nodeFs.appendFileFlush(path, 'b\n');
    expect(await nodeFs.readFile(path)).toBe('a\nb\n');
    await nodeFs.writeFileFlush(path, 'c');
    expect(await nodeFs.readFile(path)).toBe('c');
    await expect(nodeFs.fsyncDir(dir)).resolves.toBeUndefined();
    expect(await nodeFs.exists(path)).toBe(true);
    expect(await nodeFs.exists(join(dir, 'nope'))).toBe(false);
  });

  it('RecordingFs records every call in order, before it runs, and can fail one', async () => {
    const fs = new RecordingFs(nodeFs, {
      before: (call) => {
        if (call.op === 'unlink') throw new Error('injected');
      },
    });
    await fs.writeFileFlush(join(dir, 'a'), 'x');
    await fs.rename(join(dir, 'a'), join(dir, 'b'));
    await expect(fs.unlink(join(dir, 'b'))).rejects.toThrow('injected');
    expect(fs.log).toEqual([`writeFileFlush ${join(dir, 'a')}`, `rename ${join(dir, 'a')} -> ${join(dir, 'b')}`, `unlink ${join(dir, 'b')}`]);
    expect(await nodeFs.exists(join(dir, 'b'))).toBe(true);
  });
});
