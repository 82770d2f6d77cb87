"use client";

import Link from "next/link";
import { useEffect, useState } from "react";

import type { FetchRun, Health, Watch } from "@/api/types";
import { Field, Loading, StatusBadge } from "@/components/ui";
import { api, ApiError, type Page } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { mergeJobs, type VariantLike } from "@/lib/jobs";
import { useRegions } from "@/lib/regionNames";
import { useApi } from "@/lib/useApi";

type TaskStatus = { task_id: string; state: string; job_type: string; job_id: number; status: string; progress: { percent?: number }; error: string };

/** Refreshes every `ms` while the page is open. */
function useTicker(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

export function OperationsPage() {
  const tick = useTicker(5000);
  const health = useApi<Health>(`/api/health/?t=${tick}`);
  const fetchRuns = useApi<Page<FetchRun>>(`/api/adspark/fetch-runs/?page_size=20&t=${tick}`);
  const watches = useApi<Page<Watch>>(`/api/adspark/watches/?page_size=100&t=${tick}`);
  const variants = useApi<Page<VariantLike>>(`/api/ai/variants/?page_size=20&t=${tick}`);
  const regions = useRegions();
  const jobs = mergeJobs(fetchRuns.data?.results ?? [], watches.data?.results ?? [], variants.data?.results ?? [], 20, regions);
  const [lookup, setLookup] = useState<TaskStatus | null>(null);
  const [lookupError, setLookupError] = useState<string[] | undefined>();

  async function checkTask(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const taskId = String(new FormData(event.currentTarget).get("task_id") ?? "").trim();
    setLookup(null);
    setLookupError(undefined);
    if (!taskId) return setLookupError(["Enter a task id."]);
    try {
      setLookup(await api<TaskStatus>(`/api/tasks/${encodeURIComponent(taskId)}/`));
    } catch (err) {
      setLookupError([(err as ApiError).status === 404 ? "No job of yours was run by this task." : (err as Error).message]);
    }
  }

  const h = health.data;
  return (
    <>
      <header className="page-header">
        <div>
          <h1>Operations</h1>
          <p>Workers per queue, queue depths and recent tasks. Refreshes every 5 seconds.</p>
        </div>
        {h ? <StatusBadge status={h.status} label={`System ${h.status}`} /> : null}
      </header>
      {health.error && !h ? <div className="alert alert-error" role="alert">{health.error}</div> : null}
      {h ? (
        <div className="stats">
          <div className="stat">
            <div className="stat-label">Database</div>
            <div className="stat-value" style={{ fontSize: "1.2rem" }}><StatusBadge status={h.database.ok ? "ok" : "down"} label={h.database.ok ? "ok" : "down"} /></div>
          </div>
          <div className="stat">
            <div className="stat-label">Redis broker</div>
            <div className="stat-value" style={{ fontSize: "1.2rem" }}><StatusBadge status={h.redis.ok ? "ok" : "down"} label={h.redis.ok ? "ok" : "down"} /></div>
          </div>
          <div className="stat">
            <div className="stat-label">Workers</div>
            <div className="stat-value">{new Set(Object.values(h.queues).flatMap((q) => q.workers)).size}</div>
          </div>
          <div className="stat">
            <div className="stat-label">Tasks waiting</div>
            <div className="stat-value">{Object.values(h.queues).reduce((n, q) => n + (q.waiting ?? 0), 0)}</div>
          </div>
        </div>
      ) : health.loading ? <Loading /> : null}
      <div className="grid grid-2">
        <section className="card" aria-labelledby="queues-title">
          <h2 id="queues-title">Queues</h2>
          {h ? (
            <div className="table-wrap">
              <table data-testid="queues-table">
                <thead><tr><th scope="col">Queue</th><th scope="col">Workers</th><th scope="col">Waiting</th></tr></thead>
                <tbody>
                  {Object.entries(h.queues).map(([name, q]) => (
                    <tr key={name}>
                      <td className="mono">{name}</td>
                      <td>
                        {q.workers.length ? (
                          <ul style={{ margin: 0, paddingLeft: "1rem" }}>{q.workers.map((w) => <li key={w} className="small mono">{w}</li>)}</ul>
                        ) : <span className="badge badge-warn">no worker</span>}
                      </td>
                      <td>{q.waiting ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </section>
        <section className="card" aria-labelledby="task-title">
          <h2 id="task-title">Look up a task</h2>
          <form className="form" onSubmit={checkTask} noValidate>
            <Field label="Celery task id" name="task_id" errors={lookupError}>
              {(p) => <input {...p} type="text" className="mono" placeholder="9f1c…" />}
            </Field>
            <div><button type="submit">Check</button></div>
          </form>
          {lookup ? (
            <dl className="meta" style={{ marginTop: "1rem" }}>
              <dt>Job</dt><dd>{lookup.job_type} #{lookup.job_id}</dd>
              <dt>Status</dt><dd><StatusBadge status={lookup.status} /></dd>
              <dt>Celery state</dt><dd className="mono">{lookup.state}</dd>
              <dt>Progress</dt><dd>{Math.round(lookup.progress.percent ?? 0)}%</dd>
              {lookup.error ? (<><dt>Error</dt><dd className="field-error">{lookup.error}</dd></>) : null}
            </dl>
          ) : null}
        </section>
      </div>
      <section className="card" aria-labelledby="recent-title" style={{ marginTop: "1rem" }}>
        <h2 id="recent-title">Recent tasks</h2>
        <p className="small muted">Your fetches, watch runs and variants, with the queue they run on.</p>
        {jobs.length ? (
          <div className="table-wrap">
            <table data-testid="recent-tasks">
              <thead><tr><th scope="col">Job</th><th scope="col">Queue</th><th scope="col">Task id</th><th scope="col">Created</th><th scope="col">Status</th></tr></thead>
              <tbody>
                {jobs.map((job) => (
                  <tr key={job.key}>
                    <td><Link href={job.href}>{job.label}</Link></td>
                    <td className="mono">{job.queue}</td>
                    <td className="mono small">{job.taskId ? job.taskId.slice(0, 8) : "—"}</td>
                    <td className="small">{formatDate(job.createdAt, true)}</td>
                    <td><StatusBadge status={job.status} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : <p className="muted">No tasks yet.</p>}
      </section>
    </>
  );
}
