# latchkey: one image for every role. Build: docker build -t latchkey:latest .
# Run a role by naming it: docker run latchkey:latest id | proxy … | serve … (see docs/reverse-proxies.md).

# Stage 1: the production bundle (`npm run build`, scripts/build.ts), what bin/latchkey runs outside
# containers: it starts in half the time and with a third less memory than the sources
# (docs/benchmarks.md). The full install brings esbuild; its platform binary comes as an optional
# dependency, so no install script is needed.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY scripts ./scripts
COPY src ./src
RUN node scripts/build.ts

# Stage 2: what runs.
FROM node:24-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so code changes reuse this layer. --omit=dev also leaves out the pinned
# "node" devDependency: the image's own Node 24 runs the code. No package needs an install script.
# The bundle holds the code; it reads a few files where they lie (package.json, the browser script
# of @simplewebauthn/browser, src/web/assets), so those stay as in a checkout.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY src ./src
COPY --from=build /app/dist ./dist
# bin/latchkey runs dist/ while it is newer than everything in src/; COPY's timestamps do not promise that.
RUN touch dist/main.js

# The SQLite database (and anything else worth keeping) lives in the /data volume.
RUN mkdir -p /data && chown node:node /data
ENV DB_CONNECTION_STRING=/data/latchkey.db
VOLUME ["/data"]

# The unprivileged user the official Node image provides.
USER node

# latchkey id, latchkey proxy, latchkey serve
EXPOSE 1411 4180 8080

# Checks `latchkey id` on $PORT (1411); compose gives the proxy and serve their own --url.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/main.js", "healthcheck"]

# bin/latchkey starts every command, as systemd units do: the same memory settings, with the
# reasons it gives (glibc's fixed malloc trim threshold, a 1 MB young generation,
# --optimize-for-size, optimising compilations on the main thread, no TurboFan for the proxy).
COPY bin ./bin
ENV MALLOC_TRIM_THRESHOLD_=131072
ENTRYPOINT ["bin/latchkey"]
CMD ["--help"]
