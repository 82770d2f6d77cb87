/** Recent jobs of the signed-in user across job types, as the operations page lists them. */
import type { Watch } from "@/api/types";

import { describeRun, type FetchRunView } from "@/components/FetchProgress";

import type { Region } from "./regionNames";

export type JobRow = {
  key: string;
  kind: "fetch" | "watch run" | "variant";
  queue: string;
  taskId: string | null;
  status: string;
  label: string;
  href: string;
  createdAt: string;
  percent?: number;
};

export type VariantLike = {
  id: number;
  status: string;
  task_id?: string | null;
  prompt: string;
  provider: string;
  creative: string;
  created_at: string;
  progress?: { percent?: number };
};

/** Merge fetch runs, the watches' last runs and variants, newest first. Queue names follow the
 * routing table in backend/celery.py (fetches and watch runs on data_fetch, variants on
 * ai_generation). */
export function mergeJobs(
  fetchRuns: FetchRunView[], watches: Watch[], variants: VariantLike[], limit = 20, regions: Region[] = [],
): JobRow[] {
  const rows: JobRow[] = [];
  for (const run of fetchRuns) {
    rows.push({
      key: `fetch-${run.id}`, kind: "fetch", queue: "data_fetch", taskId: run.task_id ?? null, status: run.status,
      label: `Fetch #${run.id}: ${describeRun(run, regions)}`, href: `/fetch?run=${run.id}`, createdAt: run.created_at,
      percent: run.progress_percent ?? (run.progress as { percent?: number }).percent,
    });
  }
  for (const watch of watches) {
    const run = watch.last_run;
    if (!run) continue;
    rows.push({
      key: `watchrun-${run.id}`, kind: "watch run", queue: "data_fetch", taskId: run.task_id ?? null, status: run.status,
      label: `Watch “${watch.name}” run #${run.id}`, href: `/watches/${watch.id}`, createdAt: run.created_at,
    });
  }
  for (const variant of variants) {
    rows.push({
      key: `variant-${variant.id}`, kind: "variant", queue: "ai_generation", taskId: variant.task_id ?? null, status: variant.status,
      label: `Variant #${variant.id} of ${variant.creative} (${variant.provider})`, href: `/variants?variant=${variant.id}`,
      createdAt: variant.created_at, percent: variant.progress?.percent,
    });
  }
  return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
}
