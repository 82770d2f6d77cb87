/** The `?next=` round trip of sign-in: only paths on this site are ever followed (no open redirect). */

/**
 * The path to go to after signing in: `next` when it is a path on this site (`/watches/3?run=4`),
 * else the dashboard. Refuses absolute URLs, protocol-relative `//host` and `/\host` (browsers
 * read a backslash as a slash), and control characters.
 */
export function safePath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (/[\u0000-\u001f\u007f]/.test(next)) return "/";
  try {
    const base = "http://adspark.invalid";
    const url = new URL(next, base);
    if (url.origin !== base) return "/";
    if (url.pathname === "/login" || url.pathname === "/register") return "/";
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return "/";
  }
}

/** `/login`, with `?next=` for any page other than the dashboard. */
export function loginPath(requested: string | null | undefined): string {
  const next = safePath(requested);
  return next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`;
}
