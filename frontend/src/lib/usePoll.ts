"use client";

import { useEffect, useRef, useState } from "react";

import { api } from "./api";

/**
 * Poll `path` every `intervalMs` while `active(data)` says the job is still going; stop as soon
 * as it ends (or the component unmounts, or `path` becomes null). Returns the latest data and
 * the last error message.
 */
export function usePoll<T>(
  path: string | null,
  { intervalMs = 1000, active }: { intervalMs?: number; active: (data: T) => boolean },
): { data: T | null; error: string | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const activeRef = useRef(active);
  useEffect(() => {
    activeRef.current = active;
  });

  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await api<T>(path);
        if (cancelled) return;
        setData(next);
        setError(null);
        if (activeRef.current(next)) timer = setTimeout(tick, intervalMs);
      } catch (err) {
        if (cancelled) return;
        setError((err as Error).message);
        timer = setTimeout(tick, intervalMs * 3);
      }
    };
    tick();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [path, intervalMs]);

  return { data, error };
}
