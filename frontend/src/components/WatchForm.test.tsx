import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, expect, it, vi } from "vitest";

import { checkWatch, watchBody, WatchForm } from "./WatchForm";

afterEach(() => vi.unstubAllGlobals());

const REGIONS = [
  { code: "2124", name: "Canada", letters: "CA" },
  { code: "2840", name: "United States", letters: "US" },
];

/** A fetch stub that answers /regions/ with `REGIONS` and every other request with `answer`. */
function stubApi(answer: () => Response) {
  const fetchMock = vi.fn((url: string) =>
    Promise.resolve(url.includes("/regions/") ? new Response(JSON.stringify(REGIONS), { status: 200 }) : answer()),
  );
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

function postedBody(fetchMock: ReturnType<typeof stubApi>) {
  const call = fetchMock.mock.calls.find(([url]) => String(url).endsWith("/watches/"));
  return JSON.parse((call as unknown as [string, RequestInit])[1].body as string);
}

it("shows every problem in one round, in the user's words, including an unknown region", async () => {
  const fetchMock = stubApi(() => new Response(
    JSON.stringify({
      interval_minutes: ["Ensure this value is greater than or equal to 15."],
      region: ["Unknown region 'Narnia'; use ISO letters such as 'US' or a geo code such as '2840'."],
      non_field_errors: ["Give at least one of advertiser_ids or text."],
    }),
    { status: 400 },
  ));
  const onSaved = vi.fn();
  render(<WatchForm submitLabel="Create watch" onSaved={onSaved} />);
  await vi.waitFor(() => expect(screen.getByLabelText("Region")).toHaveValue("United States"));

  await userEvent.clear(screen.getByLabelText("Region"));
  await userEvent.type(screen.getByLabelText("Region"), "Narnia");
  await userEvent.clear(screen.getByLabelText("Every (minutes)"));
  await userEvent.type(screen.getByLabelText("Every (minutes)"), "5");
  await userEvent.click(screen.getByRole("button", { name: "Create watch" }));

  // The browser's own checks and the API's answer together: name, region, interval and the query.
  expect(await screen.findByText("Give the watch a name.")).toBeInTheDocument();
  expect(screen.getByLabelText("Name")).toHaveAttribute("aria-invalid", "true");
  expect(screen.getByLabelText("Region")).toHaveAttribute("aria-invalid", "true");
  expect(screen.getByText(/Unknown region “Narnia”/)).toBeInTheDocument();
  expect(screen.getByLabelText("Every (minutes)")).toHaveAttribute("aria-invalid", "true");
  expect(screen.getByText("Run it every 15 minutes or more.")).toBeInTheDocument();
  expect(screen.getByText("Give advertiser IDs, text or a domain, or both.")).toBeInTheDocument();
  expect(screen.queryByText(/advertiser_ids/)).not.toBeInTheDocument();
  expect(postedBody(fetchMock)).toMatchObject({ region: "Narnia", interval_minutes: 5 });
  expect(onSaved).not.toHaveBeenCalled();
});

it("posts the watch with the region's geo code and reports it saved", async () => {
  const fetchMock = stubApi(() => new Response(JSON.stringify({ id: 3, name: "Tesla" }), { status: 201 }));
  const onSaved = vi.fn();
  render(<WatchForm submitLabel="Create watch" onSaved={onSaved} />);
  await vi.waitFor(() => expect(screen.getByLabelText("Region")).toHaveValue("United States"));

  await userEvent.type(screen.getByLabelText("Name"), "Tesla");
  await userEvent.type(screen.getByLabelText("Advertiser IDs"), "AR17828074650563772417, AR16735076323512287233");
  await userEvent.clear(screen.getByLabelText("Region"));
  await userEvent.type(screen.getByLabelText("Region"), "canada");
  await userEvent.click(screen.getByRole("button", { name: "Create watch" }));

  await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith({ id: 3, name: "Tesla" }));
  expect(postedBody(fetchMock)).toMatchObject({
    name: "Tesla", advertiser_ids: ["AR17828074650563772417", "AR16735076323512287233"], region: "2124",
    interval_minutes: 60, notify_email: true, is_active: true,
  });
});

it("checks advertiser IDs, webhook URLs and regions before the API answers", () => {
  const form = new FormData();
  form.set("name", "x");
  form.set("advertiser_ids", "AR123, AR17828074650563772417");
  form.set("region", "Narnia");
  form.set("webhook_url", "hooks.example.com");
  form.set("interval_minutes", "15");
  const body = watchBody(form, REGIONS);
  expect(checkWatch(body, "Narnia", REGIONS)).toEqual({
    advertiser_ids: ["Not an advertiser ID (AR followed by 20 digits): AR123."],
    region: ["Unknown region “Narnia”: pick one from the list (a name such as Canada, or letters such as CA)."],
    webhook_url: ["Enter a full URL starting with https://."],
  });
  // Without the regions list the API is the judge.
  expect(checkWatch(body, "Narnia", []).region).toBeUndefined();
});
