"use client";

import Link from "next/link";
import { useEffect, useState } from "react";

import type { FetchRun } from "@/api/types";
import { api, ApiError } from "@/lib/api";
import { formatNumber, isFinished } from "@/lib/format";
import { type Region, regionLabel, useRegions } from "@/lib/regionNames";
import { usePoll } from "@/lib/usePoll";

import { ProgressBar, StatusBadge } from "./ui";

/** A fetch run as the API describes it (issue 13 contract: FetchRunSerializer's new fields are
 * optional here until the generated schema has them). */
export type FetchRunView = FetchRun & {
  advertiser_names?: string[];
  region_name?: string | null;
  /** One human line: "Tesla, Inc. · United States · images · 3 pages". */
  summary?: string;
  /** ISO datetime of the next attempt while the run waits to retry, else null. */
  retry_at?: string | null;
  /** A marketer-facing explanation of a failure, retry or empty result (never raw SerpApi text). */
  user_message?: string;
  /** 0-100, null when the number of pages is not known; never 100 for a failed run. */
  progress_percent?: number | null;
};

type RunParams = { advertiser_ids?: string[]; text?: string; region?: string | null; creative_format?: string; platform?: string };

/** "Tesla, Inc. · United States · images" — the API's `summary`, or one built from the params. */
export function describeRun(run: FetchRunView, regions: Region[] = []): string {
  if (run.summary) return run.summary;
  const params = (run.params ?? {}) as RunParams;
  const names = run.advertiser_names?.filter(Boolean);
  const who = names?.length ? names.join(", ") : params.advertiser_ids?.length ? params.advertiser_ids.join(", ") : params.text ? `“${params.text}”` : "query";
  const parts = [who, regionLabel(params.region, regions, run.region_name), params.creative_format, params.platform];
  return parts.filter(Boolean).join(" · ");
}

/** "12 creatives (3 new)", for lists of runs whose summary does not say it (older APIs). */
export function runCounts(run: FetchRunView): string {
  const creatives = `${formatNumber(run.creatives_seen)} creative${run.creatives_seen === 1 ? "" : "s"}`;
  return run.creatives_new ? `${creatives} (${formatNumber(run.creatives_new)} new)` : creatives;
}

/** Seconds from now until `iso` (rounded up, never negative), re-evaluated every second. */
export function useSecondsUntil(iso: string | null | undefined): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!iso) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [iso]);
  if (!iso) return null;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The progress bar's value and words: "page 2 of 5" only when the number of pages is known. */
export function progressOf(run: FetchRunView): { percent: number | null; detail: string } {
  const progress = (run.progress ?? {}) as { done?: number; total?: number; percent?: number };
  const done = progress.done ?? run.pages_fetched ?? 0;
  let percent: number | null = run.progress_percent !== undefined ? run.progress_percent : (progress.percent ?? null);
  if (run.status === "failed" && percent !== null && percent >= 100) percent = null; // older APIs said 100
  if (run.status === "succeeded") percent = 100;
  const pages = `${done} page${done === 1 ? "" : "s"}`;
  if (percent === null || !progress.total) return { percent, detail: `${pages} fetched` };
  if (run.status === "succeeded") return { percent, detail: `${pages} fetched · 100%` };
  return { percent, detail: `page ${Math.min(done + (isFinished(run.status) ? 0 : 1), progress.total)} of ${progress.total} · ${Math.round(percent)}%` };
}

function FailedText({ run }: { run: FetchRunView }) {
  // `user_message` never carries SerpApi's raw text; `error` is the fallback of older APIs only.
  const message = run.user_message ?? run.error;
  if (run.status === "cancelled") return <span className="muted">{run.user_message || "Cancelled."}</span>;
  return <span className="field-error">Failed: {message || "the fetch did not finish."}</span>;
}

/** Follows a fetch run: polls `/api/adspark/fetch-runs/{id}/` every second until it ends, with a
 * Cancel button while it runs or waits to retry. */
export function FetchProgress({ runId, onFinished }: { runId: number; onFinished?: (run: FetchRunView) => void }) {
  const regions = useRegions();
  const [override, setOverride] = useState<FetchRunView | null>(null);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const { data: polled, error } = usePoll<FetchRunView>(`/api/adspark/fetch-runs/${runId}/`, {
    intervalMs: 1000,
    active: (r) => {
      const going = !isFinished(r.status);
      if (!going) onFinished?.(r);
      return going;
    },
  });
  const run = override && (!polled || !isFinished(polled.status)) ? override : polled;
  const retryIn = useSecondsUntil(run && !isFinished(run.status) ? run.retry_at : null);
  if (!run) return <p className="muted" role="status">{error ?? "Starting the fetch…"}</p>;

  async function cancel() {
    setCancelling(true);
    setCancelError(null);
    try {
      const cancelled = await api<FetchRunView>(`/api/adspark/fetch-runs/${runId}/cancel/`, { method: "POST" });
      setOverride(cancelled);
      onFinished?.(cancelled);
    } catch (err) {
      setCancelError(err instanceof ApiError && err.status === 409 ? "This fetch had already ended." : (err as Error).message);
    } finally {
      setCancelling(false);
    }
  }

  const { percent, detail } = progressOf(run);
  const found = run.status === "succeeded" && run.creatives_seen > 0;
  const statusLabel = retryIn !== null ? "retrying" : run.status;
  return (
    <div className="stack" data-testid="fetch-progress" data-status={run.status}>
      <div className="spread">
        <strong className="run-summary">Fetch #{run.id}: {describeRun(run, regions)}</strong>
        <StatusBadge status={statusLabel} />
      </div>
      <ProgressBar label="Pages fetched" percent={percent} status={run.status} detail={detail} />
      <div role="status" aria-live="polite" className="small">
        {run.status === "succeeded" ? (
          found ? (
            <span>
              Done: {run.creatives_seen} creatives ({run.creatives_new} new, {run.creatives_updated} updated) in {run.pages_fetched}{" "}
              page{run.pages_fetched === 1 ? "" : "s"}.{" "}
              <Link href={`/creatives?${new URLSearchParams(runLinkQuery(run)).toString()}`}>Browse them →</Link>
            </span>
          ) : (
            <span data-testid="fetch-empty">{run.user_message || "SerpApi found no ads for this query."}</span>
          )
        ) : isFinished(run.status) ? (
          <FailedText run={run} />
        ) : retryIn !== null ? (
          <span data-testid="fetch-retry">
            {retryIn > 0 ? `Retrying in ${retryIn} s` : "Retrying now…"}
            {run.user_message ? ` — ${run.user_message}` : ""}
          </span>
        ) : (
          <span className="muted">
            {run.status === "pending" ? "Queued on data_fetch…" : `Running: ${run.creatives_seen} creatives so far…`}
            {run.user_message ? ` ${run.user_message}` : ""}
          </span>
        )}
      </div>
      {!isFinished(run.status) ? (
        <div className="row">
          <button type="button" onClick={cancel} disabled={cancelling}>
            {cancelling ? "Cancelling…" : "Cancel fetch"}
          </button>
          {cancelError ? <span className="field-error" role="alert">{cancelError}</span> : null}
        </div>
      ) : null}
    </div>
  );
}

function runLinkQuery(run: FetchRun): Record<string, string> {
  const params = run.params as { advertiser_ids?: string[] };
  return params.advertiser_ids?.length === 1 ? { advertiser_id: params.advertiser_ids[0] } : {};
}
