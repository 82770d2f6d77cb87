/**
 * Form errors in the user's words, all at once (issue 13 §3.12): the browser's own checks and the
 * API's 400 field errors are merged into one set, API field keys ("advertiser_ids") are replaced by
 * the form's labels ("advertiser IDs") wherever a message names them, and errors that belong to no
 * field on the form are listed above it.
 */
import { ApiError, type FieldErrors } from "./api";

/** Field key → the words a marketer knows, as used inside sentences ("advertiser IDs"). */
export type FieldLabels = Record<string, string>;

/** Words for the query fields every form shares (fetch, watch, search). */
export const QUERY_LABELS: FieldLabels = {
  advertiser_ids: "advertiser IDs",
  advertiser_id: "advertiser ID",
  text: "text or domain",
  region: "region",
  platform: "platform",
  creative_format: "format",
  start_date: "start date",
  end_date: "end date",
  max_pages: "max pages",
  political_ads: "political ads",
  interval_minutes: "interval",
  webhook_url: "webhook URL",
  notify_email: "e-mail alerts",
  alert_on_first_run: "alert on the first run",
  is_active: "active",
  q: "search",
  username: "username",
  email: "e-mail",
  password: "password",
  name: "name",
};

const GENERIC = "Please correct the highlighted fields.";

/** Replace every API field key named in `message` (as a whole word, `quoted` or not) by its label. */
export function inUserWords(message: string, labels: FieldLabels = QUERY_LABELS): string {
  let out = message;
  // Longest keys first, so "advertiser_ids" wins over "advertiser_id".
  for (const key of Object.keys(labels).sort((a, b) => b.length - a.length)) {
    if (!key.includes("_")) continue; // plain words ("region") already read as words
    out = out.replace(new RegExp(`[\`'"]?\\b${key}\\b[\`'"]?`, "g"), labels[key]);
  }
  return out;
}

function capitalise(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** Several error sets (field → messages) as one, in user words: for each field the first set
 * that has messages for it wins (pass the browser's own checks first: their words are the
 * form's), so no field shows the same problem twice in two phrasings. */
export function mergeErrors(sets: FieldErrors[], labels: FieldLabels = QUERY_LABELS): FieldErrors {
  const merged: FieldErrors = {};
  for (const set of sets) {
    for (const [field, messages] of Object.entries(set)) {
      if (merged[field]?.length || !messages.length) continue;
      merged[field] = [...new Set(messages.map((m) => inUserWords(m, labels)))];
    }
  }
  return merged;
}

/** Messages that belong to no field in `formFields`: `detail`/`non_field_errors` as they are,
 * any other field as "Label: message". Never the generic "correct the highlighted fields" line
 * when a field on the form is highlighted. */
export function formLevelErrors(errors: FieldErrors, formFields: string[], labels: FieldLabels = QUERY_LABELS): string[] {
  const messages: string[] = [];
  for (const [field, list] of Object.entries(errors)) {
    if (formFields.includes(field)) continue;
    const prefix = field === "detail" || field === "non_field_errors" || !labels[field] ? "" : `${capitalise(labels[field])}: `;
    for (const message of list) if (message !== GENERIC) messages.push(`${prefix}${message}`);
  }
  return messages;
}

/** Field errors of a failed request (`{}` for errors without any, such as a network error). */
export function errorsOf(err: unknown): FieldErrors {
  if (err instanceof ApiError) {
    const errors = { ...err.fieldErrors };
    if (!Object.keys(errors).length) errors.detail = [err.message];
    return errors;
  }
  return { detail: [err instanceof Error ? err.message : String(err)] };
}
