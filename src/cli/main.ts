/**
 * `harness <command>`: the operator CLI's process entry (`npm run harness -- …`, `npx harness …`
 * through bin/harness.mjs). Everything else lives in run-cli.ts; this file only binds it to the
 * process: arguments in, stdout/stderr out, exit code after both streams drained.
 */
import { runCli } from './run-cli.ts';

const io = {
  stdout: (text: string): void => {
    process.stdout.write(text);
  },
  stderr: (text: string): void => {
    process.stderr.write(text);
  },
  cwd: process.cwd(),
};

const code = await runCli(process.argv.slice(2), io);
// Exit explicitly (a provider's keep-alive socket must not hold the process open), but only
// after what was written has been flushed: stdout may be a pipe.
process.stdout.write('', () => {
  process.stderr.write('', () => process.exit(code));
});
