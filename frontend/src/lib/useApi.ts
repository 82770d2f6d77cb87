"use client";

import { useCallback, useEffect, useState } from "react";

import { api } from "./api";

type Loaded<T> = { key: string; data: T | null; error: string | null };

/** Load `path` (null: nothing to load) and reload when it changes or `reload()` is called.
 * The previous data stays visible while the next load runs (no flicker between pages). */
export function useApi<T>(path: string | null): {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
} {
  const [version, setVersion] = useState(0);
  const [loaded, setLoaded] = useState<Loaded<T>>({ key: "", data: null, error: null });
  const key = path ? `${version}:${path}` : "";

  useEffect(() => {
    if (!path) return;
    const controller = new AbortController();
    api<T>(path, { signal: controller.signal })
      .then((data) => setLoaded({ key, data, error: null }))
      .catch((err: Error) => {
        if (err.name !== "AbortError") setLoaded((prev) => ({ key, data: prev.data, error: err.message }));
      });
    return () => controller.abort();
  }, [path, key]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data: loaded.data, error: loaded.error, loading: Boolean(path) && loaded.key !== key, reload };
}
