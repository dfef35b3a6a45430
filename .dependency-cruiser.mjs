/**
 * Import rules, checked by `pnpm lint` (dependency-cruiser): no cycles (type-only imports
 * count), and each layer of the gateway imports only the layers below it:
 *
 *   app.ts, main.ts, cli.ts  >  plugins/  >  routes/, realtime/, metrics/  >  presence/, notifications/, pubsub/, limits/  >  domain/
 *
 * Packages never import services, and nothing reaches into another package with a relative path.
 */
const gateway = '^services/gateway/src/';
const layer = (name) => `${gateway}${name}/`;

/** `from` may not import any of `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

export default {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles (type-only ones too).', from: {}, to: { circular: true } },
    forbid('domain-is-pure', 'domain/ holds pure logic: no infrastructure, no higher layer.', layer('domain'), [
      `${gateway}(presence|notifications|pubsub|limits|realtime|metrics|routes|plugins)/`,
      `${gateway}[^/]+\\.ts$`,
      'node_modules/(fastify|socket\\.io|ioredis|@socket\\.io)',
    ]),
    forbid(
      'services-below-transport',
      'presence/, notifications/, pubsub/ and limits/ know nothing of sockets, routes or plugins.',
      `${gateway}(presence|notifications|pubsub|limits)/`,
      `${gateway}(realtime|metrics|routes|plugins)/|${gateway}[^/]+\\.ts$`,
    ),
    forbid(
      'realtime-below-plugins',
      'realtime/ is wired by plugins, never the other way.',
      layer('realtime'),
      `${gateway}(metrics|routes|plugins)/|${gateway}[^/]+\\.ts$`,
    ),
    forbid(
      'metrics-below-plugins',
      'metrics/ instruments what plugins hand it (sockets, Redis clients, presence); it knows no handler, route or plugin.',
      layer('metrics'),
      `${gateway}(realtime|routes|plugins)/|${gateway}[^/]+\\.ts$`,
    ),
    forbid(
      'routes-below-plugins',
      'routes/ use the decorated instance, not the plugins.',
      layer('routes'),
      `${gateway}(realtime|plugins)/|${gateway}[^/]+\\.ts$`,
    ),
    forbid('plugins-below-app', 'plugins/ do not import routes or the app.', layer('plugins'), `${gateway}routes/|${gateway}[^/]+\\.ts$`),
    forbid('packages-below-services', 'packages never import a service’s source.', '^packages/', '^services/[^/]+/src/'),
    {
      name: 'no-relative-across-packages',
      comment: 'Another package is imported by its name (@parley/...), never by a relative path.',
      severity: 'error',
      from: { path: '^(packages|services)/([^/]+)/' },
      to: { path: '^(packages|services|infra|bench)/', pathNot: '^$1/$2/' },
      // dependencyTypes of a workspace package import resolve through node_modules symlinks.
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|generated|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
