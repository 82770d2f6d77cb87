import { afterEach, describe, expect, it, vi } from "vitest";

import { api, ApiError, parseErrorBody, withQuery } from "./api";

afterEach(() => vi.unstubAllGlobals());

function stubFetch(status: number, body: unknown) {
  const fetchMock = vi.fn().mockResolvedValue(new Response(body === null ? null : JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("parseErrorBody", () => {
  it("keeps DRF field errors and flattens nested ones", () => {
    expect(parseErrorBody({ region: ["Unknown region"], detail: "Nope", query: { text: ["Too long"] } })).toEqual({
      region: ["Unknown region"],
      detail: ["Nope"],
      "query.text": ["Too long"],
    });
  });
});

describe("api", () => {
  it("sends JSON with the app's CSRF header and returns the body", async () => {
    const fetchMock = stubFetch(202, { id: 7 });
    await expect(api("/api/adspark/fetch/", { method: "POST", body: { text: "tesla" } })).resolves.toEqual({ id: 7 });
    const [, init] = fetchMock.mock.calls[0];
    expect(init.headers["x-adspark-client"]).toBe("web");
    expect(init.headers["content-type"]).toBe("application/json");
    expect(init.body).toBe('{"text":"tesla"}');
  });

  it("rejects with field errors on 400", async () => {
    stubFetch(400, { interval_minutes: ["Ensure this value is greater than or equal to 15."] });
    const error = (await api("/api/adspark/watches/", { method: "POST", body: {} }).catch((e) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(400);
    expect(error.fieldErrors.interval_minutes[0]).toMatch(/15/);
    expect(error.formErrors(["interval_minutes"])).toEqual(["Please correct the highlighted fields."]);
  });

  it("uses DRF's detail as the message", async () => {
    stubFetch(404, { detail: "No Watch matches the given query." });
    await expect(api("/api/adspark/watches/9/")).rejects.toThrow("No Watch matches the given query.");
  });

  it("returns null for 204", async () => {
    stubFetch(204, null);
    await expect(api("/api/search/history/clear/", { method: "POST" })).resolves.toBeNull();
  });
});

describe("withQuery", () => {
  it("leaves out empty values", () => {
    expect(withQuery("/api/search/", { q: "tesla", page: 2, region: "", platform: undefined })).toBe("/api/search/?q=tesla&page=2");
    expect(withQuery("/api/x/", {})).toBe("/api/x/");
  });
});
