/**
 * Named shapes of the AdSpark API, taken from the generated `schema.d.ts` (run `npm run gen:api`
 * after `make schema`; `npm run check:api` fails when they drift from the backend).
 */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Advertiser = Schemas["Advertiser"];
export type Creative = Schemas["Creative"];
export type CreativeDetail = Schemas["CreativeDetail"];
export type CreativeDetails = Schemas["CreativeDetails"];
export type FetchRun = Schemas["FetchRun"];
export type FetchRequest = Schemas["FetchRequestRequest"];
export type Me = Schemas["Me"];
export type SearchResponse = Schemas["SearchResponse"];
export type SearchCreative = Schemas["SearchCreative"];
export type SearchAdvertiser = Schemas["SearchAdvertiser"];
export type SearchHistoryEntry = Schemas["SearchHistoryEntry"];
export type Watch = Schemas["Watch"];
export type WatchRequest = Schemas["WatchRequest"];
export type WatchRun = Schemas["WatchRun"];
export type WatchNewCreative = Schemas["WatchNewCreative"];

/** `GET /api/health/` (described in prose in the schema, so typed here by hand). */
export type Health = {
  status: "ok" | "degraded" | "down";
  database: { ok: boolean; error?: string; [key: string]: unknown };
  redis: { ok: boolean; error?: string; [key: string]: unknown };
  queues: Record<string, { workers: string[]; waiting: number | null }>;
};
