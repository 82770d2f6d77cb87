import path from "node:path";

import { type APIRequestContext, expect, type Page, type TestInfo } from "@playwright/test";

export const TESLA = "AR17828074650563772417";
/** One user per run: created by the registration flow, reused by the flows after it. */
export const USER = { username: process.env.E2E_USERNAME || "e2e-marketer", password: "Spark-e2e-passw0rd!" };
/** The local SerpApi server (its `/_control/` endpoints inject faults); set by the e2e runner. */
export const SERPAPI_URL = process.env.E2E_SERPAPI_URL || "";

export type Credentials = { username: string; password: string };

const SCREENSHOT_DIR = process.env.E2E_SCREENSHOT_DIR || path.resolve(__dirname, "../../var/e2e-screenshots");
const WEB = { "x-adspark-client": "web" };

/** Save a full-page screenshot named after the test (var/e2e-screenshots/<name>.png). */
export async function snap(page: Page, testInfo: TestInfo, name?: string): Promise<string> {
  const file = path.join(SCREENSHOT_DIR, `${name ?? testInfo.title.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`);
  // The whole page, up to 2,000 px tall (galleries can be very long).
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const width = page.viewportSize()?.width ?? 1360;
  await page.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(height, 2000) } });
  return file;
}

/** Sign in through the app's own /auth/login route handler (sets the httpOnly cookie). */
export async function signIn(page: Page, user: Credentials = USER): Promise<void> {
  const response = await page.request.post("/auth/login", { data: user, headers: WEB });
  expect(response.ok(), await response.text()).toBeTruthy();
}

/** A user of this run only (`<E2E_USERNAME>-<suffix>`), registered through the app. */
export async function registerUser(request: APIRequestContext, suffix: string): Promise<Credentials> {
  // Unique per call: Playwright runs beforeAll again in the new worker that follows a failure.
  const user = { username: `${USER.username}-${suffix}-${Date.now().toString(36)}`.slice(0, 150), password: USER.password };
  const response = await request.post("/auth/register", { data: { ...user, email: "" }, headers: WEB });
  expect(response.status(), await response.text()).toBe(201);
  return user;
}

/** JSON from the app's API proxy with `request`'s cookie (signed in by registerUser/signIn). */
export async function apiJson<T>(request: APIRequestContext, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, data?: unknown): Promise<T> {
  const response = await request.fetch(url, { method, data, headers: WEB });
  expect(response.ok(), `${method} ${url}: ${response.status()} ${await response.text()}`).toBeTruthy();
  return (response.status() === 204 ? null : await response.json()) as T;
}

/** Fetch Tesla's creatives (US, `maxPages` pages) through the API and wait for the run to succeed. */
export async function fetchTesla(request: APIRequestContext, maxPages = 1): Promise<number> {
  const run = await apiJson<{ id: number }>(request, "POST", "/api/adspark/fetch/", { advertiser_ids: TESLA, region: "US", max_pages: maxPages });
  await expect
    .poll(async () => (await apiJson<{ status: string }>(request, "GET", `/api/adspark/fetch-runs/${run.id}/`)).status, { timeout: 90_000 })
    .toBe("succeeded");
  return run.id;
}

/** Make the next `count` SerpApi searches fail with HTTP `status` (the local server's faults). */
export async function serpapiFault(request: APIRequestContext, status: number, count: number): Promise<void> {
  expect(SERPAPI_URL, "E2E_SERPAPI_URL is not set (run the specs through tests/e2e/test_frontend_e2e.py)").not.toBe("");
  const response = await request.post(`${SERPAPI_URL}/_control/faults`, { data: { status, count } });
  expect(response.ok(), await response.text()).toBeTruthy();
}

/** Forget every injected fault (the server's recordings stay). */
export async function serpapiReset(request: APIRequestContext): Promise<void> {
  if (!SERPAPI_URL) return;
  await request.post(`${SERPAPI_URL}/_control/reset`, { data: {} });
}

/** WCAG contrast ratio of an element's text colour over its background colour (both opaque rgb). */
export async function contrastOf(page: Page, selector: string): Promise<number> {
  return page.locator(selector).first().evaluate((el) => {
    const style = getComputedStyle(el);
    const rgb = (value: string) => (value.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const luminance = (value: string) => {
      const [r, g, b] = rgb(value).map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [a, b] = [luminance(style.color), luminance(style.backgroundColor)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  });
}
