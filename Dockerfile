# syntax=docker/dockerfile:1
#
# Citizen Graph: one image for every process; the command chooses which (deploy/k8s/ and README "Deployment"):
#   node dist/gateway/index.js                  the gateway (the default)
#   node dist/subgraphs/<agency>/index.js       residents, national-id, birth-registry
#   node dist/subgraphs/statistics/index.js     the statistics subgraph (analysts; no Deployment in deploy/k8s yet)
#   node dist/scripts/migrate.js                migrations and database roles, run once per release (a Job)
# The running image holds Node, the runtime dependencies (npm ci --omit=dev) and dist/, nothing else: no sources,
# no compilers, no code generators, no Prisma CLI. It writes nothing outside the volumes the deployment mounts
# (/tmp, the private keys copied at start, the audit checkpoints), so it runs with a read-only root filesystem.
# Nothing is downloaded at run time; `docker build` itself needs the npm registry (or a mirror) and the base image.

# Node 20 LTS (package.json engines: >=20.19) on Debian 12, pinned by its full version.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# 1. Build: every dependency, the generated code (Prisma clients, resolver types), then the JavaScript in dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts off: the project's own postinstall (the generators) needs the sources, copied next; the
# dependency layer is then reused until package-lock.json changes.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run generate && npm run build

# 2. What the running services import, and only that (README "Building and running in production": optional
# peers of @prisma/client, the Prisma CLI and TypeScript, left out too; the only install scripts left would set up
# protobufjs's command-line tool).
FROM ${NODE_IMAGE} AS runtime-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# 3. The image.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root, read-only to the service's user.
COPY --from=runtime-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The base image's unprivileged `node` user, by number so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
# Public ports: gateway 4000, residents 4001, national-id 4002, birth-registry 4003, statistics 4004; metrics 9400-9404.
EXPOSE 4000 4001 4002 4003 4004 9400 9401 9402 9403 9404
CMD ["node", "dist/gateway/index.js"]
