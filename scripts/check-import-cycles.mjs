// Fails when src/ has an import cycle among runtime (non-type) imports. Replaces
// eslint-plugin-import-x/no-cycle, whose native resolver's optional platform packages break
// `npm ci` with npm 11 (the lockfile only ever lists the local platform's binding).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative runtime imports of a file: `import type` / `export type` statements are skipped. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const targets = [];
  for (const match of text.matchAll(/^\s*(import|export)\b([^;]*);/gm)) {
    const statement = match[2];
    if (/^\s*type\b/.test(statement)) continue;
    const from = /(?:from\s+|^\s*)['"](\.{1,2}\/[^'"]+)['"]/.exec(statement);
    if (from) targets.push(resolve(dirname(file), from[1]));
  }
  for (const match of text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    targets.push(resolve(dirname(file), match[1]));
  }
  return targets;
}

const graph = new Map(files(root).map((file) => [file, importsOf(file)]));
const state = new Map();
const cycles = [];
const stack = [];

function visit(file) {
  state.set(file, 'active');
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (!graph.has(next)) continue;
    if (state.get(next) === 'active') cycles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, 'done');
}

for (const file of graph.keys()) if (!state.has(file)) visit(file);

if (cycles.length > 0) {
  for (const cycle of cycles) process.stderr.write(`import cycle: ${cycle.map((f) => relative(process.cwd(), f)).join(' -> ')}\n`);
  process.exit(1);
}
process.stdout.write(`no import cycles in ${graph.size} files under ${relative(process.cwd(), root) || '.'}\n`);
