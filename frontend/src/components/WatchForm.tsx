"use client";

import { useState } from "react";

import type { Watch } from "@/api/types";
import { api, type FieldErrors } from "@/lib/api";
import { CREATIVE_FORMATS, PLATFORMS } from "@/lib/format";
import { errorsOf, formLevelErrors, mergeErrors } from "@/lib/formErrors";
import { findRegion, type Region, regionLabel, regionValue, useRegions } from "@/lib/regionNames";

import { Field, FormErrors } from "./ui";

export const WATCH_FIELDS = [
  "name", "advertiser_ids", "text", "region", "platform", "creative_format", "interval_minutes",
  "notify_email", "alert_on_first_run", "webhook_url", "is_active",
];

type Initial = Partial<Pick<Watch, "name" | "text" | "region" | "platform" | "creative_format" | "interval_minutes" | "notify_email" | "alert_on_first_run" | "webhook_url" | "is_active">> & {
  advertiser_ids?: unknown;
};

const ADVERTISER_ID = /^AR\d{20}$/;

/** Body for POST/PATCH /api/adspark/watches/ from the form's values; a region typed by name
 * ("Canada") or letters is sent as its geo code when `regions` knows it. */
export function watchBody(form: FormData, regions: Region[] = []): Record<string, unknown> {
  const text = (key: string) => String(form.get(key) ?? "").trim();
  const ids = text("advertiser_ids").split(/[\s,]+/).filter(Boolean);
  const body: Record<string, unknown> = {
    name: text("name"),
    advertiser_ids: ids,
    text: text("text"),
    region: regionValue(text("region"), regions),
    platform: text("platform"),
    creative_format: text("creative_format"),
    notify_email: form.get("notify_email") === "on",
    alert_on_first_run: form.get("alert_on_first_run") === "on",
    is_active: form.get("is_active") === "on",
    webhook_url: text("webhook_url"),
  };
  const interval = text("interval_minutes");
  if (interval) body.interval_minutes = Number(interval);
  return body;
}

/** The checks the browser can make before the API answers (all at once, in the user's words);
 * the API's own errors are merged with these. `regions` empty: the region is left to the API. */
export function checkWatch(body: Record<string, unknown>, typedRegion: string, regions: Region[]): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  const ids = body.advertiser_ids as string[];
  if (!body.name) add("name", "Give the watch a name.");
  if (!ids.length && !body.text) add("non_field_errors", "Give advertiser IDs, text or a domain, or both.");
  const bad = ids.filter((id) => !ADVERTISER_ID.test(id));
  if (bad.length) add("advertiser_ids", `Not an advertiser ID (AR followed by 20 digits): ${bad.join(", ")}.`);
  if (typedRegion && regions.length && !findRegion(typedRegion, regions))
    add("region", `Unknown region “${typedRegion}”: pick one from the list (a name such as Canada, or letters such as CA).`);
  const interval = body.interval_minutes as number | undefined;
  if (interval !== undefined && (!Number.isInteger(interval) || interval < 15)) add("interval_minutes", "Run it every 15 minutes or more.");
  if (body.webhook_url && !/^https?:\/\/\S+$/i.test(String(body.webhook_url))) add("webhook_url", "Enter a full URL starting with https://.");
  return errors;
}

type Props = { watch?: Initial & { id?: number }; submitLabel: string; onSaved: (watch: Watch) => void };

/** Create (no `watch.id`) or edit a watch; every problem (the browser's checks and the API's
 * field errors) appears next to its field in one round. */
export function WatchForm({ watch, submitLabel, onSaved }: Props) {
  const regions = useRegions();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  // What the user typed in the region field; until then the watch's region by name.
  const [regionText, setRegionText] = useState<string | null>(null);
  const ids = Array.isArray(watch?.advertiser_ids) ? (watch?.advertiser_ids as string[]).join(", ") : String(watch?.advertiser_ids ?? "");

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    const form = new FormData(event.currentTarget);
    const body = watchBody(form, regions);
    const local = checkWatch(body, String(form.get("region") ?? "").trim(), regions);
    try {
      const saved = watch?.id
        ? await api<Watch>(`/api/adspark/watches/${watch.id}/`, { method: "PATCH", body })
        : await api<Watch>("/api/adspark/watches/", { method: "POST", body });
      onSaved(saved);
    } catch (err) {
      setErrors(mergeErrors([local, errorsOf(err)]));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={watch?.id ? "Edit watch" : "New watch"}>
      <FormErrors errors={formLevelErrors(errors, WATCH_FIELDS)} />
      <Field label="Name" name="name" errors={errors.name}>
        {(p) => <input {...p} type="text" defaultValue={watch?.name ?? ""} placeholder="Tesla in the US" />}
      </Field>
      <div className="form-grid">
        <Field label="Advertiser IDs" name="advertiser_ids" errors={errors.advertiser_ids} hint="AR… IDs, comma-separated.">
          {(p) => <input {...p} type="text" defaultValue={ids} placeholder="AR17828074650563772417" />}
        </Field>
        <Field label="Text or domain" name="text" errors={errors.text}>
          {(p) => <input {...p} type="text" defaultValue={watch?.text ?? ""} placeholder="tesla.com" />}
        </Field>
      </div>
      <div className="form-grid">
        <Field label="Region" name="region" errors={errors.region} hint="Type a country's name, or its letters (US).">
          {(p) => (
            <input
              {...p}
              type="text"
              list="region-options"
              autoComplete="off"
              value={regionText ?? regionLabel(watch?.region ?? "US", regions)}
              onChange={(e) => setRegionText(e.target.value)}
            />
          )}
        </Field>
        <datalist id="region-options">
          {regions.map((r) => <option key={r.code} value={r.name}>{r.letters || r.code}</option>)}
        </datalist>
        <Field label="Platform" name="platform" errors={errors.platform}>
          {(p) => (
            <select {...p} defaultValue={watch?.platform ?? ""}>
              <option value="">Any</option>
              {PLATFORMS.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          )}
        </Field>
        <Field label="Format" name="creative_format" errors={errors.creative_format}>
          {(p) => (
            <select {...p} defaultValue={watch?.creative_format ?? ""}>
              <option value="">Any</option>
              {CREATIVE_FORMATS.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          )}
        </Field>
        <Field label="Every (minutes)" name="interval_minutes" errors={errors.interval_minutes} hint="At least 15.">
          {(p) => <input {...p} type="number" min={15} defaultValue={watch?.interval_minutes ?? 60} />}
        </Field>
      </div>
      <Field label="Webhook URL (optional)" name="webhook_url" errors={errors.webhook_url} hint="Receives a signed JSON POST when new creatives appear.">
        {(p) => <input {...p} type="url" defaultValue={watch?.webhook_url ?? ""} placeholder="https://hooks.example.com/adspark" />}
      </Field>
      <div className="row">
        <label className="checkbox"><input type="checkbox" name="notify_email" defaultChecked={watch?.notify_email ?? true} /> Email me about new creatives</label>
        <label className="checkbox"><input type="checkbox" name="alert_on_first_run" defaultChecked={watch?.alert_on_first_run ?? false} /> Alert on the first run too</label>
        <label className="checkbox"><input type="checkbox" name="is_active" defaultChecked={watch?.is_active ?? true} /> Active</label>
      </div>
      <div>
        <button type="submit" className="primary" disabled={busy}>{busy ? "Saving…" : submitLabel}</button>
      </div>
    </form>
  );
}
