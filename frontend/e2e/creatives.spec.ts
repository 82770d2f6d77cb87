/**
 * The creatives side of the web app (issue 13 §1–§3): image precedence, look-alikes, filters
 * (date range, searchable regions, platform, debounced text), keyboard and the details panel,
 * ad details, the 390 px bottom sheet, empty and error states, the advertiser timeline, bulk
 * actions, export and the variant picker. One screenshot per flow: c-<flow>.png.
 */
import { expect, type Page, test } from "@playwright/test";

import { snap, TESLA } from "./helpers";
import { apiJson, newUser, registerAndFetchTesla, signInAs } from "./session";

test.describe.configure({ mode: "serial" });

const user = newUser("creatives");

type Creative = {
  ad_creative_id: string;
  format: string;
  image_url: string;
  archive_status?: string;
  archived_thumbnail_url?: string | null;
  archived_image_url?: string | null;
  duplicate_count?: number;
  visual_hash?: string;
  regions: string[];
};
/** The creatives list request (not its detail, boards or export). */
const CREATIVES_LIST = (url: URL) => url.pathname === "/api/adspark/creatives/";

type Page_<T> = { count: number; results: T[] };

test.beforeAll(async ({ browser }) => {
  test.setTimeout(150_000);
  await registerAndFetchTesla(browser, user);
});

async function gallery(page: Page, url = "/creatives") {
  await signInAs(page, user);
  await page.goto(url);
  const cards = page.getByTestId("gallery").getByTestId("creative-card");
  await expect(cards.first()).toBeVisible();
  return cards;
}

test("gallery shows the archived image first, the live one second, the placeholder last", async ({ page }, testInfo) => {
  const cards = await gallery(page, "/creatives?advertiser_id=" + TESLA);
  const list = await apiJson<Page_<Creative>>(page.request, `/api/adspark/creatives/?advertiser_id=${TESLA}&page_size=24`);
  const count = Math.min(await cards.count(), 8);
  for (let i = 0; i < count; i++) {
    const card = cards.nth(i);
    const id = await card.getAttribute("data-creative-id");
    const data = list.results.find((c) => c.ad_creative_id === id);
    expect(data, `card ${id} is in the API page`).toBeTruthy();
    const media = card.locator(".creative-media");
    const source = await media.getAttribute("data-image-source");
    if (data?.archived_thumbnail_url || data?.archived_image_url) {
      // An archived copy is tried before the live URL.
      const src = await card.locator("img").getAttribute("src").catch(() => null);
      expect(source === "archive" ? src?.startsWith("/media/") : true).toBeTruthy();
    } else if (data?.image_url) {
      expect(["live", "placeholder"]).toContain(source);
    } else {
      expect(source).toBe("placeholder");
      await expect(card.locator(".ad-preview, .video-preview")).toBeVisible();
    }
  }
  // Look-alikes: any creative with duplicates links to its visual_hash group.
  const withTwins = list.results.find((c) => (c.duplicate_count ?? 0) > 0);
  if (withTwins) {
    const card = page.locator(`[data-creative-id="${withTwins.ad_creative_id}"]`);
    await expect(card.getByTestId("look-alikes")).toHaveAttribute("href", `/creatives?visual_hash=${withTwins.visual_hash}`);
  } else {
    await expect(page.getByTestId("look-alikes")).toHaveCount(0);
  }
  // Long advertiser names stay inside their card; the sort select shows its whole label.
  const overflow = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>(".creative-card")).some((card) => card.scrollWidth > card.clientWidth + 1),
  );
  expect(overflow).toBe(false);
  const sort = page.getByLabel("Sort by");
  await expect(sort).toHaveValue("");
  expect(await sort.evaluate((el: HTMLSelectElement) => el.clientWidth)).toBeGreaterThan(150);
  await snap(page, testInfo, "c-gallery");
});

/** The archived creatives of Tesla (the e2e runner turns the archive on; the ai_generation worker
 * captures a dozen per fetch run from the local Google stand-in's generated PNGs). */
async function archivedTesla(page: Page): Promise<Creative[]> {
  const list = await apiJson<Page_<Creative>>(page.request, `/api/adspark/creatives/?advertiser_id=${TESLA}&page_size=100`);
  return list.results.filter((c) => c.archive_status === "archived" && c.archived_thumbnail_url && c.archived_image_url && c.visual_hash);
}

/** Wait until `img` has loaded; its natural size in pixels. */
async function loadedSize(img: ReturnType<Page["locator"]>): Promise<{ width: number; height: number }> {
  await img.scrollIntoViewIfNeeded();
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0), { timeout: 15_000 }).toBe(true);
  return img.evaluate((el: HTMLImageElement) => ({ width: el.naturalWidth, height: el.naturalHeight }));
}

test("archived images: cards and the details panel load the archived copies through /media/", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await signInAs(page, user);
  let archived: Creative[] = [];
  // Both kinds of capture: an image downloaded from the stand-in, a video's preview script
  // (served by the stand-in too) rendered by the ai_generation worker's browser.
  await expect
    .poll(
      async () => {
        archived = await archivedTesla(page);
        return archived.some((c) => c.format !== "video") && archived.some((c) => c.format === "video");
      },
      { timeout: 150_000, intervals: [1_000, 2_000, 5_000] },
    )
    .toBe(true);

  // The rendered preview of a video creative: its card loads the archived thumbnail.
  const video = archived.find((c) => c.format === "video") as Creative;
  await page.goto(`/creatives?visual_hash=${encodeURIComponent(video.visual_hash as string)}`);
  const videoMedia = page.getByTestId("gallery").locator(`[data-creative-id="${video.ad_creative_id}"] .creative-media`);
  await expect(videoMedia).toHaveAttribute("data-image-source", "archive");
  await expect(videoMedia.locator("img")).toHaveAttribute("src", new URL(video.archived_thumbnail_url as string).pathname);
  expect((await loadedSize(videoMedia.locator("img"))).width).toBeGreaterThan(0);

  const creative = archived.find((c) => c.format !== "video") as Creative;
  const thumbnail = new URL(creative.archived_thumbnail_url as string).pathname;
  const full = new URL(creative.archived_image_url as string).pathname;
  expect(thumbnail).toMatch(/^\/media\//);
  expect(full).toMatch(/^\/media\//);

  // The gallery, narrowed to this creative's look-alike group, with its details panel open.
  await page.goto(`/creatives?visual_hash=${encodeURIComponent(creative.visual_hash as string)}&creative=${creative.ad_creative_id}`);
  const card = page.getByTestId("gallery").locator(`[data-creative-id="${creative.ad_creative_id}"]`);
  await expect(card).toBeVisible();
  const cardMedia = card.locator(".creative-media");
  await expect(cardMedia).toHaveAttribute("data-image-source", "archive");
  const cardImg = cardMedia.locator("img");
  await expect(cardImg).toHaveAttribute("src", thumbnail);
  const cardSize = await loadedSize(cardImg);
  expect(cardSize.width).toBeGreaterThan(0);
  await expect(cardImg).toHaveClass(/loaded/); // the image, not the placeholder, is what shows

  const panel = page.getByTestId("details-panel");
  await expect(panel).toContainText(creative.ad_creative_id);
  const panelMedia = panel.locator(".creative-media");
  await expect(panelMedia).toHaveAttribute("data-image-source", "archive");
  const panelImg = panelMedia.locator("img");
  await expect(panelImg).toHaveAttribute("src", full);
  const fullSize = await loadedSize(panelImg);
  // The full PNG is the captured image itself (the stand-in's are 300×250), the thumbnail no larger.
  expect(fullSize.width).toBeGreaterThanOrEqual(cardSize.width);
  expect(fullSize.height).toBeGreaterThan(0);

  // The media route serves the files themselves (Django's /media/ behind Next's route handler).
  const served = await page.request.get(full);
  expect(served.status()).toBe(200);
  expect(served.headers()["content-type"]).toBe("image/png");
  await snap(page, testInfo, "c-archived-images");
});

test("filters: debounced text, date range, searchable regions by name, platform", async ({ page }, testInfo) => {
  await gallery(page);
  const searches: string[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.pathname === "/api/adspark/creatives/" && url.searchParams.has("search")) searches.push(url.searchParams.get("search") ?? "");
  });
  await page.getByLabel("Advertiser or domain").pressSequentially("tesla", { delay: 60 });
  await expect(page).toHaveURL(/search=tesla/);
  await page.waitForTimeout(500);
  expect(searches).toEqual(["tesla"]); // one request after typing stops, not one per key

  await page.getByLabel("Shown after").fill("2020-01-01");
  await expect(page).toHaveURL(/shown_after=2020-01-01/);
  await page.getByLabel("Shown before").fill("2030-12-31");
  await expect(page).toHaveURL(/shown_before=2030-12-31/);

  const region = page.getByLabel("Region", { exact: true });
  const regionOptions = await region.locator("option").count();
  expect(regionOptions).toBeGreaterThan(200); // every region the app knows, by name
  await page.getByLabel("Find a region").fill("united k");
  await expect(region).toHaveValue("GB");
  await expect(page).toHaveURL(/region=GB/);
  await page.getByLabel("Find a region").fill("united");
  await region.selectOption({ label: "United States" });
  await expect(region).toHaveValue("US");
  await expect(page).toHaveURL(/region=US/);
  await expect(region.locator("option:checked")).toHaveText("United States");

  await page.getByLabel("Platform").selectOption("SEARCH");
  await expect(page).toHaveURL(/platform=SEARCH/);
  await expect(page.locator(".page-header p").first()).toHaveText(/creatives match/);
  await snap(page, testInfo, "c-filters");
});

test("keyboard: arrow keys move between cards, Enter opens, Escape closes the panel", async ({ page }, testInfo) => {
  const cards = await gallery(page);
  const first = cards.nth(0).locator("button.creative-open");
  const second = cards.nth(1).locator("button.creative-open");
  await first.focus();
  await page.keyboard.press("ArrowRight");
  await expect(second).toBeFocused();
  await page.keyboard.press("ArrowLeft");
  await expect(first).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(first).not.toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(first).toBeFocused();
  // Focus is visible: the focused card has a focus ring.
  expect(await first.evaluate((el) => getComputedStyle(el).boxShadow)).not.toBe("none");
  await page.keyboard.press("Enter");
  const panel = page.getByTestId("details-panel");
  await expect(panel).toBeVisible();
  await expect(page).toHaveURL(/creative=CR/);
  await snap(page, testInfo, "c-keyboard");
  await page.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
  await expect(page).not.toHaveURL(/creative=CR/);
  await expect(first).toBeFocused(); // focus returns to the card
});

test("details panel: region names, fetch ad details, variation images", async ({ page }, testInfo) => {
  const cards = await gallery(page, `/creatives?advertiser_id=${TESLA}&creative_format=text`);
  await cards.first().locator("button.creative-open").click();
  const panel = page.getByTestId("details-panel");
  await expect(panel.getByTestId("regions")).toContainText("United States");
  await expect(panel.getByTestId("regions")).not.toContainText("2840");
  await panel.getByRole("button", { name: /^Fetch ad details/ }).click();
  await expect(panel.getByRole("list", { name: "Variations" }).or(panel.getByText(/no variations/))).toBeVisible({ timeout: 30_000 });
  await expect(panel.getByRole("button", { name: "Fetch ad details again" })).toBeVisible();
  await expect(panel).not.toContainText(/\d+ images?$/);
  const images = panel.getByTestId("variation-image");
  if ((await images.count()) > 0) await expect(images.first()).toHaveAttribute("alt", /Variation 1, image 1/);
  await snap(page, testInfo, "c-details");
});

test("390 px: the details panel is a bottom sheet over the list", async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const cards = await gallery(page);
  await cards.nth(2).locator("button.creative-open").click();
  const panel = page.getByTestId("details-panel");
  await expect(panel).toBeVisible();
  await expect(panel).toContainText("Creative details");
  const box = await panel.boundingBox();
  expect(box).not.toBeNull();
  expect(box!.y).toBeLessThan(844); // on screen, not thousands of pixels below
  expect(Math.round(box!.y + box!.height)).toBeGreaterThanOrEqual(843); // anchored to the bottom
  expect(await panel.evaluate((el) => getComputedStyle(el).position)).toBe("fixed");
  await snap(page, testInfo, "c-mobile-sheet");
  await page.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
});

test("empty states: no creatives yet (links to Fetch) and an advertiser SerpApi found nothing for", async ({ page }, testInfo) => {
  await signInAs(page, user);
  // A new installation: the list is empty with no filters.
  await page.route(CREATIVES_LIST, (route) =>
    route.fulfill({ json: { count: 0, next: null, previous: null, results: [] } }),
  );
  await page.goto("/creatives");
  const empty = page.getByTestId("empty-state");
  await expect(empty).toContainText("No creatives yet");
  await expect(empty.getByRole("link", { name: "Fetch creatives" })).toHaveAttribute("href", "/fetch");
  await page.getByLabel("Format").selectOption("video");
  await expect(empty).toContainText("No creatives match these filters");
  await page.unroute(CREATIVES_LIST);

  await page.goto("/advertisers/AR00000000000000000001");
  const unknown = page.getByTestId("unknown-advertiser");
  await expect(unknown).toContainText("SerpApi found no ads");
  await expect(unknown.getByRole("link", { name: "Fetch this advertiser" })).toBeVisible();
  await snap(page, testInfo, "c-empty-states");
});

test("backend down: a changed filter clears the stale results and shows an error", async ({ page }, testInfo) => {
  const cards = await gallery(page);
  await expect(cards.first()).toBeVisible();
  await page.route(CREATIVES_LIST, (route) => route.fulfill({ status: 502, json: { detail: "The AdSpark API is not reachable." } }));
  await page.getByLabel("Format").selectOption("text");
  await expect(page.getByTestId("list-error")).toContainText("not reachable");
  await expect(page.getByTestId("gallery")).toHaveCount(0);
  await expect(page.locator(".page-header p").first()).not.toContainText("match");
  await snap(page, testInfo, "c-backend-down");
  await page.unroute(CREATIVES_LIST);
  await page.getByLabel("Format").selectOption("video");
  await expect(page.getByTestId("gallery")).toBeVisible();
  await expect(page.getByTestId("list-error")).toHaveCount(0);
});

test("advertiser page: weekly timeline by format with a toggle, and what changed since last week", async ({ page }, testInfo) => {
  await signInAs(page, user);
  await page.goto(`/advertisers/${TESLA}`);
  const timeline = page.getByTestId("timeline");
  await expect(timeline.locator("svg.recharts-surface").first()).toBeVisible();
  expect(await timeline.locator(".recharts-xAxis .recharts-cartesian-axis-tick").count()).toBeGreaterThan(3);
  await expect(timeline.locator(".recharts-legend-wrapper")).toContainText("Video");
  await timeline.getByRole("radio", { name: "Active per week" }).click();
  await expect(timeline.getByRole("radio", { name: "Active per week" })).toHaveAttribute("aria-checked", "true");
  await expect(timeline).toContainText("shown at some point each week");
  const changes = page.getByTestId("changes");
  await expect(changes).toContainText("What changed since last week");
  await expect(changes.getByTestId("changes-new")).toContainText("New");
  await expect(changes.getByTestId("changes-stopped")).toContainText("Stopped");
  await snap(page, testInfo, "c-advertiser-timeline");
});

test("bulk actions: select cards (shift-click range), export the selection, generate variants", async ({ page }, testInfo) => {
  const cards = await gallery(page);
  await cards.nth(0).getByRole("checkbox").check();
  await cards.nth(2).getByRole("checkbox").click({ modifiers: ["Shift"] });
  const bar = page.getByTestId("bulk-bar");
  await expect(bar).toContainText("3 selected");
  const ids = await Promise.all([0, 1, 2].map((i) => cards.nth(i).getAttribute("data-creative-id")));
  const href = await bar.getByRole("link", { name: "Export selected CSV" }).getAttribute("href");
  expect(href).toContain(`ids=${encodeURIComponent(ids.join(","))}`);
  const csv = await page.request.get(href!);
  expect(csv.ok()).toBeTruthy();
  expect(csv.headers()["content-disposition"]).toMatch(/attachment; filename="adspark-creatives-\d{8}\.csv"/);
  const lines = (await csv.text()).trim().split(/\r?\n/);
  expect(lines[0]).toContain("ad_creative_id");
  expect(lines).toHaveLength(4);

  // The whole filtered list exports too (JSON through the proxy).
  const listJson = await page.request.get((await page.getByTestId("export-json").getAttribute("href"))!);
  expect(listJson.ok()).toBeTruthy();
  expect(Array.isArray(await listJson.json())).toBeTruthy();
  await snap(page, testInfo, "c-bulk-actions");

  await bar.getByRole("link", { name: "Generate variants" }).click();
  await expect(page.getByRole("heading", { name: "Variants", level: 1 })).toBeVisible();
  await expect(page.getByTestId("picker-chosen")).toHaveCount(3);
});

test("variant picker: search with thumbnails instead of a dropdown of raw ids", async ({ page }, testInfo) => {
  await signInAs(page, user);
  await page.goto("/variants");
  const picker = page.getByTestId("creative-picker");
  await page.getByLabel("Creative", { exact: true }).fill("tesla");
  const options = picker.getByTestId("picker-option");
  await expect(options.first()).toBeVisible();
  await expect(options.first()).toContainText("Tesla");
  await expect(options.first().locator(".creative-media")).toBeVisible();
  await options.first().click();
  await expect(options.first()).toHaveAttribute("aria-pressed", "true");
  await expect(picker.getByTestId("picker-chosen")).toHaveCount(1);
  await expect(page.locator('select[name="creative"]')).toHaveCount(0);
  await snap(page, testInfo, "c-variant-picker");
});
