import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { CreativeCard } from "./creatives";

const base = {
  ad_creative_id: "CR05177084051667812353",
  advertiser_id: "AR17828074650563772417",
  advertiser_name: "Tesla Inc.",
  format: "text" as const,
  image_url: "https://tpc.googlesyndication.com/archive/simgad/7561357505873189479",
  target_domain: "tesla.com",
  last_shown: "2025-08-14T10:54:42Z",
  total_days_shown: 309,
};

describe("CreativeCard", () => {
  it("shows the creative's image once it has loaded", () => {
    render(<CreativeCard creative={base} />);
    const image = screen.getByRole("img", { name: "text ad by Tesla Inc." });
    expect(image).toHaveAttribute("src", base.image_url);
    expect(screen.getByTestId("ad-preview")).toBeInTheDocument(); // until then, the preview
    fireEvent.load(image);
    expect(image).toHaveClass("loaded");
    expect(screen.queryByTestId("ad-preview")).not.toBeInTheDocument();
    expect(screen.getByText(/309 days/)).toBeInTheDocument();
  });

  it("renders a preview when the image fails to load", () => {
    render(<CreativeCard creative={{ ...base, title: "Model Y", snippet: "Order now" }} />);
    fireEvent.error(screen.getByRole("img"));
    expect(screen.queryByRole("img")).not.toBeInTheDocument();
    expect(screen.getByTestId("ad-preview")).toHaveTextContent("Sponsored · Tesla Inc.tesla.comModel YOrder now");
  });

  it("renders a video frame for a video without an image", () => {
    render(<CreativeCard creative={{ ...base, format: "video", image_url: "" }} />);
    expect(screen.getByTestId("video-preview")).toBeInTheDocument();
  });

  it("is a toggle button that reports its creative", async () => {
    const onSelect = vi.fn();
    render(<CreativeCard creative={base} selected onSelect={onSelect} />);
    const card = screen.getByRole("button", { pressed: true });
    card.focus();
    await userEvent.keyboard("{Enter}");
    expect(onSelect).toHaveBeenCalledWith(base.ad_creative_id);
  });
});

describe("CreativeMedia image precedence", () => {
  const archived = {
    ...base,
    format: "image" as const,
    archived_thumbnail_url: "http://api.test/media/archive/thumb.webp",
    archived_image_url: "http://api.test/media/archive/full.png",
  };

  it("shows the archived thumbnail first, then the full image, the live URL, and the placeholder last", () => {
    render(<CreativeCard creative={archived} />);
    const media = () => screen.getByTestId("creative-card").querySelector(".creative-media") as HTMLElement;
    expect(screen.getByRole("img")).toHaveAttribute("src", "/media/archive/thumb.webp");
    expect(media()).toHaveAttribute("data-image-source", "archive");
    fireEvent.error(screen.getByRole("img"));
    expect(screen.getByRole("img")).toHaveAttribute("src", "/media/archive/full.png");
    fireEvent.error(screen.getByRole("img"));
    expect(screen.getByRole("img")).toHaveAttribute("src", base.image_url);
    expect(media()).toHaveAttribute("data-image-source", "live");
    fireEvent.error(screen.getByRole("img"));
    expect(screen.queryByRole("img")).not.toBeInTheDocument();
    expect(media()).toHaveAttribute("data-image-source", "placeholder");
    expect(screen.getByTestId("ad-preview")).toBeInTheDocument();
  });
});

describe("CreativeCard extras", () => {
  it("links to its look-alikes only when there are any", () => {
    const { rerender } = render(<CreativeCard creative={{ ...base, visual_hash: "c3d4", duplicate_count: 0 }} />);
    expect(screen.queryByTestId("look-alikes")).not.toBeInTheDocument();
    rerender(<CreativeCard creative={{ ...base, visual_hash: "c3d4", duplicate_count: 2 }} />);
    expect(screen.getByRole("link", { name: "2 look-alikes" })).toHaveAttribute("href", "/creatives?visual_hash=c3d4");
  });

  it("reports bulk selection with the shift key for ranges", () => {
    const onCheck = vi.fn();
    render(<CreativeCard creative={base} checked={false} onCheck={onCheck} />);
    fireEvent.click(screen.getByRole("checkbox", { name: `Select Tesla Inc. ${base.ad_creative_id}` }), { shiftKey: true });
    expect(onCheck).toHaveBeenCalledWith(base.ad_creative_id, true, true);
  });

  it("keeps a long advertiser name in a clamped title with the full name as its tooltip", () => {
    const name = "Very Long Advertiser Name GmbH & Co. KG Internationale Handelsgesellschaft";
    render(<CreativeCard creative={{ ...base, advertiser_name: name }} />);
    expect(screen.getByText(name)).toHaveClass("creative-title");
    expect(screen.getByText(name)).toHaveAttribute("title", name);
  });
});

describe("gallery keyboard navigation", () => {
  it("moves focus between cards with the arrow keys, Home and End", async () => {
    const { onGridKeyDown } = await import("@/lib/gridKeys");
    const ids = ["CR1", "CR2", "CR3"];
    render(
      <div onKeyDown={onGridKeyDown} data-testid="grid">
        {ids.map((id) => <CreativeCard key={id} creative={{ ...base, ad_creative_id: id }} />)}
      </div>,
    );
    const buttons = screen.getAllByRole("button");
    buttons[0].focus();
    await userEvent.keyboard("{ArrowRight}");
    expect(buttons[1]).toHaveFocus();
    await userEvent.keyboard("{ArrowRight}{ArrowRight}");
    expect(buttons[2]).toHaveFocus(); // clamped at the end
    await userEvent.keyboard("{ArrowLeft}");
    expect(buttons[1]).toHaveFocus();
    await userEvent.keyboard("{Home}");
    expect(buttons[0]).toHaveFocus();
    await userEvent.keyboard("{End}");
    expect(buttons[2]).toHaveFocus();
  });
});
