import { launch, startOnFreePort, type Launched } from '@parley/devcluster';

/** A Prometheus server of a test's own (Debian's `prometheus`), on a free loopback port. */
export interface PrometheusServer {
  url: string;
  /** `GET /api/v1/<path>`'s `data`; throws unless Prometheus answers status success. */
  api<T>(path: string, query?: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Start `prometheus` with `configFile` (paths in it are relative to its folder), its database in
 * `dataDir`; resolves once it is ready for web requests.
 */
export function startPrometheus(configFile: string, dataDir: string): Promise<PrometheusServer> {
  return startOnFreePort('prometheus', async (port) => {
    const server: Launched = await launch(
      'prometheus',
      [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`],
      { name: 'prometheus', port, ready: /Server is ready to receive web requests/, timeoutMs: 30_000 },
    );
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      async api<T>(path: string, query: Record<string, string> = {}) {
        const res = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(query).toString()}`, { signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as { status: string; data: T; error?: string };
        if (body.status !== 'success') throw new Error(`prometheus ${path} ${JSON.stringify(query)}: ${body.error ?? res.status}`);
        return body.data;
      },
      async stop() {
        server.child.kill('SIGTERM');
        await server.exited;
      },
    };
  });
}
