/**
 * Server-only helpers shared by the route handlers: where Django is, the auth cookie, and the
 * same-origin check that protects cookie-authenticated writes from cross-site requests.
 */
import type { NextRequest } from "next/server";

/** Django's base URL (env BACKEND_URL), without a trailing slash. */
export function backendUrl(): string {
  return (process.env.BACKEND_URL || "http://127.0.0.1:8000").replace(/\/+$/, "");
}

/** The httpOnly cookie that holds the API token; JavaScript in the page never sees it. */
export const TOKEN_COOKIE = "adspark_token";
/** Seconds the sign-in lasts in the browser when Django gives no `expiry` (tokens that never expire). */
export const TOKEN_MAX_AGE = 7 * 24 * 3600;
/** Header every state-changing request from the app carries (see `isSameOriginWrite`). */
export const CLIENT_HEADER = "x-adspark-client";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF defence for cookie-authenticated writes: a cross-site page can make the browser send
 * our cookie, but cannot add a custom header without a CORS preflight (which we never grant),
 * and its Origin differs from ours. Both are checked; safe methods pass.
 */
export function isSameOriginWrite(request: NextRequest): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  if (request.headers.get(CLIENT_HEADER) !== "web") return false;
  const origin = request.headers.get("origin");
  if (!origin) return true;
  const host = request.headers.get("x-forwarded-host") || request.headers.get("host");
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * Cookie options for the token; `expiry` (ISO-8601, from Django) ends the cookie with the token,
 * so the browser never keeps a token Django would refuse.
 */
export function cookieOptions(request: NextRequest, expiry?: string | null) {
  const secure =
    process.env.COOKIE_SECURE === "true" ||
    (process.env.COOKIE_SECURE !== "false" && request.headers.get("x-forwarded-proto") === "https");
  const left = expiry ? Math.floor((Date.parse(expiry) - Date.now()) / 1000) : NaN;
  const maxAge = Number.isFinite(left) && left > 0 ? left : TOKEN_MAX_AGE;
  return { httpOnly: true, sameSite: "lax" as const, secure, path: "/", maxAge };
}

/** Headers the reverse proxy sets about the browser's request; passed on to Django. */
export const FORWARDED_CLIENT_HEADERS = ["x-forwarded-for", "x-forwarded-proto"];

/**
 * Headers for a sign-in request to Django: JSON, plus what the proxy in front of this server
 * said about the browser's request — `X-Forwarded-For` (so Django's per-IP sign-in throttle
 * counts each client apart when `ADSPARK_NUM_PROXIES` trusts it) and `X-Forwarded-Proto`
 * (so production Django, which redirects plain HTTP to HTTPS, knows the browser used HTTPS).
 */
export function forwardedFor(request: NextRequest): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  for (const name of FORWARDED_CLIENT_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers[name] = value;
  }
  return headers;
}
