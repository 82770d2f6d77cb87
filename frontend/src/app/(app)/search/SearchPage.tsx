"use client";

import Link from "next/link";
import { useState } from "react";

import type { FetchRun, SearchHistoryEntry, SearchResponse, Watch } from "@/api/types";
import { CreativeCard, CreativeDetailsPanel } from "@/components/creatives";
import { FetchProgress } from "@/components/FetchProgress";
import { Empty, Loading, Pagination } from "@/components/ui";
import { api, ApiError, type Page, withQuery } from "@/lib/api";
import { CREATIVE_FORMATS, formatNumber } from "@/lib/format";
import { inUserWords, QUERY_LABELS } from "@/lib/formErrors";
import { regionLabel, regionOptions, useRegions } from "@/lib/regionNames";
import { useApi } from "@/lib/useApi";
import { useQueryState } from "@/lib/useQueryState";

const PAGE_SIZE = 24;

/** One chip per query and filters, newest first: the API keeps one entry per identical search,
 * and older entries that repeat one are hidden here too. */
export function dedupeHistory(entries: SearchHistoryEntry[]): SearchHistoryEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key = `${entry.q.trim().toLocaleLowerCase("en")}|${JSON.stringify(entry.filters ?? {})}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function SearchPage() {
  const [params, update] = useQueryState();
  const q = params.get("q") ?? "";
  const page = Number(params.get("page") || 1);
  const creativeFormat = params.get("creative_format") ?? "";
  const region = params.get("region") ?? "";
  const selected = params.get("creative");
  const [draft, setDraft] = useState(q);
  const [fetchRunId, setFetchRunId] = useState<number | null>(null);
  const [notice, setNotice] = useState<{ kind: "ok" | "error"; text: React.ReactNode } | null>(null);
  const [busy, setBusy] = useState(false);
  const [removed, setRemoved] = useState<number[]>([]);
  const regions = useRegions();

  const searchPath = q ? withQuery("/api/search/", { q, page, page_size: PAGE_SIZE, creative_format: creativeFormat, region }) : null;
  const results = useApi<SearchResponse>(searchPath);
  const data = results.data;
  // Reloaded after each search has answered (the search is what records the history entry).
  const history = useApi<Page<SearchHistoryEntry>>(`/api/search/history/?page_size=12&after=${encodeURIComponent(data?.q ?? "")}`);
  const chips = dedupeHistory(history.data?.results ?? []).filter((h) => !removed.includes(h.id)).slice(0, 8);
  const nothingFound = data && data.count === 0 && data.advertiser_count === 0;

  function submit(event: React.FormEvent) {
    event.preventDefault();
    setNotice(null);
    setFetchRunId(null);
    update({ q: draft.trim(), page: null, creative: null });
  }

  const filters = { region: region || undefined, creative_format: creativeFormat || undefined };

  async function fetchIt() {
    setBusy(true);
    setNotice(null);
    try {
      const run = await api<FetchRun>("/api/search/fetch/", { method: "POST", body: { q, ...filters } });
      setFetchRunId(run.id);
    } catch (err) {
      setNotice({ kind: "error", text: describe(err) });
    } finally {
      setBusy(false);
    }
  }

  async function forget(entry: SearchHistoryEntry) {
    setRemoved((ids) => [...ids, entry.id]);
    try {
      await api(`/api/search/history/${entry.id}/`, { method: "DELETE" });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        setRemoved((ids) => ids.filter((id) => id !== entry.id));
        setNotice({ kind: "error", text: describe(err) });
      }
    }
  }

  async function saveAsWatch() {
    setBusy(true);
    setNotice(null);
    try {
      const watch = await api<Watch>("/api/search/save-as-watch/", { method: "POST", body: { q, ...filters } });
      const where = regionLabel(watch.region, regions, (watch as Watch & { region_name?: string }).region_name);
      setNotice({
        kind: "ok",
        text: (
          <>
            Saved as watch <Link href={`/watches/${watch.id}`}>{watch.name}</Link>
            {where ? ` (${where})` : ""}: its first run records what exists today, later runs report new creatives.
          </>
        ),
      });
    } catch (err) {
      setNotice({ kind: "error", text: describe(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Search</h1>
          <p>Advertisers by name or id, creatives by domain or ad copy.</p>
        </div>
      </header>
      <form className="card stack" role="search" onSubmit={submit}>
        <label htmlFor="q" className="label">Search AdSpark</label>
        <div className="search-box">
          <input id="q" name="q" type="search" value={draft} onChange={(e) => setDraft(e.target.value)}
            placeholder="Tesla, nike.com, AR17828074650563772417…" autoComplete="off" />
          <button type="submit" className="primary">Search</button>
        </div>
        <div className="row">
          <label className="small" htmlFor="s-format">Format</label>
          <select id="s-format" style={{ width: "auto" }} value={creativeFormat} onChange={(e) => update({ creative_format: e.target.value, page: null })}>
            <option value="">Any</option>
            {CREATIVE_FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
          </select>
          <label className="small" htmlFor="s-region">Region</label>
          <select id="s-region" style={{ width: "auto" }} value={region} onChange={(e) => update({ region: e.target.value, page: null })}>
            {regionOptions(regions).map(([code, name]) => <option key={code} value={code}>{name}</option>)}
          </select>
        </div>
        {chips.length ? (
          <div className="row small">
            <span className="muted" id="recent-searches">Recent:</span>
            <ul className="chips" aria-labelledby="recent-searches" style={{ listStyle: "none", padding: 0, margin: 0 }} data-testid="search-history">
              {chips.map((h) => (
                <li key={h.id} className="chip-group">
                  <button type="button" className="chip" onClick={() => { setDraft(h.q); setFetchRunId(null); update({ q: h.q, page: null, creative: null }); }}>
                    {h.q} <span className="muted">({h.result_count})</span>
                  </button>
                  <button type="button" className="chip-remove" onClick={() => forget(h)} aria-label={`Remove “${h.q}” from recent searches`}>
                    <span aria-hidden="true">×</span>
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </form>

      {notice ? <div className={`alert alert-${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"} style={{ marginTop: "1rem" }}>{notice.text}</div> : null}
      {results.error ? <div className="alert alert-error" role="alert" style={{ marginTop: "1rem" }}>{results.error}</div> : null}
      {q && results.loading && !data ? <Loading label="Searching…" /> : null}

      {data ? (
        <div style={{ marginTop: "1rem" }}>
          <div className="spread" style={{ marginBottom: ".75rem" }}>
            <p className="muted" role="status" style={{ margin: 0 }} data-testid="search-summary">
              {formatNumber(data.count)} creative{data.count === 1 ? "" : "s"} and {formatNumber(data.advertiser_count)} advertiser
              {data.advertiser_count === 1 ? "" : "s"} for “{data.q}”
            </p>
            <button type="button" onClick={saveAsWatch} disabled={busy}>Save as watch</button>
          </div>

          {nothingFound ? (
            <div className="card">
              <Empty title={`Nothing about “${data.q}” in AdSpark yet`}>
                <p>Fetch it from the Google Ads Transparency Center{region ? ` (${regionLabel(region, regions)})` : ""}; results appear here when it is done.</p>
                {fetchRunId ? null : (
                  <button type="button" className="primary" onClick={fetchIt} disabled={busy}>Fetch “{data.q}” now</button>
                )}
              </Empty>
              {fetchRunId ? <FetchProgress runId={fetchRunId} onFinished={(run) => run.status === "succeeded" && results.reload()} /> : null}
            </div>
          ) : null}

          {data.advertisers.length ? (
            <section className="card" aria-labelledby="adv-title" style={{ marginBottom: "1rem" }}>
              <h2 id="adv-title">Advertisers</h2>
              <ul className="chips" style={{ listStyle: "none", padding: 0, margin: 0 }}>
                {data.advertisers.map((a) => (
                  <li key={a.advertiser_id}>
                    <Link className="button chip" href={`/advertisers/${a.advertiser_id}`}>
                      {a.name || a.advertiser_id} <span className="muted">· {formatNumber(a.creative_count)} creatives</span>
                    </Link>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}

          {data.results.length ? (
            <div className={selected ? "split" : undefined}>
              <section aria-label="Matching creatives">
                <div className="gallery" data-testid="search-results">
                  {data.results.map((c) => (
                    <CreativeCard key={c.ad_creative_id} creative={c} selected={c.ad_creative_id === selected}
                      onSelect={(id) => update({ creative: id === selected ? null : id })} />
                  ))}
                </div>
                <Pagination page={page} count={data.count} pageSize={PAGE_SIZE} onPage={(p) => update({ page: p })} />
              </section>
              {selected ? <CreativeDetailsPanel key={selected} creativeId={selected} onClose={() => update({ creative: null })} /> : null}
            </div>
          ) : null}
        </div>
      ) : null}
    </>
  );
}

function describe(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = Object.entries(err.fieldErrors).filter(([k]) => k !== "detail");
    const label = (key: string) => (QUERY_LABELS[key] ? QUERY_LABELS[key][0].toUpperCase() + QUERY_LABELS[key].slice(1) : key);
    return fields.length ? fields.map(([k, v]) => `${k === "non_field_errors" ? "" : `${label(k)}: `}${inUserWords(v.join(" "))}`).join(" ") : err.message;
  }
  return String(err);
}
