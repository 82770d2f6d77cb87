import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { describeRun, FetchProgress, type FetchRunView, progressOf, runCounts } from "./FetchProgress";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function run(overrides: Partial<FetchRunView> = {}): FetchRunView {
  return {
    id: 7, status: "running", task_id: "t", status_url: "", params: { advertiser_ids: ["AR17828074650563772417"], region: "2840" },
    progress: { done: 0, total: 5, percent: 0 }, pages_fetched: 0, creatives_seen: 0, creatives_new: 0, creatives_updated: 0,
    searches_used: 0, total_results: null, stop_reason: "", retries: 0, error: "", created_at: "2026-01-01T10:00:00Z",
    started_at: null, finished_at: null, ...overrides,
  } as FetchRunView;
}

describe("progressOf", () => {
  it("says page N of M only when the number of pages is known", () => {
    expect(progressOf(run({ progress_percent: 40, progress: { done: 2, total: 5, percent: 40 } }))).toEqual({ percent: 40, detail: "page 3 of 5 · 40%" });
    expect(progressOf(run({ progress_percent: null, progress: { done: 2, total: 0 } }))).toEqual({ percent: null, detail: "2 pages fetched" });
  });

  it("never shows a failed run as complete", () => {
    // What issue 13 saw: "0 of 5 pages · 100%" with a full red bar.
    expect(progressOf(run({ status: "failed", progress: { done: 0, total: 5, percent: 100 } }))).toEqual({ percent: null, detail: "0 pages fetched" });
    expect(progressOf(run({ status: "failed", progress_percent: 20, progress: { done: 1, total: 5, percent: 20 } })).percent).toBe(20);
  });
});

describe("describeRun", () => {
  it("uses the API's summary, else advertiser names and the region's name", () => {
    expect(describeRun(run({ summary: "Tesla, Inc. · United States · 3 pages" }))).toBe("Tesla, Inc. · United States · 3 pages");
    expect(describeRun(run({ advertiser_names: ["Tesla, Inc."], region_name: "United States" }))).toBe("Tesla, Inc. · United States");
    expect(describeRun(run({ params: { text: "running shoes", region: "2124", creative_format: "image" } }), [{ code: "2124", name: "Canada", letters: "CA" }]))
      .toBe("“running shoes” · Canada · image");
    expect(runCounts(run({ creatives_seen: 12, creatives_new: 3 }))).toBe("12 creatives (3 new)");
  });
});

function stubRuns(current: () => FetchRunView, cancelled?: FetchRunView) {
  const fetchMock = vi.fn((url: string, init?: RequestInit) => {
    if (url.includes("/regions/")) return Promise.resolve(new Response("[]", { status: 200 }));
    if (url.endsWith("/cancel/") && init?.method === "POST") return Promise.resolve(new Response(JSON.stringify(cancelled), { status: 200 }));
    return Promise.resolve(new Response(JSON.stringify(current()), { status: 200 }));
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

it("counts down to the retry, shows the user message and cancels", async () => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  const retryAt = new Date(Date.now() + 39_000).toISOString();
  const waiting = run({ retry_at: retryAt, user_message: "SerpApi is busy; AdSpark tries again shortly.", error: "Internal server error." });
  const fetchMock = stubRuns(() => waiting, run({ status: "cancelled", finished_at: new Date().toISOString() }));
  render(<FetchProgress runId={7} />);

  const retry = await screen.findByTestId("fetch-retry");
  expect(retry).toHaveTextContent(/Retrying in (39|38) s — SerpApi is busy/);
  await act(async () => {
    await vi.advanceTimersByTimeAsync(5_000);
  });
  expect(retry).toHaveTextContent(/Retrying in (34|33) s/);
  expect(screen.queryByText(/Internal server error/)).not.toBeInTheDocument();

  vi.useRealTimers();
  await userEvent.click(screen.getByRole("button", { name: "Cancel fetch" }));
  expect(await screen.findByText("Cancelled.")).toBeInTheDocument();
  expect(fetchMock.mock.calls.some(([url, init]) => String(url).endsWith("/fetch-runs/7/cancel/") && init?.method === "POST")).toBe(true);
  expect(screen.queryByRole("button", { name: "Cancel fetch" })).not.toBeInTheDocument();
});

it("explains a failure in marketer words, not SerpApi's", async () => {
  stubRuns(() => run({
    status: "failed", error: "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key",
    user_message: "SerpApi rejected the API key — an operator must set SERPAPI_API_KEY.", progress: { done: 0, total: 5, percent: 100 }, progress_percent: null,
  }));
  render(<FetchProgress runId={7} />);
  expect(await screen.findByText(/SerpApi rejected the API key/)).toBeInTheDocument();
  expect(screen.queryByText(/should be here/)).not.toBeInTheDocument();
  expect(screen.getByRole("progressbar")).not.toHaveAttribute("aria-valuenow");
});

it("says SerpApi found nothing instead of offering to browse zero creatives", async () => {
  stubRuns(() => run({ status: "succeeded", user_message: "SerpApi found no ads for advertiser AR17828074650563772417 in United States." }));
  render(<FetchProgress runId={7} />);
  expect(await screen.findByTestId("fetch-empty")).toHaveTextContent("SerpApi found no ads for advertiser");
  expect(screen.queryByRole("link", { name: /Browse them/ })).not.toBeInTheDocument();
});
