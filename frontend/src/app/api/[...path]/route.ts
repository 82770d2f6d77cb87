/**
 * `/api/*` → Django `/api/*`: the browser only ever talks to this origin. The DRF token is read
 * from the httpOnly cookie and sent as `Authorization: Token …`; bodies and answers pass
 * through unchanged (JSON, images for variant downloads), with Django's status codes.
 */
import { type NextRequest, NextResponse } from "next/server";

import { backendUrl, FORWARDED_CLIENT_HEADERS, isSameOriginWrite, TOKEN_COOKIE } from "@/lib/server";

export const dynamic = "force-dynamic";

const FORWARDED_REQUEST_HEADERS = ["accept", "content-type", "idempotency-key", "accept-language", ...FORWARDED_CLIENT_HEADERS];
const FORWARDED_RESPONSE_HEADERS = ["content-type", "content-disposition", "cache-control", "retry-after", "content-length"];

async function proxy(request: NextRequest, context: { params: Promise<{ path: string[] }> }) {
  if (!isSameOriginWrite(request)) {
    return NextResponse.json({ detail: "Cross-site request refused." }, { status: 403 });
  }
  const { path } = await context.params;
  const target = `${backendUrl()}/api/${path.map(encodeURIComponent).join("/")}/${request.nextUrl.search}`;
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  const token = request.cookies.get(TOKEN_COOKIE)?.value;
  if (token) headers.set("authorization", `Token ${token}`);
  const hasBody = !["GET", "HEAD"].includes(request.method);
  const body = hasBody ? await request.arrayBuffer() : undefined;
  const send = () => fetch(target, { method: request.method, headers, body, redirect: "manual", cache: "no-store" });
  let upstream: Response;
  try {
    upstream = await send();
  } catch {
    // A kept-alive connection the backend has just closed fails at once ("other side closed");
    // a read is safe to send again on a fresh connection, a write is not.
    if (hasBody) return NextResponse.json({ detail: "The AdSpark API is not reachable." }, { status: 502 });
    try {
      upstream = await send();
    } catch {
      return NextResponse.json({ detail: "The AdSpark API is not reachable." }, { status: 502 });
    }
  }
  const responseHeaders = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) responseHeaders.set(name, value);
  }
  const response = new NextResponse(upstream.status === 204 ? null : upstream.body, {
    status: upstream.status,
    headers: responseHeaders,
  });
  if (upstream.status === 401 && token) response.cookies.delete(TOKEN_COOKIE); // token revoked
  return response;
}

export { proxy as DELETE, proxy as GET, proxy as PATCH, proxy as POST, proxy as PUT };
