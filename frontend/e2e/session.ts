/**
 * Self-contained setup for the creatives and boards specs: each spec registers its own user
 * through the app's /auth/register route and fetches Tesla through the API (it does not rely on
 * adspark.spec.ts having run).
 */
import { type APIRequestContext, type Browser, expect, type Page } from "@playwright/test";

import { TESLA } from "./helpers";

export type User = { username: string; password: string };

export function newUser(prefix: string): User {
  return { username: `${prefix}${Date.now()}${Math.floor(Math.random() * 1000)}`, password: "Spark-e2e-passw0rd!" };
}

const WEB = { "x-adspark-client": "web" };

/** Register `user` (through the app, so the cookie flow is the real one) and fetch Tesla's
 * creatives in the United States (2 pages), waiting for the run to finish. */
export async function registerAndFetchTesla(browser: Browser, user: User): Promise<void> {
  const context = await browser.newContext();
  const request = context.request;
  const registered = await request.post("/auth/register", { data: { ...user, email: `${user.username}@example.com` }, headers: WEB });
  expect(registered.status(), await registered.text()).toBe(201);
  const started = await request.post("/api/adspark/fetch/", {
    data: { advertiser_ids: TESLA, region: "US", max_pages: 2 },
    headers: WEB,
  });
  expect(started.status(), await started.text()).toBe(202);
  const run = await started.json();
  await expect
    .poll(async () => (await (await request.get(`/api/adspark/fetch-runs/${run.id}/`)).json()).status, { timeout: 90_000 })
    .toBe("succeeded");
  await context.close();
}

export async function signInAs(page: Page, user: User): Promise<void> {
  const response = await page.request.post("/auth/login", { data: user, headers: WEB });
  expect(response.ok(), await response.text()).toBeTruthy();
}

export async function apiJson<T>(request: APIRequestContext, path: string): Promise<T> {
  const response = await request.get(path);
  expect(response.ok(), `${path}: ${response.status()}`).toBeTruthy();
  return (await response.json()) as T;
}

export const webHeaders = WEB;
