import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const START_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  label: string;
  pid: number;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Spawn a server and resolve once `listening(line)` finds its port in a stdout line.
 * stdout keeps being read (and dropped) so the server never blocks on a full pipe.
 */
export function startProcess(
  label: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  listening: (line: string) => number | undefined,
): Promise<ServerProcess> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${label} did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${label} exited before listening (code ${child.exitCode})`));
    });
    let started = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (started) return;
      const port = listening(line);
      if (port === undefined) return;
      started = true;
      clearTimeout(timer);
      resolve({ label, pid: child.pid!, port, child, stop });
    });
  });
}

/** `{"listening":<port>}` lines of the bench servers. */
export function listeningLine(line: string): number | undefined {
  const match = /^\{"listening":(\d+)\}$/.exec(line);
  return match ? Number(match[1]) : undefined;
}
