"use client";

/** A searchable creative picker with thumbnails (defect 8): type an advertiser, domain or id,
 * pick from the matches. The choice travels in a hidden input named `name` (comma-separated
 * ids when several are chosen). */
import "./gallery.css";

import { useState } from "react";

import { type Page, withQuery } from "@/lib/api";
import type { ArchivedCreative } from "@/lib/creatives";
import { useDebouncedCallback } from "@/lib/hooks";
import { useApi } from "@/lib/useApi";

import { CreativeMedia } from "./creatives";

type Props = {
  id: string;
  name: string;
  value: string[];
  onChange: (ids: string[]) => void;
  multiple?: boolean;
  describedBy?: string;
  invalid?: boolean;
};

function Option({ creative, chosen, onToggle }: { creative: ArchivedCreative; chosen: boolean; onToggle: () => void }) {
  return (
    <li>
      <button type="button" className="picker-option" aria-pressed={chosen} onClick={onToggle} data-testid="picker-option" data-creative-id={creative.ad_creative_id}>
        <span className="thumb" aria-hidden="true"><CreativeMedia creative={creative} /></span>
        <span className="picker-text">
          <span><strong>{creative.advertiser_name || creative.advertiser_id}</strong> · {creative.format}</span>
          <span className="small muted mono">{creative.ad_creative_id}</span>
          {creative.target_domain ? <span className="small muted">{creative.target_domain}</span> : null}
        </span>
      </button>
    </li>
  );
}

/** A chosen creative loaded by id (it may not be on the current page of matches). */
function Chosen({ creativeId, onRemove }: { creativeId: string; onRemove: () => void }) {
  const { data } = useApi<ArchivedCreative>(`/api/adspark/creatives/${creativeId}/`);
  return (
    <li className="change-list-item row" style={{ gap: ".5rem", flexWrap: "nowrap" }} data-testid="picker-chosen">
      <span className="thumb" style={{ width: 64, height: 48, flexShrink: 0, display: "block", border: "1px solid var(--border)", borderRadius: 6, overflow: "hidden" }} aria-hidden="true">
        {data ? <CreativeMedia creative={data} /> : null}
      </span>
      <span className="picker-text" style={{ flex: 1 }}>
        <span><strong>{data?.advertiser_name ?? "…"}</strong>{data ? ` · ${data.format}` : ""}</span>
        <span className="small muted mono">{creativeId}</span>
      </span>
      <button type="button" className="link-button" onClick={onRemove}>
        Remove<span className="visually-hidden"> {creativeId}</span>
      </button>
    </li>
  );
}

export function CreativePicker({ id, name, value, onChange, multiple = false, describedBy, invalid }: Props) {
  const [query, setQuery] = useState("");
  const [setQueryLater] = useDebouncedCallback(setQuery, 300);
  const matches = useApi<Page<ArchivedCreative>>(withQuery("/api/adspark/creatives/", { search: query, page_size: 20 }));
  function toggle(creativeId: string) {
    if (value.includes(creativeId)) onChange(value.filter((v) => v !== creativeId));
    else onChange(multiple ? [...value, creativeId] : [creativeId]);
  }
  return (
    <div className="stack" style={{ gap: ".5rem" }} data-testid="creative-picker">
      <input type="hidden" name={name} value={value.join(",")} />
      {value.length ? (
        <ul style={{ listStyle: "none", margin: 0, padding: 0, display: "grid", gap: ".35rem" }} aria-label="Chosen creatives">
          {value.map((v) => <Chosen key={v} creativeId={v} onRemove={() => toggle(v)} />)}
        </ul>
      ) : null}
      <input id={id} type="search" placeholder="Find by advertiser, domain or creative id…" aria-describedby={describedBy}
        aria-invalid={invalid || undefined} onChange={(e) => setQueryLater(e.target.value)} aria-controls={`${id}-matches`} />
      <ul id={`${id}-matches`} className="picker-list" aria-label="Matching creatives" aria-busy={matches.loading}>
        {matches.data?.results.map((c) => (
          <Option key={c.ad_creative_id} creative={c} chosen={value.includes(c.ad_creative_id)} onToggle={() => toggle(c.ad_creative_id)} />
        ))}
        {matches.data && !matches.data.results.length ? <li className="small muted">No creatives match “{query}”.</li> : null}
      </ul>
    </div>
  );
}
