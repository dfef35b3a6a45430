import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux we run on). */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system, all threads) a process has used, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident set size in bytes, or undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Pids of the redis-server listening on `port`. */
export function findRedisPids(port: number): number[] {
  return pids().filter((pid) => {
    const cmd = cmdline(pid);
    return cmd.startsWith('redis-server') && (cmd.includes(`:${port}`) || cmd.includes(`--port ${port}`));
  });
}

/**
 * PostgreSQL processes that work for `database`: its backends (process title
 * "postgres: [<cluster>: ]<user> <database> ...") plus the WAL writer, whose work every commit causes.
 */
export function findPostgresPids(database: string): number[] {
  return pids().filter((pid) => {
    const cmd = cmdline(pid);
    if (/^postgres: (\S+: )?walwriter/.test(cmd)) return true;
    return /^postgres: (?:\S+: )?\S+ (\S+) /.exec(cmd)?.[1] === database;
  });
}

/** A labelled set of processes whose CPU time is measured over a window. */
export interface WatchedProcess {
  label: string;
  pids: () => number[];
}

export interface CpuSample {
  label: string;
  /** CPU seconds used over the window. */
  cpuSeconds: number;
  /** Share of one core over the window, in percent. */
  cpuPercent: number;
}

/** Start a CPU window over `processes`; `stop()` returns each one's CPU use since `start`. */
export function cpuWindow(processes: WatchedProcess[]): { stop(): CpuSample[] } {
  const startedAt = performance.now();
  const begin = processes.map((p) => new Map(p.pids().map((pid) => [pid, cpuSeconds(pid) ?? 0])));
  return {
    stop() {
      const seconds = (performance.now() - startedAt) / 1000;
      return processes.map((p, i) => {
        const before = begin[i] ?? new Map<number, number>();
        let used = 0;
        // Processes that appeared during the window count from zero.
        for (const pid of new Set([...before.keys(), ...p.pids()])) {
          const end = cpuSeconds(pid);
          if (end !== undefined) used += end - (before.get(pid) ?? 0);
        }
        return { label: p.label, cpuSeconds: used, cpuPercent: (used / seconds) * 100 };
      });
    },
  };
}
