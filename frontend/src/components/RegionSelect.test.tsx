import { describe, expect, it } from "vitest";

import { filterRegions } from "./RegionSelect";

const REGIONS = [
  { code: "2124", name: "Canada", letters: "CA" },
  { code: "2826", name: "United Kingdom", letters: "GB" },
  { code: "2840", name: "United States", letters: "US" },
];

describe("filterRegions", () => {
  it("matches names anywhere, ISO letters and geo codes exactly, and keeps the current value", () => {
    expect(filterRegions(REGIONS, "united").map((r) => r.letters)).toEqual(["GB", "US"]);
    expect(filterRegions(REGIONS, "us").map((r) => r.letters)).toEqual(["US"]);
    expect(filterRegions(REGIONS, "2124").map((r) => r.letters)).toEqual(["CA"]);
    expect(filterRegions(REGIONS, "kingdom", "CA").map((r) => r.letters)).toEqual(["CA", "GB"]);
    expect(filterRegions(REGIONS, "  ")).toHaveLength(3);
  });
});
