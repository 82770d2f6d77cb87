"use client";

/** Creative cards (the archived image, else the live one, else a rendered preview) and the
 * details panel (a side panel on wide screens, a bottom sheet on phones) with the ad-details
 * variations, saving to boards and fetching ad details. */
import "./gallery.css";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";

import type { CreativeDetail } from "@/api/types";
import { api } from "@/lib/api";
import { type ArchiveFields, imageCandidates, regionName } from "@/lib/creatives";
import { formatDate, formatNumber } from "@/lib/format";
import { useRegions } from "@/lib/hooks";
import { useApi } from "@/lib/useApi";

import { SaveToBoard } from "./boards";
import { Loading } from "./ui";

export type CardCreative = {
  ad_creative_id: string;
  advertiser_id: string;
  advertiser_name: string;
  format: "text" | "image" | "video";
  image_url?: string | null;
  target_domain?: string | null;
  last_shown?: string | null;
  total_days_shown?: number | null;
  title?: string | null;
  snippet?: string | null;
  headline?: string | null;
} & ArchiveFields;

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

/** The creative's best image over its rendered preview. Candidates (archived copy, then the live
 * URL) are tried in order: when one fails to load the next is tried, and when none is left the
 * preview stays. Until an image has loaded the preview is what shows. */
export function CreativeMedia({ creative, size = "thumbnail" }: { creative: CardCreative; size?: "thumbnail" | "full" }) {
  const candidates = imageCandidates(creative, size);
  const [attempt, setAttempt] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const src = candidates[attempt];
  return (
    <div className="creative-media" data-image-source={!src ? "placeholder" : src === creative.image_url ? "live" : "archive"}>
      {!loaded ? <AdPreview creative={creative} /> : null}
      {src ? (
        // eslint-disable-next-line @next/next/no-img-element -- archived or third-party ad images, not optimisable
        <img
          key={src}
          src={src}
          alt={`${creative.format} ad by ${creative.advertiser_name}`}
          loading="lazy"
          referrerPolicy="no-referrer"
          className={loaded ? "loaded" : undefined}
          onLoad={() => setLoaded(true)}
          onError={() => {
            setLoaded(false);
            setAttempt((a) => a + 1);
          }}
        />
      ) : null}
    </div>
  );
}

type CardProps = {
  creative: CardCreative;
  selected?: boolean;
  onSelect?: (id: string) => void;
  badge?: React.ReactNode;
  /** Bulk selection: shows a checkbox when given. `range` is true on shift-click. */
  checked?: boolean;
  onCheck?: (id: string, checked: boolean, range: boolean) => void;
};

/** Link to the creatives that look the same (equal `visual_hash`), when there are any. */
export function LookAlikes({ creative }: { creative: CardCreative }) {
  const count = creative.duplicate_count ?? 0;
  if (!count || !creative.visual_hash) return null;
  return (
    <Link className="look-alikes small" href={`/creatives?visual_hash=${encodeURIComponent(creative.visual_hash)}`} data-testid="look-alikes">
      {count} look-alike{count > 1 ? "s" : ""}
    </Link>
  );
}

export function CreativeCard({ creative, selected, onSelect, badge, checked, onCheck }: CardProps) {
  const name = creative.advertiser_name || creative.advertiser_id;
  return (
    <div
      className={`creative-card${selected ? " selected" : ""}${checked ? " checked" : ""}`}
      data-testid="creative-card"
      data-creative-id={creative.ad_creative_id}
    >
      <button
        type="button"
        className="creative-open"
        aria-pressed={selected ?? false}
        onClick={() => onSelect?.(creative.ad_creative_id)}
        data-grid-item
      >
        <CreativeMedia creative={creative} />
        <span className="creative-body">
          <span className="creative-head">
            <span className="creative-title" title={name}>{name}</span>
            <span className="row" style={{ gap: ".3rem", flexShrink: 0 }}>
              {badge}
              <span className="badge">{creative.format}</span>
            </span>
          </span>
          <span className="small muted mono creative-id">{creative.ad_creative_id}</span>
          <span className="small muted">
            Last shown {formatDate(creative.last_shown)}
            {creative.total_days_shown ? ` · ${formatNumber(creative.total_days_shown)} days` : ""}
          </span>
        </span>
      </button>
      {onCheck ? (
        <label className="card-check">
          <input
            type="checkbox"
            checked={checked ?? false}
            onChange={() => undefined}
            onClick={(e) => onCheck(creative.ad_creative_id, !checked, e.shiftKey)}
          />
          <span className="visually-hidden">Select {name} {creative.ad_creative_id}</span>
        </label>
      ) : null}
      {creative.duplicate_count ? (
        <div className="card-foot">
          <LookAlikes creative={creative} />
        </div>
      ) : null}
    </div>
  );
}

type Variation = Record<string, unknown>;

function VariationView({ variation, index }: { variation: Variation; index: number }) {
  const text = (key: string) => (typeof variation[key] === "string" ? (variation[key] as string) : "");
  const images: string[] = [];
  if (text("image")) images.push(text("image"));
  if (Array.isArray(variation.images)) for (const i of variation.images) if (typeof i === "string" && !images.includes(i)) images.push(i);
  const sitelinks = Array.isArray(variation.sitelink_texts) ? (variation.sitelink_texts as unknown[]).map(String) : [];
  return (
    <li className="variation">
      <div className="small muted">Variation {index + 1}</div>
      {text("title") || text("headline") ? <strong>{text("title") || text("headline")}</strong> : null}
      {text("snippet") ? <p className="small" style={{ margin: ".2rem 0" }}>{text("snippet")}</p> : null}
      {text("visible_link") ? <div className="small" style={{ color: "var(--ok)" }}>{text("visible_link")}</div> : null}
      {text("call_to_action") ? <span className="badge">{text("call_to_action")}</span> : null}
      {sitelinks.length ? <div className="small muted">Sitelinks: {sitelinks.join(" · ")}</div> : null}
      {images.length ? (
        <div className="variation-images">
          {images.map((src, i) => (
            <VariationImage key={src} src={src} alt={`Variation ${index + 1}, image ${i + 1}`} />
          ))}
        </div>
      ) : null}
    </li>
  );
}

function VariationImage({ src, alt }: { src: string; alt: string }) {
  const [failed, setFailed] = useState(false);
  if (failed) {
    return (
      <a className="small" href={src} target="_blank" rel="noreferrer noopener">
        {alt} (not loadable here) ↗
      </a>
    );
  }
  // eslint-disable-next-line @next/next/no-img-element -- third-party ad images
  return <img src={src} alt={alt} loading="lazy" referrerPolicy="no-referrer" onError={() => setFailed(true)} data-testid="variation-image" />;
}

/** "Fetch ad details": asks the API to fetch this creative's ad details from SerpApi now
 * (`POST /api/adspark/creatives/{id}/fetch-details/`), then reloads the panel. */
function FetchDetailsButton({ creativeId, onFetched, refetch }: { creativeId: string; onFetched: () => void; refetch: boolean }) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  async function run() {
    setState({ busy: true, error: null });
    try {
      await api(`/api/adspark/creatives/${creativeId}/fetch-details/`, { method: "POST" });
      setState({ busy: false, error: null });
      onFetched();
    } catch (err) {
      setState({ busy: false, error: (err as Error).message });
    }
  }
  return (
    <div className="stack" style={{ gap: ".4rem" }}>
      <div>
        <button type="button" onClick={run} disabled={state.busy} aria-busy={state.busy}>
          {state.busy ? "Fetching ad details…" : refetch ? "Fetch ad details again" : "Fetch ad details"}
        </button>
      </div>
      {state.error ? <div className="alert alert-error" role="alert">{state.error}</div> : null}
    </div>
  );
}

/** Everything stored about one creative, with its ad-details variations when they were fetched.
 * Escape closes it; focus moves into it when it opens and back to the opener when it closes. */
export function CreativeDetailsPanel({ creativeId, onClose }: { creativeId: string; onClose?: () => void }) {
  const { data, error, loading, reload } = useApi<CreativeDetail & ArchiveFields>(`/api/adspark/creatives/${creativeId}/`);
  const regions = useRegions();
  const panel = useRef<HTMLElement>(null);
  const details = data?.details ?? null;
  const variations = (details?.variations as Variation[] | undefined) ?? [];

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    panel.current?.focus({ preventScroll: true });
    return () => {
      if (opener && opener.isConnected && opener !== document.body) opener.focus({ preventScroll: true });
    };
  }, []);

  useEffect(() => {
    if (!onClose) return;
    function onKey(event: KeyboardEvent) {
      if (event.key === "Escape" && !event.defaultPrevented) {
        event.preventDefault();
        onClose?.();
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);

  return (
    <>
      {onClose ? <div className="sheet-backdrop" aria-hidden="true" onClick={onClose} /> : null}
      <aside className="card details-panel" aria-label="Creative details" data-testid="details-panel" ref={panel} tabIndex={-1}>
        <div className="card-title">
          <h2>Creative details</h2>
          {onClose ? (
            <button type="button" className="link-button" onClick={onClose} aria-keyshortcuts="Escape">
              Close<span className="visually-hidden"> details</span>
            </button>
          ) : null}
        </div>
        {loading && !data ? <Loading /> : null}
        {error ? <div className="alert alert-error" role="alert">{error}</div> : null}
        {data ? (
          <div className="stack">
            <CreativeMedia
              key={`${data.ad_creative_id}-${data.archived_image_url ?? ""}`}
              size="full"
              creative={{ ...data, title: details?.title, snippet: details?.snippet, headline: details?.headline }}
            />
            <LookAlikes creative={data} />
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
              <dd data-testid="regions">{(data.regions as string[] | undefined)?.map((r) => regionName(String(r), regions)).join(", ") || "—"}</dd>
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
              <SaveToBoard creativeId={data.ad_creative_id} />
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
            <FetchDetailsButton creativeId={data.ad_creative_id} onFetched={reload} refetch={Boolean(details)} />
          </div>
        ) : null}
      </aside>
    </>
  );
}
