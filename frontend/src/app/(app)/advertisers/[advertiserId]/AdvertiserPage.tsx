"use client";

import Link from "next/link";

import type { Advertiser, Creative } from "@/api/types";
import { CreativeCard, CreativeDetailsPanel } from "@/components/creatives";
import { Loading, Pagination } from "@/components/ui";
import { type Page, withQuery } from "@/lib/api";
import { formatDate, formatNumber } from "@/lib/format";
import { useApi } from "@/lib/useApi";
import { useQueryState } from "@/lib/useQueryState";

const PAGE_SIZE = 24;

export function AdvertiserPage({ advertiserId }: { advertiserId: string }) {
  const [params, update] = useQueryState();
  const page = Number(params.get("page") || 1);
  const selected = params.get("creative");
  const advertiser = useApi<Advertiser>(`/api/adspark/advertisers/${advertiserId}/`);
  const creatives = useApi<Page<Creative>>(withQuery(`/api/adspark/advertisers/${advertiserId}/creatives/`, { page, page_size: PAGE_SIZE }));
  const a = advertiser.data;
  return (
    <>
      <nav aria-label="Breadcrumb" className="small muted" style={{ marginBottom: ".5rem" }}>
        <Link href="/advertisers">Advertisers</Link> / {a?.name || advertiserId}
      </nav>
      {advertiser.error ? <div className="alert alert-error" role="alert">{advertiser.error}</div> : null}
      <header className="page-header">
        <div>
          <h1>{a?.name || advertiserId}</h1>
          <p className="mono">{advertiserId}</p>
        </div>
        <div className="row">
          <Link className="button" href={`/fetch?advertiser_ids=${advertiserId}`}>Fetch again</Link>
          <Link className="button primary" href={`/watches?advertiser_ids=${advertiserId}&name=${encodeURIComponent(a?.name || advertiserId)}`}>
            Watch this advertiser
          </Link>
        </div>
      </header>
      {a ? (
        <div className="stats">
          <div className="stat"><div className="stat-label">Creatives</div><div className="stat-value">{formatNumber(a.creative_count)}</div></div>
          <div className="stat"><div className="stat-label">First seen</div><div className="stat-value" style={{ fontSize: "1.2rem" }}>{formatDate(a.first_seen)}</div></div>
          <div className="stat"><div className="stat-label">Last seen</div><div className="stat-value" style={{ fontSize: "1.2rem" }}>{formatDate(a.last_seen)}</div></div>
        </div>
      ) : advertiser.loading ? <Loading /> : null}
      <div className={selected ? "split" : undefined}>
        <section aria-label="Creatives of this advertiser">
          {creatives.data?.results.length ? (
            <div className="gallery">
              {creatives.data.results.map((c) => (
                <CreativeCard key={c.ad_creative_id} creative={c} selected={c.ad_creative_id === selected}
                  onSelect={(id) => update({ creative: id === selected ? null : id })} />
              ))}
            </div>
          ) : creatives.loading ? <Loading /> : <p className="muted">No creatives stored.</p>}
          {creatives.data ? <Pagination page={page} count={creatives.data.count} pageSize={PAGE_SIZE} onPage={(p) => update({ page: p })} /> : null}
        </section>
        {selected ? <CreativeDetailsPanel key={selected} creativeId={selected} onClose={() => update({ creative: null })} /> : null}
      </div>
    </>
  );
}
