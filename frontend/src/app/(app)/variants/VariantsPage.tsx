"use client";

import { useRef, useState } from "react";

import type { Creative } from "@/api/types";
import { CreativePicker } from "@/components/CreativePicker";
import { CreativeMedia } from "@/components/creatives";
import { Field, FormErrors, Loading, ProgressBar, StatusBadge } from "@/components/ui";
import { api, ApiError, type FieldErrors, type Page } from "@/lib/api";
import { formatDate, isFinished } from "@/lib/format";
import { useApi } from "@/lib/useApi";
import { usePoll } from "@/lib/usePoll";
import { useQueryState } from "@/lib/useQueryState";
import { newIdempotencyKey, PROVIDERS, proxiedPath, type Render, type Variant } from "@/lib/variants";

const FIELDS = ["creative", "prompt", "provider"];

function splitIds(value: string): string[] {
  return value.split(",").map((v) => v.trim()).filter(Boolean);
}

export function VariantsPage() {
  const [params, update] = useQueryState();
  const variantId = params.get("variant");
  // `?creative=<id>` from a creative's "Generate a variant"; `?creatives=a,b` from a bulk selection.
  const preselected = params.get("creatives") || params.get("creative") || "";
  const history = useApi<Page<Variant>>(`/api/ai/variants/?page_size=12&v=${variantId ?? ""}`);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const idempotencyKey = useRef(newIdempotencyKey());
  const [chosen, setChosen] = useState<string[]>(splitIds(preselected));
  const [lastPreselected, setLastPreselected] = useState(preselected);
  const [queued, setQueued] = useState<string | null>(null);
  if (preselected !== lastPreselected) {
    // Arriving from a creative's "Generate a variant" link picks that creative.
    setLastPreselected(preselected);
    setChosen(splitIds(preselected));
  }

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const ids = chosen.length ? chosen : [""];
    const prompt = String(form.get("prompt") ?? "");
    const provider = String(form.get("provider") ?? "template");
    setBusy(true);
    setErrors({});
    setFormErrors([]);
    setQueued(null);
    try {
      // One variant per chosen creative; each gets its own idempotency key, reused on a double click.
      let last: Variant | null = null;
      for (const [i, creative] of ids.entries()) {
        last = await api<Variant>("/api/ai/variants/", {
          method: "POST",
          body: { creative, prompt, provider },
          headers: { "Idempotency-Key": `${idempotencyKey.current}-${i}` },
        });
      }
      idempotencyKey.current = newIdempotencyKey(); // a double click reuses the key; a new submit does not
      if (ids.length > 1) setQueued(`${ids.length} variants queued: they appear under “Your variants”.`);
      if (last) update({ variant: last.id, creative: ids.length === 1 ? ids[0] : null, creatives: ids.length > 1 ? ids.join(",") : null });
      history.reload();
    } catch (err) {
      const e = err as ApiError;
      setErrors(e.fieldErrors ?? {});
      const known = Object.keys(e.fieldErrors ?? {}).some((k) => FIELDS.includes(k));
      setFormErrors(e.formErrors ? e.formErrors(FIELDS).filter((m) => !(known && m.startsWith("Please correct"))) : [String(err)]);
      idempotencyKey.current = newIdempotencyKey();
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <header className="page-header">
        <div>
          <h1>Variants</h1>
          <p>Pick a creative, say what should change, and get new copy and an image in the background.</p>
        </div>
      </header>
      <div className="grid grid-2">
        <section className="card" aria-labelledby="variant-form-title">
          <h2 id="variant-form-title">New variant</h2>
          <FormErrors errors={formErrors} />
          {queued ? <div className="alert alert-ok" role="status">{queued}</div> : null}
          <form className="form" onSubmit={submit} noValidate>
            <Field label="Creative" name="creative" errors={errors.creative}
              hint={chosen.length > 1 ? `${chosen.length} creatives: one variant is generated for each.` : undefined}>
              {(p) => (
                <CreativePicker id={p.id} name="creative" value={chosen} onChange={setChosen} multiple
                  describedBy={p["aria-describedby"]} invalid={Boolean(p["aria-invalid"])} />
              )}
            </Field>
            <Field label="Prompt" name="prompt" errors={errors.prompt} hint="3-1000 characters: the offer, tone or audience to aim for.">
              {(p) => <textarea {...p} placeholder="Summer sale: 0% APR for 60 months, friendly tone" />}
            </Field>
            <Field label="Provider" name="provider" errors={errors.provider} hint="Template lays the copy out in standard ad sizes without AI.">
              {(p) => (
                <select {...p} defaultValue="template">
                  {PROVIDERS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
                </select>
              )}
            </Field>
            <div><button type="submit" className="primary" disabled={busy}>{busy ? "Queuing…" : "Generate variant"}</button></div>
          </form>
        </section>
        <section className="card" aria-labelledby="history-title">
          <h2 id="history-title">Your variants</h2>
          {history.data?.results.length ? (
            <ul className="stack" style={{ listStyle: "none", padding: 0, margin: 0 }}>
              {history.data.results.map((v) => (
                <li key={v.id} className="spread small">
                  <button type="button" className="link-button" onClick={() => update({ variant: v.id })} aria-current={String(v.id) === variantId ? "true" : undefined}>
                    #{v.id} {v.prompt.slice(0, 48)}{v.prompt.length > 48 ? "…" : ""}
                  </button>
                  <span className="row" style={{ gap: ".4rem" }}>
                    <span className="badge badge-brand">{v.generated_by === "ai" ? "AI" : "Template"}</span>
                    <StatusBadge status={v.status} />
                  </span>
                </li>
              ))}
            </ul>
          ) : <p className="muted small">No variants yet.</p>}
        </section>
      </div>
      {variantId ? <VariantResult key={variantId} variantId={Number(variantId)} onFinished={history.reload} /> : null}
    </>
  );
}

function VariantResult({ variantId, onFinished }: { variantId: number; onFinished: () => void }) {
  const { data: variant, error } = usePoll<Variant>(`/api/ai/variants/${variantId}/`, {
    intervalMs: 1000,
    active: (v) => {
      const going = !isFinished(v.status);
      if (!going) onFinished();
      return going;
    },
  });
  if (!variant) return <div className="card" style={{ marginTop: "1rem" }}><Loading label={error ?? "Loading variant…"} /></div>;
  const snapshot = (variant.creative_snapshot ?? {}) as Record<string, unknown> & { details?: Record<string, string> | null };
  const original = {
    ad_creative_id: variant.creative,
    advertiser_id: String(snapshot.advertiser_id ?? ""),
    advertiser_name: String(snapshot.advertiser_name ?? ""),
    format: (snapshot.format as Creative["format"]) ?? "text",
    image_url: String(snapshot.image_url ?? ""),
    target_domain: String(snapshot.target_domain ?? ""),
    last_shown: null,
    total_days_shown: null,
    title: snapshot.details?.title,
    snippet: snapshot.details?.snippet,
    headline: snapshot.details?.headline,
  };
  const progress = variant.progress as { percent?: number };
  const image = variant.image as { url: string; width: number; height: number; bytes: number } | null;
  const imagePath = proxiedPath(image?.url);
  const renders = (variant.renders ?? []) as unknown as Render[];
  return (
    <section className="card" style={{ marginTop: "1rem" }} aria-labelledby="result-title" data-testid="variant-result" data-status={variant.status}>
      <div className="card-title">
        <h2 id="result-title">Variant #{variant.id}</h2>
        <span className="row" style={{ gap: ".4rem" }}>
          <span className="badge badge-brand">{variant.generated_by === "ai" ? "AI" : "Template (no AI)"}</span>
          <StatusBadge status={variant.status} />
        </span>
      </div>
      <p className="small muted">“{variant.prompt}” · {variant.provider_label} · {formatDate(variant.created_at, true)}</p>
      {!isFinished(variant.status) ? (
        <ProgressBar label="Generating" percent={progress.percent ?? 0} status={variant.status} detail={`${variant.stage} · ${Math.round(progress.percent ?? 0)}%`} />
      ) : null}
      {variant.status === "failed" ? (
        <div className="alert alert-error" role="alert">
          Generation failed: {variant.error || "unknown error"}{" "}
          <button type="button" className="link-button" onClick={() => api(`/api/ai/variants/${variant.id}/retry/`, { method: "POST" }).then(() => window.location.reload())}>Retry</button>
        </div>
      ) : null}
      {variant.status === "succeeded" ? (
        <>
          <div className="compare" style={{ marginTop: "1rem" }}>
            <figure>
              <figcaption>Original</figcaption>
              <div style={{ border: "1px solid var(--border)", borderRadius: 8, overflow: "hidden" }}><CreativeMedia creative={original} /></div>
            </figure>
            <figure>
              <figcaption>Variant</figcaption>
              {imagePath ? (
                // eslint-disable-next-line @next/next/no-img-element -- served by the API through the proxy
                <img className="variant-image" src={imagePath} alt={`Variant ${variant.id}: ${variant.headline}`} data-testid="variant-image" />
              ) : <p className="muted">No image.</p>}
              {variant.headline ? <p style={{ marginTop: ".5rem" }}><strong>{variant.headline}</strong></p> : null}
              {variant.text ? <p className="small">{variant.text}</p> : null}
            </figure>
          </div>
          <div className="row" style={{ marginTop: ".5rem" }}>
            {imagePath ? <a className="button primary" href={imagePath} download={`adspark-variant-${variant.id}.png`}>Download PNG</a> : null}
            {renders.map((r) => {
              const path = proxiedPath(r.url);
              return path ? <a key={r.size} className="button" href={path} download={`adspark-variant-${variant.id}-${r.size}.png`}>{r.size}</a> : null;
            })}
          </div>
          <Rating variant={variant} />
        </>
      ) : null}
    </section>
  );
}

function Rating({ variant }: { variant: Variant }) {
  const [rating, setRating] = useState<number>(variant.rating ?? 0);
  const [comment, setComment] = useState<string>(variant.rating_comment ?? "");
  const [saved, setSaved] = useState<string | null>(variant.rating ? "Rated." : null);
  const [errors, setErrors] = useState<FieldErrors>({});

  async function save(value: number) {
    setRating(value);
    setErrors({});
    try {
      await api(`/api/ai/variants/${variant.id}/rating/`, { method: "POST", body: { rating: value, comment } });
      setSaved(`Thanks: rated ${value} of 5.`);
    } catch (err) {
      setErrors((err as ApiError).fieldErrors ?? {});
      setSaved(null);
    }
  }

  return (
    <div className="stack" style={{ marginTop: "1rem" }}>
      <h3>How good is it?</h3>
      <div className="stars" role="radiogroup" aria-label="Rating">
        {[1, 2, 3, 4, 5].map((n) => (
          <button key={n} type="button" role="radio" aria-checked={n === rating} className={n <= rating ? "on" : undefined} aria-label={`${n} star${n > 1 ? "s" : ""}`} onClick={() => save(n)}>
            ★
          </button>
        ))}
      </div>
      <Field label="Comment (optional)" name="comment" errors={errors.comment}>
        {(p) => <input {...p} type="text" value={comment} onChange={(e) => setComment(e.target.value)} onBlur={() => rating && save(rating)} />}
      </Field>
      {errors.rating ? <p className="field-error">{errors.rating.join(" ")}</p> : null}
      {saved ? <p className="small" role="status">{saved}</p> : null}
    </div>
  );
}
