# syntax=docker/dockerfile:1
# pathpilot: one image for every role (`pathpilot start <ingest|sink|optimizer|actuator|api>…`).
# It runs the CLI built to plain JavaScript (`npm run build` → dist/, scripts/build.ts), as the
# unprivileged `node` user: no tsx loader thread in the processes (~35 MB each on Node 20). The
# sources stay in the image: modules read their data files next to their sources, and the
# optimizer's and billing importer's worker threads load TypeScript through tsx.

# --- deps: production dependencies from the lockfile only --------------------------------------
FROM node:20-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- build: the bundles in dist/ (esbuild, a dev dependency) --------------------------------------
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY core ./core
COPY ingest ./ingest
COPY analytics ./analytics
COPY optimizer ./optimizer
COPY actuator ./actuator
COPY lab ./lab
COPY app ./app
COPY cli ./cli
COPY dashboards ./dashboards
COPY scripts ./scripts
RUN npm run build

# --- runtime ------------------------------------------------------------------------------------
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json tsconfig.json pathpilot.example.yaml ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node core ./core
COPY --chown=node:node ingest ./ingest
COPY --chown=node:node analytics ./analytics
COPY --chown=node:node optimizer ./optimizer
COPY --chown=node:node actuator ./actuator
COPY --chown=node:node lab ./lab
COPY --chown=node:node app ./app
COPY --chown=node:node cli ./cli
COPY --chown=node:node dashboards ./dashboards
COPY --from=build --chown=node:node /app/dist ./dist
USER node
# API + /metrics + /healthz; NetFlow/IPFIX/sFlow (UDP).
EXPOSE 8080 2055/udp 4739/udp 6343/udp
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# One process (no launcher in between), so `docker stop`'s SIGTERM reaches pathpilot and it stops
# its components in order (Kafka offsets commit only after ClickHouse accepted the rows).
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["start", "api", "--host", "0.0.0.0", "--port", "8080"]
