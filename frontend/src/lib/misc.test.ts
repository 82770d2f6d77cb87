import { describe, expect, it } from "vitest";

import { safeNext } from "@/components/AuthForm";
import { isCurrent } from "@/components/Shell";

import type { FetchRun, Watch } from "@/api/types";

import { timeAgo } from "./format";
import { mergeJobs } from "./jobs";
import { proxiedPath } from "./variants";

describe("safeNext", () => {
  it("only follows paths on this site", () => {
    expect(safeNext("?next=/watches/3")).toBe("/watches/3");
    expect(safeNext("?next=https://evil.example")).toBe("/");
    expect(safeNext("?next=//evil.example")).toBe("/");
    expect(safeNext("")).toBe("/");
    expect(safeNext("?next=/\\evil.example")).toBe("/");
    expect(safeNext("?next=%2Fwatches%2F3%3Frun%3D4")).toBe("/watches/3?run=4");
    expect(safeNext("?next=/login")).toBe("/");
    expect(safeNext("?next=javascript:alert(1)")).toBe("/");
  });
});

describe("isCurrent", () => {
  it("marks a section and its sub-pages", () => {
    expect(isCurrent("/watches/4", "/watches")).toBe(true);
    expect(isCurrent("/watches", "/")).toBe(false);
    expect(isCurrent("/", "/")).toBe(true);
  });
});

describe("proxiedPath", () => {
  it("turns the API's absolute image URLs into same-origin paths", () => {
    expect(proxiedPath("http://backend:8000/api/ai/variants/3/image/?size=728x90")).toBe("/api/ai/variants/3/image/?size=728x90");
    expect(proxiedPath("https://elsewhere.example/x.png")).toBeNull();
    expect(proxiedPath(null)).toBeNull();
  });
});

describe("timeAgo", () => {
  it("speaks plainly", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(timeAgo("2026-01-01T11:59:50Z", now)).toBe("just now");
    expect(timeAgo("2026-01-01T11:15:00Z", now)).toBe("45 min ago");
    expect(timeAgo("2026-01-01T11:00:00Z", now)).toBe("1 h ago");
    expect(timeAgo("2025-12-25T12:00:00Z", now)).toBe("7 days ago");
  });
});

describe("mergeJobs", () => {
  it("lists every kind of job newest first with its queue", () => {
    const fetchRun = { id: 1, status: "succeeded", task_id: "t-1", params: { advertiser_ids: ["AR1"], region: "2840" }, progress: { percent: 100 }, created_at: "2026-01-01T10:00:00Z" } as unknown as FetchRun;
    const watch = { id: 2, name: "Tesla", last_run: { id: 5, status: "running", task_id: "t-5", created_at: "2026-01-01T11:00:00Z" } } as unknown as Watch;
    const variant = { id: 9, status: "pending", task_id: "t-9", prompt: "p", provider: "template", creative: "CR1", created_at: "2026-01-01T09:00:00Z" };
    const rows = mergeJobs([fetchRun], [watch], [variant]);
    expect(rows.map((r) => [r.kind, r.queue])).toEqual([
      ["watch run", "data_fetch"],
      ["fetch", "data_fetch"],
      ["variant", "ai_generation"],
    ]);
    expect(rows[1].label).toBe("Fetch #1: AR1 · 2840");
    const regions = [{ code: "2840", name: "United States", letters: "US" }];
    expect(mergeJobs([fetchRun], [], [], 20, regions)[0].label).toBe("Fetch #1: AR1 · United States");
    const summarised = { ...fetchRun, summary: "Tesla, Inc. · United States · 2 pages" } as FetchRun;
    expect(mergeJobs([summarised], [], [])[0].label).toBe("Fetch #1: Tesla, Inc. · United States · 2 pages");
  });
});
