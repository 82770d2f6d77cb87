/**
 * End-to-end tests against the real stack (Django, Celery workers, local SerpApi/Dify servers,
 * the production Next.js build). tests/e2e/test_frontend_e2e.py starts everything and runs
 * `npx playwright test` with E2E_BASE_URL set. Debian's Chromium is used: Playwright's own
 * browser download is never needed (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { defineConfig } from "@playwright/test";

const baseURL = process.env.E2E_BASE_URL || "http://127.0.0.1:3000";

export default defineConfig({
  testDir: "./e2e",
  // The flows build on each other (sign up, fetch, then browse what was fetched): one worker, in order.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  outputDir: process.env.E2E_OUTPUT_DIR || "test-results",
  use: {
    baseURL,
    viewport: { width: 1360, height: 900 },
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
});
