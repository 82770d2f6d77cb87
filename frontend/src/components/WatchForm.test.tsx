import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, it, vi } from "vitest";

import { WatchForm } from "./WatchForm";

afterEach(() => vi.unstubAllGlobals());

it("shows the API's validation errors next to their fields", async () => {
  vi.stubGlobal("fetch", vi.fn().mockResolvedValue(new Response(
    JSON.stringify({ interval_minutes: ["Ensure this value is greater than or equal to 15."], non_field_errors: ["Give at least one of advertiser_ids or text."] }),
    { status: 400 },
  )));
  const onSaved = vi.fn();
  render(<WatchForm submitLabel="Create watch" onSaved={onSaved} />);

  await userEvent.type(screen.getByLabelText("Name"), "Tesla");
  await userEvent.clear(screen.getByLabelText("Every (minutes)"));
  await userEvent.type(screen.getByLabelText("Every (minutes)"), "5");
  await userEvent.click(screen.getByRole("button", { name: "Create watch" }));

  expect(await screen.findByText("Ensure this value is greater than or equal to 15.")).toBeInTheDocument();
  expect(screen.getByLabelText("Every (minutes)")).toHaveAttribute("aria-invalid", "true");
  expect(screen.getByText("Give at least one of advertiser_ids or text.")).toBeInTheDocument();
  expect(onSaved).not.toHaveBeenCalled();
});

it("posts the watch and reports it saved", async () => {
  const fetchMock = vi.fn().mockResolvedValue(new Response(JSON.stringify({ id: 3, name: "Tesla" }), { status: 201 }));
  vi.stubGlobal("fetch", fetchMock);
  const onSaved = vi.fn();
  render(<WatchForm submitLabel="Create watch" onSaved={onSaved} />);

  await userEvent.type(screen.getByLabelText("Name"), "Tesla");
  await userEvent.type(screen.getByLabelText("Advertiser ids"), "AR17828074650563772417, AR16735076323512287233");
  await userEvent.click(screen.getByRole("button", { name: "Create watch" }));

  await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith({ id: 3, name: "Tesla" }));
  const body = JSON.parse(fetchMock.mock.calls[0][1].body);
  expect(body).toMatchObject({ name: "Tesla", advertiser_ids: ["AR17828074650563772417", "AR16735076323512287233"], region: "US", interval_minutes: 60, notify_email: true, is_active: true });
});
