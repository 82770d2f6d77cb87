"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback } from "react";

/** Page state kept in the URL (shareable, survives reloads): read values, replace some at once. */
export function useQueryState(): [URLSearchParams, (changes: Record<string, string | number | null>) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const update = useCallback(
    (changes: Record<string, string | number | null>) => {
      // From the address bar, not the render's `params`: two quick changes (pick a region, then
      // press Search) must not lose the first one to a stale closure.
      const current = typeof window === "undefined" ? params.toString() : window.location.search;
      const next = new URLSearchParams(current);
      for (const [key, value] of Object.entries(changes)) {
        if (value === null || value === "") next.delete(key);
        else next.set(key, String(value));
      }
      const qs = next.toString();
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    },
    [params, router, pathname],
  );
  return [new URLSearchParams(params.toString()), update];
}
