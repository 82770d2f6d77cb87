/**
 * Boards (swipe files), issue 13 §2: save a creative to boards from the details panel (saved
 * state shown), bulk save, list/create/rename/delete boards, notes, remove, export, and the
 * read-only shared link opened without signing in. One screenshot per flow: c-<flow>.png.
 */
import { expect, test } from "@playwright/test";

import { snap, TESLA } from "./helpers";
import { newUser, registerAndFetchTesla, signInAs } from "./session";

test.describe.configure({ mode: "serial" });

const user = newUser("boards");
const BOARD = "EV competitors";
const OTHER = "Video ideas";
let boardPath = "";
let sharePath = "";

test.beforeAll(async ({ browser }) => {
  test.setTimeout(150_000);
  await registerAndFetchTesla(browser, user);
});

test("save a creative to boards from the details panel, with its saved state", async ({ page }, testInfo) => {
  await signInAs(page, user);
  await page.goto(`/creatives?advertiser_id=${TESLA}`);
  const cards = page.getByTestId("gallery").getByTestId("creative-card");
  await cards.first().locator("button.creative-open").click();
  const panel = page.getByTestId("details-panel");
  const save = panel.getByTestId("save-to-board");
  await expect(save).toHaveText("Save to board");
  await save.click();
  await panel.getByLabel("New board").fill(BOARD);
  await panel.getByRole("button", { name: "Create" }).click();
  await expect(save).toHaveText("Saved · 1 board");
  await expect(panel.getByRole("checkbox", { name: BOARD })).toBeChecked();
  await panel.getByLabel("New board").fill(OTHER);
  await panel.getByRole("button", { name: "Create" }).click();
  await expect(save).toHaveText("Saved · 2 boards");
  // Unchecking removes it from that board.
  await panel.getByRole("checkbox", { name: OTHER }).uncheck();
  await expect(save).toHaveText("Saved · 1 board");
  await snap(page, testInfo, "c-save-to-board");

  // Reopened, the panel reads the saved state from the API; Escape closes the popover first.
  await page.keyboard.press("Escape");
  await expect(panel.getByRole("group", { name: "Boards" })).toHaveCount(0);
  await expect(panel).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("details-panel").getByTestId("save-to-board")).toHaveText("Saved · 1 board");
});

test("bulk save selected creatives to a board", async ({ page }, testInfo) => {
  await signInAs(page, user);
  await page.goto(`/creatives?advertiser_id=${TESLA}`);
  const cards = page.getByTestId("gallery").getByTestId("creative-card");
  for (const i of [0, 1, 2, 3]) await cards.nth(i).getByRole("checkbox").check();
  const bar = page.getByTestId("bulk-bar");
  await expect(bar).toContainText("4 selected");
  await bar.getByTestId("bulk-save").click();
  await bar.getByRole("button", { name: BOARD }).click();
  await expect(bar.getByRole("status")).toHaveText(`Saved 3 to ${BOARD} (1 already there).`);
  await snap(page, testInfo, "c-bulk-save");
});

test("boards list: create, open, rename", async ({ page }, testInfo) => {
  await signInAs(page, user);
  await page.goto("/boards");
  await expect(page.getByRole("heading", { name: "Boards", level: 1 })).toBeVisible();
  const list = page.getByTestId("board-list");
  await expect(list).toContainText(BOARD);
  await expect(list).toContainText("4 creatives");
  await page.getByLabel("Name").fill("Temporary");
  await page.getByRole("button", { name: "Create board" }).click();
  await expect(list).toContainText("Temporary");
  await snap(page, testInfo, "c-boards");

  await list.getByRole("link", { name: BOARD }).click();
  await expect(page.getByRole("heading", { name: BOARD, level: 1 })).toBeVisible();
  boardPath = new URL(page.url()).pathname;
  await page.getByRole("button", { name: "Rename" }).click();
  await page.getByLabel("Name", { exact: true }).fill(`${BOARD} 2026`);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("heading", { name: `${BOARD} 2026`, level: 1 })).toBeVisible();
});

test("board page: notes, remove, export, share a read-only link", async ({ page, context }, testInfo) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signInAs(page, user);
  await page.goto(boardPath);
  const items = page.getByTestId("board-item");
  await expect(items).toHaveCount(4);
  const note = items.first().getByLabel("Note");
  await note.fill("Strong CTA, copy the layout");
  await note.blur();
  await expect(items.first().getByRole("status")).toHaveText("Note saved.");
  await items.last().getByRole("button", { name: /^Remove/ }).click();
  await expect(items).toHaveCount(3);
  await page.reload();
  await expect(page.getByTestId("board-item").first().getByLabel("Note")).toHaveValue("Strong CTA, copy the layout");

  const csv = await page.request.get((await page.getByTestId("board-export-csv").getAttribute("href"))!);
  expect(csv.ok()).toBeTruthy();
  const lines = (await csv.text()).trim().split(/\r?\n/);
  expect(lines[0]).toContain("note");
  expect(lines).toHaveLength(4);

  await page.getByRole("button", { name: "Create a read-only link" }).click();
  const url = page.getByTestId("share-url");
  await expect(url).toHaveValue(/\/shared\//);
  await page.getByRole("button", { name: "Copy link" }).click();
  await expect(page.getByText("Copied.")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await url.inputValue());
  sharePath = new URL(await url.inputValue()).pathname;
  await snap(page, testInfo, "c-board");
});

test("the shared link opens read-only without signing in; revoking it ends it", async ({ browser, page }, testInfo) => {
  const anonymous = await browser.newContext();
  const shared = await anonymous.newPage();
  await shared.goto(sharePath);
  await expect(shared).toHaveURL(new RegExp(sharePath));
  await expect(shared.getByRole("heading", { name: `${BOARD} 2026`, level: 1 })).toBeVisible();
  await expect(shared.getByTestId("shared-items").locator("li")).toHaveCount(3);
  await expect(shared.getByTestId("shared-note").first()).toContainText("Strong CTA");
  await expect(shared.getByRole("button", { name: /Remove|Rename|Delete/ })).toHaveCount(0);
  await snap(shared, testInfo, "c-shared-board");

  await signInAs(page, user);
  await page.goto(boardPath);
  await page.getByRole("button", { name: "Revoke link" }).click();
  await expect(page.getByRole("button", { name: "Create a read-only link" })).toBeVisible();
  await shared.reload();
  await expect(shared.getByText("This board is not shared")).toBeVisible();
  await anonymous.close();
});

test("delete a board", async ({ page }, testInfo) => {
  await signInAs(page, user);
  await page.goto("/boards");
  await page.getByTestId("board-list").getByRole("link", { name: "Temporary" }).click();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete board" }).click();
  await expect(page).toHaveURL(/\/boards$/);
  await expect(page.getByTestId("board-list")).not.toContainText("Temporary");
  await snap(page, testInfo, "c-board-deleted");
});
