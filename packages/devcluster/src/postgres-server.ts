import { execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { START_TIMEOUT_MS } from './gateway-process.ts';
import { freePort, launch, launchOnFreePort } from './ports.ts';

const run = promisify(execFile);
/** Debian's PostgreSQL 15 server binaries. */
const BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  port: number;
  /** `postgresql://postgres@127.0.0.1:<port>/<database>` (trust auth). */
  url(database?: string): string;
  /** Fast shutdown (SIGINT: sessions are ended, nothing waits for clients); `start()` brings it back. */
  halt(): Promise<void>;
  /**
   * Crash: immediate shutdown (SIGQUIT), the server's processes end without writing anything
   * more; `start()` then recovers from the WAL, as after a power cut but with the OS's page
   * cache intact. What a commit had written to the WAL survives; what it had not (an
   * asynchronous commit's last transactions) is lost.
   */
  crash(): Promise<void>;
  /** Start again on the same port over the same data (fails if another process took the port meanwhile). */
  start(): Promise<void>;
  /**
   * Stop answering without going away (SIGSTOP to the postmaster and every backend): connections
   * stay open, new ones are accepted by the kernel and never greeted. `resume()` (SIGCONT) undoes it.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Halt and delete its data. */
  stop(): Promise<void>;
}

/** `pid` and its children (PostgreSQL's backends are children of the postmaster), read from /proc. */
async function processTree(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const nested = await Promise.all(
    children
      .split(' ')
      .filter(Boolean)
      .map((child) => processTree(Number(child))),
  );
  return [pid, ...nested.flat()];
}

/**
 * A private PostgreSQL 15 server over a fresh data folder (initdb, trust auth, no fsync) on a
 * spare port, for tests that stop and restart the database. PostgreSQL refuses to run as root:
 * initdb and the server run as the `postgres` user, in a temporary folder it owns (its unix
 * socket goes there too).
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const [uid, gid] = await Promise.all(['-u', '-g'].map(async (flag) => Number((await run('id', [flag, 'postgres'])).stdout.trim())));
  const as = { uid: uid!, gid: gid! };
  const dir = await mkdtemp(join(tmpdir(), 'parley-pg-'));
  const data = join(dir, 'data');
  try {
    await mkdir(data);
    await Promise.all([chown(dir, as.uid, as.gid), chown(data, as.uid, as.gid)]);
    await run(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
      ...as,
      cwd: dir,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const launchOn = (port: number) =>
    launch(
      join(BIN, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'],
      {
        name: 'postgres',
        port,
        ready: /database system is ready to accept connections/,
        timeoutMs: START_TIMEOUT_MS,
        spawn: { ...as, cwd: dir },
      },
    );
  const started = await launchOnFreePort('postgres', launchOn, freePort, () => rm(dir, { recursive: true, force: true }));
  let server = started.server;
  const port = started.port;
  const halt = async () => {
    // A paused server would never hear the SIGINT.
    await signalTree('SIGCONT');
    server.child.kill('SIGINT');
    await server.exited;
  };
  // The postmaster first (it forks no new backend once stopped), then what it had forked.
  const signalTree = async (signal: 'SIGSTOP' | 'SIGCONT') => {
    for (const pid of await processTree(server.child.pid as number)) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        // Exited meanwhile (a backend that ended, or the whole server already halted).
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  };
  return {
    port,
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    halt,
    crash: async () => {
      await signalTree('SIGCONT');
      server.child.kill('SIGQUIT');
      await server.exited;
    },
    start: async () => {
      server = await launchOn(port);
    },
    pause: () => signalTree('SIGSTOP'),
    resume: () => signalTree('SIGCONT'),
    stop: async () => {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
