import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
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

/** A port the OS reports free right now (for redis-server, which cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A private redis-server for one benchmark run, so its CPU is ours alone. */
export async function startRedis(): Promise<ServerProcess> {
  const port = await freePort();
  return startProcess(
    'redis',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'],
    {},
    (line) => (line.includes('Ready to accept connections') ? port : undefined),
  );
}

/** `{"listening":<port>}` lines of the bench servers. */
export function listeningLine(line: string): number | undefined {
  const match = /^\{"listening":(\d+)\}$/.exec(line);
  return match ? Number(match[1]) : undefined;
}

/** Parley's "Parley is listening on <url>" JSON log line. */
export function parleyListeningLine(line: string): number | undefined {
  if (!line.includes('Parley is listening')) return undefined;
  const url = (JSON.parse(line) as { url?: string }).url;
  return url ? Number(new URL(url).port) : undefined;
}
