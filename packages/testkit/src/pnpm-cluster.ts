import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ADDRESS_IN_USE, freePortRange, PortInUseError, REPO_ROOT, startOnFreePort } from '@parley/devcluster';

/** `pnpm cluster` (infra/cluster/cluster.ts) running as a child process. */
export interface PnpmCluster {
  child: ChildProcess;
  /** Settles with its exit code once it exited and its output was read. */
  exited: Promise<number | null>;
  /** Node i listens on `base + i - 1`; nginx on `base + nodes`. */
  base: number;
  nodePorts: number[];
  nginxPort: number;
  /** The URL it printed (nginx). */
  url: string;
  /** SIGTERM (it stops nginx and its nodes, then exits); resolves with its exit code. */
  stop(): Promise<number | null>;
}

export interface PnpmClusterOptions {
  /** CLUSTER_NODES. @default 3 */
  nodes?: number;
  /** Every line it prints (stdout and stderr) is added here, over every start attempt. */
  lines?: string[];
}

/**
 * `pnpm cluster` with `env` over this process's environment (DATABASE_URL, REDIS_URL,
 * REDIS_KEY_PREFIX, the nodes' settings), its nodes and nginx on consecutive free ports; started
 * again on another range when one was taken meanwhile. Resolves once it prints its URL.
 */
export function startPnpmCluster(env: Record<string, string | undefined>, options: PnpmClusterOptions = {}): Promise<PnpmCluster> {
  const nodes = options.nodes ?? 3;
  const lines = options.lines ?? [];
  return startOnFreePort(
    'pnpm cluster',
    (base) => launchPnpmCluster(base, nodes, env, lines),
    () => freePortRange(nodes + 1),
  );
}

/** One attempt: rejects with PortInUseError when it fails to start because one of its ports is taken. */
function launchPnpmCluster(base: number, nodes: number, env: Record<string, string | undefined>, lines: string[]): Promise<PnpmCluster> {
  const own: string[] = [];
  const nginxPort = base + nodes;
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/cluster/cluster.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...env,
      CLUSTER_NODES: String(nodes),
      CLUSTER_BASE_PORT: String(base),
      CLUSTER_NGINX_PORT: String(nginxPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close', not 'exit': its last lines (why it failed) may still be in the pipes at 'exit'.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    void exited.then((code) => {
      const output = own.join('\n');
      reject(ADDRESS_IN_USE.test(output) ? new PortInUseError(base, output) : new Error(`cluster exited early (${code}): ${output}`));
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        own.push(line);
        const match = /^Parley cluster: (\S+)/.exec(line);
        if (match?.[1]) {
          const nodePorts = Array.from({ length: nodes }, (_, i) => base + i);
          resolve({ child, exited, base, nodePorts, nginxPort, url: match[1], stop });
        }
      });
    }
  });
}
