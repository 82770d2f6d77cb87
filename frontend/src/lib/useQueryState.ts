"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useRef } from "react";

/** Page state kept in the URL (shareable, survives reloads): read values, replace some at once.
 * Changes made before the router has shown the previous one (pick a region, then press Search
 * at once) build on it instead of on the stale render's values. */
export function useQueryState(): [URLSearchParams, (changes: Record<string, string | number | null>) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const pending = useRef<string | null>(null);
  const current = params.toString();
  useEffect(() => {
    pending.current = null; // the router has caught up
  }, [current]);
  const update = useCallback(
    (changes: Record<string, string | number | null>) => {
      const next = new URLSearchParams(pending.current ?? current);
      for (const [key, value] of Object.entries(changes)) {
        if (value === null || value === "") next.delete(key);
        else next.set(key, String(value));
      }
      const qs = next.toString();
      pending.current = qs;
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    },
    [current, router, pathname],
  );
  return [new URLSearchParams(current), update];
}
