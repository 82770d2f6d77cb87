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
