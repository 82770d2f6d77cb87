"use client";

import Link from "next/link";
import { useState } from "react";

import { CreativeCard, CreativeDetailsPanel } from "@/components/creatives";
import { BulkSaveToBoard } from "@/components/boards";
import { RegionSelect } from "@/components/RegionSelect";
import { EmptyState } from "@/components/EmptyState";
import { Loading, Pagination } from "@/components/ui";
import { type Page, withQuery } from "@/lib/api";
import { type ArchivedCreative, creativesExportUrl } from "@/lib/creatives";
import { CREATIVE_FORMATS, formatNumber, PLATFORMS } from "@/lib/format";
import { onGridKeyDown } from "@/lib/gridKeys";
import { useDebouncedCallback } from "@/lib/hooks";
import { useApi } from "@/lib/useApi";
import { useQueryState } from "@/lib/useQueryState";

const PAGE_SIZE = 24;
/** Query parameters the creatives list (and its export) accepts: backend/AdSpark/filters.py. */
const FILTERS = ["search", "advertiser_id", "creative_format", "region", "platform", "shown_after", "shown_before", "visual_hash", "ordering"] as const;

/** Range selection for shift-click: the ids from the last clicked card to this one. */
export function rangeIds(ids: string[], from: string | null, to: string): string[] {
  const a = from ? ids.indexOf(from) : -1;
  const b = ids.indexOf(to);
  if (a < 0 || b < 0) return [to];
  return ids.slice(Math.min(a, b), Math.max(a, b) + 1);
}

export function CreativesPage() {
  const [params, update] = useQueryState();
  const page = Number(params.get("page") || 1);
  const selected = params.get("creative");
  const filters: Record<string, string> = {};
  for (const key of FILTERS) if (params.get(key)) filters[key] = params.get(key) as string;
  const filtered = Object.keys(filters).some((k) => k !== "ordering");
  const { data, error, loading } = useApi<Page<ArchivedCreative>>(withQuery("/api/adspark/creatives/", { ...filters, page, page_size: PAGE_SIZE }));
  // After a failed load the previous results are not shown under the new filters (defect 14).
  const results = error ? null : data;
  const [checked, setChecked] = useState<string[]>([]);
  const [anchor, setAnchor] = useState<string | null>(null);

  function setFilter(key: string, value: string) {
    update({ [key]: value, page: null });
  }
  const [setText, flushText] = useDebouncedCallback((key: string, value: string) => setFilter(key, value), 300);

  function check(id: string, on: boolean, range: boolean) {
    const ids = results?.results.map((c) => c.ad_creative_id) ?? [];
    const span = range ? rangeIds(ids, anchor, id) : [id];
    setChecked((prev) => (on ? [...prev, ...span.filter((x) => !prev.includes(x))] : prev.filter((x) => !span.includes(x))));
    setAnchor(id);
  }

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Creatives</h1>
          <p>{results ? `${formatNumber(results.count)} creatives match` : "Every creative AdSpark has fetched."}</p>
        </div>
        <div className="row" aria-label="Export this list" role="group">
          <a className="button" href={creativesExportUrl("csv", filters)} download data-testid="export-csv">Export CSV</a>
          <a className="button" href={creativesExportUrl("json", filters)} download data-testid="export-json">Export JSON</a>
        </div>
      </header>
      <form className="card filters" role="search" aria-label="Filter creatives" onSubmit={(e) => { e.preventDefault(); flushText(); }}>
        <div className="field">
          <label htmlFor="f-search">Advertiser or domain</label>
          <input id="f-search" type="search" defaultValue={params.get("search") ?? ""} placeholder="tesla"
            onChange={(e) => setText("search", e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="f-advertiser">Advertiser id</label>
          <input id="f-advertiser" type="text" defaultValue={params.get("advertiser_id") ?? ""} placeholder="AR…"
            onChange={(e) => setText("advertiser_id", e.target.value.trim())} />
        </div>
        <div className="field">
          <label htmlFor="f-format">Format</label>
          <select id="f-format" value={params.get("creative_format") ?? ""} onChange={(e) => setFilter("creative_format", e.target.value)}>
            <option value="">Any format</option>
            {CREATIVE_FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
          </select>
        </div>
        <div className="field">
          <RegionSelect id="f-region" value={params.get("region") ?? ""} onChange={(v) => setFilter("region", v)} />
        </div>
        <div className="field">
          <label htmlFor="f-platform">Platform</label>
          <select id="f-platform" value={params.get("platform") ?? ""} onChange={(e) => setFilter("platform", e.target.value)}>
            <option value="">Any platform</option>
            {PLATFORMS.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-after">Shown after</label>
          <input id="f-after" type="date" value={params.get("shown_after")?.slice(0, 10) ?? ""}
            onChange={(e) => setFilter("shown_after", e.target.value ? `${e.target.value}T00:00:00Z` : "")} />
        </div>
        <div className="field">
          <label htmlFor="f-before">Shown before</label>
          <input id="f-before" type="date" value={params.get("shown_before")?.slice(0, 10) ?? ""}
            onChange={(e) => setFilter("shown_before", e.target.value ? `${e.target.value}T23:59:59Z` : "")} />
        </div>
        <div className="field field-wide">
          <label htmlFor="f-order">Sort by</label>
          <select id="f-order" value={params.get("ordering") ?? ""} onChange={(e) => setFilter("ordering", e.target.value)}>
            <option value="">Last shown (newest)</option>
            <option value="first_shown">First shown (oldest)</option>
            <option value="-first_shown">First shown (newest)</option>
            <option value="-total_days_shown">Days shown (most)</option>
          </select>
        </div>
      </form>
      {params.get("visual_hash") ? (
        <div className="alert alert-info">
          Showing creatives that look the same (visual hash <span className="mono">{params.get("visual_hash")}</span>).{" "}
          <button type="button" className="link-button" onClick={() => setFilter("visual_hash", "")}>Show all</button>
        </div>
      ) : null}
      {error ? <div className="alert alert-error" role="alert" data-testid="list-error">Could not load creatives: {error}</div> : null}
      {checked.length ? (
        <div className="bulk-bar" role="region" aria-label="Selected creatives" data-testid="bulk-bar">
          <strong>{checked.length} selected</strong>
          <BulkSaveToBoard creativeIds={checked} />
          <a className="button" href={creativesExportUrl("csv", {}, checked)} download>Export selected CSV</a>
          <a className="button" href={creativesExportUrl("json", {}, checked)} download>Export selected JSON</a>
          <Link className="button" href={`/variants?creatives=${checked.join(",")}`}>Generate variants</Link>
          <button type="button" className="link-button" onClick={() => setChecked([])}>Clear selection</button>
        </div>
      ) : null}
      <div className={selected ? "split" : undefined}>
        <section aria-label="Creatives" aria-busy={loading}>
          {loading && !results && !error ? <Loading /> : null}
          {results && results.results.length === 0 ? (
            <div className="card" data-testid="empty-state">
              {filtered ? (
                <EmptyState title="No creatives match these filters">
                  <p>Loosen the filters, or fetch more from the Transparency Center.</p>
                  <button type="button" onClick={() => update(Object.fromEntries([...FILTERS, "page"].map((k) => [k, null])))}>Clear filters</button>
                </EmptyState>
              ) : (
                <EmptyState title="No creatives yet">
                  <p>AdSpark has not fetched any ads yet. Fetch an advertiser from the Transparency Center to start.</p>
                  <Link className="button primary" href="/fetch">Fetch creatives</Link>
                </EmptyState>
              )}
            </div>
          ) : null}
          {results?.results.length ? (
            <div className="gallery" data-testid="gallery" onKeyDown={onGridKeyDown}>
              {results.results.map((c) => (
                <CreativeCard key={c.ad_creative_id} creative={c} selected={c.ad_creative_id === selected}
                  onSelect={(id) => update({ creative: id === selected ? null : id })}
                  checked={checked.includes(c.ad_creative_id)} onCheck={check} />
              ))}
            </div>
          ) : null}
          {results ? <Pagination page={page} count={results.count} pageSize={PAGE_SIZE} onPage={(p) => update({ page: p })} /> : null}
        </section>
        {selected ? <CreativeDetailsPanel key={selected} creativeId={selected} onClose={() => update({ creative: null })} /> : null}
      </div>
    </>
  );
}
