"use client";

import "@/components/gallery.css";

import Link from "next/link";

import type { Advertiser } from "@/api/types";
import { CreativeCard, CreativeDetailsPanel } from "@/components/creatives";
import { TimelineChart, WeekChanges } from "@/components/Timeline";
import { EmptyState } from "@/components/EmptyState";
import { Loading, Pagination } from "@/components/ui";
import { type Page, withQuery } from "@/lib/api";
import { type ArchivedCreative, creativesExportUrl, type Timeline } from "@/lib/creatives";
import { formatDate, formatNumber } from "@/lib/format";
import { onGridKeyDown } from "@/lib/gridKeys";
import { useApi } from "@/lib/useApi";
import { useQueryState } from "@/lib/useQueryState";

const PAGE_SIZE = 24;

export function AdvertiserPage({ advertiserId }: { advertiserId: string }) {
  const [params, update] = useQueryState();
  const page = Number(params.get("page") || 1);
  const selected = params.get("creative");
  const advertiser = useApi<Advertiser>(`/api/adspark/advertisers/${advertiserId}/`);
  const known = !advertiser.error;
  const creatives = useApi<Page<ArchivedCreative>>(
    known ? withQuery(`/api/adspark/advertisers/${advertiserId}/creatives/`, { page, page_size: PAGE_SIZE }) : null,
  );
  const timeline = useApi<Timeline>(known ? `/api/adspark/advertisers/${advertiserId}/timeline/?weeks=26` : null);
  const a = advertiser.data;
  const open = (id: string) => update({ creative: id === selected ? null : id });
  return (
    <>
      <nav aria-label="Breadcrumb" className="small muted" style={{ marginBottom: ".5rem" }}>
        <Link href="/advertisers">Advertisers</Link> / {a?.name || advertiserId}
      </nav>
      <header className="page-header">
        <div>
          <h1>{a?.name || advertiserId}</h1>
          <p className="mono">{advertiserId}</p>
        </div>
        <div className="row">
          <Link className="button" href={`/fetch?advertiser_ids=${advertiserId}`}>Fetch again</Link>
          {a ? <a className="button" href={creativesExportUrl("csv", { advertiser_id: advertiserId })} download>Export CSV</a> : null}
          <Link className="button primary" href={`/watches?advertiser_ids=${advertiserId}&name=${encodeURIComponent(a?.name || advertiserId)}`}>
            Watch this advertiser
          </Link>
        </div>
      </header>
      {advertiser.error && !a ? (
        <div className="card" data-testid="unknown-advertiser">
          <EmptyState title="No ads for this advertiser">
            <p>
              AdSpark has no creatives for <span className="mono">{advertiserId}</span>: SerpApi found no ads for this id in the
              Transparency Center, or it has not been fetched yet.
            </p>
            <Link className="button primary" href={`/fetch?advertiser_ids=${advertiserId}`}>Fetch this advertiser</Link>
          </EmptyState>
        </div>
      ) : null}
      {a ? (
        <div className="stats">
          <div className="stat"><div className="stat-label">Creatives</div><div className="stat-value">{formatNumber(a.creative_count)}</div></div>
          <div className="stat"><div className="stat-label">First seen</div><div className="stat-value" style={{ fontSize: "1.2rem" }}>{formatDate(a.first_seen)}</div></div>
          <div className="stat"><div className="stat-label">Last seen</div><div className="stat-value" style={{ fontSize: "1.2rem" }}>{formatDate(a.last_seen)}</div></div>
        </div>
      ) : advertiser.loading ? <Loading /> : null}
      {timeline.data ? (
        <div className="stack" style={{ marginBottom: "1rem" }}>
          <TimelineChart timeline={timeline.data} />
          <WeekChanges timeline={timeline.data} onOpen={open} />
        </div>
      ) : timeline.error ? <p className="small muted">Timeline unavailable: {timeline.error}</p> : null}
      {known ? (
        <div className={selected ? "split" : undefined}>
          <section aria-label="Creatives of this advertiser">
            <h2>Creatives</h2>
            {creatives.data?.results.length ? (
              <div className="gallery" onKeyDown={onGridKeyDown}>
                {creatives.data.results.map((c) => (
                  <CreativeCard key={c.ad_creative_id} creative={c} selected={c.ad_creative_id === selected} onSelect={open} />
                ))}
              </div>
            ) : creatives.loading ? <Loading /> : (
              <p className="muted">No creatives stored: SerpApi found no ads for this advertiser yet.</p>
            )}
            {creatives.data ? <Pagination page={page} count={creatives.data.count} pageSize={PAGE_SIZE} onPage={(p) => update({ page: p })} /> : null}
          </section>
          {selected ? <CreativeDetailsPanel key={selected} creativeId={selected} onClose={() => update({ creative: null })} /> : null}
        </div>
      ) : null}
    </>
  );
}
