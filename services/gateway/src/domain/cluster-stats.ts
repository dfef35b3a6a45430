import type { Stats } from '@parley/protocol';

/** Figures for the admin 'stats' event; the Redis-backed implementation covers every node. */
export interface ClusterStats {
  snapshot(): Promise<Stats>;
}

/** Single node: this process's connections and rooms. */
export class LocalClusterStats implements ClusterStats {
  constructor(
    private readonly nodeId: string,
    private readonly connections: () => number,
    private readonly rooms: () => Promise<number>,
  ) {}

  async snapshot(): Promise<Stats> {
    const connections = this.connections();
    return { nodes: [{ nodeId: this.nodeId, connections }], connections, rooms: await this.rooms() };
  }
}
