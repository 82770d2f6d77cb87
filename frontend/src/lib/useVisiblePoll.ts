"use client";

import { useCallback, useEffect, useRef, useState } from "react";

import { api, ApiError } from "./api";

type Options<T> = {
  /** Milliseconds between loads while nothing is going on. */
  intervalMs: number;
  /** Milliseconds between loads while `busy(data)` says a job is running. */
  busyMs?: number;
  busy?: (data: T) => boolean;
};

/**
 * Keep `path` fresh while the page is visible (`document.visibilityState`): load it, then again
 * every `intervalMs` (or `busyMs` while `busy(data)`), pause while the tab is hidden and load at
 * once when it is shown again. So a page left open shows what the scheduler did meanwhile
 * (issue 13 §3.5) without polling hidden tabs. A 404 stops the polling (`notFound` is then true).
 */
export function useVisiblePoll<T>(path: string | null, { intervalMs, busyMs = intervalMs, busy }: Options<T>) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [version, setVersion] = useState(0);
  const busyRef = useRef(busy);
  useEffect(() => {
    busyRef.current = busy;
  });

  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | null = null;
    const schedule = (ms: number) => {
      if (timer) clearTimeout(timer);
      timer = document.visibilityState === "hidden" ? undefined : setTimeout(tick, ms);
    };
    const tick = async () => {
      controller?.abort();
      controller = new AbortController();
      try {
        const next = await api<T>(path, { signal: controller.signal });
        if (cancelled) return;
        setData(next);
        setError(null);
        schedule(busyRef.current?.(next) ? busyMs : intervalMs);
      } catch (err) {
        if (cancelled || (err as Error).name === "AbortError") return;
        if (err instanceof ApiError && err.status === 404) {
          setNotFound(true);
          return;
        }
        setError((err as Error).message);
        schedule(intervalMs * 2);
      }
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") tick();
      else if (timer) clearTimeout(timer);
    };
    document.addEventListener("visibilitychange", onVisibility);
    tick();
    return () => {
      cancelled = true;
      controller?.abort();
      if (timer) clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [path, intervalMs, busyMs, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data, error, notFound, reload };
}
