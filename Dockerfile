# One image for every lab host; the compose `command` picks the service (docker-compose.yml).
# Without a registry: NODE_IMAGE=$(scripts/docker-base.sh) docker-compose build
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: npm ci with the native addons (better-sqlite3, cap), then tsc ---
FROM ${NODE_IMAGE} AS build
# install only what the base lacks: the offline base image (scripts/docker-base.sh) has it all
RUN need=""; for p in python3 make g++ libpcap-dev; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done; \
    if [ -n "$need" ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $need \
      && rm -rf /var/lib/apt/lists/*; fi
WORKDIR /lab
COPY package.json package-lock.json ./
# --ignore-scripts: the root `prepare` (tsc) needs sources not copied yet; the addons are built next
# from Node's own headers (no header or prebuilt download)
RUN npm ci --ignore-scripts --no-audit --no-fund \
    && export npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")" npm_config_build_from_source=true \
    && npm rebuild better-sqlite3 cap
COPY tsconfig.json ./
COPY scripts/post-build.mjs scripts/
COPY services services
COPY lab-cli lab-cli
COPY bench bench
# npm run build also bundles each service into its dist/services/<service>/main.js (scripts/post-build.mjs)
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- run: dist/ and production dependencies only ---
FROM ${NODE_IMAGE}
# iproute2: each host's routes (docker/entrypoint.sh); libpcap: the middlebox's sniffer (cap);
# iptables: the middlebox drops a segment in its own netns (packet-loss scenario)
RUN need=""; for p in iproute2 iptables libpcap0.8; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done; \
    if [ -n "$need" ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $need \
      && rm -rf /var/lib/apt/lists/*; fi
WORKDIR /lab
COPY --from=build /lab/package.json ./
COPY --from=build /lab/node_modules node_modules
COPY --from=build /lab/dist dist
COPY services/nameserver/zones services/nameserver/zones
COPY services/app/static services/app/static
COPY scenarios scenarios
# the state dir belongs to the unprivileged user the services drop to; the CA's is a named volume
RUN mkdir -p /lab/state/hosts/ca && chown -R node:node /lab/state
# LAB_EVENTS_DIR: the hosts write their events there (a bind mount, docker-compose.yml), and readable
# lines on stdout (services/common/event-output.ts)
ENV LAB_RUNTIME=docker LAB_PORT_OFFSET=0 LAB_STATE_DIR=/lab/state LAB_EVENTS_DIR=/lab/events LAB_IPV6=1 NODE_ENV=production
COPY docker docker
ENTRYPOINT ["/lab/docker/entrypoint.sh"]
# last, so it never spoils the cache: which sources this image was built from
ARG LAB_SOURCE=
LABEL org.enterlab.source=${LAB_SOURCE}
