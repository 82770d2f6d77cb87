/**
 * `POST /auth/register` `{username, email, password}`: creates the account in Django and signs
 * the new user in (token in the httpOnly cookie). Django's field errors pass through (400).
 */
import { type NextRequest, NextResponse } from "next/server";

import { backendUrl, cookieOptions, forwardedFor, isSameOriginWrite, TOKEN_COOKIE } from "@/lib/server";

export async function POST(request: NextRequest) {
  if (!isSameOriginWrite(request)) return NextResponse.json({ detail: "Cross-site request refused." }, { status: 403 });
  const body = await request.text();
  let upstream: Response;
  try {
    upstream = await fetch(`${backendUrl()}/api/auth/register/`, {
      method: "POST",
      headers: forwardedFor(request),
      body,
      cache: "no-store",
    });
  } catch {
    return NextResponse.json({ detail: "The AdSpark API is not reachable." }, { status: 502 });
  }
  const data = await upstream.json().catch(() => ({}));
  if (upstream.status !== 201 || !data.token) return NextResponse.json(data, { status: upstream.status });
  const response = NextResponse.json({ ok: true, user: data.user }, { status: 201 });
  response.cookies.set(TOKEN_COOKIE, data.token, cookieOptions(request, data.expiry));
  return response;
}
