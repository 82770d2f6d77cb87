import type { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";

import { cookieOptions, forwardedFor, TOKEN_MAX_AGE } from "./server";

function request(headers: Record<string, string>): NextRequest {
  return { headers: new Headers(headers) } as unknown as NextRequest;
}

describe("cookieOptions", () => {
  it("ends the sign-in cookie with the token's expiry", () => {
    const inOneHour = new Date(Date.now() + 3600 * 1000).toISOString();
    const { maxAge } = cookieOptions(request({}), inOneHour);
    expect(maxAge).toBeGreaterThan(3590);
    expect(maxAge).toBeLessThanOrEqual(3600);
  });

  it("falls back to a week for tokens without an expiry (or a bad one)", () => {
    expect(cookieOptions(request({}), null).maxAge).toBe(TOKEN_MAX_AGE);
    expect(cookieOptions(request({}), "not a date").maxAge).toBe(TOKEN_MAX_AGE);
    expect(cookieOptions(request({}), "2000-01-01T00:00:00Z").maxAge).toBe(TOKEN_MAX_AGE);
  });
});

describe("forwardedFor", () => {
  it("passes on what the proxy said about the browser, and nothing else", () => {
    const headers = forwardedFor(
      request({ "x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https", cookie: "adspark_token=secret" }),
    );
    expect(headers).toEqual({
      "content-type": "application/json",
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-proto": "https",
    });
  });

  it("sends JSON only when there is no proxy", () => {
    expect(forwardedFor(request({}))).toEqual({ "content-type": "application/json" });
  });
});
