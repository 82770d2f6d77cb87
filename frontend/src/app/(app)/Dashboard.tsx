"use client";

import Link from "next/link";

import type { Advertiser, Creative, Health, Watch } from "@/api/types";
import { describeRun, type FetchRunView, runCounts } from "@/components/FetchProgress";
import { Empty, Loading, StatusBadge } from "@/components/ui";
import type { Page } from "@/lib/api";
import { formatNumber, timeAgo } from "@/lib/format";
import { useRegions } from "@/lib/regionNames";
import { useApi } from "@/lib/useApi";

export function Dashboard() {
  const regions = useRegions();
  const creatives = useApi<Page<Creative>>("/api/adspark/creatives/?page_size=1");
  const advertisers = useApi<Page<Advertiser>>("/api/adspark/advertisers/?page_size=1");
  const watches = useApi<Page<Watch>>("/api/adspark/watches/?page_size=50");
  const variants = useApi<Page<unknown>>("/api/ai/variants/?page_size=1");
  const fetchRuns = useApi<Page<FetchRunView>>("/api/adspark/fetch-runs/?page_size=6");
  const health = useApi<Health>("/api/health/");

  const watchRuns = (watches.data?.results ?? [])
    .flatMap((w) => (w.last_run ? [{ watch: w, run: w.last_run }] : []))
    .sort((a, b) => b.run.created_at.localeCompare(a.run.created_at))
    .slice(0, 6);

  const stats: Array<[string, number | undefined, string]> = [
    ["Creatives", creatives.data?.count, "/creatives"],
    ["Advertisers", advertisers.data?.count, "/advertisers"],
    ["Watches", watches.data?.count, "/watches"],
    ["Variants", variants.data?.count, "/variants"],
  ];

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Dashboard</h1>
          <p>What AdSpark knows, what it is doing, and whether the workers are keeping up.</p>
        </div>
        <div className="row">
          <Link className="button" href="/search">Search</Link>
          <Link className="button primary" href="/fetch">Fetch now</Link>
        </div>
      </header>
      <div className="stats" data-testid="stats">
        {stats.map(([label, value, href]) => (
          <Link key={label} href={href} className="stat" style={{ color: "inherit", textDecoration: "none" }}>
            <div className="stat-label">{label}</div>
            <div className="stat-value">{value === undefined ? "…" : formatNumber(value)}</div>
          </Link>
        ))}
      </div>
      <div className="grid grid-2">
        <section className="card" aria-labelledby="runs-title">
          <div className="card-title">
            <h2 id="runs-title">Recent fetches</h2>
            <Link href="/fetch" className="small">All fetches →</Link>
          </div>
          {fetchRuns.loading && !fetchRuns.data ? <Loading /> : null}
          {fetchRuns.data && !fetchRuns.data.results.length ? (
            <Empty title="No fetches yet"><p><Link href="/fetch">Fetch an advertiser</Link> to fill AdSpark.</p></Empty>
          ) : null}
          <ul className="stack" style={{ listStyle: "none", padding: 0, margin: 0 }} data-testid="recent-fetches">
            {fetchRuns.data?.results.map((run) => (
              <li key={run.id} className="spread">
                <Link href={`/fetch?run=${run.id}`} className="run-summary">#{run.id} {describeRun(run, regions)}</Link>
                <span className="row" style={{ gap: ".5rem" }}>
                  <span className="small muted">{run.summary ? "" : `${runCounts(run)} · `}{timeAgo(run.created_at)}</span>
                  <StatusBadge status={run.status} />
                </span>
              </li>
            ))}
          </ul>
        </section>
        <section className="card" aria-labelledby="watch-runs-title">
          <div className="card-title">
            <h2 id="watch-runs-title">Recent watch runs</h2>
            <Link href="/watches" className="small">All watches →</Link>
          </div>
          {watches.data && !watchRuns.length ? (
            <Empty title="No watch runs yet"><p><Link href="/watches">Create a watch</Link> and AdSpark re-runs it on a schedule.</p></Empty>
          ) : null}
          <ul className="stack" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {watchRuns.map(({ watch, run }) => (
              <li key={run.id} className="spread">
                <Link href={`/watches/${watch.id}`}>{watch.name}</Link>
                <span className="row" style={{ gap: ".5rem" }}>
                  {run.new_creatives_count && !run.is_baseline ? <span className="badge badge-new">{run.new_creatives_count} new</span> : null}
                  <span className="small muted">{timeAgo(run.created_at)}</span>
                  <StatusBadge status={run.status} />
                </span>
              </li>
            ))}
          </ul>
        </section>
        <section className="card" aria-labelledby="health-title">
          <div className="card-title">
            <h2 id="health-title">Queue health</h2>
            {health.data ? <StatusBadge status={health.data.status} /> : null}
          </div>
          {health.error ? <div className="alert alert-error" role="alert">{health.error}</div> : null}
          {health.data ? (
            <table>
              <thead><tr><th scope="col">Queue</th><th scope="col">Workers</th><th scope="col">Waiting</th></tr></thead>
              <tbody>
                {Object.entries(health.data.queues).map(([name, q]) => (
                  <tr key={name}>
                    <td className="mono">{name}</td>
                    <td>{q.workers.length ? q.workers.length : <span className="badge badge-warn">none</span>}</td>
                    <td>{q.waiting ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : health.loading ? <Loading /> : null}
          <p className="small" style={{ marginTop: ".75rem", marginBottom: 0 }}><Link href="/operations">Operations →</Link></p>
        </section>
      </div>
    </>
  );
}
