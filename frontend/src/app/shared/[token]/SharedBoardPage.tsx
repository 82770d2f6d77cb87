"use client";

import "@/components/gallery.css";

import { CreativeMedia } from "@/components/creatives";
import { EmptyState } from "@/components/EmptyState";
import { Loading } from "@/components/ui";
import { type SharedBoard, sharedItems } from "@/lib/creatives";
import { formatDate, formatNumber } from "@/lib/format";
import { useApi } from "@/lib/useApi";

/** The public, read-only view of a shared board (`GET /api/adspark/shared-boards/{token}/`). */
export function SharedBoardPage({ token }: { token: string }) {
  const { data, error, loading } = useApi<SharedBoard>(`/api/adspark/shared-boards/${encodeURIComponent(token)}/`);
  const items = data ? sharedItems(data) : [];
  return (
    <main id="main" className="main shared-page" style={{ maxWidth: 1200, margin: "0 auto" }}>
      <p className="small muted"><strong>AdSpark</strong> · shared board (read-only)</p>
      {loading && !data ? <Loading /> : null}
      {error && !data ? (
        <div className="card">
          <EmptyState title="This board is not shared">
            <p>The link is wrong, or its owner has revoked it.</p>
          </EmptyState>
        </div>
      ) : null}
      {data ? (
        <>
          <header className="page-header">
            <div>
              <h1>{data.name}</h1>
              <p>
                {data.description ? `${data.description} · ` : ""}
                {formatNumber(items.length)} creative{items.length === 1 ? "" : "s"} · shared by {data.owner_display}
              </p>
            </div>
          </header>
          {items.length ? (
            <ul className="gallery" style={{ listStyle: "none", margin: 0, padding: 0 }} data-testid="shared-items">
              {items.map((item) => (
                <li key={item.creative.ad_creative_id} className="creative-card">
                  <CreativeMedia creative={item.creative} />
                  <div className="creative-body">
                    <span className="creative-head">
                      <span className="creative-title" title={item.creative.advertiser_name}>{item.creative.advertiser_name || item.creative.advertiser_id}</span>
                      <span className="badge">{item.creative.format}</span>
                    </span>
                    <span className="small muted mono creative-id">{item.creative.ad_creative_id}</span>
                    <span className="small muted">Last shown {formatDate(item.creative.last_shown)}</span>
                    {item.note ? <p className="small" style={{ margin: 0 }} data-testid="shared-note">“{item.note}”</p> : null}
                  </div>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">This board has no creatives yet.</p>
          )}
        </>
      ) : null}
    </main>
  );
}
