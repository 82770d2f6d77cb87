"use client";

import { useState } from "react";

import type { Watch } from "@/api/types";
import { api, ApiError, type FieldErrors } from "@/lib/api";
import { CREATIVE_FORMATS, PLATFORMS, REGIONS } from "@/lib/format";

import { Field, FormErrors } from "./ui";

export const WATCH_FIELDS = [
  "name", "advertiser_ids", "text", "region", "platform", "creative_format", "interval_minutes",
  "notify_email", "alert_on_first_run", "webhook_url", "is_active",
];

type Initial = Partial<Pick<Watch, "name" | "text" | "region" | "platform" | "creative_format" | "interval_minutes" | "notify_email" | "alert_on_first_run" | "webhook_url" | "is_active">> & {
  advertiser_ids?: unknown;
};

/** Body for POST/PATCH /api/adspark/watches/ from the form's values. */
export function watchBody(form: FormData): Record<string, unknown> {
  const text = (key: string) => String(form.get(key) ?? "").trim();
  const ids = text("advertiser_ids").split(/[\s,]+/).filter(Boolean);
  const body: Record<string, unknown> = {
    name: text("name"),
    advertiser_ids: ids,
    text: text("text"),
    region: text("region"),
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

type Props = { watch?: Initial & { id?: number }; submitLabel: string; onSaved: (watch: Watch) => void };

/** Create (no `watch.id`) or edit a watch; the API's field errors appear next to their fields. */
export function WatchForm({ watch, submitLabel, onSaved }: Props) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const ids = Array.isArray(watch?.advertiser_ids) ? (watch?.advertiser_ids as string[]).join(", ") : String(watch?.advertiser_ids ?? "");

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFormErrors([]);
    try {
      const body = watchBody(new FormData(event.currentTarget));
      const saved = watch?.id
        ? await api<Watch>(`/api/adspark/watches/${watch.id}/`, { method: "PATCH", body })
        : await api<Watch>("/api/adspark/watches/", { method: "POST", body });
      onSaved(saved);
    } catch (err) {
      const e = err as ApiError;
      setErrors(e.fieldErrors ?? {});
      const known = Object.keys(e.fieldErrors ?? {}).some((k) => WATCH_FIELDS.includes(k));
      setFormErrors(e.formErrors ? e.formErrors(WATCH_FIELDS).filter((m) => !(known && m.startsWith("Please correct"))) : [String(err)]);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={watch?.id ? "Edit watch" : "New watch"}>
      <FormErrors errors={formErrors} />
      <Field label="Name" name="name" errors={errors.name}>
        {(p) => <input {...p} type="text" defaultValue={watch?.name ?? ""} placeholder="Tesla in the US" />}
      </Field>
      <div className="form-grid">
        <Field label="Advertiser ids" name="advertiser_ids" errors={errors.advertiser_ids} hint="AR… ids, comma-separated.">
          {(p) => <input {...p} type="text" defaultValue={ids} placeholder="AR17828074650563772417" />}
        </Field>
        <Field label="Text or domain" name="text" errors={errors.text}>
          {(p) => <input {...p} type="text" defaultValue={watch?.text ?? ""} placeholder="tesla.com" />}
        </Field>
      </div>
      <div className="form-grid">
        <Field label="Region" name="region" errors={errors.region} hint="ISO letters or geo code.">
          {(p) => (
            <input {...p} type="text" list="region-options" defaultValue={watch?.region ?? "US"} />
          )}
        </Field>
        <datalist id="region-options">
          {REGIONS.filter(([c]) => c).map(([code, name]) => <option key={code} value={code}>{name}</option>)}
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
