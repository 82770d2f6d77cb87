/**
 * The browser's API client. Every call goes to this origin (`/api/...`, proxied to Django by
 * `src/app/api/[...path]/route.ts`); the token travels in an httpOnly cookie. Errors become an
 * {@link ApiError} carrying DRF's field errors, so forms can show each next to its field.
 */

export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: FieldErrors;

  constructor(status: number, message: string, fieldErrors: FieldErrors = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
  }

  /** Errors that belong to no field shown on the form (`detail`, `non_field_errors`, …). */
  formErrors(knownFields: string[] = []): string[] {
    const messages: string[] = [];
    for (const [field, errors] of Object.entries(this.fieldErrors)) {
      if (!knownFields.includes(field)) messages.push(...errors);
    }
    return messages.length ? messages : [this.message];
  }
}

/** Turn a DRF error body (`{field: [..]}`, `{detail: ".."}`, nested dicts) into field → messages. */
export function parseErrorBody(body: unknown): FieldErrors {
  const errors: FieldErrors = {};
  if (!body || typeof body !== "object") return errors;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(value)) errors[key] = value.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
    else if (typeof value === "string") errors[key] = [value];
    else if (value && typeof value === "object") {
      for (const [inner, messages] of Object.entries(parseErrorBody(value))) errors[`${key}.${inner}`] = messages;
    }
  }
  return errors;
}

function summary(status: number, errors: FieldErrors): string {
  if (errors.detail?.length) return errors.detail[0];
  if (errors.non_field_errors?.length) return errors.non_field_errors[0];
  if (status === 429) return "Too many requests: wait a moment and try again.";
  if (status >= 500) return "The server had a problem. Try again in a moment.";
  if (Object.keys(errors).length) return "Please correct the highlighted fields.";
  return `Request failed (${status}).`;
}

export type RequestOptions = {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
};

/** Call the API; resolves with the parsed JSON (or null for 204), rejects with ApiError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", "x-adspark-client": "web", ...options.headers };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
      cache: "no-store",
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "Network error: the server is not reachable.");
  }
  if (response.status === 401 && typeof window !== "undefined" && !path.startsWith("/auth/")) {
    const next = encodeURIComponent(window.location.pathname + window.location.search);
    // A full page load on purpose: it drops every client-side cache of the old session.
    // eslint-disable-next-line @next/next/no-location-assign-relative-destination
    window.location.assign(`/login?next=${next}`);
  }
  if (response.status === 204) return null as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text.slice(0, 200) };
  }
  if (!response.ok) {
    const errors = parseErrorBody(data);
    throw new ApiError(response.status, summary(response.status, errors), errors);
  }
  return data as T;
}

/** Build `path?query` from a dict, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | boolean | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** A DRF page (`core.pagination.PageNumberPagination`). */
export type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] };
