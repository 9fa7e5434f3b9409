#!/usr/bin/env node
// The `harness` command (package.json "bin"): runs the TypeScript CLI through tsx, so
// `npx harness …` works without a build step. See docs/cli.md.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
