"use client";

/**
 * Region names instead of geo codes (issue 13 §3.6). `GET /api/adspark/regions/` lists the 239
 * regions SerpApi knows as `{code: "2840", name: "United States", letters: "US"}`; it is loaded
 * once per page load and shared by every component. Until it has answered, the few regions of
 * `REGIONS` (lib/format) are known by their letters.
 */
import { useEffect, useState } from "react";

import { api } from "./api";
import { REGIONS } from "./format";

export type Region = { code: string; name: string; letters: string };

let cache: Region[] | null = null;
let loading: Promise<Region[]> | null = null;

/** The regions list, fetched once per page load and shared; `[]` when the request failed (the next
 * call tries again). */
export function loadRegions(): Promise<Region[]> {
  if (cache) return Promise.resolve(cache);
  loading ??= api<Region[]>("/api/adspark/regions/")
    .then((list) => {
      if (!Array.isArray(list) || !list.length) throw new Error("no regions");
      return (cache = list);
    })
    .catch(() => {
      loading = null; // try again on the next mount
      return [];
    });
  return loading;
}

/** Forget the loaded regions (tests). */
export function resetRegions(): void {
  cache = null;
  loading = null;
}

/** Every region the API knows (sorted by name), `[]` until it has answered. */
export function useRegions(): Region[] {
  const [regions, setRegions] = useState<Region[]>(cache ?? []);
  useEffect(() => {
    let live = true;
    loadRegions().then((list) => live && setRegions(list));
    return () => {
      live = false;
    };
  }, []);
  return regions;
}

/** The region's name for a geo code ("2840"), ISO letters ("US") or a name; `null` when unknown. */
export function findRegion(value: string | null | undefined, regions: Region[]): Region | null {
  const text = (value ?? "").trim();
  if (!text) return null;
  const upper = text.toUpperCase();
  const folded = text.toLocaleLowerCase("en");
  return (
    regions.find((r) => r.code === text || r.letters === upper || r.name.toLocaleLowerCase("en") === folded) ??
    null
  );
}

/**
 * What to show for a region: the API's own `region_name` when it sent one, else the name from the
 * regions list, else a common region's name by its letters, else the value itself ("Narnia").
 * Empty for no region.
 */
export function regionLabel(value: string | null | undefined, regions: Region[], regionName?: string | null): string {
  if (regionName) return regionName;
  if (!value) return "";
  const found = findRegion(value, regions);
  if (found) return found.name;
  const common = REGIONS.find(([letters]) => letters && letters === value.toUpperCase());
  return common ? common[1] : value;
}

/** The value to send for what was typed in a region field: the geo code when it names a known
 * region (by name, letters or code), else the text as typed, so the API can say what is wrong. */
export function regionValue(typed: string, regions: Region[]): string {
  const found = findRegion(typed, regions);
  if (found) return found.code;
  // Before the list has loaded, the common regions' names (what regionLabel shows) still work.
  const folded = typed.trim().toLocaleLowerCase("en");
  const common = REGIONS.find(([letters, name]) => letters && name.toLocaleLowerCase("en") === folded);
  return common ? common[0] : typed.trim();
}

/** Options for a region `<select>`: "Anywhere", then every region the API knows by name (the
 * common few until it answers). Values are ISO letters where a region has them, else the geo
 * code: the API takes both. */
export function regionOptions(regions: Region[]): Array<[string, string]> {
  if (!regions.length) return REGIONS;
  return [["", "Anywhere"], ...regions.map((r): [string, string] => [r.letters || r.code, r.name])];
}
