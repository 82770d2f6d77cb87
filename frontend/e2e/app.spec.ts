/**
 * The web app's defects from issue 13 §3 (sign-in, watches, fetches, search, forms, 404, dark
 * mode), each as the probe reproduced it, in a real browser against the real stack. Self-
 * contained: it registers its own users (alice owns the watch, bob does not) and fetches Tesla
 * first. One screenshot per flow: var/e2e-screenshots/d-<flow>.png.
 */
import { expect, type Page, test } from "@playwright/test";

import {
  apiJson, contrastOf, type Credentials, fetchTesla, registerUser, serpapiFault, serpapiReset, signIn, snap, TESLA,
} from "./helpers";

test.describe.configure({ mode: "serial" });

let alice: Credentials;
let bob: Credentials;
let aliceWatch = 0;

test.beforeAll(async ({ playwright, baseURL }) => {
  const request = await playwright.request.newContext({ baseURL });
  alice = await registerUser(request, "alice");
  await fetchTesla(request, 2);
  const watch = await apiJson<{ id: number }>(request, "POST", "/api/adspark/watches/", {
    name: "Tesla watch", advertiser_ids: [TESLA], region: "US", interval_minutes: 60,
  });
  aliceWatch = watch.id;
  await request.dispose();
  const other = await playwright.request.newContext({ baseURL });
  bob = await registerUser(other, "bob");
  await other.dispose();
});

test.afterEach(async ({ request }) => {
  await serpapiReset(request);
});

async function signInWithForm(page: Page, user: Credentials) {
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a signed-out link to a watch comes back to it after sign-in", async ({ page }, testInfo) => {
  await page.goto(`/watches/${aliceWatch}`);
  await expect(page).toHaveURL(new RegExp(`/login\\?next=%2Fwatches%2F${aliceWatch}$`));
  await expect(page.getByRole("main")).toBeVisible();
  await signInWithForm(page, alice);
  await expect(page).toHaveURL(new RegExp(`/watches/${aliceWatch}$`));
  await expect(page.getByRole("heading", { name: "Tesla watch", level: 1 })).toBeVisible();
  await snap(page, testInfo, "d-next-redirect");

  // The other page alert e-mails link to: the creatives list with its filters.
  await page.context().clearCookies();
  await page.goto(`/creatives?advertiser_id=${TESLA}`);
  await expect(page).toHaveURL(/\/login\?next=%2Fcreatives%3Fadvertiser_id%3DAR\d{20}$/);
  await signInWithForm(page, alice);
  await expect(page).toHaveURL(new RegExp(`/creatives\\?advertiser_id=${TESLA}$`));

  // Only paths on this site are followed.
  await page.context().clearCookies();
  await page.goto("/login?next=https%3A%2F%2Fevil.example%2F");
  await signInWithForm(page, alice);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  expect(new URL(page.url()).host).toBe(new URL(testInfo.project.use.baseURL ?? page.url()).host);
});

test("another user's watch and an unknown watch are a proper 404", async ({ page }, testInfo) => {
  await signIn(page, bob);
  for (const path of [`/watches/${aliceWatch}`, "/watches/987654321", "/watches/not-a-number"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
    await expect(page.getByText(/matches the given query|Watch matches/)).toHaveCount(0);
    await expect(page.getByText("Loading…")).toHaveCount(0);
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Watches" })).toBeVisible();
  }
  await snap(page, testInfo, "d-watch-not-found");
});

test("a watch page left open shows a run the scheduler started, without a reload", async ({ page }, testInfo) => {
  await signIn(page, alice);
  await page.goto(`/watches/${aliceWatch}`);
  const rows = page.getByTestId("watch-runs").locator("tbody tr");
  await expect(page.getByText("No runs yet").or(rows.first())).toBeVisible();
  const before = await rows.count();
  // A run started elsewhere (as the beat dispatcher would), not by this page.
  const run = await apiJson<{ id: number }>(page.request, "POST", `/api/adspark/watches/${aliceWatch}/trigger/`);
  await expect(rows).toHaveCount(before + 1, { timeout: 20_000 });
  await expect(page.getByTestId("watch-runs")).toContainText(`#${run.id}`);
  await expect(rows.first().locator("[data-status]")).toHaveAttribute("data-status", "succeeded", { timeout: 90_000 });
  // Regions by name (§3.6).
  await expect(page.getByRole("heading", { name: "Tesla watch" }).locator("..")).toContainText("United States");
  await expect(page.locator("main")).not.toContainText("region 2840");
  await snap(page, testInfo, "d-watch-live-history");
});

test("a failed fetch explains itself without SerpApi's text or a full red bar", async ({ page }, testInfo) => {
  await signIn(page, alice);
  await serpapiFault(page.request, 401, 1);
  await page.goto("/fetch");
  await page.getByLabel("Advertiser IDs").fill(TESLA);
  await page.getByLabel("Max pages").fill("5");
  await page.getByRole("button", { name: "Fetch now" }).click();
  const progress = page.getByTestId("fetch-progress");
  await expect(progress).toHaveAttribute("data-status", "failed", { timeout: 60_000 });
  await expect(progress).toContainText("SerpApi rejected the API key");
  await expect(progress).not.toContainText(/should be here|Invalid API key/);
  await expect(progress).not.toContainText("100%");
  const bar = page.getByRole("progressbar", { name: "Pages fetched" });
  await expect(bar).not.toHaveAttribute("aria-valuenow", "100");
  const fill = await bar.locator(".progress-fill").evaluate((el) => el.getBoundingClientRect().width / el.parentElement!.getBoundingClientRect().width);
  expect(fill).toBeLessThan(0.5);
  await snap(page, testInfo, "d-fetch-failed");
});

test("a retrying fetch counts down and can be cancelled", async ({ page }, testInfo) => {
  await signIn(page, alice);
  // Enough 503s to outlast every retry (afterEach forgets the rest): with full jitter one
  // retry's wait can be under 5 s, so the test waits for a retry whose wait is long enough.
  await serpapiFault(page.request, 503, 30);
  await page.goto("/fetch");
  await page.getByLabel("Advertiser IDs").fill(TESLA);
  await page.getByRole("button", { name: "Fetch now" }).click();
  const retry = page.getByTestId("fetch-retry");
  const seconds = async () => Number((await retry.textContent())?.match(/Retrying in (\d+) s/)?.[1] ?? 0);
  await expect.poll(seconds, { timeout: 100_000, intervals: [500] }).toBeGreaterThanOrEqual(5);
  const first = await seconds();
  await expect.poll(seconds, { timeout: 5_000, intervals: [250] }).toBeLessThanOrEqual(first - 2);
  await expect(retry).toContainText("SerpApi had a server error");
  await expect(page.getByTestId("fetch-progress")).not.toContainText("Internal server error");
  await snap(page, testInfo, "d-fetch-retrying");

  await page.getByRole("button", { name: "Cancel fetch" }).click();
  const progress = page.getByTestId("fetch-progress");
  await expect(progress).toHaveAttribute("data-status", "cancelled", { timeout: 15_000 });
  await expect(progress).toContainText("cancelled");
  await expect(page.getByRole("button", { name: "Cancel fetch" })).toHaveCount(0);
  await snap(page, testInfo, "d-fetch-cancelled");
});

test("recent fetches name the advertiser, the filters and the counts", async ({ page }, testInfo) => {
  await signIn(page, alice);
  await page.goto("/");
  const dashboard = page.getByTestId("recent-fetches");
  await expect(dashboard).toContainText("Tesla Inc.");
  await expect(dashboard).toContainText("United States");
  await expect(dashboard).toContainText(/\d+ creatives?/);
  await expect(dashboard).not.toContainText("region 2840");
  await expect(dashboard).not.toContainText(TESLA);
  await snap(page, testInfo, "d-recent-fetches");
  await page.goto("/fetch");
  await expect(page.getByTestId("recent-fetches")).toContainText("Tesla Inc. · United States");
});

test("save a search as a watch: a human name, its region, not due at once", async ({ page }, testInfo) => {
  await signIn(page, alice);
  await page.goto("/search");
  await page.getByRole("searchbox", { name: "Search AdSpark" }).fill("tesla");
  await page.getByLabel("Region", { exact: true }).selectOption({ label: "United States" });
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/q=tesla.*region=US|region=US.*q=tesla/);
  await expect(page.getByTestId("search-summary")).toContainText(/[1-9]\d* creatives?/);
  await page.getByRole("button", { name: "Save as watch" }).click();
  const notice = page.getByRole("status").filter({ hasText: "Saved as watch" });
  await expect(notice).toContainText("United States");
  await expect(notice).not.toContainText("Search:");
  const link = notice.getByRole("link");
  const href = (await link.getAttribute("href")) ?? "";
  type SavedWatch = { name: string; region: string; next_run_at: string | null };
  const watch = await apiJson<SavedWatch>(page.request, "GET", `/api/adspark${href}/`);
  expect(watch.name).toMatch(/in United States$/);
  expect(watch.region).toBe("2840");
  // Its baseline runs (here: at once, as the dispatcher would); the first scheduled run after it
  // is one interval away, not due at once.
  const run = await apiJson<{ id: number }>(page.request, "POST", `/api/adspark${href}/trigger/`);
  await expect
    .poll(async () => (await apiJson<{ status: string }>(page.request, "GET", `/api/adspark/watch-runs/${run.id}/`)).status, { timeout: 90_000 })
    .toBe("succeeded");
  const after = await apiJson<SavedWatch>(page.request, "GET", `/api/adspark${href}/`);
  expect(after.next_run_at && Date.parse(after.next_run_at) - Date.now()).toBeGreaterThan(10 * 60_000);
  await page.goto(href);
  await expect(page.locator("main")).toContainText("United States");
  await snap(page, testInfo, "d-save-as-watch");
});

test("search history: one chip per search, each can be removed", async ({ page }, testInfo) => {
  await signIn(page, alice);
  await page.goto("/search");
  const box = page.getByRole("searchbox", { name: "Search AdSpark" });
  for (const q of ["model y", "tesla", "model y"]) {
    await box.fill(q);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect(page.getByTestId("search-summary")).toContainText(`“${q}”`);
  }
  const history = page.getByTestId("search-history");
  await expect(history.getByRole("button", { name: /^model y/ })).toHaveCount(1);
  await page.getByRole("button", { name: "Remove “model y” from recent searches" }).click();
  await expect(history.getByRole("button", { name: /^model y/ })).toHaveCount(0);
  // Gone for good (a fresh page without a query, which would record it again).
  await page.goto("/search");
  await expect(page.getByTestId("search-history").getByRole("button", { name: /^tesla/ }).first()).toBeVisible();
  await expect(page.getByTestId("search-history").getByRole("button", { name: /^model y/ })).toHaveCount(0);
  await snap(page, testInfo, "d-search-history");
});

test("forms show every error in one round, in the user's words", async ({ page }, testInfo) => {
  // Registration: username, e-mail and password at once.
  await page.goto("/register");
  await page.getByLabel("Username").fill("x");
  await page.getByLabel("Email (optional)").fill("not-an-email");
  await page.getByLabel("Password").fill("1234");
  await page.getByRole("button", { name: "Create account" }).click();
  for (const label of ["Username", "Email (optional)", "Password"]) {
    await expect(page.getByLabel(label)).toHaveAttribute("aria-invalid", "true");
  }
  await snap(page, testInfo, "d-forms-register");

  // The watch form: name, region "Narnia" and interval together, no API field names.
  await signIn(page, alice);
  await page.goto("/watches");
  await page.getByRole("button", { name: "New watch" }).click();
  const form = page.getByRole("form", { name: "New watch" });
  await form.getByLabel("Region").fill("Narnia");
  await form.getByLabel("Every (minutes)").fill("5");
  await form.getByRole("button", { name: "Create watch" }).click();
  for (const label of ["Name", "Region", "Every (minutes)"]) {
    await expect(form.getByLabel(label)).toHaveAttribute("aria-invalid", "true");
  }
  await expect(form).toContainText("Narnia");
  await expect(form).toContainText(/advertiser IDs/);
  await expect(form).not.toContainText(/advertiser_ids|interval_minutes|start_date/);
  await snap(page, testInfo, "d-forms-watch");

  // The fetch form: a bad advertiser ID and too many pages at once.
  await page.goto("/fetch");
  await page.getByLabel("Advertiser IDs").fill("AR123");
  await page.getByLabel("Max pages").fill("500");
  await page.getByRole("button", { name: "Fetch now" }).click();
  await expect(page.getByLabel("Advertiser IDs")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Max pages")).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("main")).not.toContainText(/advertiser_ids|max_pages/);
  await snap(page, testInfo, "d-forms-fetch");
});

test("an unknown page is the app's 404 with its navigation", async ({ page }, testInfo) => {
  await signIn(page, alice);
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await snap(page, testInfo, "d-404");
  await page.getByRole("link", { name: "Go to the dashboard" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
});

test("dark mode follows the system, with readable status badges in both themes", async ({ page }, testInfo) => {
  await signIn(page, alice);
  for (const theme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await page.goto("/fetch");
    await expect(page.getByTestId("recent-fetches").locator('[data-status="succeeded"]').first()).toBeVisible();
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe(theme === "dark" ? "rgb(15, 18, 32)" : "rgb(246, 247, 251)");
    expect(await contrastOf(page, '[data-testid="recent-fetches"] [data-status="succeeded"]')).toBeGreaterThanOrEqual(4.5);
    await page.goto("/operations");
    await expect(page.locator('.badge[data-status="ok"]').first()).toBeVisible();
    expect(await contrastOf(page, '.badge[data-status="ok"]')).toBeGreaterThanOrEqual(4.5);
    await snap(page, testInfo, `d-theme-${theme}`);
  }
  // The sign-in page has a main landmark (it is outside the app's shell).
  await page.context().clearCookies();
  await page.goto("/login");
  await expect(page.getByRole("main")).toBeVisible();
});
