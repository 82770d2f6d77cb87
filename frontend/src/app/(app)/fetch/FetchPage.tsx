"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";

import { describeRun, FetchProgress, type FetchRunView, runCounts } from "@/components/FetchProgress";
import { Field, FormErrors, StatusBadge } from "@/components/ui";
import { api, type FieldErrors, type Page } from "@/lib/api";
import { CREATIVE_FORMATS, formatDate, PLATFORMS } from "@/lib/format";
import { errorsOf, formLevelErrors, mergeErrors } from "@/lib/formErrors";
import { regionOptions, useRegions } from "@/lib/regionNames";
import { useApi } from "@/lib/useApi";

const FIELDS = ["advertiser_ids", "text", "region", "platform", "creative_format", "start_date", "end_date", "max_pages", "political_ads"];
const ADVERTISER_ID = /^AR\d{20}$/;

/** The browser's checks of the fetch form, in the user's words; the API's errors are merged in. */
export function checkFetch(body: Record<string, unknown>): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  const ids = String(body.advertiser_ids ?? "").split(/[\s,]+/).filter(Boolean);
  if (!ids.length && !body.text) add("non_field_errors", "Give advertiser IDs, text or a domain, or both.");
  const bad = ids.filter((id) => !ADVERTISER_ID.test(id));
  if (bad.length) add("advertiser_ids", `Not an advertiser ID (AR followed by 20 digits): ${bad.join(", ")}.`);
  const pages = body.max_pages as number | undefined;
  if (pages !== undefined && (!Number.isInteger(pages) || pages < 1 || pages > 100)) add("max_pages", "Between 1 and 100 pages.");
  if (body.start_date && body.end_date && String(body.start_date) > String(body.end_date))
    add("end_date", "The end date is before the start date.");
  if (body.political_ads && !body.region) add("political_ads", "Political ads need a region.");
  return errors;
}

export function FetchPage() {
  const router = useRouter();
  const params = useSearchParams();
  const regions = useRegions();
  const runParam = params.get("run");
  const runId = runParam ? Number(runParam) : null;
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const recent = useApi<Page<FetchRunView>>("/api/adspark/fetch-runs/?page_size=8");

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body: Record<string, unknown> = {};
    for (const key of FIELDS) {
      const value = String(form.get(key) ?? "").trim();
      if (value && key !== "political_ads") body[key] = key === "max_pages" ? Number(value) : value;
    }
    if (form.get("political_ads")) body.political_ads = true;
    const local = checkFetch(body);
    setBusy(true);
    setErrors({});
    try {
      const run = await api<FetchRunView>("/api/adspark/fetch/", { method: "POST", body });
      router.replace(`/fetch?run=${run.id}`);
      recent.reload();
    } catch (err) {
      setErrors(mergeErrors([local, errorsOf(err)]));
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
          <FormErrors errors={formLevelErrors(errors, FIELDS)} />
          <form className="form" onSubmit={submit} noValidate aria-label="What to fetch">
            <Field label="Advertiser IDs" name="advertiser_ids" errors={errors.advertiser_ids} hint="AR followed by 20 digits; separate several with commas.">
              {(p) => <input {...p} type="text" placeholder="AR17828074650563772417" defaultValue={params.get("advertiser_ids") ?? ""} />}
            </Field>
            <Field label="Text or domain" name="text" errors={errors.text} hint="Give advertiser IDs, text, or both.">
              {(p) => <input {...p} type="text" placeholder="tesla.com" defaultValue={params.get("text") ?? ""} />}
            </Field>
            <div className="form-grid">
              <Field label="Region" name="region" errors={errors.region}>
                {(p) => (
                  <select {...p} key={regions.length} defaultValue={params.get("region") ?? "US"}>
                    {regionOptions(regions).map(([code, name]) => (
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
              <input type="checkbox" name="political_ads" aria-invalid={errors.political_ads?.length ? true : undefined} /> Political ads only (needs a region)
            </label>
            {errors.political_ads?.length ? <p className="field-error" role="alert">{errors.political_ads.join(" ")}</p> : null}
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
            <ul className="stack" style={{ listStyle: "none", padding: 0, margin: 0 }} data-testid="recent-fetches">
              {recent.data.results.map((run) => (
                <li key={run.id} className="spread small">
                  <button type="button" className="link-button run-summary" style={{ textAlign: "left", whiteSpace: "normal" }}
                    onClick={() => router.replace(`/fetch?run=${run.id}`)}>
                    #{run.id} {describeRun(run, regions)}
                  </button>
                  <span className="row" style={{ gap: ".5rem" }}>
                    <span className="muted">{run.summary ? "" : `${runCounts(run)} · `}{formatDate(run.created_at, true)}</span>
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
