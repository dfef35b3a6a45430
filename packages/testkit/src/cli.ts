import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testEnv } from './node.ts';

const CLI = fileURLToPath(new URL('../../../services/gateway/src/cli.ts', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `pnpm cli <args>` (the gateway's CLI) in a child process with the test environment, `input`
 * on its standard input (killed after 90 s: tsx start-up is slow on a loaded machine).
 */
export function runCli(args: string[], env: Record<string, string | undefined>, input = ''): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { env: { ...process.env, ...testEnv(env) }, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}
