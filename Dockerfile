# Multi-stage build: compile TypeScript once, ship only the JavaScript and production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY domain ./domain
COPY command-api ./command-api
COPY query-api ./query-api
COPY projectors ./projectors
COPY infra ./infra
COPY migrations ./migrations
COPY main.ts service.ts ./
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY package.json ./
USER node
EXPOSE 3000
CMD ["node", "dist/main.js"]
