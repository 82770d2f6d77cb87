"use client";

import Link from "next/link";
import { useState } from "react";

import type { Watch, WatchNewCreative, WatchRun } from "@/api/types";
import { CreativeCard, CreativeDetailsPanel } from "@/components/creatives";
import { FetchProgress } from "@/components/FetchProgress";
import { Empty, Loading, ProgressBar, StatusBadge } from "@/components/ui";
import { WatchForm } from "@/components/WatchForm";
import { api, type Page } from "@/lib/api";
import { formatDate, isFinished } from "@/lib/format";
import { useRegions } from "@/lib/regionNames";
import { useApi } from "@/lib/useApi";
import { useVisiblePoll } from "@/lib/useVisiblePoll";

import { describeWatch } from "../WatchesPage";

export function WatchPage({ watchId }: { watchId: number }) {
  const regions = useRegions();
  const watch = useApi<Watch>(`/api/adspark/watches/${watchId}/`);
  // Run history stays fresh while the page is visible: runs the schedule starts show up without
  // a reload (every 5 s; every 1.5 s while one is going).
  const runs = useVisiblePoll<Page<WatchRun>>(`/api/adspark/watches/${watchId}/runs/?page_size=20`, {
    intervalMs: 5000,
    busyMs: 1500,
    busy: (page) => page.results.some((r) => !isFinished(r.status)),
  });
  const finishedRuns = runs.data?.results.filter((r) => isFinished(r.status)).length ?? 0;
  const newCreatives = useApi<Page<WatchNewCreative>>(
    runs.notFound ? null : `/api/adspark/watches/${watchId}/new-creatives/?page_size=48&include_baseline=true&v=${finishedRuns}`,
  );
  // Deleted meanwhile (the server already answered 404 for unknown ids and other users' watches).
  const gone = runs.notFound;
  const [editing, setEditing] = useState(false);
  const [message, setMessage] = useState<{ kind: string; text: string } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  async function trigger() {
    setMessage(null);
    try {
      await api<WatchRun>(`/api/adspark/watches/${watchId}/trigger/`, { method: "POST" });
      runs.reload();
      setMessage({ kind: "ok", text: "Run queued: it appears in the history below." });
    } catch (err) {
      setMessage({ kind: "error", text: (err as Error).message });
    }
  }

  async function remove() {
    if (!window.confirm("Delete this watch and its history?")) return;
    await api(`/api/adspark/watches/${watchId}/`, { method: "DELETE" });
    // A full page load on purpose: it drops every client-side cache of the old session.
    // eslint-disable-next-line @next/next/no-location-assign-relative-destination
    window.location.assign("/watches");
  }

  if (gone) {
    return (
      <div className="card not-found-card" style={{ margin: "2rem auto" }} data-testid="not-found">
        <h1>Watch not found</h1>
        <p className="muted">This watch does not exist or is not yours.</p>
        <Link className="button primary" href="/watches">All watches</Link>
      </div>
    );
  }

  const w = watch.data;
  const runList = runs.data?.results ?? [];
  const active = runList.find((r) => !isFinished(r.status));
  const newRunIds = new Set(runList.filter((r) => !r.is_baseline).map((r) => r.id));

  return (
    <>
      <nav aria-label="Breadcrumb" className="small muted" style={{ marginBottom: ".5rem" }}>
        <Link href="/watches">Watches</Link> / {w?.name ?? watchId}
      </nav>
      {watch.error ? <div className="alert alert-error" role="alert">{watch.error}</div> : null}
      {!w && watch.loading ? <Loading /> : null}
      {w ? (
        <>
          <header className="page-header">
            <div>
              <h1>{w.name}</h1>
              <p>{describeWatch(w, regions)} · every {w.interval_minutes} min · next run {formatDate(w.next_run_at, true)}</p>
            </div>
            <div className="row">
              <button type="button" onClick={() => setEditing((v) => !v)} aria-expanded={editing}>{editing ? "Cancel" : "Edit"}</button>
              <button type="button" className="danger" onClick={remove}>Delete</button>
              <button type="button" className="primary" onClick={trigger} disabled={Boolean(active)}>Run now</button>
            </div>
          </header>
          {!w.is_active && w.paused_reason ? <div className="alert alert-warn" role="status">Paused: {w.paused_reason}</div> : null}
          {message ? <div className={`alert alert-${message.kind}`} role={message.kind === "error" ? "alert" : "status"}>{message.text}</div> : null}
          {editing ? (
            <section className="card" aria-labelledby="edit-title" style={{ marginBottom: "1rem" }}>
              <h2 id="edit-title">Edit watch</h2>
              <WatchForm watch={w} submitLabel="Save changes" onSaved={() => { setEditing(false); watch.reload(); setMessage({ kind: "ok", text: "Saved." }); }} />
            </section>
          ) : null}
        </>
      ) : null}

      {active ? (
        <section className="card" aria-labelledby="active-title" style={{ marginBottom: "1rem" }}>
          <h2 id="active-title">Running now</h2>
          {active.fetch_run ? (
            <FetchProgress runId={active.fetch_run} />
          ) : (
            <ProgressBar label={`Run #${active.id}`} percent={active.status === "running" ? 50 : 5} status={active.status} detail={active.status} />
          )}
        </section>
      ) : null}

      <div className="stack">
        <section className="card" aria-labelledby="history-title">
          <h2 id="history-title">Run history</h2>
          {runList.length ? (
            <div className="table-wrap">
              <table data-testid="watch-runs">
                <thead><tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col">Result</th><th scope="col">Status</th></tr></thead>
                <tbody>
                  {runList.map((r) => (
                    <tr key={r.id}>
                      <td>#{r.id} <span className="small muted">{r.trigger}</span></td>
                      <td className="small">{formatDate(r.started_at ?? r.created_at, true)}</td>
                      <td className="small">
                        {r.status === "succeeded" ? (
                          r.is_baseline ? <span>Baseline: {r.new_creatives_count} creatives seen</span>
                            : r.new_creatives_count ? <span className="badge badge-new">{r.new_creatives_count} new</span> : "Nothing new"
                        ) : r.status === "failed" ? <span className="field-error">{(r as WatchRun & { user_message?: string }).user_message || r.error}</span>
                          : r.status === "cancelled" ? "Cancelled" : "…"}
                      </td>
                      <td><StatusBadge status={r.status} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : runs.data ? (
            <Empty title="No runs yet"><p>Run the watch now, or wait for its schedule: new runs appear here by themselves.</p></Empty>
          ) : runs.error ? (
            <div className="alert alert-error" role="alert">{runs.error}</div>
          ) : <Loading />}
        </section>
        <section className="card" aria-labelledby="new-title">
          <h2 id="new-title">Creatives this watch found</h2>
          <p className="small muted">Marked <span className="badge badge-new">new</span> when a run after the baseline found them.</p>
          {newCreatives.data?.results.length ? (
            <div className={selected ? "split" : undefined}>
            <div className="gallery" data-testid="watch-creatives">
              {newCreatives.data.results.map((c) => (
                <CreativeCard key={c.ad_creative_id} creative={c} selected={selected === c.ad_creative_id}
                  onSelect={(id) => setSelected(id === selected ? null : id)}
                  badge={c.watch_run && newRunIds.has(c.watch_run) ? <span className="badge badge-new">new</span> : null} />
              ))}
            </div>
            {selected ? <CreativeDetailsPanel key={selected} creativeId={selected} onClose={() => setSelected(null)} /> : null}
            </div>
          ) : <p className="muted small">None yet.</p>}
        </section>
      </div>

    </>
  );
}
