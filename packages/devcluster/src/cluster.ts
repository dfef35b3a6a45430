import { startGatewayProcess, type NodeProcess } from './gateway-process.ts';
import { startNginx, type NginxProcess } from './nginx.ts';

export interface Cluster {
  nodes: NodeProcess[];
  nginx: NginxProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ClusterOptions {
  /** Node i listens on `basePort + i - 1` (`pnpm cluster`); otherwise on a free port each. */
  basePort?: number;
  /** nginx's port (listening on every interface); otherwise a free one on 127.0.0.1. */
  nginxPort?: number;
  /** Echo the nodes' output. @default false */
  echo?: boolean;
  /** nginx's limit of concurrent connections per client address. @default undefined (no limit) */
  nginxPerIpConnections?: number;
}

/**
 * N gateway processes (node-1…node-N) sharing `env` (DATABASE_URL, REDIS_URL…), and nginx in
 * front once every node listens. `stop(signal)`: nginx first, then the nodes (SIGKILL unless
 * told otherwise).
 */
export async function startCluster(size: number, env: Record<string, string | undefined>, options: ClusterOptions = {}): Promise<Cluster> {
  const started = await Promise.allSettled(
    Array.from({ length: size }, (_, i) =>
      startGatewayProcess(
        { ...env, NODE_ID: `node-${i + 1}`, ...(options.basePort === undefined ? {} : { PORT: String(options.basePort + i) }) },
        { echo: options.echo },
      ),
    ),
  );
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopNodes = (signal: NodeJS.Signals) => Promise.all(nodes.map((n) => n.kill(signal)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopNodes('SIGKILL');
    throw failed.reason;
  }
  let nginx: NginxProcess;
  try {
    nginx = await startNginx(
      nodes.map((n) => `127.0.0.1:${n.port}`),
      {
        ...(options.nginxPort === undefined ? {} : { port: options.nginxPort, public: true }),
        perIpConnections: options.nginxPerIpConnections,
      },
    );
  } catch (err) {
    await stopNodes('SIGKILL');
    throw err;
  }
  return {
    nodes,
    nginx,
    stop: async (signal = 'SIGKILL') => {
      await nginx.stop();
      await stopNodes(signal);
    },
  };
}
