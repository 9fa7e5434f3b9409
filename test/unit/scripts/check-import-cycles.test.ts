/**
 * The import-cycle check that `npm run lint` runs: it must fail on a runtime cycle and ignore
 * type-only imports (they vanish at runtime).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', '..', 'scripts', 'check-import-cycles.mjs');
let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function check(files: Record<string, string>): { status: number | null; stderr: string } {
  dir = mkdtempSync(join(tmpdir(), 'cycles-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const result = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('check-import-cycles', () => {
  it('fails on a runtime cycle and names its files', () => {
    const result = check({
      'a.ts': "import { b } from './sub/b.ts';\nexport const a = 1;\n",
      'sub/b.ts': "import {\n  a,\n} from '../a.ts';\nexport const b = a;\n",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/import cycle: .*a\.ts -> .*b\.ts -> .*a\.ts/);
  });

  it('ignores type-only imports and passes an acyclic tree', () => {
    const result = check({
      'a.ts': "import type { B } from './b.ts';\nexport const a: B | null = null;\n",
      'b.ts': "import { a } from './a.ts';\nexport type B = typeof a;\n",
    });
    expect(result.status).toBe(0);
  });
});
