"use client";

/** A searchable region select: a text box narrows the select's 239 regions (by name or ISO
 * letters). Values are ISO letters (the API also takes geo codes), labels are names. */
import { useId, useState } from "react";

import type { Region } from "@/lib/creatives";
import { useRegions } from "@/lib/hooks";

type Props = {
  value: string;
  onChange: (value: string) => void;
  label?: string;
  anyLabel?: string;
  id?: string;
};

/** Options matching `query` (case-insensitive, name or letters), keeping `keep` (the current
 * value) so the select never loses its selection. */
export function filterRegions(regions: Region[], query: string, keep = ""): Region[] {
  const q = query.trim().toLowerCase();
  if (!q) return regions;
  return regions.filter(
    (r) => r.name.toLowerCase().includes(q) || r.letters.toLowerCase() === q || r.code === q || regionValue(r) === keep,
  );
}

export function regionValue(region: Region): string {
  return region.letters || region.code;
}

export function RegionSelect({ value, onChange, label = "Region", anyLabel = "Anywhere", id }: Props) {
  const regions = useRegions();
  const [query, setQuery] = useState("");
  const autoId = useId();
  const selectId = id ?? `${autoId}-region`;
  const searchId = `${selectId}-search`;
  const options = filterRegions(regions ?? [], query, value);
  const known = !value || (regions ?? []).some((r) => regionValue(r) === value || r.code === value);
  return (
    <div className="region-picker">
      <label htmlFor={selectId}>{label}</label>
      <input
        id={searchId}
        type="search"
        aria-label={`Find a ${label.toLowerCase()}`}
        placeholder="Type a name…"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          const matches = filterRegions(regions ?? [], e.target.value);
          if (matches.length === 1) onChange(regionValue(matches[0]));
        }}
      />
      <select id={selectId} value={value} onChange={(e) => onChange(e.target.value)} data-testid="region-select">
        <option value="">{anyLabel}</option>
        {!known ? <option value={value}>{value}</option> : null}
        {options.map((r) => (
          <option key={r.code} value={regionValue(r)}>
            {r.name}
          </option>
        ))}
      </select>
    </div>
  );
}
