/** `POST /auth/logout`: revokes the API token in Django (`/api/auth/logout/`) and forgets the cookie. */
import { type NextRequest, NextResponse } from "next/server";

import { backendUrl, forwardedFor, isSameOriginWrite, TOKEN_COOKIE } from "@/lib/server";

export async function POST(request: NextRequest) {
  if (!isSameOriginWrite(request)) return NextResponse.json({ detail: "Cross-site request refused." }, { status: 403 });
  const token = request.cookies.get(TOKEN_COOKIE)?.value;
  if (token) {
    // Best effort: an unreachable API or an already expired token still signs the browser out.
    await fetch(`${backendUrl()}/api/auth/logout/`, {
      method: "POST",
      headers: { ...forwardedFor(request), authorization: `Token ${token}` },
      cache: "no-store",
    }).catch(() => undefined);
  }
  const response = NextResponse.json({ ok: true });
  response.cookies.delete(TOKEN_COOKIE);
  return response;
}
