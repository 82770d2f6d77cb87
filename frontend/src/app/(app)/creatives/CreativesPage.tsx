"use client";

import type { Creative } from "@/api/types";
import { CreativeCard, CreativeDetailsPanel } from "@/components/creatives";
import { Empty, Loading, Pagination } from "@/components/ui";
import { type Page, withQuery } from "@/lib/api";
import { CREATIVE_FORMATS, formatNumber, PLATFORMS, REGIONS } from "@/lib/format";
import { useApi } from "@/lib/useApi";
import { useQueryState } from "@/lib/useQueryState";

const PAGE_SIZE = 24;
const FILTERS = ["search", "advertiser_id", "creative_format", "region", "platform", "shown_after", "shown_before", "ordering"] as const;

export function CreativesPage() {
  const [params, update] = useQueryState();
  const page = Number(params.get("page") || 1);
  const selected = params.get("creative");
  const query: Record<string, string | number> = { page, page_size: PAGE_SIZE };
  for (const key of FILTERS) if (params.get(key)) query[key] = params.get(key) as string;
  const { data, error, loading } = useApi<Page<Creative>>(withQuery("/api/adspark/creatives/", query));

  function setFilter(key: string, value: string) {
    update({ [key]: value, page: null });
  }

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Creatives</h1>
          <p>{data ? `${formatNumber(data.count)} creatives match` : "Every creative AdSpark has fetched."}</p>
        </div>
      </header>
      <form className="card filters" role="search" aria-label="Filter creatives" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="f-search">Advertiser or domain</label>
          <input id="f-search" type="search" defaultValue={params.get("search") ?? ""} placeholder="tesla"
            onChange={(e) => setFilter("search", e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="f-advertiser">Advertiser id</label>
          <input id="f-advertiser" type="text" defaultValue={params.get("advertiser_id") ?? ""} placeholder="AR…"
            onChange={(e) => setFilter("advertiser_id", e.target.value.trim())} />
        </div>
        <div className="field">
          <label htmlFor="f-format">Format</label>
          <select id="f-format" value={params.get("creative_format") ?? ""} onChange={(e) => setFilter("creative_format", e.target.value)}>
            <option value="">Any format</option>
            {CREATIVE_FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-region">Region</label>
          <select id="f-region" value={params.get("region") ?? ""} onChange={(e) => setFilter("region", e.target.value)}>
            {REGIONS.map(([code, name]) => <option key={code} value={code}>{name}</option>)}
          </select>
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
          <label htmlFor="f-order">Sort by</label>
          <select id="f-order" value={params.get("ordering") ?? ""} onChange={(e) => setFilter("ordering", e.target.value)}>
            <option value="">Last shown (newest)</option>
            <option value="first_shown">First shown (oldest)</option>
            <option value="-first_shown">First shown (newest)</option>
            <option value="-total_days_shown">Days shown (most)</option>
          </select>
        </div>
      </form>
      {error ? <div className="alert alert-error" role="alert">{error}</div> : null}
      <div className={selected ? "split" : undefined}>
        <section aria-label="Creatives" aria-busy={loading}>
          {loading && !data ? <Loading /> : null}
          {data && data.results.length === 0 ? (
            <div className="card">
              <Empty title="No creatives match these filters">
                <p>Loosen the filters, or fetch more from the Transparency Center.</p>
              </Empty>
            </div>
          ) : null}
          {data?.results.length ? (
            <div className="gallery" data-testid="gallery">
              {data.results.map((c) => (
                <CreativeCard key={c.ad_creative_id} creative={c} selected={c.ad_creative_id === selected}
                  onSelect={(id) => update({ creative: id === selected ? null : id })} />
              ))}
            </div>
          ) : null}
          {data ? <Pagination page={page} count={data.count} pageSize={PAGE_SIZE} onPage={(p) => update({ page: p })} /> : null}
        </section>
        {selected ? <CreativeDetailsPanel key={selected} creativeId={selected} onClose={() => update({ creative: null })} /> : null}
      </div>
    </>
  );
}
