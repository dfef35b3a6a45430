# syntax=docker/dockerfile:1
# Parley gateway image: TypeScript run by tsx (no build step), production dependencies only.
# Build from the repository root: docker build -f infra/docker/gateway.Dockerfile .

FROM node:20.20-bookworm-slim AS base
RUN npm install -g pnpm@12.4.2
WORKDIR /app

# Everything, to generate the Prisma client (postinstall; no engine download needed).
FROM base AS build
COPY . .
RUN pnpm install --frozen-lockfile

# Production dependencies only, without install scripts.
FROM base AS prod-deps
COPY . .
RUN pnpm install --frozen-lockfile --prod --ignore-scripts

FROM node:20.20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
COPY --from=prod-deps --chown=node:node /app /app
COPY --from=build --chown=node:node /app/packages/db/src/generated /app/packages/db/src/generated
# tsx is a dependency of the gateway package, so run from its folder.
WORKDIR /app/services/gateway
USER node
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --retries=10 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--import", "tsx", "src/main.ts"]
