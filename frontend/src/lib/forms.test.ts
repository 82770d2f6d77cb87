import { describe, expect, it } from "vitest";

import { checkAuthForm } from "@/components/AuthForm";

import { ApiError } from "./api";
import { errorsOf, formLevelErrors, inUserWords, mergeErrors } from "./formErrors";
import { loginPath, safePath } from "./nextPath";
import { findRegion, regionLabel, regionOptions, regionValue } from "./regionNames";

const REGIONS = [
  { code: "2124", name: "Canada", letters: "CA" },
  { code: "2840", name: "United States", letters: "US" },
  { code: "20277", name: "Canary Islands", letters: "" },
];

describe("inUserWords", () => {
  it("names fields the way the form does", () => {
    expect(inUserWords("Give at least one of advertiser_ids or text.")).toBe("Give at least one of advertiser IDs or text.");
    expect(inUserWords("start_date must be before end_date")).toBe("start date must be before end date");
    expect(inUserWords("'advertiser_id' is wrong")).toBe("advertiser ID is wrong");
    expect(inUserWords("The text is fine.")).toBe("The text is fine.");
  });
});

describe("mergeErrors", () => {
  it("keeps the browser's words for a field and adds what only the API knew", () => {
    const merged = mergeErrors([
      { interval_minutes: ["Run it every 15 minutes or more."] },
      { interval_minutes: ["Ensure this value is greater than or equal to 15."], username: ["This username is taken."] },
    ]);
    expect(merged).toEqual({ interval_minutes: ["Run it every 15 minutes or more."], username: ["This username is taken."] });
  });
});

describe("formLevelErrors", () => {
  it("lists errors of fields the form does not show, labelled, and drops the generic line", () => {
    const errors = { region: ["Unknown"], detail: ["Too many requests."], max_pages: ["Too many."], non_field_errors: ["Please correct the highlighted fields."] };
    expect(formLevelErrors(errors, ["region"])).toEqual(["Too many requests.", "Max pages: Too many."]);
  });

  it("turns any failure into something to show", () => {
    expect(errorsOf(new ApiError(502, "The AdSpark API is not reachable."))).toEqual({ detail: ["The AdSpark API is not reachable."] });
    expect(errorsOf(new ApiError(400, "x", { email: ["Enter a valid email address."] }))).toEqual({ email: ["Enter a valid email address."] });
    expect(errorsOf(new Error("boom"))).toEqual({ detail: ["boom"] });
  });
});

describe("checkAuthForm", () => {
  it("finds every problem of a registration at once", () => {
    expect(checkAuthForm("register", { username: "x", email: "not-an-email", password: "1234" })).toEqual({
      username: ["3-150 characters: letters, digits and @/./+/-/_ only."],
      email: ["Enter a valid e-mail address."],
      password: ["This password is too short. It must contain at least 8 characters.", "This password is entirely numeric."],
    });
    expect(checkAuthForm("register", { username: "marketer", email: "", password: "Spark-passw0rd" })).toEqual({});
  });

  it("only asks for what is missing when signing in", () => {
    expect(checkAuthForm("login", { username: "", password: "" })).toEqual({ username: ["Enter a username."], password: ["Enter a password."] });
    expect(checkAuthForm("login", { username: "a", password: "1" })).toEqual({});
  });
});

describe("safePath and loginPath", () => {
  it("bring the visitor back to the page they asked for, and only on this site", () => {
    expect(loginPath("/watches/1")).toBe("/login?next=%2Fwatches%2F1");
    expect(loginPath("/")).toBe("/login");
    expect(loginPath(null)).toBe("/login");
    expect(loginPath("//evil.example/x")).toBe("/login");
    expect(safePath("/creatives?advertiser_id=AR1#top")).toBe("/creatives?advertiser_id=AR1#top");
    expect(safePath("/x\u0000y")).toBe("/");
  });
});

describe("regions", () => {
  it("finds a region by geo code, letters or name", () => {
    expect(findRegion("2840", REGIONS)?.name).toBe("United States");
    expect(findRegion("us", REGIONS)?.code).toBe("2840");
    expect(findRegion("  canada ", REGIONS)?.code).toBe("2124");
    expect(findRegion("Narnia", REGIONS)).toBeNull();
  });

  it("shows names, preferring the API's own region_name", () => {
    expect(regionLabel("2840", REGIONS)).toBe("United States");
    expect(regionLabel("2840", [], "United States")).toBe("United States");
    expect(regionLabel("GB", [])).toBe("United Kingdom");
    expect(regionLabel("", REGIONS)).toBe("");
    expect(regionLabel("Narnia", REGIONS)).toBe("Narnia");
  });

  it("sends geo codes for names, and what was typed otherwise", () => {
    expect(regionValue("Canada", REGIONS)).toBe("2124");
    expect(regionValue("Narnia ", REGIONS)).toBe("Narnia");
    // Before the list has loaded: the common regions by the names the form shows.
    expect(regionValue("United States", [])).toBe("US");
  });

  it("offers every region, by letters where it has them", () => {
    expect(regionOptions(REGIONS)).toEqual([["", "Anywhere"], ["CA", "Canada"], ["US", "United States"], ["20277", "Canary Islands"]]);
    expect(regionOptions([])[1]).toEqual(["US", "United States"]);
  });
});
