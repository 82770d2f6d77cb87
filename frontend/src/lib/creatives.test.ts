import { describe, expect, it } from "vitest";

import { creativesExportUrl, imageCandidates, mediaPath, regionName } from "./creatives";
import { nextGridIndex } from "./gridKeys";

const REGIONS = [
  { code: "2826", name: "United Kingdom", letters: "GB" },
  { code: "2840", name: "United States", letters: "US" },
];

describe("imageCandidates", () => {
  const live = "https://tpc.googlesyndication.com/archive/simgad/1";
  const thumb = "http://127.0.0.1:8000/media/archive/CR1/thumb.webp";
  const full = "http://127.0.0.1:8000/media/archive/CR1/full.png";

  it("puts the archived thumbnail first, then the full image, then the live URL", () => {
    expect(imageCandidates({ archived_thumbnail_url: thumb, archived_image_url: full, image_url: live })).toEqual([
      "/media/archive/CR1/thumb.webp",
      "/media/archive/CR1/full.png",
      live,
    ]);
  });

  it("prefers the full-size archive for the details panel", () => {
    expect(imageCandidates({ archived_thumbnail_url: thumb, archived_image_url: full, image_url: live }, "full")[0]).toBe(
      "/media/archive/CR1/full.png",
    );
  });

  it("falls back to the live URL, and to nothing (the placeholder)", () => {
    expect(imageCandidates({ archived_thumbnail_url: null, archived_image_url: null, image_url: live })).toEqual([live]);
    expect(imageCandidates({ image_url: "" })).toEqual([]);
  });

  it("keeps non-media URLs as they are", () => {
    expect(mediaPath("https://cdn.example.com/a.png")).toBe("https://cdn.example.com/a.png");
    expect(mediaPath(null)).toBeNull();
  });
});

describe("regionName", () => {
  it("names geo codes and ISO letters, and leaves unknown values", () => {
    expect(regionName("2840", REGIONS)).toBe("United States");
    expect(regionName("gb", REGIONS)).toBe("United Kingdom");
    expect(regionName("9999", REGIONS)).toBe("9999");
    expect(regionName("2840", null)).toBe("2840");
  });
});

describe("creativesExportUrl", () => {
  it("carries the filters and the selection through the proxy", () => {
    expect(creativesExportUrl("csv", { creative_format: "text", region: "US" })).toBe(
      "/api/adspark/creatives/export/?creative_format=text&region=US&export_format=csv",
    );
    expect(creativesExportUrl("json", {}, ["CR1", "CR2"])).toBe("/api/adspark/creatives/export/?export_format=json&ids=CR1%2CCR2");
  });
});

describe("nextGridIndex", () => {
  it("moves by one across and by a row up and down, clamped to the ends", () => {
    expect(nextGridIndex("ArrowRight", 0, 10, 4)).toBe(1);
    expect(nextGridIndex("ArrowLeft", 0, 10, 4)).toBe(0);
    expect(nextGridIndex("ArrowDown", 1, 10, 4)).toBe(5);
    expect(nextGridIndex("ArrowDown", 7, 10, 4)).toBe(7);
    expect(nextGridIndex("ArrowUp", 5, 10, 4)).toBe(1);
    expect(nextGridIndex("End", 2, 10, 4)).toBe(9);
    expect(nextGridIndex("Home", 9, 10, 4)).toBe(0);
    expect(nextGridIndex("a", 2, 10, 4)).toBeNull();
  });
});

describe("rangeIds (shift-click selection)", () => {
  it("selects from the last clicked card to this one, either way", async () => {
    const { rangeIds } = await import("@/app/(app)/creatives/CreativesPage");
    const ids = ["a", "b", "c", "d"];
    expect(rangeIds(ids, "b", "d")).toEqual(["b", "c", "d"]);
    expect(rangeIds(ids, "d", "a")).toEqual(["a", "b", "c", "d"]);
    expect(rangeIds(ids, null, "c")).toEqual(["c"]);
  });
});
