import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** What nginx, redis-server, PostgreSQL and Node print when the port they bind is taken. */
export const ADDRESS_IN_USE = /address already in use|EADDRINUSE/i;

/** How many ports `startOnFreePort` tries before it gives up. */
const PORT_ATTEMPTS = 5;

/** A program could not bind its port: something else took it after it was picked. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    detail: string,
  ) {
    super(`port ${port} is in use: ${detail}`);
    this.name = 'PortInUseError';
  }
}

/** A port the OS reports free right now (for servers that cannot be told to use port 0). */
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

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free ports, for a program that takes a base port (`pnpm cluster`).
 * Picked below Linux's ephemeral range (32768+), where no outgoing connection can take one
 * between this check and the program's listen (another program binding it still can: start
 * such programs with `startOnFreePort`).
 */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - 20_000 - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
}

/**
 * Start a program that must be told its port up front (nginx, redis-server, PostgreSQL, `pnpm
 * cluster`): a port picked free can be taken by another process before the program binds it.
 * `start(port)` rejects with PortInUseError when that happened; the start is then retried on
 * a newly picked port, at most 5 times. Any other failure is thrown at once.
 */
export async function startOnFreePort<T>(
  what: string,
  start: (port: number) => Promise<T>,
  pickPort: () => Promise<number> = freePort,
): Promise<T> {
  const taken: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    try {
      return await start(port);
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err;
      taken.push(port);
      if (attempt === PORT_ATTEMPTS) throw new Error(`${what}: every port tried was taken (${taken.join(', ')})`, { cause: err });
    }
  }
}

/**
 * `startOnFreePort` for a server started with `launchOn(port)` that a test may restart on the
 * same port later: resolves with the launched process and its port; `cleanUp` runs if no port
 * worked.
 */
export async function launchOnFreePort(
  what: string,
  launchOn: (port: number) => Promise<Launched>,
  pickPort: () => Promise<number>,
  cleanUp: () => Promise<void>,
): Promise<{ server: Launched; port: number }> {
  try {
    return await startOnFreePort(what, async (port) => ({ server: await launchOn(port), port }), pickPort);
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

export interface Launched {
  child: ChildProcess;
  /** The output line that matched `ready`. */
  readyLine: string;
  /** Settles when the process exits. */
  exited: Promise<void>;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

export interface LaunchOptions {
  /** Name for error messages. */
  name: string;
  /** The port the program was told to bind (for PortInUseError). */
  port: number;
  /** A line of its output that says it is ready. */
  ready: RegExp;
  timeoutMs: number;
  spawn?: SpawnOptions;
}

/**
 * Spawn a server that prints a line when it is ready; resolves then. Rejects with
 * PortInUseError when it exits having printed ADDRESS_IN_USE, with an Error naming the program
 * and its output when it exits otherwise or is not ready within `timeoutMs` (then it is killed).
 */
export function launch(command: string, args: string[], options: LaunchOptions): Promise<Launched> {
  const child = spawn(command, args, { ...options.spawn, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  // 'close', not 'exit': its last words (why it failed) may still be in the pipes at 'exit'.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const launched: Launched = { child, exited, readyLine: '', output: () => text };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} was not ready within ${options.timeoutMs} ms:\n${text}`));
    }, options.timeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      reject(
        ADDRESS_IN_USE.test(text) ? new PortInUseError(options.port, text) : new Error(`${options.name} exited while starting:\n${text}`),
      );
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        text += `${line}\n`;
        if (launched.readyLine === '' && options.ready.test(line)) {
          clearTimeout(timer);
          launched.readyLine = line;
          resolve(launched);
        }
      });
    }
  });
}
