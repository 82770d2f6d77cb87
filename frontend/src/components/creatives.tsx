"use client";

/** Creative cards (the image, or a rendered preview when there is none or it fails to load) and
 * the details panel with the ad-details variations. */
import Link from "next/link";
import { useState } from "react";

import type { Creative, CreativeDetail } from "@/api/types";
import { formatDate, formatNumber } from "@/lib/format";
import { useApi } from "@/lib/useApi";

import { Loading } from "./ui";

type CardCreative = Pick<
  Creative,
  "ad_creative_id" | "advertiser_name" | "advertiser_id" | "format" | "image_url" | "target_domain" | "last_shown" | "total_days_shown"
> & { title?: string | null; snippet?: string | null; headline?: string | null };

/** The rendered stand-in for a creative without a loadable image: a search-ad card for text ads,
 * a player frame for video. SerpApi's JavaScript preview is not loaded (it is third-party code). */
export function AdPreview({ creative }: { creative: CardCreative }) {
  if (creative.format === "video") {
    return (
      <div className="video-preview" data-testid="video-preview">
        <div className="play" aria-hidden="true">▶</div>
        <span className="visually-hidden">Video ad by {creative.advertiser_name}</span>
      </div>
    );
  }
  // Only what AdSpark knows is shown: no invented domain or copy.
  return (
    <div className="ad-preview" data-testid="ad-preview">
      <span className="sponsored">Sponsored · {creative.advertiser_name || creative.advertiser_id}</span>
      {creative.target_domain ? <span className="url">{creative.target_domain}</span> : null}
      <span className="headline">{creative.title || creative.headline || `${creative.format === "image" ? "Image" : "Text"} ad`}</span>
      {creative.snippet ? <span className="desc">{creative.snippet}</span> : <span className="desc muted">{creative.ad_creative_id}</span>}
    </div>
  );
}

/** The creative's image over its rendered preview: until the image has loaded (or when it cannot
 * load: ad image hosts are often unreachable) the preview is what shows. */
export function CreativeMedia({ creative }: { creative: CardCreative }) {
  const [state, setState] = useState<"loading" | "loaded" | "failed">("loading");
  return (
    <div className="creative-media">
      {state !== "loaded" ? <AdPreview creative={creative} /> : null}
      {creative.image_url && state !== "failed" ? (
        // eslint-disable-next-line @next/next/no-img-element -- third-party ad images, not optimisable
        <img
          src={creative.image_url}
          alt={`${creative.format} ad by ${creative.advertiser_name}`}
          loading="lazy"
          referrerPolicy="no-referrer"
          className={state === "loaded" ? "loaded" : undefined}
          onLoad={() => setState("loaded")}
          onError={() => setState("failed")}
        />
      ) : null}
    </div>
  );
}

type CardProps = { creative: CardCreative; selected?: boolean; onSelect?: (id: string) => void; badge?: React.ReactNode };

export function CreativeCard({ creative, selected, onSelect, badge }: CardProps) {
  return (
    <button
      type="button"
      className="creative-card"
      aria-pressed={selected ?? false}
      onClick={() => onSelect?.(creative.ad_creative_id)}
      data-testid="creative-card"
      data-creative-id={creative.ad_creative_id}
    >
      <CreativeMedia creative={creative} />
      <span className="creative-body">
        <span className="spread">
          <span className="creative-title">{creative.advertiser_name || creative.advertiser_id}</span>
          <span className="row" style={{ gap: ".3rem" }}>
            {badge}
            <span className="badge">{creative.format}</span>
          </span>
        </span>
        <span className="small muted mono">{creative.ad_creative_id}</span>
        <span className="small muted">
          Last shown {formatDate(creative.last_shown)}
          {creative.total_days_shown ? ` · ${formatNumber(creative.total_days_shown)} days` : ""}
        </span>
      </span>
    </button>
  );
}

type Variation = Record<string, unknown>;

function VariationView({ variation, index }: { variation: Variation; index: number }) {
  const text = (key: string) => (typeof variation[key] === "string" ? (variation[key] as string) : "");
  const images: string[] = [];
  if (text("image")) images.push(text("image"));
  if (Array.isArray(variation.images)) for (const i of variation.images) if (typeof i === "string") images.push(i);
  const sitelinks = Array.isArray(variation.sitelink_texts) ? (variation.sitelink_texts as unknown[]).map(String) : [];
  return (
    <li className="variation">
      <div className="small muted">Variation {index + 1}</div>
      {text("title") || text("headline") ? <strong>{text("title") || text("headline")}</strong> : null}
      {text("snippet") ? <p className="small" style={{ margin: ".2rem 0" }}>{text("snippet")}</p> : null}
      {text("visible_link") ? <div className="small" style={{ color: "var(--ok)" }}>{text("visible_link")}</div> : null}
      {text("call_to_action") ? <span className="badge">{text("call_to_action")}</span> : null}
      {sitelinks.length ? <div className="small muted">Sitelinks: {sitelinks.join(" · ")}</div> : null}
      {images.length ? <div className="small muted">{images.length} image{images.length > 1 ? "s" : ""}</div> : null}
    </li>
  );
}

/** Everything stored about one creative, with its ad-details variations when they were fetched. */
export function CreativeDetailsPanel({ creativeId, onClose }: { creativeId: string; onClose?: () => void }) {
  const { data, error, loading } = useApi<CreativeDetail>(`/api/adspark/creatives/${creativeId}/`);
  const details = data?.details ?? null;
  const variations = (details?.variations as Variation[] | undefined) ?? [];
  return (
    <aside className="card details-panel" aria-label="Creative details" data-testid="details-panel">
      <div className="card-title">
        <h2>Creative details</h2>
        {onClose ? (
          <button type="button" className="link-button" onClick={onClose}>
            Close<span className="visually-hidden"> details</span>
          </button>
        ) : null}
      </div>
      {loading && !data ? <Loading /> : null}
      {error ? <div className="alert alert-error" role="alert">{error}</div> : null}
      {data ? (
        <div className="stack">
          <CreativeMedia creative={{ ...data, title: details?.title, snippet: details?.snippet, headline: details?.headline }} />
          <dl className="meta">
            <dt>Creative</dt>
            <dd className="mono">{data.ad_creative_id}</dd>
            <dt>Advertiser</dt>
            <dd>
              <Link href={`/advertisers/${data.advertiser_id}`}>{data.advertiser_name || data.advertiser_id}</Link>
            </dd>
            <dt>Format</dt>
            <dd>{data.format}</dd>
            {data.target_domain ? (
              <>
                <dt>Domain</dt>
                <dd>{data.target_domain}</dd>
              </>
            ) : null}
            <dt>First shown</dt>
            <dd>{formatDate(data.first_shown)}</dd>
            <dt>Last shown</dt>
            <dd>{formatDate(data.last_shown)}</dd>
            <dt>Days shown</dt>
            <dd>{formatNumber(data.total_days_shown)}</dd>
            <dt>Regions</dt>
            <dd>{(data.regions as string[] | undefined)?.join(", ") || "—"}</dd>
            {data.width && data.height ? (
              <>
                <dt>Size</dt>
                <dd>
                  {data.width}×{data.height}
                </dd>
              </>
            ) : null}
          </dl>
          <div className="row">
            <Link className="button primary" href={`/variants?creative=${data.ad_creative_id}`}>
              Generate a variant
            </Link>
            {data.details_link ? (
              <a className="button" href={data.details_link} target="_blank" rel="noreferrer noopener">
                Transparency Center ↗
              </a>
            ) : null}
          </div>
          <h3>Ad details</h3>
          {details ? (
            variations.length ? (
              <ol className="stack" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Variations">
                {variations.map((v, i) => (
                  <VariationView key={i} variation={v} index={i} />
                ))}
              </ol>
            ) : (
              <p className="muted small">The ad-details response had no variations{details.no_results ? " (no results)" : ""}.</p>
            )
          ) : (
            <p className="muted small">Ad details have not been fetched for this creative yet.</p>
          )}
        </div>
      ) : null}
    </aside>
  );
}
