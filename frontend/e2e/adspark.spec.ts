/**
 * The marketing team's day in AdSpark, in a real browser against the real stack. The tests run
 * in order and build on each other: the account registered first is used by the rest, and the
 * Tesla creatives fetched in the fetch test are what search, the gallery, the watch and the
 * variant work on. Each test saves a screenshot under var/e2e-screenshots/.
 */
import { expect, test } from "@playwright/test";

import { signIn, snap, TESLA, USER } from "./helpers";

test.describe.configure({ mode: "serial" });

test("register a new account", async ({ page }, testInfo) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();

  // A weak password is refused, and the error is shown next to the password field.
  await page.getByLabel("Username").fill(USER.username);
  await page.getByLabel("Password").fill("password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator(".field-error").first()).toBeVisible();
  await expect(page.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("Password").fill(USER.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("current-user")).toHaveText(USER.username);
  await snap(page, testInfo, "01-register");
});

test("sign in and see the dashboard", async ({ page }, testInfo) => {
  await page.goto("/login");
  await page.getByLabel("Username").fill(USER.username);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(".alert-error")).toContainText(/unable to log in|credentials/i);

  await page.getByLabel("Password").fill(USER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Queue health" })).toBeVisible();
  await expect(page.getByTestId("stats")).toContainText("Creatives");
  await expect(page.getByTestId("stats")).not.toContainText("…");
  await expect(page.getByRole("cell", { name: "data_fetch" })).toBeVisible();
  await snap(page, testInfo, "02-dashboard");
});

test("fetch Tesla with live progress to completion", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/fetch");
  await page.getByLabel("Advertiser ids").fill(TESLA);
  await page.getByLabel("Region", { exact: true }).selectOption("US");
  await page.getByLabel("Max pages").fill("2");
  await page.getByRole("button", { name: "Fetch now" }).click();

  const progress = page.getByTestId("fetch-progress");
  await expect(progress).toBeVisible();
  await expect(page.getByRole("progressbar", { name: "Pages fetched" })).toBeVisible();
  await expect(progress).toHaveAttribute("data-status", "succeeded", { timeout: 90_000 });
  await expect(page.getByRole("progressbar", { name: "Pages fetched" })).toHaveAttribute("aria-valuenow", "100");
  await expect(progress).toContainText(/Done: \d+ creatives/);
  await snap(page, testInfo, "03-fetch-progress");
});

test("search finds Tesla, and offers to fetch what it does not know", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/search");
  await page.getByRole("searchbox", { name: "Search AdSpark" }).fill("zzyzx-unknown-brand");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByText(/Nothing about .zzyzx-unknown-brand. in AdSpark yet/)).toBeVisible();
  await expect(page.getByRole("button", { name: /Fetch .zzyzx-unknown-brand. now/ })).toBeVisible();

  await page.getByRole("searchbox", { name: "Search AdSpark" }).fill("tesla");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByTestId("search-summary")).toContainText(/[1-9]\d* creatives? and 1 advertiser/);
  await expect(page.getByRole("link", { name: /Tesla Inc\./ })).toBeVisible();
  await expect(page.getByTestId("search-results").getByTestId("creative-card").first()).toBeVisible();
  // The search is remembered in the history chips.
  await expect(page.getByRole("button", { name: /^tesla/ })).toBeVisible();
  await snap(page, testInfo, "04-search");
});

test("browse and filter creatives, open the details panel", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/creatives");
  const cards = page.getByTestId("gallery").getByTestId("creative-card");
  await expect(cards.first()).toBeVisible();
  const summary = page.getByRole("heading", { name: "Creatives" }).locator("..").locator("p");
  const total = Number((await summary.textContent())?.match(/[\d,]+/)?.[0].replace(/,/g, ""));
  expect(total).toBeGreaterThan(0);

  await page.getByLabel("Format").selectOption("video");
  await expect(page).toHaveURL(/creative_format=video/);
  await expect(summary).not.toHaveText(`${total} creatives match`);
  await expect(cards.first()).toContainText("video");
  for (const badge of await cards.locator(".badge").allTextContents()) expect(badge).toBe("video");

  await page.getByLabel("Region", { exact: true }).selectOption("US");
  await expect(page).toHaveURL(/region=US/);
  await cards.first().click();
  const panel = page.getByTestId("details-panel");
  await expect(panel).toBeVisible();
  await expect(panel).toContainText("Tesla Inc.");
  await expect(panel.getByRole("link", { name: "Generate a variant" })).toBeVisible();
  await snap(page, testInfo, "05-creatives");
});

test("advertisers list and detail", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/advertisers");
  await page.getByRole("link", { name: "Tesla Inc." }).click();
  await expect(page.locator(".stat-value").first()).toHaveText(/^[1-9]/);
  await expect(page.getByRole("heading", { name: "Tesla Inc." })).toBeVisible();
  await expect(page.getByText(TESLA).first()).toBeVisible();
  await expect(page.getByTestId("creative-card").first()).toBeVisible();
  await snap(page, testInfo, "06-advertiser");
});

test("create a watch (with validation) and trigger it", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/watches");
  await page.getByRole("button", { name: "New watch" }).click();
  const form = page.getByRole("form", { name: "New watch" });
  await form.getByLabel("Name").fill("Tesla US");
  await form.getByLabel("Advertiser ids").fill(TESLA);
  await form.getByLabel("Every (minutes)").fill("5");
  await form.getByRole("button", { name: "Create watch" }).click();
  // Too short an interval: the API's error appears next to that field.
  await expect(form.getByLabel("Every (minutes)")).toHaveAttribute("aria-invalid", "true");
  await expect(form.locator(".field-error")).toContainText(/15/);

  await form.getByLabel("Every (minutes)").fill("60");
  await form.getByRole("button", { name: "Create watch" }).click();
  await expect(page.getByRole("heading", { name: "Tesla US" })).toBeVisible();

  await page.getByRole("button", { name: "Run now" }).click();
  const runs = page.getByTestId("watch-runs");
  await expect(runs.locator("tbody tr")).toHaveCount(1);
  await expect(runs.locator("tbody tr").first().locator("[data-status]")).toHaveAttribute("data-status", "succeeded", { timeout: 90_000 });
  await expect(runs).toContainText(/Baseline: \d+ creatives seen/);
  await expect(page.getByTestId("watch-creatives").getByTestId("creative-card").first()).toBeVisible();
  await snap(page, testInfo, "07-watch");
});

test("generate a template variant and see it beside the original", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/creatives?creative_format=text");
  await page.getByTestId("creative-card").first().click();
  await page.getByTestId("details-panel").getByRole("link", { name: "Generate a variant" }).click();
  await expect(page.getByRole("heading", { name: "Variants", level: 1 })).toBeVisible();

  await page.getByLabel("Prompt").fill("x");
  await page.getByRole("button", { name: "Generate variant" }).click();
  await expect(page.getByLabel("Prompt")).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("Prompt").fill("Summer offer: free supercharging for 3 months");
  await page.getByLabel("Provider").selectOption("template");
  await page.getByRole("button", { name: "Generate variant" }).click();
  const result = page.getByTestId("variant-result");
  await expect(result).toBeVisible();
  await expect(result).toHaveAttribute("data-status", "succeeded", { timeout: 90_000 });
  await expect(result).toContainText("Template (no AI)");
  const image = result.getByTestId("variant-image");
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  await expect(result.getByRole("link", { name: "Download PNG" })).toBeVisible();

  await result.getByRole("radio", { name: "4 stars" }).click();
  await expect(result.getByText("Thanks: rated 4 of 5.")).toBeVisible();
  await snap(page, testInfo, "08-variant");
});

test("operations shows workers per queue and recent tasks", async ({ page }, testInfo) => {
  await signIn(page);
  await page.goto("/operations");
  const queues = page.getByTestId("queues-table");
  await expect(queues).toContainText("data_fetch");
  await expect(queues).toContainText("ai_generation");
  await expect(queues.locator("tr", { hasText: "data_fetch" })).not.toContainText("no worker");
  const recent = page.getByTestId("recent-tasks");
  await expect(recent).toContainText("Fetch #");
  await expect(recent).toContainText("Variant #");
  await snap(page, testInfo, "09-operations");
});

test("the layout works on a phone", async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page);
  await page.goto("/");
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toBeVisible();
  await menu.press("Enter");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Search" })).toBeVisible();
  await expect(page.getByTestId("stats")).not.toContainText("…");
  await snap(page, testInfo, "10-mobile");
});
