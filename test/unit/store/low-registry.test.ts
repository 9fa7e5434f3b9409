import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../../src/shared/errors.ts';
import { DurableJsonFile } from '../../../src/store/durable-json-file.ts';
import { closeLow, isLowOpen, openLow } from '../../../src/store/low-registry.ts';

const adapterFor = (path: string) => new DurableJsonFile<unknown>(path, { validate: (raw) => raw });

describe('one Low per file (P4)', () => {
  it('refuses a second Low for the same path, also when spelled differently', () => {
    const path = join('/tmp', 'low-registry-test', 'a.json');
    const low = openLow(adapterFor(path));
    expect(low.data).toBeNull();
    expect(isLowOpen(path)).toBe(true);
    expect(() => openLow(adapterFor(path))).toThrow(InvariantError);
    expect(() => openLow(adapterFor('/tmp/low-registry-test/x/../a.json'))).toThrow(/already open/);
    closeLow(path);
    expect(isLowOpen(path)).toBe(false);
    expect(() => openLow(adapterFor(path))).not.toThrow();
    closeLow(path);
  });
});
