# syntax=docker/dockerfile:1
# Parley gateway image: the compiled JavaScript (`pnpm build`: tsc to each package's dist/), the
# web app's bundle (Vite, packages/web/dist, served at / and /console/) and the gateway's
# production dependencies only; no TypeScript sources, no tsx, no compiler.
# Build from the repository root: docker build -f infra/docker/gateway.Dockerfile .

FROM node:20.20-bookworm-slim AS base
RUN npm install -g pnpm@12.4.2
WORKDIR /app

# Everything: generate the Prisma client (postinstall; no engine download needed), then compile.
FROM base AS build
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build

# The gateway and the workspace packages it imports, production dependencies only, no install
# scripts; their dist/ from the build stage; then everything the compiled gateway does not read
# is removed (sources, tests, the other packages). prisma/migrations stays: nodes and `dist/cli.js
# migrate` apply it.
FROM base AS assemble
COPY . .
RUN pnpm install --frozen-lockfile --prod --ignore-scripts --filter @parley/gateway...
COPY --from=build /app/packages/protocol/dist packages/protocol/dist
COPY --from=build /app/packages/config/dist packages/config/dist
COPY --from=build /app/packages/db/dist packages/db/dist
COPY --from=build /app/services/gateway/dist services/gateway/dist
COPY --from=build /app/packages/web/dist packages/web/dist
RUN rm -rf packages/chaos packages/client packages/devcluster packages/loadgen packages/testkit bench infra docs \
      packages/*/src packages/*/test packages/*/scripts services/*/src services/*/test \
      packages/web/index.html packages/web/console packages/web/*.config.ts packages/web/tsconfig.json \
  && find packages services -path '*/dist/*' \( -name '*.d.ts' -o -name '.tsbuildinfo' \) -delete

FROM node:20.20-bookworm-slim AS runtime
# The parley-dist export condition makes @parley/* resolve to their dist/ (their source is not here),
# for every node started in the container (CMD, the compose migrate command, `docker exec … node dist/cli.js`).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 NODE_OPTIONS=--conditions=parley-dist
COPY --from=assemble --chown=node:node /app /app
WORKDIR /app/services/gateway
USER node
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --retries=10 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
