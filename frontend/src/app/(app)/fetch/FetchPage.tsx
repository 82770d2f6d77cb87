"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";

import type { FetchRun } from "@/api/types";
import { describeRun, FetchProgress } from "@/components/FetchProgress";
import { Field, FormErrors, StatusBadge } from "@/components/ui";
import { api, ApiError, type FieldErrors, type Page } from "@/lib/api";
import { CREATIVE_FORMATS, formatDate, PLATFORMS, REGIONS } from "@/lib/format";
import { useApi } from "@/lib/useApi";

const FIELDS = ["advertiser_ids", "text", "region", "platform", "creative_format", "start_date", "end_date", "max_pages"];

export function FetchPage() {
  const router = useRouter();
  const params = useSearchParams();
  const runParam = params.get("run");
  const runId = runParam ? Number(runParam) : null;
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const recent = useApi<Page<FetchRun>>("/api/adspark/fetch-runs/?page_size=8");

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body: Record<string, unknown> = {};
    for (const key of FIELDS) {
      const value = String(form.get(key) ?? "").trim();
      if (value) body[key] = key === "max_pages" ? Number(value) : value;
    }
    if (form.get("political_ads")) body.political_ads = true;
    setBusy(true);
    setErrors({});
    setFormErrors([]);
    try {
      const run = await api<FetchRun>("/api/adspark/fetch/", { method: "POST", body });
      router.replace(`/fetch?run=${run.id}`);
    } catch (err) {
      const e = err as ApiError;
      setErrors(e.fieldErrors);
      setFormErrors(Object.keys(e.fieldErrors).some((k) => FIELDS.includes(k)) ? e.formErrors(FIELDS).filter((m) => !m.startsWith("Please correct")) : e.formErrors(FIELDS));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Fetch now</h1>
          <p>Pull creatives from the Google Ads Transparency Center (through SerpApi) into AdSpark.</p>
        </div>
      </header>
      <div className="grid grid-2">
        <section className="card" aria-labelledby="fetch-form-title">
          <h2 id="fetch-form-title">What to fetch</h2>
          <FormErrors errors={formErrors} />
          <form className="form" onSubmit={submit} noValidate>
            <Field label="Advertiser ids" name="advertiser_ids" errors={errors.advertiser_ids} hint="AR followed by 20 digits; separate several with commas.">
              {(p) => <input {...p} type="text" placeholder="AR17828074650563772417" defaultValue={params.get("advertiser_ids") ?? ""} />}
            </Field>
            <Field label="Text or domain" name="text" errors={errors.text} hint="Give advertiser ids, text, or both.">
              {(p) => <input {...p} type="text" placeholder="tesla.com" defaultValue={params.get("text") ?? ""} />}
            </Field>
            <div className="form-grid">
              <Field label="Region" name="region" errors={errors.region}>
                {(p) => (
                  <select {...p} defaultValue={params.get("region") ?? "US"}>
                    {REGIONS.map(([code, name]) => (
                      <option key={code} value={code}>{name}</option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label="Platform" name="platform" errors={errors.platform}>
                {(p) => (
                  <select {...p} defaultValue="">
                    <option value="">Any</option>
                    {PLATFORMS.map((v) => <option key={v} value={v}>{v}</option>)}
                  </select>
                )}
              </Field>
              <Field label="Format" name="creative_format" errors={errors.creative_format}>
                {(p) => (
                  <select {...p} defaultValue="">
                    <option value="">Any</option>
                    {CREATIVE_FORMATS.map((v) => <option key={v} value={v}>{v}</option>)}
                  </select>
                )}
              </Field>
              <Field label="Shown from" name="start_date" errors={errors.start_date}>
                {(p) => <input {...p} type="date" />}
              </Field>
              <Field label="Shown until" name="end_date" errors={errors.end_date}>
                {(p) => <input {...p} type="date" />}
              </Field>
              <Field label="Max pages" name="max_pages" errors={errors.max_pages} hint="Each page is one paid search.">
                {(p) => <input {...p} type="number" min={1} max={100} placeholder="5" />}
              </Field>
            </div>
            <label className="checkbox">
              <input type="checkbox" name="political_ads" /> Political ads only (needs a region)
            </label>
            <div>
              <button type="submit" className="primary" disabled={busy}>
                {busy ? "Starting…" : "Fetch now"}
              </button>
            </div>
          </form>
        </section>
        <section className="card" aria-labelledby="progress-title">
          <h2 id="progress-title">Progress</h2>
          {runId ? (
            <FetchProgress key={runId} runId={runId} onFinished={() => recent.reload()} />
          ) : (
            <p className="muted">Start a fetch and follow it here, page by page.</p>
          )}
          <h3 style={{ marginTop: "1.5rem" }}>Recent fetches</h3>
          {recent.data?.results.length ? (
            <ul className="stack" style={{ listStyle: "none", padding: 0, margin: 0 }}>
              {recent.data.results.map((run) => (
                <li key={run.id} className="spread small">
                  <button type="button" className="link-button" onClick={() => router.replace(`/fetch?run=${run.id}`)}>
                    #{run.id} {describeRun(run)}
                  </button>
                  <span className="row" style={{ gap: ".5rem" }}>
                    <span className="muted">{formatDate(run.created_at, true)}</span>
                    <StatusBadge status={run.status} />
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted small">No fetches yet.</p>
          )}
        </section>
      </div>
    </>
  );
}
