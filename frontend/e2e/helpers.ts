import path from "node:path";

import { expect, type Page, type TestInfo } from "@playwright/test";

export const TESLA = "AR17828074650563772417";
/** One user per run: created by the registration flow, reused by the flows after it. */
export const USER = { username: process.env.E2E_USERNAME || "e2e-marketer", password: "Spark-e2e-passw0rd!" };

const SCREENSHOT_DIR = process.env.E2E_SCREENSHOT_DIR || path.resolve(__dirname, "../../var/e2e-screenshots");

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
export async function signIn(page: Page): Promise<void> {
  const response = await page.request.post("/auth/login", {
    data: USER,
    headers: { "x-adspark-client": "web" },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
}
