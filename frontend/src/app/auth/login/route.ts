/**
 * `POST /auth/login` `{username, password}`: asks Django for an API token and keeps it in an
 * httpOnly cookie that lasts as long as the token (its `expiry`). Answers `{ok: true}` or
 * Django's field errors with its status; a 429 keeps Django's `Retry-After`.
 */
import { type NextRequest, NextResponse } from "next/server";

import { backendUrl, cookieOptions, forwardedFor, isSameOriginWrite, TOKEN_COOKIE } from "@/lib/server";

export async function POST(request: NextRequest) {
  if (!isSameOriginWrite(request)) return NextResponse.json({ detail: "Cross-site request refused." }, { status: 403 });
  const body = await request.json().catch(() => ({}));
  let upstream: Response;
  try {
    upstream = await fetch(`${backendUrl()}/api/auth/token/`, {
      method: "POST",
      headers: forwardedFor(request),
      body: JSON.stringify({ username: body.username ?? "", password: body.password ?? "" }),
      cache: "no-store",
    });
  } catch {
    return NextResponse.json({ detail: "The AdSpark API is not reachable." }, { status: 502 });
  }
  const data = await upstream.json().catch(() => ({}));
  if (!upstream.ok || !data.token) {
    const retryAfter = upstream.headers.get("retry-after");
    return NextResponse.json(data, {
      status: upstream.status === 200 ? 502 : upstream.status,
      headers: retryAfter ? { "retry-after": retryAfter } : undefined,
    });
  }
  const response = NextResponse.json({ ok: true });
  response.cookies.set(TOKEN_COOKIE, data.token, cookieOptions(request, data.expiry));
  return response;
}
