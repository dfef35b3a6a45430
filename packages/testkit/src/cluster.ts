import { startCluster as startDevCluster, startGatewayProcess, type Cluster, type NodeProcess } from '@parley/devcluster';
import { testEnv } from './node.ts';

/** A gateway process with the test defaults (`testEnv`), logging at info. */
export function startNodeProcess(env: Record<string, string | undefined>): Promise<NodeProcess> {
  return startGatewayProcess(testEnv({ LOG_LEVEL: 'info', ...env }));
}

/** N gateway processes with the test defaults, and nginx in front. */
export function startCluster(size: number, env: Record<string, string | undefined>): Promise<Cluster> {
  return startDevCluster(size, testEnv({ LOG_LEVEL: 'info', ...env }));
}
