/** `POST /auth/logout`: forgets the token cookie. */
import { type NextRequest, NextResponse } from "next/server";

import { isSameOriginWrite, TOKEN_COOKIE } from "@/lib/server";

export async function POST(request: NextRequest) {
  if (!isSameOriginWrite(request)) return NextResponse.json({ detail: "Cross-site request refused." }, { status: 403 });
  const response = NextResponse.json({ ok: true });
  response.cookies.delete(TOKEN_COOKIE);
  return response;
}
