import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { resetRegionsCache } from "@/lib/hooks";

import { CreativeDetailsPanel } from "./creatives";

const CREATIVE = {
  ad_creative_id: "CR1",
  advertiser_id: "AR1",
  advertiser_name: "Tesla Inc.",
  format: "image",
  image_url: "https://tpc.googlesyndication.com/x.png",
  archived_image_url: null,
  archived_thumbnail_url: null,
  regions: ["2840", "2826"],
  first_shown: "2025-01-01T00:00:00Z",
  last_shown: "2025-02-01T00:00:00Z",
  total_days_shown: 31,
  details_link: "",
  details: null,
};

const DETAILS = {
  title: "Model Y",
  snippet: "",
  headline: "",
  no_results: false,
  variations: [{ title: "Model Y", images: ["https://tpc.googlesyndication.com/v1.png", "https://tpc.googlesyndication.com/v2.png"] }],
};

function json(body: unknown, status = 200) {
  return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } }));
}

describe("CreativeDetailsPanel", () => {
  let fetched: boolean;
  beforeEach(() => {
    fetched = false;
    resetRegionsCache();
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string, init?: RequestInit) => {
        if (url === "/api/adspark/regions/") return json([{ code: "2826", name: "United Kingdom", letters: "GB" }, { code: "2840", name: "United States", letters: "US" }]);
        if (url === "/api/adspark/creatives/CR1/boards/") return json([]);
        if (url === "/api/adspark/creatives/CR1/fetch-details/" && init?.method === "POST") {
          fetched = true;
          return json({ ...CREATIVE, details: DETAILS });
        }
        if (url === "/api/adspark/creatives/CR1/") return json(fetched ? { ...CREATIVE, details: DETAILS } : CREATIVE);
        return json({ detail: "Not found." }, 404);
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it("shows region names, closes on Escape", async () => {
    const onClose = vi.fn();
    render(<CreativeDetailsPanel creativeId="CR1" onClose={onClose} />);
    await waitFor(() => expect(screen.getByTestId("regions")).toHaveTextContent("United States, United Kingdom"));
    await userEvent.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("fetches ad details on request and shows variation images as images", async () => {
    render(<CreativeDetailsPanel creativeId="CR1" />);
    await userEvent.click(await screen.findByRole("button", { name: "Fetch ad details" }));
    const images = await screen.findAllByTestId("variation-image");
    expect(images.map((i) => i.getAttribute("src"))).toEqual(DETAILS.variations[0].images);
    expect(screen.getByRole("img", { name: "Variation 1, image 2" })).toBeInTheDocument();
    expect(screen.queryByText(/2 images/)).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Fetch ad details again" })).toBeInTheDocument();
  });
});
