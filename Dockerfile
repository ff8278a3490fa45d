# latchkey: one image for every role. Build: docker build -t latchkey:latest .
# Run a role by naming it: docker run latchkey:latest id | proxy … | serve … (see docs/reverse-proxies.md).
FROM node:24-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so code changes reuse this layer. --omit=dev also leaves out the pinned
# "node" devDependency: the image's own Node 24 runs the code. No package needs an install script.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# Node 24 strips the TypeScript types itself: the sources are what runs, no build step.
COPY src ./src

# The SQLite database (and anything else worth keeping) lives in the /data volume.
RUN mkdir -p /data && chown node:node /data
ENV DB_CONNECTION_STRING=/data/latchkey.db
VOLUME ["/data"]

# The unprivileged user the official Node image provides.
USER node

# latchkey id, latchkey proxy, latchkey serve
EXPOSE 1411 4180 8080

# Checks `latchkey id` on $PORT (1411); compose gives the proxy and serve their own --url.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "src/main.ts", "healthcheck"]

ENTRYPOINT ["node", "src/main.ts"]
CMD ["--help"]
