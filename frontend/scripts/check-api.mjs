#!/usr/bin/env node
// `npm run check:api`: regenerate the API types from openapi.yaml and fail when they differ
// from the checked-in src/api/schema.d.ts (someone changed the schema and forgot the types).
// The schema itself is checked against the backend by tests/frontend/test_openapi_schema.py;
// `make schema` regenerates both.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(path.join(tmpdir(), "adspark-api-"));
const fresh = path.join(dir, "schema.d.ts");
try {
  execFileSync(path.join(root, "node_modules", ".bin", "openapi-typescript"), ["openapi.yaml", "-o", fresh], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const current = readFileSync(path.join(root, "src", "api", "schema.d.ts"), "utf8");
  if (readFileSync(fresh, "utf8") !== current) {
    console.error("src/api/schema.d.ts is out of date with openapi.yaml: run `make schema` (or `npm run gen:api`).");
    process.exit(1);
  }
  console.log("API types match openapi.yaml.");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
