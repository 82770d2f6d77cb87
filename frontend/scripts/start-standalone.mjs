#!/usr/bin/env node
/**
 * `npm start`: run the production build with Next's standalone server (`output: "standalone"` in
 * next.config.ts), which is what the Docker image runs. `next start` does not work with that
 * output (it warns and serves without the standalone tracing), so this script does what the
 * Dockerfile does: copy `.next/static` and `public/` next to `.next/standalone/server.js`, then
 * start it.
 *
 *   npm run build && BACKEND_URL=http://127.0.0.1:8000 npm start -- --port 3000 --hostname 127.0.0.1
 *
 * `--port`/`-p` and `--hostname`/`-H` set PORT and HOSTNAME (defaults 3000 and 0.0.0.0, as in
 * Next); every other setting comes from the environment (BACKEND_URL, COOKIE_SECURE).
 */
import { cpSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const standalone = path.join(root, ".next", "standalone");
const server = path.join(standalone, "server.js");

if (!existsSync(server)) {
  console.error(`No standalone build at ${server}: run \`npm run build\` first.`);
  process.exit(1);
}

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 1) {
  const [flag, inline] = args[i].split("=", 2);
  const value = inline ?? args[i + 1];
  if (flag === "--port" || flag === "-p") process.env.PORT = value;
  else if (flag === "--hostname" || flag === "-H") process.env.HOSTNAME = value;
  else {
    console.error(`Unknown option ${args[i]} (use --port N and --hostname HOST).`);
    process.exit(2);
  }
  if (inline === undefined) i += 1;
}

// Fresh copies: a rebuild changes the hashed file names in .next/static.
for (const [from, to] of [
  [path.join(root, ".next", "static"), path.join(standalone, ".next", "static")],
  [path.join(root, "public"), path.join(standalone, "public")],
]) {
  rmSync(to, { recursive: true, force: true });
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}

process.env.NODE_ENV = "production";
await import(pathToFileURL(server).href);
