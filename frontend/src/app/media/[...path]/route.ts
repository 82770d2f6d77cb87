/**
 * `/media/*` → Django `/media/*`: archived creative images (thumbnails, full-size PNGs) load from
 * this origin, like the API. Read-only; no token is sent (media files are public by URL).
 */
import { type NextRequest, NextResponse } from "next/server";

import { backendUrl } from "@/lib/server";

export const dynamic = "force-dynamic";

const FORWARDED_RESPONSE_HEADERS = ["content-type", "content-length", "cache-control", "etag", "last-modified"];

export async function GET(request: NextRequest, context: { params: Promise<{ path: string[] }> }) {
  const { path } = await context.params;
  const target = `${backendUrl()}/media/${path.map(encodeURIComponent).join("/")}`;
  let upstream: Response;
  try {
    upstream = await fetch(target, { headers: { accept: request.headers.get("accept") ?? "*/*" }, redirect: "manual", cache: "no-store" });
  } catch {
    return new NextResponse(null, { status: 502 });
  }
  const headers = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new NextResponse(upstream.ok ? upstream.body : null, { status: upstream.status, headers });
}
