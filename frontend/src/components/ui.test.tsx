import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { Field, Pagination, ProgressBar, StatusBadge } from "./ui";

describe("Field", () => {
  it("labels its input and links the API's error to it", () => {
    render(
      <Field label="Region" name="region" errors={["Unknown region 'XX'."]} hint="ISO letters">
        {(p) => <input {...p} />}
      </Field>,
    );
    const input = screen.getByLabelText("Region");
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(input).toHaveAccessibleDescription("ISO letters Unknown region 'XX'.");
    expect(screen.getByRole("alert")).toHaveTextContent("Unknown region 'XX'.");
  });

  it("is valid without errors", () => {
    render(<Field label="Name" name="name">{(p) => <input {...p} />}</Field>);
    expect(screen.getByLabelText("Name")).not.toHaveAttribute("aria-invalid");
  });
});

describe("ProgressBar", () => {
  it("exposes its value to assistive technology", () => {
    render(<ProgressBar label="Pages fetched" percent={66.6} status="running" detail="2 of 3 pages" />);
    const bar = screen.getByRole("progressbar", { name: "Pages fetched" });
    expect(bar).toHaveAttribute("aria-valuenow", "67");
    expect(screen.getByText("2 of 3 pages")).toBeInTheDocument();
  });

  it("clamps out-of-range values", () => {
    render(<ProgressBar label="x" percent={140} status="succeeded" />);
    expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
    expect(screen.getByRole("progressbar")).toHaveAttribute("aria-valuetext", "succeeded, 100%");
  });
});

describe("Pagination", () => {
  it("moves between pages and disables the ends", async () => {
    const onPage = vi.fn();
    render(<Pagination page={1} count={50} pageSize={24} onPage={onPage} />);
    expect(screen.getByText("Page 1 of 3")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: /Previous/ })).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: /Next/ }));
    expect(onPage).toHaveBeenCalledWith(2);
  });

  it("is hidden for a single page", () => {
    const { container } = render(<Pagination page={1} count={3} pageSize={24} onPage={() => {}} />);
    expect(container).toBeEmptyDOMElement();
  });
});

it("StatusBadge carries the status for styling and tests", () => {
  render(<StatusBadge status="failed" />);
  expect(screen.getByText("failed")).toHaveAttribute("data-status", "failed");
});

it("ProgressBar claims no value when the end is not known", () => {
  render(<ProgressBar label="Pages" percent={null} status="failed" detail="0 pages fetched" />);
  const bar = screen.getByRole("progressbar", { name: "Pages" });
  expect(bar).not.toHaveAttribute("aria-valuenow");
  expect(bar).toHaveAttribute("aria-valuetext", "failed");
});
