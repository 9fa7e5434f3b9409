// Totals vitest's "Tests  N passed | M failed (T)" lines across CI logs and prints the closing
// line "N passed, N failed". The last argument is the pipeline status: a failed step that ran no
// test (typecheck, lint) still counts as one failure, so the line never hides a red build.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const pipelineStatus = Number(args.pop());
let passed = 0;
let failed = 0;
let suites = 0;
for (const file of args) {
  const text = readFileSync(file, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  for (const match of text.matchAll(/^\s*Tests\s+(.*)\((\d+)\)\s*$/gm)) {
    suites += 1;
    const summary = match[1];
    passed += Number(/(\d+) passed/.exec(summary)?.[1] ?? 0);
    failed += Number(/(\d+) failed/.exec(summary)?.[1] ?? 0);
  }
}
if (pipelineStatus !== 0 && failed === 0) failed = 1;
if (suites === 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
