"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";

import type { Watch, WatchRun } from "@/api/types";
import { StatusBadge, Empty, Loading } from "@/components/ui";
import { WatchForm } from "@/components/WatchForm";
import { api, type Page } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { type Region, regionLabel, useRegions } from "@/lib/regionNames";
import { useApi } from "@/lib/useApi";

type WatchLike = Pick<Watch, "advertiser_ids" | "text" | "region" | "creative_format"> & { region_name?: string | null };

/** "AR1782… · “tesla.com” · United States · image": what a watch looks for, regions by name. */
export function describeWatch(w: WatchLike, regions: Region[] = []): string {
  const ids = Array.isArray(w.advertiser_ids) ? (w.advertiser_ids as string[]) : [];
  const parts = [ids.length ? ids.join(", ") : "", w.text ? `“${w.text}”` : "", regionLabel(w.region, regions, w.region_name), w.creative_format ?? ""];
  return parts.filter(Boolean).join(" · ");
}

export function WatchesPage() {
  const router = useRouter();
  const params = useSearchParams();
  const regions = useRegions();
  const { data, error, loading, reload } = useApi<Page<Watch>>("/api/adspark/watches/?page_size=100");
  const [message, setMessage] = useState<{ kind: string; text: string } | null>(null);
  const [showForm, setShowForm] = useState(params.has("advertiser_ids"));

  async function trigger(watch: Watch) {
    setMessage(null);
    try {
      const run = await api<WatchRun>(`/api/adspark/watches/${watch.id}/trigger/`, { method: "POST" });
      router.push(`/watches/${watch.id}?run=${run.id}`);
    } catch (err) {
      setMessage({ kind: "error", text: (err as Error).message });
    }
  }

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Watches</h1>
          <p>Saved queries AdSpark re-runs on a schedule, telling you which creatives are new.</p>
        </div>
        <button type="button" className="primary" onClick={() => setShowForm((v) => !v)} aria-expanded={showForm} aria-controls="new-watch">
          {showForm ? "Close" : "New watch"}
        </button>
      </header>
      {showForm ? (
        <section id="new-watch" className="card" aria-labelledby="new-watch-title" style={{ marginBottom: "1rem" }}>
          <h2 id="new-watch-title">New watch</h2>
          <WatchForm
            watch={{ name: params.get("name") ?? "", advertiser_ids: params.get("advertiser_ids") ?? "" }}
            submitLabel="Create watch"
            onSaved={(w) => router.push(`/watches/${w.id}`)}
          />
        </section>
      ) : null}
      {message ? <div className={`alert alert-${message.kind}`} role="alert">{message.text}</div> : null}
      {error ? <div className="alert alert-error" role="alert">{error}</div> : null}
      <section className="card" aria-label="Your watches">
        {loading && !data ? <Loading /> : null}
        {data && !data.results.length ? (
          <Empty title="No watches yet"><p>Create one, or save a search as a watch.</p></Empty>
        ) : null}
        {data?.results.length ? (
          <div className="table-wrap">
            <table data-testid="watches-table">
              <thead>
                <tr><th scope="col">Watch</th><th scope="col">Query</th><th scope="col">Every</th><th scope="col">Last run</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr>
              </thead>
              <tbody>
                {data.results.map((w) => (
                  <tr key={w.id}>
                    <td>
                      <Link href={`/watches/${w.id}`}>{w.name}</Link>{" "}
                      {!w.is_active ? <span className="badge badge-warn" title={w.paused_reason}>paused</span> : null}
                    </td>
                    <td className="small">{describeWatch(w, regions)}</td>
                    <td className="small">{w.interval_minutes} min</td>
                    <td>
                      {w.last_run ? (
                        <span className="row" style={{ gap: ".4rem" }}>
                          <StatusBadge status={w.last_run.status} />
                          {w.last_run.new_creatives_count && !w.last_run.is_baseline ? (
                            <span className="badge badge-new">{w.last_run.new_creatives_count} new</span>
                          ) : null}
                          <span className="small muted">{timeAgo(w.last_run.created_at)}</span>
                        </span>
                      ) : <span className="small muted">never</span>}
                    </td>
                    <td><button type="button" onClick={() => trigger(w)}>Run now<span className="visually-hidden"> {w.name}</span></button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <div className="row" style={{ marginTop: ".75rem" }}>
          <button type="button" className="link-button" onClick={reload}>Refresh</button>
        </div>
      </section>
    </>
  );
}
