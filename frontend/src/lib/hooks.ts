"use client";

/** Small hooks for the creatives pages: a debounced callback and the region list. */
import { useCallback, useEffect, useRef, useState } from "react";

import { loadRegions, resetRegions } from "./regionNames";
import type { Region } from "./creatives";

/**
 * `fn` called once, `delayMs` after the last call (defect 16: one request after typing stops,
 * not one per keystroke). Returns `[call, flush]`; pending calls are dropped on unmount, `flush()`
 * runs the pending one at once.
 */
export function useDebouncedCallback<A extends unknown[]>(fn: (...args: A) => void, delayMs = 300) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(fn);
  const pending = useRef<A | null>(null);
  useEffect(() => {
    latest.current = fn;
  });
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const call = useCallback(
    (...args: A) => {
      pending.current = args;
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        timer.current = null;
        pending.current = null;
        latest.current(...args);
      }, delayMs);
    },
    [delayMs],
  );
  const flush = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    const args = pending.current;
    pending.current = null;
    if (args) latest.current(...args);
  }, []);
  return [call, flush] as const;
}

/** All regions the app knows (`GET /api/adspark/regions/`, 239 sorted by name), loaded once per
 * page load and shared with lib/regionNames; null until they arrive (or when the request failed). */
export function useRegions(): Region[] | null {
  const [regions, setRegions] = useState<Region[] | null>(null);
  useEffect(() => {
    let live = true;
    loadRegions().then((list) => live && list.length > 0 && setRegions(list));
    return () => {
      live = false;
    };
  }, []);
  return regions;
}

/** Forget the cached regions (tests). */
export function resetRegionsCache(): void {
  resetRegions();
}
