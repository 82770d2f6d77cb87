"use client";

import Link from "next/link";

import type { FetchRun } from "@/api/types";
import { isFinished } from "@/lib/format";
import { usePoll } from "@/lib/usePoll";

import { ProgressBar, StatusBadge } from "./ui";

export function describeRun(run: FetchRun): string {
  const params = run.params as { advertiser_ids?: string[]; text?: string; region?: string | null };
  const what = params.advertiser_ids?.length ? params.advertiser_ids.join(", ") : params.text || "query";
  return params.region ? `${what} · region ${params.region}` : what;
}

/** Follows a fetch run: polls `/api/adspark/fetch-runs/{id}/` every second until it ends. */
export function FetchProgress({ runId, onFinished }: { runId: number; onFinished?: (run: FetchRun) => void }) {
  const { data: run, error } = usePoll<FetchRun>(`/api/adspark/fetch-runs/${runId}/`, {
    intervalMs: 1000,
    active: (r) => {
      const going = !isFinished(r.status);
      if (!going) onFinished?.(r);
      return going;
    },
  });
  if (!run) return <p className="muted" role="status">{error ?? "Starting the fetch…"}</p>;
  const progress = run.progress as { done?: number; total?: number; percent?: number };
  return (
    <div className="stack" data-testid="fetch-progress" data-status={run.status}>
      <div className="spread">
        <strong>Fetch #{run.id}: {describeRun(run)}</strong>
        <StatusBadge status={run.status} />
      </div>
      <ProgressBar
        label="Pages fetched"
        percent={progress.percent ?? 0}
        status={run.status}
        detail={`${progress.done ?? 0} of ${progress.total || "?"} pages · ${Math.round(progress.percent ?? 0)}%`}
      />
      <div role="status" aria-live="polite" className="small">
        {run.status === "succeeded" ? (
          <span>
            Done: {run.creatives_seen} creatives ({run.creatives_new} new, {run.creatives_updated} updated) in {run.pages_fetched}{" "}
            page{run.pages_fetched === 1 ? "" : "s"}.{" "}
            <Link href={`/creatives?${new URLSearchParams(runLinkQuery(run)).toString()}`}>Browse them →</Link>
          </span>
        ) : run.status === "failed" ? (
          <span className="field-error">Failed: {run.error || "unknown error"}</span>
        ) : (
          <span className="muted">
            {run.status === "pending" ? "Queued on data_fetch…" : `Running: ${run.creatives_seen} creatives so far…`}
            {run.error ? ` (${run.error})` : ""}
          </span>
        )}
      </div>
    </div>
  );
}

function runLinkQuery(run: FetchRun): Record<string, string> {
  const params = run.params as { advertiser_ids?: string[] };
  return params.advertiser_ids?.length === 1 ? { advertiser_id: params.advertiser_ids[0] } : {};
}
