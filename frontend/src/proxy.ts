/**
 * Runs before every page request: passes the requested path (with its query) to the server
 * components as the `x-adspark-path` request header, so the app layout can send a signed-out
 * visitor to `/login?next=<that path>` and sign-in can bring them back (issue 13 §3.2).
 * Route handlers, Next's assets and files in `public/` are left alone.
 */
import { type NextRequest, NextResponse } from "next/server";

export const PATH_HEADER = "x-adspark-path";

export function proxy(request: NextRequest) {
  const headers = new Headers(request.headers);
  headers.set(PATH_HEADER, `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  matcher: ["/((?!api/|auth/|media/|_next/|favicon|.*\\.(?:svg|png|ico|webp|txt)$).*)"],
};
